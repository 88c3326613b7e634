"""Verifying profile sections with a document (or, for education, a CHSI code): checked by
content and kept sealed, decided by staff with the permission in the admin, the person
told either way; approving marks the answers verified (how, when) and queues a recompute."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import services
from accounts.models import (
    Notification,
    Profile,
    SectionVerification,
    SectionVerificationDocument,
    User,
)
from accounts.notifications import notification_text
from scoring.models import PendingRecompute
from sesame_portal.errors import ServiceError
from sesame_portal.export import account_export
from sesame_portal.uploads import EVIDENCE_MAX_BYTES
from tests.factories import PASSWORD, PDF_BYTES, PNG, grant, make_user, pdf_upload

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/profile/{}/verify/"
ADMIN = "/admin/accounts/sectionverification/"


def _browser(user: User) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    return browser


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def person(db) -> User:
    user = make_user("declarer")
    grant(user)
    services.profile_update(
        user=user,
        sections={
            "education": {
                "education_level": "master",
                "school": "清华大学",
                "graduation_year": 2015,
            },
            "provident_fund": {"provident_fund_months": 60},
        },
    )
    return user


@pytest.fixture
def reviewer(db) -> User:
    return _staff("reviewer", "view_sectionverification", "decide_sectionverification")


@pytest.fixture
def filed(person) -> SectionVerification:
    response = _browser(person).post(
        VERIFY.format("education"), {"document": pdf_upload("110105199003070051.pdf")}
    )
    assert response.status_code == 302
    return SectionVerification.objects.get()


def _decide(staff: User, verification: SectionVerification, decision: str, reason: str = ""):
    return _browser(staff).post(
        f"{ADMIN}{verification.pk}/change/", {"decision": decision, "decision_reason": reason}
    )


# --- Filing ----------------------------------------------------------------------------------


def test_a_document_is_stored_sealed_under_a_neutral_name(filed):
    document = SectionVerificationDocument.objects.get(verification=filed)

    assert document.name == "evidence.pdf"
    assert document.content_type == "application/pdf"
    assert bytes(document.data) != PDF_BYTES
    assert document.content() == PDF_BYTES
    assert filed.method == SectionVerification.Method.DOCUMENT
    assert filed.answers == {
        "education_level": "master",
        "school": "清华大学",
        "graduation_year": 2015,
    }


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("diploma.pdf", b"MZ\x90\x00 not a pdf"), "Attach a PDF, JPEG or PNG"),
        (
            SimpleUploadedFile("diploma.pdf", b"%PDF-" + b"0" * EVIDENCE_MAX_BYTES),
            "larger than 5 MB",
        ),
    ],
)
def test_a_wrong_type_or_size_is_refused_with_a_message(person, upload, message):
    response = _browser(person).post(VERIFY.format("education"), {"document": upload})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SectionVerification.objects.exists()


def test_nothing_attached_is_refused_and_a_png_is_taken(person):
    browser = _browser(person)

    refused = browser.post(VERIFY.format("provident_fund"), {})
    taken = browser.post(
        VERIFY.format("provident_fund"), {"document": SimpleUploadedFile("s.png", PNG)}
    )

    assert refused.status_code == 400
    assert "Attach a document." in refused.content.decode()
    assert taken.status_code == 302


def test_a_chsi_code_of_the_right_form_is_filed_for_staff_to_check(person):
    with pytest.raises(ServiceError) as refused:
        services.section_verification_file(user=person, section="education", code="12-34")
    verification = services.section_verification_file(
        user=person, section="education", code="ab12 cd34-ef56 gh78"
    )

    assert refused.value.code == "code"
    assert verification.method == SectionVerification.Method.CHSI_CODE
    assert verification.code == "AB12CD34EF56GH78"


def test_a_code_verifies_education_only_and_an_empty_section_cannot_be_filed(person):
    with pytest.raises(ServiceError) as code_elsewhere:
        services.section_verification_file(user=person, section="vehicle", code="AB12CD34EF56")
    with pytest.raises(ServiceError) as empty:
        services.section_verification_file(user=person, section="vehicle", document=pdf_upload())

    assert code_elsewhere.value.code == "code"
    assert empty.value.code == "incomplete"


def test_one_pending_request_per_section(filed, person):
    response = _browser(person).post(VERIFY.format("education"), {"document": pdf_upload()})

    assert response.status_code == 400
    assert "already waiting" in response.content.decode()
    assert SectionVerification.objects.count() == 1


def test_sections_with_other_paths_have_no_verify_page(person):
    assert _browser(person).get(VERIFY.format("income")).status_code == 404
    assert _browser(person).get(VERIFY.format("occupation")).status_code == 404


def test_another_user_sees_neither_the_request_nor_the_document(filed):
    other = make_user("curious")
    page = _browser(other).get(VERIFY.format("education")).content.decode()
    staff = _staff("helpdesk")

    assert "Pending" not in page
    assert "Waiting for our staff" not in page
    assert _browser(other).get(f"{ADMIN}{filed.pk}/document/").status_code == 302  # to login
    assert _browser(staff).get(ADMIN).status_code == 403
    assert _browser(staff).get(f"{ADMIN}{filed.pk}/document/").status_code == 403


# --- Deciding --------------------------------------------------------------------------------


def test_approving_marks_the_answers_verified_tells_the_person_and_recomputes(
    filed, person, reviewer, recompute_calls, django_capture_on_commit_callbacks
):
    assert _browser(reviewer).get(f"{ADMIN}{filed.pk}/document/").content == PDF_BYTES
    PendingRecompute.objects.filter(user=person).delete()  # the answers' own recompute ran

    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(reviewer, filed, "approve")

    assert response.status_code == 302
    marks = Profile.objects.get(user=person).field_marks
    for field in ("education_level", "school", "graduation_year"):
        assert marks[field]["mark"] == "verified"
        assert marks[field]["by"] == "document"
    assert marks["provident_fund_months"]["mark"] == "self_declared"
    filed.refresh_from_db()
    assert (filed.status, filed.decided_by) == ("approved", reviewer)
    assert recompute_calls == [(person.pk, "profile_verified:education")]
    notification = Notification.objects.get(user=person)
    assert "Education is verified" in notification_text(notification)
    page = _browser(person).get(VERIFY.format("education")).content.decode()
    assert "Verified by a document our staff checked" in page


def test_rejecting_needs_a_reason_which_the_person_is_told(filed, person, reviewer):
    without = _decide(reviewer, filed, "reject")
    with_reason = _decide(reviewer, filed, "reject", "The name on the diploma differs.")

    assert without.status_code == 200
    assert "Say why the verification is rejected." in without.content.decode()
    assert with_reason.status_code == 302
    notification = Notification.objects.get(user=person)
    assert "The name on the diploma differs." in notification_text(notification)
    assert Profile.objects.get(user=person).field_marks["school"]["mark"] == "self_declared"


def test_answers_changed_since_filing_cannot_be_approved(filed, person, reviewer):
    services.profile_update(user=person, sections={"education": {"education_level": "doctorate"}})

    response = _decide(reviewer, filed, "approve")

    assert response.status_code == 200
    assert "changed these answers since filing" in response.content.decode()
    filed.refresh_from_db()
    assert filed.status == "pending"


def test_changing_a_verified_answer_makes_it_self_declared_again(filed, person):
    services.section_verification_decide(verification=filed, approve=True)

    services.profile_update(user=person, sections={"education": {"school": "北京大学"}})

    marks = Profile.objects.get(user=person).field_marks
    assert marks["school"]["mark"] == "self_declared"
    assert marks["education_level"]["mark"] == "verified"


def test_a_viewer_without_the_decide_permission_cannot_decide(filed):
    viewer = _staff("viewer", "view_sectionverification")

    response = _decide(viewer, filed, "approve")

    assert response.status_code == 403
    filed.refresh_from_db()
    assert filed.status == "pending"


def test_requests_are_in_the_persons_export(filed, person):
    exported = account_export(user=person)["profile_verifications"]

    assert [(row["section"], row["method"], row["status"]) for row in exported] == [
        ("education", "document", "pending")
    ]
    assert account_export(user=make_user("someone"))["profile_verifications"] == []

"""Identity appeals (实名申诉): a `duplicate` refusal offers the user who just submitted
the number (and nobody else, and for no other number) an appeal with evidence; the
holder is told; staff with the permission approve (the identity moves, both are told,
both scores recompute) or reject with a reason; appeals are in each person's export."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts import selectors, services
from accounts.clients import Client as RequestClient
from accounts.crypto import decrypt_bytes
from accounts.models import (
    ConsentPurpose,
    Identity,
    IdentityAppeal,
    IdentityAttempt,
    Notification,
    User,
)
from accounts.notifications import notification_text
from sesame_portal.export import account_export
from tests.factories import PASSWORD, PNG, make_id_number

pytestmark = pytest.mark.django_db

NUMBER = make_id_number("110105", "19900307", "005")
OTHER_NUMBER = make_id_number("310101", "19850615", "222")
OWNER_NAME = "张三"
HOLDER_NAME = "李四"
IDENTITY_API = "/api/v1/me/identity/"


def _browser(user: User) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    return browser


def _api(user: User) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def holder(db) -> User:
    """Someone who verified the owner's number on their own account."""
    user = User.objects.create_user(username="holder", password=PASSWORD)
    services.identity_verify(user=user, full_name=HOLDER_NAME, id_number=NUMBER)
    return user


@pytest.fixture
def appeal_path(owner, holder) -> str:
    """The owner submits their number, is refused as duplicate and offered an appeal."""
    response = _api(owner).post(
        IDENTITY_API, {"full_name": OWNER_NAME, "id_number": NUMBER}, format="json"
    )
    assert response.json()["code"] == "duplicate"
    return response.json()["appeal_url"].removeprefix("http://testserver")


def _evidence(content: bytes = PNG, name: str = "id-card.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def _file(browser: Client, path: str, **changes):
    payload = {
        "full_name": OWNER_NAME,
        "id_number": NUMBER,
        "statement": "I lost my ID card in March; someone used it to sign up.",
        "evidence": _evidence(),
    } | changes
    return browser.post(path, payload)


@pytest.fixture
def filed(owner, holder, appeal_path) -> IdentityAppeal:
    assert _file(_browser(owner), appeal_path).status_code == 302
    return IdentityAppeal.objects.get()


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def reviewer(db) -> User:
    return _staff("reviewer", "view_identityappeal", "decide_identityappeal")


def _decide(staff: User, appeal: IdentityAppeal, decision: str, reason: str = ""):
    return _browser(staff).post(
        f"/admin/accounts/identityappeal/{appeal.pk}/change/",
        {"decision": decision, "decision_reason": reason},
    )


def _kinds(user: User) -> list[tuple[str, dict]]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", "params"))


# --- The offer ------------------------------------------------------------------------------


def test_the_api_duplicate_answer_links_this_user_to_an_appeal(owner, holder):
    response = _api(owner).post(
        IDENTITY_API, {"full_name": OWNER_NAME, "id_number": NUMBER}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "duplicate"
    assert re.fullmatch(r"http://testserver/accounts/identity/appeal/[^/]+/", body["appeal_url"])
    assert body["appeal_url"] in body["message"]
    assert _browser(owner).get(body["appeal_url"]).status_code == 200


def test_the_identity_page_links_a_duplicate_to_the_appeal(owner, holder):
    response = _browser(owner).post(
        "/accounts/identity/", {"full_name": OWNER_NAME, "id_number": NUMBER}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["id_number"]
    link = response.context["appeal_url"]
    assert "/accounts/identity/appeal/" in link
    assert link in response.content.decode()


def test_the_appeal_page_is_only_for_the_user_who_was_offered_it(appeal_path, other_user, client):
    assert _browser(other_user).get(appeal_path).status_code == 404
    assert client.get(appeal_path).status_code == 302  # to the login page
    assert _browser(other_user).get("/accounts/identity/appeal/forged:token/").status_code == 404


def test_an_appeal_cannot_ask_about_another_registered_number(owner, appeal_path, admin_user):
    """The offer names one identity: another number, registered or not, gets the same
    refusal, so the appeal form answers nothing the duplicate answer did not."""
    services.identity_verify(user=admin_user, full_name="王五", id_number=OTHER_NUMBER)
    browser = _browser(owner)

    registered = _file(browser, appeal_path, id_number=OTHER_NUMBER, evidence=_evidence())
    free = _file(
        browser, appeal_path, id_number=make_id_number(sequence="777"), evidence=_evidence()
    )

    assert registered.status_code == free.status_code == 400
    assert registered.context["form"].errors == free.context["form"].errors
    assert not IdentityAppeal.objects.exists()
    assert list(IdentityAttempt.objects.filter(user=owner).values_list("outcome", flat=True)) == [
        "duplicate",
        "appeal_mismatch",
        "appeal_mismatch",
    ]


# --- Filing ---------------------------------------------------------------------------------


def test_filing_an_appeal_stores_it_counts_an_attempt_and_notifies_the_holder(
    owner, holder, appeal_path
):
    response = _file(_browser(owner), appeal_path)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/identity/"
    appeal = IdentityAppeal.objects.get()
    assert (appeal.appellant, appeal.holder, appeal.status) == (owner, holder, "pending")
    assert appeal.identity == Identity.objects.get(user=holder)
    assert decrypt_bytes(appeal.evidence.data) == PNG
    assert appeal.evidence.content_type == "image/png"
    assert NUMBER not in appeal.full_name_encrypted
    assert IdentityAttempt.objects.filter(user=owner, outcome="appeal").count() == 1
    assert _kinds(holder) == [("identity_appeal_filed", {"appeal_id": appeal.pk})]
    text = notification_text(Notification.objects.get(user=holder))
    assert owner.username not in text
    assert _kinds(owner) == []


def test_the_appellant_follows_the_appeal_on_the_identity_page(owner, filed):
    page = _browser(owner).get("/accounts/identity/").content.decode()

    assert "My identity appeals" in page
    assert "Pending" in page


def test_evidence_is_checked_by_its_content_not_its_name(owner, appeal_path):
    browser = _browser(owner)

    disguised = _file(browser, appeal_path, evidence=_evidence(b"MZ\x90\x00 not an image"))
    too_large = _file(browser, appeal_path, evidence=_evidence(PNG + b"\x00" * (5 * 1024 * 1024)))

    assert disguised.status_code == too_large.status_code == 400
    assert disguised.context["form"].errors["evidence"]
    assert too_large.context["form"].errors["evidence"]
    assert disguised.context["form"]["statement"].value()  # nothing typed is lost
    assert not IdentityAppeal.objects.exists()


def test_a_pdf_is_accepted_as_evidence(owner, appeal_path):
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")

    assert _file(_browser(owner), appeal_path, evidence=pdf).status_code == 302
    assert IdentityAppeal.objects.get().evidence.content_type == "application/pdf"


def test_the_name_and_number_go_through_the_verification_rules(owner, appeal_path):
    response = _file(_browser(owner), appeal_path, full_name="Zhang San")

    assert response.status_code == 400
    assert response.context["form"].errors["full_name"]
    assert not IdentityAppeal.objects.exists()


def test_a_second_appeal_while_one_is_pending_is_refused(owner, filed, appeal_path):
    response = _file(_browser(owner), appeal_path)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert IdentityAppeal.objects.count() == 1


def test_appeals_count_against_the_per_user_limit(owner, appeal_path, settings):
    settings.IDENTITY_ATTEMPTS_PER_HOUR = 1  # the duplicate answer used it

    response = _file(_browser(owner), appeal_path)

    assert response.status_code == 400
    assert "Too many verification attempts" in response.context["form"].non_field_errors()[0]
    assert not IdentityAppeal.objects.exists()


# --- Deciding -------------------------------------------------------------------------------


def test_approving_moves_the_identity_notifies_both_and_recomputes_both(
    owner, holder, filed, reviewer, recompute_calls, django_capture_on_commit_callbacks
):
    web = RequestClient(channel="web")
    with django_capture_on_commit_callbacks(execute=True):
        for user in (owner, holder):
            services.consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=web)
    recompute_calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(reviewer, filed, "approve")

    assert response.status_code == 302
    filed.refresh_from_db()
    assert (filed.status, filed.decided_by, filed.holder) == ("approved", reviewer, holder)
    identity = Identity.objects.get()
    assert identity.user == owner
    assert selectors.identity_full_name(identity) == OWNER_NAME
    assert not Identity.objects.filter(user=holder).exists()
    assert sorted(recompute_calls) == sorted(
        [(owner.pk, "identity_appeal"), (holder.pk, "identity_appeal")]
    )
    decided = {"appeal_id": filed.pk, "outcome": "approved"}
    assert _kinds(owner)[-1] == (
        "identity_appeal_decided",
        {**decided, "role": "appellant", "reason": ""},
    )
    assert _kinds(holder)[-1] == ("identity_appeal_decided", {**decided, "role": "holder"})
    # The holder can verify their own number now; the owner is verified.
    assert _api(owner).get(IDENTITY_API).status_code == 200
    assert _api(holder).get(IDENTITY_API).status_code == 404


def test_rejecting_needs_a_reason_records_it_and_tells_both(owner, holder, filed, reviewer):
    refused = _decide(reviewer, filed, "reject")
    assert refused.status_code == 200  # the form again, with the error
    filed.refresh_from_db()
    assert filed.status == "pending"

    response = _decide(reviewer, filed, "reject", "The photo shows a different person.")

    assert response.status_code == 302
    filed.refresh_from_db()
    assert (filed.status, filed.reason) == ("rejected", "The photo shows a different person.")
    assert Identity.objects.get().user == holder
    owner_last = Notification.objects.filter(user=owner).latest("id")
    assert owner_last.params["outcome"] == "rejected"
    assert "different person" in notification_text(owner_last)
    holder_last = Notification.objects.filter(user=holder).latest("id")
    assert holder_last.params == {"appeal_id": filed.pk, "outcome": "rejected", "role": "holder"}
    assert "different person" not in notification_text(holder_last)


def test_a_decided_appeal_cannot_be_decided_again(filed, reviewer):
    assert _decide(reviewer, filed, "reject", "No.").status_code == 302

    assert _decide(reviewer, filed, "approve").status_code == 403  # read-only now
    assert Identity.objects.get().user.username == "holder"


def test_approval_is_refused_when_the_appellant_verified_since(owner, filed, reviewer):
    Identity.objects.filter(pk=filed.identity_id).delete()  # the holder left
    services.identity_verify(user=owner, full_name=OWNER_NAME, id_number=NUMBER)

    response = _decide(reviewer, filed, "approve")

    assert response.status_code == 200
    filed.refresh_from_db()
    assert filed.status == "pending"


# --- Who may see appeals --------------------------------------------------------------------


def test_staff_without_the_permission_cannot_see_appeals_or_evidence(filed):
    staff = _browser(_staff("plainstaff"))

    assert staff.get("/admin/accounts/identityappeal/").status_code == 403
    assert staff.get(f"/admin/accounts/identityappeal/{filed.pk}/change/").status_code == 403
    assert staff.get(f"/admin/accounts/identityappeal/{filed.pk}/evidence/").status_code == 403


def test_staff_who_may_only_view_cannot_decide(filed):
    viewer = _browser(_staff("viewer", "view_identityappeal"))

    assert viewer.get("/admin/accounts/identityappeal/").status_code == 200
    page = viewer.get(f"/admin/accounts/identityappeal/{filed.pk}/change/").content.decode()
    assert 'name="decision"' not in page
    response = viewer.post(
        f"/admin/accounts/identityappeal/{filed.pk}/change/", {"decision": "approve"}
    )
    assert response.status_code == 403
    filed.refresh_from_db()
    assert filed.status == "pending"


def test_the_evidence_is_served_to_reviewers_only(owner, filed, reviewer):
    response = _browser(reviewer).get(f"/admin/accounts/identityappeal/{filed.pk}/evidence/")

    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    # The appellant has no way to the stored file either: it is for staff.
    assert (
        _browser(owner).get(f"/admin/accounts/identityappeal/{filed.pk}/evidence/").status_code
        == 302
    )


def test_the_review_page_shows_both_names(filed, reviewer):
    page = _browser(reviewer).get(f"/admin/accounts/identityappeal/{filed.pk}/change/")

    content = page.content.decode()
    assert OWNER_NAME in content
    assert HOLDER_NAME in content
    assert 'name="decision"' in content


# --- Export ---------------------------------------------------------------------------------


def test_appeals_and_their_outcome_are_in_each_persons_export(owner, holder, filed, reviewer):
    _decide(reviewer, filed, "reject", "Not the same person.")

    mine = account_export(user=owner)["identity_appeals"]
    against = account_export(user=holder)["identity_appeals_against_me"]

    assert [(a["status"], a["reason"]) for a in mine] == [("rejected", "Not the same person.")]
    assert mine[0]["decided_at"] is not None
    assert [a["status"] for a in against] == ["rejected"]
    assert set(against[0]) == {"status", "created_at", "decided_at"}  # never who or why


def test_the_id_card_photo_is_kept_encrypted_under_a_neutral_name(owner, appeal_path, reviewer):
    photo = PNG + b"photo of the card"
    response = _file(_browser(owner), appeal_path, evidence=_evidence(photo, f"{NUMBER}.png"))
    assert response.status_code == 302
    appeal = IdentityAppeal.objects.get()

    stored = appeal.evidence
    assert stored.name == "evidence.png"
    assert photo not in bytes(stored.data)
    assert decrypt_bytes(stored.data) == photo
    served = _browser(reviewer).get(f"/admin/accounts/identityappeal/{appeal.pk}/evidence/")
    assert served.content == photo

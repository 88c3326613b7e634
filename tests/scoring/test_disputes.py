"""Disputes (异议申诉): the records a person may contest, filing with a statement and
checked evidence, one open dispute per record, never another person's record, the admin
queue with its 20-day deadline and answers, the timeline, the recompute on a correction,
and the personal statement (本人声明)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.crypto import decrypt_bytes
from accounts.models import User
from scoring.models import (
    CourtListEntry,
    Dispute,
    DisputeAttachment,
    DisputeEvidenceAccess,
    PersonalStatement,
)
from scoring.services.disputes import ATTACHMENT_MAX_BYTES
from tests.dates import days_ago
from tests.factories import (
    add_account,
    add_bill,
    add_repayment,
    grant,
    make_id_number,
    make_user,
    set_profile,
    verify_identity,
)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def person(db):
    user = make_user("disputer")
    verify_identity(user, make_id_number(sequence="701"))
    grant(user)
    loan = add_account(user, opened_on=days_ago(400))
    late = add_repayment(loan, due=days_ago(60), days_overdue=12)
    bill = add_bill(user, due=days_ago(20), paid_on=None, kind="water")
    set_profile(user, income_band="5k_8k")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, late, bill, client


def _file(client, data: dict, attachment=None):
    payload = {"statement": "I paid on time: the bank receipt is attached."} | data
    if attachment is not None:
        payload["attachment"] = attachment
    return client.post("/score/disputes/new/", payload)


def test_records_list_what_may_be_disputed(person):
    _user, late, bill, client = person
    page = client.get("/score/records/").content.decode()
    assert "paid 12 days late" in page
    assert "Water bill due on" in page
    assert "Monthly income" in page or "income" in page
    assert f"kind=repayment&amp;record={late.pk}" in page
    assert f"kind=bill&amp;record={bill.pk}" in page
    assert "kind=profile&amp;field=income_band" in page


def test_filing_a_dispute_with_evidence(person):
    user, late, _bill, client = person
    response = _file(
        client,
        {"kind": "repayment", "record": late.pk},
        SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf"),
    )
    dispute = Dispute.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/score/disputes/{dispute.pk}/"
    assert dispute.status == "received"
    assert dispute.due_at - dispute.created_at == datetime.timedelta(days=20)
    assert "paid 12 days late" in dispute.record_summary
    assert dispute.attachment.content_type == "application/pdf"
    assert decrypt_bytes(dispute.attachment.data) == PDF
    page = client.get(response["Location"]).content.decode()
    assert "Received" in page
    assert "Answer due by" in page
    assert "evidence.pdf" in page
    # The record is marked while the dispute is open.
    records = client.get("/score/records/").content.decode()
    assert "Under dispute" in records
    assert f"kind=repayment&amp;record={late.pk}" not in records


def test_one_open_dispute_per_record(person):
    _user, late, _bill, client = person
    _file(client, {"kind": "repayment", "record": late.pk})
    again = _file(client, {"kind": "repayment", "record": late.pk})
    assert again.status_code == 400
    assert "already under dispute" in again.content.decode()
    assert Dispute.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "repayment", "record": "999999"},
        {"kind": "repayment", "record": "abc"},
        {"kind": "repayment"},
        {"kind": "bill", "record": "-1"},
        {"kind": "profile", "field": "vehicle_value"},  # not filled in
        {"kind": "profile", "field": "password"},
        {"kind": "court_list"},  # not listed
        {"kind": "salary"},
        {"kind": "repayment", "record": "9" * 40},
    ],
)
def test_a_record_that_is_not_yours_or_not_there_is_404(person, data):
    _user, _late, _bill, client = person
    query = "&".join(f"{k}={v}" for k, v in data.items())
    assert client.get(f"/score/disputes/new/?{query}").status_code == 404
    assert _file(client, data).status_code == 404
    assert not Dispute.objects.exists()


def test_another_persons_record_is_never_disputable(person):
    _user, late, bill, _client = person
    stranger = make_user("stranger")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(stranger)
    assert _file(client, {"kind": "repayment", "record": late.pk}).status_code == 404
    assert _file(client, {"kind": "bill", "record": bill.pk}).status_code == 404
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("big.pdf", PDF + b"0" * ATTACHMENT_MAX_BYTES, "application/pdf"),
            "larger than 5 MB",
        ),
        (SimpleUploadedFile("page.pdf", b"<html><script>x</script>", "application/pdf"), "PDF"),
        (SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/octet-stream"), "PDF"),
        (SimpleUploadedFile("empty.png", b"", "image/png"), "empty"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_kept(person, upload, message):
    _user, late, _bill, client = person
    response = _file(client, {"kind": "repayment", "record": late.pk}, upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Dispute.objects.exists()
    assert not DisputeAttachment.objects.exists()


@pytest.mark.parametrize(("statement", "message"), [("   ", "required"), ("x" * 2001, "2000")])
def test_the_statement_is_required_and_bounded(person, statement, message):
    _user, late, _bill, client = person
    response = _file(client, {"kind": "repayment", "record": late.pk, "statement": statement})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_png_is_accepted_and_only_its_owner_and_staff_may_download_it(person, admin_user):
    user, _late, bill, client = person
    _file(client, {"kind": "bill", "record": bill.pk}, SimpleUploadedFile("b.png", PNG))
    dispute = Dispute.objects.get(user=user)
    url = f"/score/disputes/{dispute.pk}/attachment/"

    mine = client.get(url)
    assert mine.status_code == 200
    assert mine["Content-Type"] == "image/png"
    assert mine["Content-Disposition"].startswith("attachment")
    assert mine["X-Content-Type-Options"] == "nosniff"
    stranger = Client()
    stranger.force_login(make_user("nosy"))
    assert stranger.get(url).status_code == 404
    assert stranger.get(f"/score/disputes/{dispute.pk}/").status_code == 404
    staff = Client()
    staff.force_login(admin_user)
    assert staff.get(url).status_code == 200


@pytest.fixture
def evidence(person):
    user, _late, bill, client = person
    _file(client, {"kind": "bill", "record": bill.pk}, SimpleUploadedFile("b.png", PNG))
    dispute = Dispute.objects.get(user=user)
    return user, dispute, client, f"/score/disputes/{dispute.pk}/attachment/"


def _staff(username: str, *, may_open_evidence: bool) -> Client:
    user = User.objects.create_user(username=username, password="unused-password-42")
    user.is_staff = True
    user.save()
    if may_open_evidence:
        user.user_permissions.add(
            Permission.objects.get(
                codename="view_dispute_evidence", content_type__app_label="scoring"
            )
        )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_staff_without_the_evidence_permission_get_404(evidence):
    _user, _dispute, _client, url = evidence
    assert _staff("helpdesk", may_open_evidence=False).get(url).status_code == 404
    assert not DisputeEvidenceAccess.objects.exists()


def test_staff_with_the_evidence_permission_may_download_it(evidence):
    _user, _dispute, _client, url = evidence
    response = _staff("reviewer", may_open_evidence=True).get(url)
    assert response.status_code == 200
    assert bytes(response.content) == PNG


def test_each_opening_is_logged_and_shown_to_the_person_by_role(evidence, admin_user):
    user, dispute, client, url = evidence
    staff = Client()
    staff.force_login(admin_user)
    assert staff.get(url).status_code == 200
    assert client.get(url).status_code == 200
    stranger = Client()
    stranger.force_login(make_user("nosy"))
    assert stranger.get(url).status_code == 404

    openings = list(DisputeEvidenceAccess.objects.order_by("at", "pk"))
    assert [(o.role, o.accessed_by) for o in openings] == [("staff", admin_user), ("owner", user)]
    assert all(o.dispute == dispute for o in openings)
    page = client.get(f"/score/disputes/{dispute.pk}/").content.decode()
    at = timezone.localtime(openings[0].at).strftime("%Y-%m-%d %H:%M")
    assert f"Your evidence was opened by staff on {at}." in page
    assert "You opened your evidence on" in page
    assert admin_user.username not in page
    # The admin keeps who it was.
    admin_page = staff.get(f"/admin/scoring/dispute/{dispute.pk}/change/").content.decode()
    assert f"{at} · 工作人员 (admin)" in admin_page


def test_the_export_says_who_opened_the_evidence_and_when(evidence, admin_user):
    from sesame_portal.export import account_export

    user, _dispute, _client, url = evidence
    staff = Client()
    staff.force_login(admin_user)
    staff.get(url)

    [exported] = account_export(user=user)["disputes"]
    opening = DisputeEvidenceAccess.objects.get()
    assert exported["evidence_opened"] == [{"by": "staff", "at": opening.at}]
    assert admin_user.username not in str(exported)


def test_court_list_match_can_be_disputed(person):
    user, _late, _bill, client = person
    CourtListEntry.objects.create(id_number_hash=user.identity.id_number_hash)
    assert "On the court list" in client.get("/score/records/").content.decode()
    assert _file(client, {"kind": "court_list"}).status_code == 302
    assert Dispute.objects.get().kind == "court_list"


# The admin's queue -----------------------------------------------------------------------


@pytest.fixture
def filed(person):
    user, late, _bill, client = person
    _file(client, {"kind": "repayment", "record": late.pk})
    return user, Dispute.objects.get(user=user), client


def _answer(admin_client, dispute: Dispute, status: str, note: str = ""):
    events = str(dispute.events.count())
    return admin_client.post(
        f"/admin/scoring/dispute/{dispute.pk}/change/",
        {
            "status": status,
            "note": note,
            "events-TOTAL_FORMS": events,
            "events-INITIAL_FORMS": events,
        },
    )


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def test_the_queue_lists_open_disputes_by_deadline(filed, admin_client):
    _user, dispute, _client = filed
    page = admin_client.get("/admin/scoring/dispute/?status__exact=received").content.decode()
    assert dispute.record_summary in page
    assert ">19<" in page or ">20<" in page  # days left


def test_review_then_reject_with_a_reason_shows_on_the_timeline(filed, admin_client):
    _user, dispute, client = filed
    assert _answer(admin_client, dispute, "under_review").status_code == 302
    refused = _answer(admin_client, dispute, "rejected")
    assert refused.status_code == 200
    assert "Say why the dispute is rejected." in refused.content.decode()
    assert (
        _answer(admin_client, dispute, "rejected", "The bank confirms the date.").status_code == 302
    )

    dispute.refresh_from_db()
    assert dispute.status == "rejected"
    assert dispute.resolved_at is not None
    page = client.get(f"/score/disputes/{dispute.pk}/").content.decode()
    timeline = page[page.index("Timeline") :]
    assert timeline.index("Received") < timeline.index("Under review") < timeline.index("Rejected")
    assert "The bank confirms the date." in page
    # A closed dispute stays closed, and the record may be disputed again.
    assert _answer(admin_client, dispute, "corrected", "x").status_code == 200
    assert "cannot become" in _answer(admin_client, dispute, "corrected", "x").content.decode()


def test_a_correction_recomputes_the_score(
    filed, admin_client, recompute_calls, django_capture_on_commit_callbacks
):
    user, dispute, _client = filed
    from scoring.models import PendingRecompute

    PendingRecompute.objects.filter(user=user).delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(admin_client, dispute, "corrected", "Fixed: paid on time.")
    assert response.status_code == 302
    assert recompute_calls == [(user.pk, "dispute_corrected")]
    dispute.refresh_from_db()
    assert dispute.status == "corrected"


def test_admins_cannot_invent_disputes(admin_client):
    assert admin_client.get("/admin/scoring/dispute/add/").status_code == 403


# Personal statement -------------------------------------------------------------------------


def test_personal_statement_set_changed_and_removed(person):
    user, _late, _bill, client = person
    client.post("/score/statement/", {"text": "2026年3月住院\uff0c还款晚了12天。"})
    assert PersonalStatement.objects.get(user=user).text == "2026年3月住院\uff0c还款晚了12天。"
    assert "住院" in client.get("/score/records/").content.decode()
    client.post("/score/statement/", {"text": "x" * 301})
    assert PersonalStatement.objects.get(user=user).text.startswith("2026")
    client.post("/score/statement/", {"text": ""})
    assert not PersonalStatement.objects.filter(user=user).exists()


def test_pages_need_a_login(db):
    anonymous = Client()
    for url in ("/score/records/", "/score/disputes/new/?kind=court_list"):
        assert anonymous.get(url).status_code == 302
    assert anonymous.post("/score/statement/", {"text": "x"}).status_code == 302
    assert User.objects.count() == 0


def test_export_holds_disputes_and_the_statement(filed):
    user, dispute, client = filed
    client.post("/score/statement/", {"text": "Late once, in hospital."})
    from sesame_portal.export import account_export

    exported = account_export(user=user)
    assert exported["personal_statement"] == "Late once, in hospital."
    assert [row["record_summary"] for row in exported["disputes"]] == [dispute.record_summary]
    assert exported["disputes"][0]["status"] == "received"


def test_the_statement_is_shown_on_my_data(person):
    _user, _late, _bill, client = person
    client.post("/score/statement/", {"text": "Late once, in hospital."})
    assert "Late once, in hospital." in client.get("/accounts/me/data/").content.decode()


def test_evidence_is_kept_encrypted_under_a_neutral_name(person):
    """A photographed ID card, or a file named after the number, gave the number away
    to anyone holding a dump."""
    user, late, _bill, client = person
    number = make_id_number("110105", "19900307", "005")
    _file(
        client,
        {"kind": "repayment", "record": late.pk},
        SimpleUploadedFile(f"{number}.png", PNG, content_type="image/png"),
    )
    dispute = Dispute.objects.get(user=user)

    stored = DisputeAttachment.objects.get(dispute=dispute)
    assert not bytes(stored.data).startswith(PNG[:8])
    assert PNG not in bytes(stored.data)
    assert stored.name == "evidence.png"
    assert number not in client.get(f"/score/disputes/{dispute.pk}/").content.decode()
    assert client.get(f"/score/disputes/{dispute.pk}/attachment/").content == PNG

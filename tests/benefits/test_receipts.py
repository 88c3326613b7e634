"""Decision receipts (issue 20, capability 3): a partner reports the decision it took with
its latest answered query on an authorisation, one per query; the person sees it beside
the query, in /api/v1/me/decisions/ and in the export, is notified, and may add it to a
dispute of theirs that is still open. Nobody else reports on or sees it."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.models import Notification
from accounts.notifications import notification_text
from benefits.models import DecisionReason, DecisionReceipt, PartnerQuery
from scoring.models import Dispute, DisputeEvent
from scoring.services.disputes import dispute_file, dispute_transition
from tests.clients import browser
from tests.dates import days_ago
from tests.factories import add_bill, authorize, make_api_key, make_partner
from tests.partner_api import assert_error, partner_client, score_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]


def decisions_url(token: str) -> str:
    return f"/api/v1/partner/authorizations/{token}/decisions/"


def decide(api, token, decision="declined", reason_code="score_below_policy", **extra):
    body = {"decision": decision, "reason_code": reason_code, **extra}
    return api.post(decisions_url(token), body, format="json")


def my_dispute(user) -> Dispute:
    bill = add_bill(user, due=days_ago(50), paid_on=None, kind="gas")
    return dispute_file(
        user=user, kind="bill", record_id=bill.pk, field="", statement="I paid this bill."
    )


@pytest.fixture
def queried(scored_owner, partner, partner_api) -> str:
    """The owner authorised the partner, which read their score once; returns the token."""
    _grant, token = authorize(scored_owner, partner, "score")
    assert partner_api.get(score_url(token)).status_code == 200
    return token


# --- The partner's side ----------------------------------------------------------------------


def test_a_decision_is_recorded_beside_the_partners_latest_answered_query(
    queried, partner_api, scored_owner, partner
):
    assert partner_api.get(score_url(queried)).status_code == 200
    latest = PartnerQuery.objects.filter(kind="score").latest("created_at", "id")

    response = decide(partner_api, queried, "limit", "limit_by_band", limit=3000)

    assert response.status_code == 201, response.content
    receipt = DecisionReceipt.objects.get()
    assert (receipt.query, receipt.partner, receipt.user) == (latest, partner, scored_owner)
    assert (receipt.outcome, receipt.reason_code, receipt.limit) == ("limit", "limit_by_band", 3000)
    notice = Notification.objects.get(user=scored_owner, kind="partner_decision_reported")
    assert notice.params["receipt_id"] == receipt.pk
    with translation.override("en"):
        assert "A credit limit" in notification_text(notice)
    with translation.override("zh-hans"):
        assert partner.name in notification_text(notice)
        assert "决定" in notification_text(notice)


def test_a_decision_reported_again_replaces_the_receipt_and_a_new_query_takes_one(
    queried, partner_api
):
    assert decide(partner_api, queried).status_code == 201

    assert decide(partner_api, queried, "approved", "score_above_policy").status_code == 201
    assert DecisionReceipt.objects.count() == 1
    assert DecisionReceipt.objects.get().outcome == "approved"
    assert Notification.objects.filter(kind="partner_decision_reported").count() == 2

    assert partner_api.get(score_url(queried)).status_code == 200
    assert decide(partner_api, queried, "declined").status_code == 201
    assert DecisionReceipt.objects.count() == 2


def test_a_decision_without_an_answered_query_is_logged_without_a_receipt(
    scored_owner, partner, partner_api
):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="decision")

    assert decide(partner_api, token).status_code == 201

    assert not DecisionReceipt.objects.exists()
    assert not Notification.objects.filter(kind="partner_decision_reported").exists()
    assert PartnerQuery.objects.filter(kind="decision", outcome="ok").count() == 1
    # A decision is a decision: the authorisation limited until one decision has ended.
    assert_error(partner_api.get(score_url(token)), 403, "authorization_used")


def test_another_partner_cannot_report_on_my_query(queried, scored_owner):
    other = make_partner("悦途酒店 Joyway Hotels", category="hotel")
    other_api = partner_client(make_api_key(other))

    assert_error(decide(other_api, queried), 404, "authorization_not_found")
    # With a token of its own on the same person, its decision is about its own query only.
    _grant, own = authorize(scored_owner, other, "score")
    assert decide(other_api, own).status_code == 201
    assert not DecisionReceipt.objects.exists()


def test_a_partners_own_reason_code_is_kept_and_a_documented_one_reads_in_words(
    queried, partner_api, scored_owner
):
    assert decide(partner_api, queried, reason_code="score_band_b").status_code == 201
    receipt = DecisionReceipt.objects.get()
    assert receipt.reason_code == "score_band_b"
    assert receipt.get_reason_code_display() == "score_band_b"
    assert decide(partner_api, queried, reason_code="score_below_policy").status_code == 201
    receipt.refresh_from_db()
    with translation.override("en"):
        assert receipt.get_reason_code_display() == "The score was below the partner's threshold"


@pytest.mark.parametrize("reason_code", ["", "a reason with spaces", "x" * 65])
def test_a_reason_code_that_is_not_a_code_is_400(queried, partner_api, reason_code):
    response = decide(partner_api, queried, reason_code=reason_code)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "reason_code" in response.json()["fields"]
    assert not DecisionReceipt.objects.exists()


def test_the_documented_reason_codes_are_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for code in DecisionReason.values:
        assert code in schema


# --- The person's side -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["Its decision", "Declined", "The score was below"]), ("zh-hans", ["其决定"])],
)
def test_the_person_sees_the_decision_beside_the_query(
    queried, partner_api, scored_owner, language, words
):
    decide(partner_api, queried)

    html = browser(scored_owner, language).get("/benefits/queries/").content.decode()

    receipt = DecisionReceipt.objects.get()
    assert f'id="decision-{receipt.pk}"' in html
    for word in words:
        assert word in html
    # Beside the score query it decides: after that query's row began, before the next.
    rows = html.split("<li>")
    [row] = [row for row in rows if f'id="decision-{receipt.pk}"' in row]
    with translation.override(language):
        assert str(PartnerQuery.Kind.SCORE.label) in row


def test_my_decisions_api_lists_mine_and_never_another_persons(
    queried, partner_api, owner_api, other_api
):
    decide(partner_api, queried, "limit", "limit_by_band", limit=800)

    [mine] = owner_api.get("/api/v1/me/decisions/").json()
    assert (mine["decision"], mine["limit"], mine["reason_code"]) == ("limit", 800, "limit_by_band")
    assert mine["query"] == DecisionReceipt.objects.get().query_id
    assert mine["dispute"] is None
    assert other_api.get("/api/v1/me/decisions/").json() == []
    assert other_api.get("/benefits/queries/").status_code in (200, 302)


def test_the_export_holds_my_decisions(queried, partner_api, owner_api, other_api):
    decide(partner_api, queried)

    exported = owner_api.get("/api/v1/me/export/").json()

    [row] = exported["partner_decisions"]
    assert (row["outcome"], row["reason_code"], row["query__kind"]) == (
        "declined",
        "score_below_policy",
        "score",
    )
    assert other_api.get("/api/v1/me/export/").json()["partner_decisions"] == []


# --- Disputing a decision --------------------------------------------------------------------


def test_dispute_this_decision_adds_it_to_my_open_dispute(queried, partner_api, scored_owner):
    decide(partner_api, queried)
    receipt = DecisionReceipt.objects.get()
    person = browser(scored_owner)
    before = person.get("/benefits/queries/").content.decode()
    assert "Dispute this decision" not in before  # no open dispute: how to open one
    dispute = my_dispute(scored_owner)
    assert "Dispute this decision" in person.get("/benefits/queries/").content.decode()

    response = person.post(f"/benefits/decisions/{receipt.pk}/dispute/", {"dispute": dispute.pk})

    assert response.status_code == 302
    assert response["Location"] == f"/score/disputes/{dispute.pk}/"
    receipt.refresh_from_db()
    assert receipt.dispute == dispute
    assert receipt.disputed_at is not None
    event = DisputeEvent.objects.filter(dispute=dispute).latest("at", "pk")
    assert "Declined" in event.note
    assert event.status == dispute.status
    assert "Added to your dispute" in person.get("/benefits/queries/").content.decode()
    assert "Declined" in person.get(f"/score/disputes/{dispute.pk}/").content.decode()


def test_a_decision_joins_one_dispute_once_and_only_an_open_one(
    queried, partner_api, scored_owner, owner_api
):
    decide(partner_api, queried)
    receipt = DecisionReceipt.objects.get()
    dispute = my_dispute(scored_owner)
    url = f"/api/v1/me/decisions/{receipt.pk}/dispute/"
    closed = my_dispute(scored_owner)
    dispute_transition(dispute=closed, status="rejected", note="No evidence.")

    assert_error(owner_api.post(url, {"dispute": closed.pk}, format="json"), 409, "dispute_closed")
    assert owner_api.post(url, {"dispute": dispute.pk}, format="json").status_code == 200
    assert_error(
        owner_api.post(url, {"dispute": dispute.pk}, format="json"),
        409,
        "decision_already_disputed",
    )
    assert owner_api.get("/api/v1/me/decisions/").json()[0]["dispute"] == dispute.pk


def test_another_person_cannot_dispute_my_decision_nor_use_their_dispute_on_it(
    queried, partner_api, scored_owner, other_user, other_api, owner_api
):
    decide(partner_api, queried)
    receipt = DecisionReceipt.objects.get()
    theirs = my_dispute(other_user)
    mine = my_dispute(scored_owner)
    url = f"/api/v1/me/decisions/{receipt.pk}/dispute/"

    assert_error(other_api.post(url, {"dispute": theirs.pk}, format="json"), 404, "not_found")
    other_page = browser(other_user).post(
        f"/benefits/decisions/{receipt.pk}/dispute/", {"dispute": theirs.pk}
    )
    assert other_page.status_code == 404
    assert_error(owner_api.post(url, {"dispute": theirs.pk}, format="json"), 404, "not_found")
    receipt.refresh_from_db()
    assert receipt.dispute is None
    assert not DisputeEvent.objects.filter(dispute=theirs).exclude(status="received").exists()
    assert DisputeEvent.objects.filter(dispute__in=[theirs, mine]).count() == 2  # filings only

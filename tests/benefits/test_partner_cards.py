"""Partners' public cards (issue 20, capability 4): an approved partner's licence, approval
date, what it may ask, its refusal rate (declines among the decisions it reported), its
complaint rate (upheld honour reports per 1,000 answered score or eligibility queries) and
its open anomalies, on a page and in JSON without login, and nothing about any person."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from benefits.models import (
    DecisionReceipt,
    HonourReport,
    Partner,
    PartnerAnomaly,
    PartnerQuery,
)
from benefits.selectors_receipts import partner_card
from tests.factories import make_benefit, make_partner

pytestmark = pytest.mark.django_db

SECRET_TEXT = "住在朝阳区的王先生"


def card_url(partner_id: int) -> str:
    return f"/benefits/partners/{partner_id}/card/"


def api_url(partner_id: int) -> str:
    return f"/api/v1/partners/{partner_id}/card/"


def _query(partner, user, kind="score", outcome="ok") -> PartnerQuery:
    return PartnerQuery.objects.create(
        partner=partner, user=user, kind=kind, outcome=outcome, status_code=200
    )


@pytest.fixture
def known(partner, owner, other_user) -> Partner:
    """Known data: 8 answered score and 2 answered eligibility queries (3 refused calls
    and 5 answered voucher checks do not count), 4 decisions of which 1 declined, honour
    reports 1 upheld, 1 not upheld and 1 open, anomalies 2 open and 1 resolved."""
    partner.licence_number, partner.licence_authority = "京ICP-0042", "北京市地方金融监管局"
    partner.approved_at = timezone.make_aware(datetime.datetime(2026, 3, 14, 10))
    partner.save()
    queries = [_query(partner, owner) for _ in range(8)]
    queries += [_query(partner, other_user, "eligibility") for _ in range(2)]
    for _ in range(3):
        _query(partner, owner, outcome="out_of_scope")
    for _ in range(5):
        _query(partner, owner, kind="voucher_verify")
    for query, outcome in zip(queries, ["declined", "approved", "approved", "limit"], strict=False):
        DecisionReceipt.objects.create(
            query=query,
            partner=partner,
            user=query.user,
            outcome=outcome,
            reason_code="other",
            limit=500 if outcome == "limit" else None,
        )
    benefit = make_benefit(partner, 600)
    now = timezone.now()
    for status in ("upheld", "not_upheld", "received"):
        HonourReport.objects.create(
            user=owner,
            partner=partner,
            benefit=benefit,
            what_happened=SECRET_TEXT,
            status=status,
            due_at=now,
        )
    for resolved in (None, None, now):
        PartnerAnomaly.objects.create(partner=partner, kind="volume_spike", resolved_at=resolved)
    return partner


def test_the_rates_on_known_data(known):
    card = partner_card(partner_id=known.pk)

    assert (card.decisions, card.declined, card.refusal_rate) == (4, 1, Decimal("25.0"))
    assert (card.answered_queries, card.complaints_upheld) == (10, 1)
    assert card.complaint_rate == Decimal("100.0")  # 1 upheld per 10 queries = 100 per 1,000
    assert card.anomalies_open == 2
    assert card.benefits_on_offer == 1


def test_the_card_page_needs_no_login_and_shows_the_figures_in_both_languages(known):
    for language, words in [
        ("en", ["Refusal rate", "Complaint rate", "Open anomalies", "2026-03-14"]),
        ("zh-hans", ["拒绝率", "投诉率", "未处理的异常", "2026-03-14"]),
    ]:
        response = Client(HTTP_ACCEPT_LANGUAGE=language).get(card_url(known.pk))
        html = response.content.decode()
        assert response.status_code == 200
        for word in [*words, "25.0%", "100.0", "京ICP-0042", known.name]:
            assert word in html, (language, word)


def test_the_json_card_needs_no_authentication(known):
    body = APIClient().get(api_url(known.pk)).json()

    assert body["id"] == known.pk
    assert (body["decisions_reported"], body["declined"], body["refusal_rate"]) == (4, 1, "25.0")
    assert (body["answered_queries"], body["complaints_upheld"], body["complaint_rate"]) == (
        10,
        1,
        "100.0",
    )
    assert body["anomalies_open"] == 2
    assert body["licence_number"] == "京ICP-0042"
    assert body["may_ask"] == ["score", "score_and_subscores", "eligibility"]


def test_the_card_says_nothing_about_any_person(known, owner, other_user):
    html = Client().get(card_url(known.pk)).content.decode()
    body = APIClient().get(api_url(known.pk)).content.decode()

    for text in (html, body):
        for marker in (SECRET_TEXT, owner.username, other_user.username):
            assert marker not in text
    assert "user" not in APIClient().get(api_url(known.pk)).json()


def test_without_data_the_rates_are_empty_not_zero(partner):
    card = partner_card(partner_id=partner.pk)

    assert (card.refusal_rate, card.complaint_rate) == (None, None)
    body = APIClient().get(api_url(partner.pk)).json()
    assert (body["refusal_rate"], body["complaint_rate"]) == (None, None)
    assert Client().get(card_url(partner.pk)).status_code == 200


@pytest.mark.parametrize("status", [Partner.Status.PENDING, Partner.Status.SUSPENDED])
def test_only_an_approved_partner_has_a_card(status):
    unapproved = make_partner("未批准 Unapproved", status=status)

    assert Client().get(card_url(unapproved.pk)).status_code == 404
    assert Client().get(card_url(999_999)).status_code == 404
    response = APIClient().get(api_url(unapproved.pk))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

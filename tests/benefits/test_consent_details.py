"""Consent screen details: an eligibility authorisation always names its benefit, and an
expiry chosen as a day is shown as that day, inclusive, wherever it is shown (the
consent screen, the authorised page, the consents page and the queries page)."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from accounts.models import ConsentGrant, ConsentPurpose
from benefits.models import PartnerQuery
from tests.factories import make_benefit, make_partner

pytestmark = pytest.mark.django_db


def _render_expiry(value) -> str:
    return Template("{% load expiry %}{{ value|expiry }}").render(Context({"value": value}))


def test_an_expiry_at_midnight_shows_the_day_before_inclusive():
    midnight = timezone.make_aware(datetime.datetime(2027, 2, 1))
    with translation.override("en"):
        assert _render_expiry(midnight) == "2027-01-31 (inclusive)"
    with translation.override("zh-hans"):
        assert _render_expiry(midnight) == "2027-01-31（含当天）"  # noqa: RUF001
    other = timezone.make_aware(datetime.datetime(2027, 2, 1, 15, 30))
    assert _render_expiry(other) == "2027-02-01 15:30"
    assert _render_expiry(None) == ""


def _person(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _grant_on_consents_page(client, partner, **extra):
    return client.post(
        "/accounts/consents/grant/",
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "eligibility",
            "stated_purpose": "单车免押",
            "expires_on": "2027-01-31",
            "use_limit": "",
        }
        | extra,
    )


def test_eligibility_on_the_consents_page_needs_a_benefit_of_that_partner(
    scored_owner, partner, benefit
):
    client = _person(scored_owner)
    other = make_benefit(make_partner("别家 Elsewhere"), 600)

    missing = _grant_on_consents_page(client, partner)
    assert missing.status_code == 400
    assert "Choose the benefit the partner may check." in missing.content.decode()
    theirs = _grant_on_consents_page(client, partner, benefit=other.pk)
    assert theirs.status_code == 400
    assert "Choose one of this partner&#x27;s own benefits." in theirs.content.decode()
    assert not ConsentGrant.objects.filter(purpose=ConsentPurpose.PARTNER_SHARING).exists()

    done = _grant_on_consents_page(client, partner, benefit=benefit.pk)
    assert done.status_code == 302
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)
    assert grant.authorization.benefit == benefit
    assert timezone.localtime(grant.expires_at).date() == datetime.date(2027, 2, 1)

    # The authorised page, the consents page and the queries page: the chosen last day,
    # and the benefit by name.
    authorised = client.get(done["Location"]).content.decode()
    assert "2027-01-31 (inclusive)" in authorised
    assert "2027-02-01 00:00" not in authorised
    assert f"“{benefit.title_en}”" in authorised
    consents = client.get("/accounts/consents/").content.decode()
    assert "2027-01-31 (inclusive)" in consents
    assert "2027-02-01 00:00" not in consents
    assert f"“{benefit.title_en}”" in consents
    PartnerQuery.objects.create(
        partner=partner,
        user=scored_owner,
        authorization=grant.authorization,
        kind=PartnerQuery.Kind.ELIGIBILITY,
        outcome="ok",
        status_code=200,
    )
    queries = client.get("/benefits/queries/").content.decode()
    assert "Authorised until" in queries
    assert "2027-01-31 (inclusive)" in queries


def test_a_score_scope_on_the_consents_page_needs_no_benefit(scored_owner, partner, benefit):
    client = _person(scored_owner)
    response = _grant_on_consents_page(
        client, partner, scope="score", benefit=benefit.pk, expires_on="2027-01-31"
    )
    assert response.status_code == 302
    grant = ConsentGrant.objects.get(purpose=ConsentPurpose.PARTNER_SHARING)
    assert grant.authorization.benefit is None


def test_the_partners_consent_screen_shows_the_last_day_inclusive(scored_owner, partner, benefit):
    client = _person(scored_owner)
    terms = {"scope": "eligibility", "purpose": "单车免押", "benefit": benefit.pk, "days": 7}
    page = client.get(
        f"/benefits/partners/{partner.pk}/authorize/?{urllib.parse.urlencode(terms)}"
    ).content.decode()
    last_day = timezone.localdate() + datetime.timedelta(days=6)
    assert f"{last_day.isoformat()} (inclusive)" in page
    assert "00:00" not in page

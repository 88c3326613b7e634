"""Sharing with a partner: the authorisation's terms (partner_authorize), what it
discloses (authorisation_refusal, consent_refusal's answer for partner sharing), and
the partner part of the consents API and page. Moved from tests/accounts/test_consents.py
with the code (issue 17)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from accounts.clients import Client
from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation
from accounts.selectors import EXPIRED, consent_allows
from accounts.services import consent_grant, consent_revoke
from accounts.services.consent import consent_used_up
from benefits.models import ConsentScope, ConsentUseLimit, Partner, PartnerAuthorization
from benefits.selectors import (
    DECISION,
    IDENTITY_CHECK,
    OUT_OF_SCOPE,
    PARTNER_NOT_APPROVED,
    authorisation_allows,
    authorisation_refusal,
)
from benefits.services.partner_access import partner_authorize, partner_terms_validate
from sesame_portal.errors import ServiceError

pytestmark = pytest.mark.django_db

WEB = Client(channel=ConsentGrant.Channel.WEB, ip="203.0.113.7", user_agent="pytest-browser/1.0")

CONSENTS_API = "/api/v1/me/consents/"
CONSENTS_PAGE = "/accounts/consents/"
GRANT_PAGE = "/accounts/consents/grant/"


def partner_form_data(partner, *, days: int) -> dict[str, object]:
    """The partner-sharing form as a person fills it, ending `days` from today."""
    return {
        "purpose": "partner_sharing",
        "partner": partner.pk,
        "scope": "score",
        "stated_purpose": "Deposit-free car rental",
        "expires_on": (timezone.localdate() + datetime.timedelta(days=days)).isoformat(),
    }


def revoke_page(grant_id: int) -> str:
    return f"/accounts/consents/{grant_id}/revoke/"


def in_days(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(
        name="Deposit-free Rentals", category="car_rental", status=Partner.Status.APPROVED
    )


@pytest.fixture
def other_partner(db) -> Partner:
    return Partner.objects.create(
        name="Hotel Without Deposit", category="hotel", status=Partner.Status.APPROVED
    )


def grant_scoring(user, client: Client = WEB, **kwargs) -> ConsentGrant:
    return consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=client, **kwargs)


def grant_partner(user, partner, scope=ConsentScope.SCORE, days=30, **kwargs) -> ConsentGrant:
    """An authorisation of the partner (no limit in use unless given), as its grant."""
    grant, _token = partner_authorize(
        user=user,
        partner=partner,
        client=WEB,
        scope=scope,
        stated_purpose=kwargs.pop("stated_purpose", "Deposit-free car rental"),
        expires_at=kwargs.pop("expires_at", in_days(days)),
        use_limit=kwargs.pop("use_limit", ConsentUseLimit.NONE),
        **kwargs,
    )
    return grant


def assert_terms_refused(code: str, *, user, purpose: str, **terms) -> ServiceError:
    """A consent with a partner's terms, checked as the consents API checks them."""
    terms.setdefault("partner", None)
    terms.setdefault("scope", "")
    terms.setdefault("expires_at", None)

    def terms_check(now):
        partner_terms_validate(purpose=purpose, now=now, **terms)

    with pytest.raises(ServiceError) as caught:
        consent_grant(
            user=user,
            purpose=purpose,
            client=WEB,
            expires_at=terms["expires_at"],
            terms_check=terms_check,
        )
    assert caught.value.code == code
    return caught.value


# Partner sharing: the terms.


def test_partner_sharing_grant_allows_that_partner(owner, partner):
    grant = grant_partner(owner, partner, scope=ConsentScope.SCORE)

    assert grant.authorization.partner == partner
    assert grant.authorization.scope == ConsentScope.SCORE
    assert grant.authorization.stated_purpose == "Deposit-free car rental"
    assert grant.expires_at is not None
    assert authorisation_allows(user=owner, partner=partner)


def test_partner_sharing_does_not_allow_another_partner(owner, partner, other_partner):
    grant_partner(owner, partner)

    assert not authorisation_allows(user=owner, partner=other_partner)
    assert not authorisation_allows(user=owner, partner=None)


def test_partner_sharing_does_not_allow_scoring(owner, partner):
    grant_partner(owner, partner)

    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False


def test_partner_sharing_requires_a_partner(owner):
    assert_terms_refused(
        "partner",
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        scope=ConsentScope.SCORE,
        expires_at=in_days(30),
    )
    assert not ConsentGrant.objects.exists()


@pytest.mark.parametrize("status", [Partner.Status.PENDING, Partner.Status.SUSPENDED])
def test_partner_sharing_with_unapproved_partner_is_refused(owner, partner, status):
    partner.status = status
    partner.save()

    with pytest.raises(ServiceError) as caught:
        grant_partner(owner, partner)

    assert caught.value.code == "partner_not_approved"
    assert not ConsentGrant.objects.exists()


@pytest.mark.parametrize("scope", ["", "everything"])
def test_partner_sharing_requires_a_known_scope(owner, partner, scope):
    with pytest.raises(ServiceError) as caught:
        grant_partner(owner, partner, scope=scope)

    assert caught.value.code == "scope"
    assert not ConsentGrant.objects.exists()


def test_partner_sharing_requires_an_expiry(owner, partner):
    with pytest.raises(ServiceError) as caught:
        grant_partner(owner, partner, expires_at=None)

    assert caught.value.code == "expires_at"
    assert not ConsentGrant.objects.exists()


def test_partner_sharing_longer_than_365_days_is_refused(owner, partner):
    with pytest.raises(ServiceError) as caught:
        grant_partner(owner, partner, days=366)

    assert caught.value.code == "expires_at"
    assert not ConsentGrant.objects.exists()


def test_partner_sharing_for_up_to_365_days_is_accepted(owner, partner):
    grant = grant_partner(owner, partner, expires_at=in_days(365) - datetime.timedelta(minutes=1))

    assert authorisation_allows(user=owner, partner=partner)
    assert grant.expires_at <= in_days(365)


@pytest.mark.parametrize("purpose", [ConsentPurpose.SCORING, ConsentPurpose.UTILITY_BILLS])
def test_non_partner_purpose_naming_a_partner_is_refused(owner, partner, purpose):
    assert_terms_refused("partner", user=owner, purpose=purpose, partner=partner, scope="score")
    assert not ConsentGrant.objects.exists()


def test_partner_sharing_without_stated_purpose_states_the_partner_category(owner, partner):
    grant = grant_partner(owner, partner, stated_purpose="")

    assert grant.authorization.stated_purpose == partner.category


def test_partner_sharing_supersedes_per_partner_only(owner, partner, other_partner):
    first = grant_partner(owner, partner, scope=ConsentScope.SCORE)
    elsewhere = grant_partner(owner, other_partner, scope=ConsentScope.ELIGIBILITY)
    second = grant_partner(owner, partner, scope=ConsentScope.SCORE_AND_SUBSCORES)

    current = set(ConsentGrant.objects.current().filter(user=owner))
    assert current == {elsewhere, second}
    assert ConsentRevocation.objects.get(grant=first).reason == "superseded"


# Partner sharing: what a grant discloses.

DISCLOSURES = ["score", "subscores", "eligibility", "points_away", "identity_check"]
SCOPE_ALLOWS = {
    ConsentScope.SCORE: {"score", "eligibility", "points_away"},
    ConsentScope.SCORE_AND_SUBSCORES: {"score", "subscores", "eligibility", "points_away"},
    ConsentScope.ELIGIBILITY: {"eligibility"},
}


@pytest.mark.parametrize(
    ("scope", "disclosure"),
    [(scope, disclosure) for scope in ConsentScope.values for disclosure in DISCLOSURES],
)
def test_partner_scope_covers_exactly_its_disclosures(owner, partner, scope, disclosure):
    grant_partner(owner, partner, scope=scope)

    allowed = authorisation_allows(
        user=owner,
        partner=partner,
        disclosure=disclosure,
    )

    assert allowed is (disclosure in SCOPE_ALLOWS[scope])


def test_unknown_disclosure_is_refused(owner, partner):
    grant_partner(owner, partner, scope=ConsentScope.SCORE_AND_SUBSCORES)

    assert not authorisation_allows(
        user=owner,
        partner=partner,
        disclosure="raw_data",
    )


def test_revoked_partner_is_refused_at_once(owner, partner):
    grant = grant_partner(owner, partner)

    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    assert not authorisation_allows(user=owner, partner=partner, disclosure="score")


def test_partner_sharing_expires(owner, partner):
    grant = grant_partner(owner, partner, days=30)

    assert not authorisation_allows(
        user=owner,
        partner=partner,
        at=grant.expires_at + datetime.timedelta(seconds=1),
    )


@pytest.mark.parametrize("status", [Partner.Status.SUSPENDED, Partner.Status.PENDING])
def test_partner_losing_approval_after_the_grant_is_refused(owner, partner, status):
    grant_partner(owner, partner)
    Partner.objects.filter(pk=partner.pk).update(status=status)

    fresh = Partner.objects.get(pk=partner.pk)
    assert not authorisation_allows(user=owner, partner=fresh, disclosure="score")
    # The grant itself is untouched: reinstating the partner restores the consent.
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.APPROVED)
    assert authorisation_allows(
        user=owner,
        partner=Partner.objects.get(pk=partner.pk),
    )


def test_suspended_partner_saved_in_place_is_refused(owner, partner):
    grant_partner(owner, partner)

    partner.status = Partner.Status.SUSPENDED
    partner.save()

    assert not authorisation_allows(user=owner, partner=partner)


# A partner's call: judged on its authorisation and its grant, saying why not.


def refusal(grant: ConsentGrant, disclosure: str | None = None, **kwargs) -> str | None:
    """authorisation_refusal for a partner's call, on its authorisation as the call reads
    it (with the grant and its revocation)."""
    fresh = PartnerAuthorization.objects.select_related(
        "partner", "grant", "grant__revocation"
    ).get(grant_id=grant.pk)
    return authorisation_refusal(authorization=fresh, disclosure=disclosure, **kwargs)


def test_a_partners_call_is_refused_with_why(owner, partner):
    grant = grant_partner(owner, partner, scope=ConsentScope.SCORE, days=30)

    assert refusal(grant, "score") is None
    assert refusal(grant, "points_away") is None
    assert refusal(grant, "subscores") == OUT_OF_SCOPE
    assert refusal(grant, IDENTITY_CHECK) == OUT_OF_SCOPE
    assert refusal(grant, DECISION) is None
    assert refusal(grant, "score", at=grant.expires_at) == EXPIRED
    assert refusal(grant, "score", at=grant.expires_at - datetime.timedelta(seconds=1)) is None
    newer = grant_partner(owner, partner)
    assert refusal(grant, "score") == ConsentRevocation.Reason.SUPERSEDED
    consent_revoke(user=owner, grant_id=newer.pk, client=WEB)
    assert refusal(newer, "score") == ConsentRevocation.Reason.USER


def test_a_partners_identity_check_needs_the_persons_own_tick(owner, partner):
    grant = grant_partner(owner, partner, scope=ConsentScope.ELIGIBILITY, identity_check=True)

    assert refusal(grant, IDENTITY_CHECK) is None
    assert refusal(grant, "score") == OUT_OF_SCOPE


def test_a_decision_follows_used_up_queries_but_not_a_used_up_decision(
    owner, partner, other_partner
):
    queries = grant_partner(owner, partner, use_limit=ConsentUseLimit.QUERIES, max_queries=1)
    decision = grant_partner(owner, other_partner, use_limit=ConsentUseLimit.DECISION)
    consent_used_up(grant=queries)
    consent_used_up(grant=decision)

    assert refusal(queries, "score") == ConsentRevocation.Reason.USED_UP
    assert refusal(queries, DECISION) is None
    assert refusal(decision, DECISION) == ConsentRevocation.Reason.USED_UP


def test_a_partner_that_lost_its_approval_is_refused_on_its_grant(owner, partner):
    grant = grant_partner(owner, partner)
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.SUSPENDED)

    assert refusal(grant, "score") == PARTNER_NOT_APPROVED


def test_a_grant_of_a_deleted_account_is_refused(owner, partner):
    grant = grant_partner(owner, partner)
    ConsentGrant.objects.filter(pk=grant.pk).update(user=None)

    assert refusal(grant, "score") == ConsentRevocation.Reason.ACCOUNT_DELETED
    assert refusal(grant, DECISION) == ConsentRevocation.Reason.ACCOUNT_DELETED


def test_api_grant_partner_sharing_is_201(owner_api, owner, partner):
    expires_at = in_days(90)

    response = owner_api.post(
        CONSENTS_API,
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "eligibility",
            "stated_purpose": "Hotel stay without deposit",
            "expires_at": expires_at.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["partner"] == {"id": partner.pk, "name": partner.name}
    assert body["scope"] == "eligibility"
    assert body["stated_purpose"] == "Hotel stay without deposit"
    assert authorisation_allows(
        user=owner,
        partner=partner,
        disclosure="eligibility",
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"status": "pending"}, "partner_not_approved"),
        ({"status": "suspended"}, "partner_not_approved"),
    ],
)
def test_api_grant_to_unapproved_partner_is_400(owner_api, owner, partner, changes, code):
    Partner.objects.filter(pk=partner.pk).update(**changes)

    response = owner_api.post(
        CONSENTS_API,
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "expires_at": in_days(30).isoformat(),
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_api_partner_sharing_beyond_a_year_is_400_expires_at(owner_api, owner, partner):
    response = owner_api.post(
        CONSENTS_API,
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "expires_at": in_days(400).isoformat(),
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "expires_at"
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_consents_page_lists_current_grants_with_a_revoke_button(owner_client, owner, partner):
    scoring = grant_scoring(owner)
    sharing = grant_partner(owner, partner)

    response = owner_client.get(CONSENTS_PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    for grant in (scoring, sharing):
        assert f'id="consent-{grant.pk}"' in html
        assert f'action="{revoke_page(grant.pk)}"' in html
    assert partner.name in html
    assert set(response.context["current_grants"]) == {scoring, sharing}


def test_page_partner_sharing_grant_saves_the_stated_terms(owner_client, owner, partner):
    expires_on = timezone.localdate() + datetime.timedelta(days=60)

    response = owner_client.post(
        GRANT_PAGE,
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score_and_subscores",
            "stated_purpose": "Deposit-free car rental",
            "expires_on": expires_on.isoformat(),
        },
    )

    # Then a page shows the partner's token, once.
    assert response.status_code == 302
    shown = owner_client.get(response.url).content.decode()
    assert re.search(r"au_[0-9a-f]{12}_", shown)
    assert not re.search(r"au_[0-9a-f]{12}_", owner_client.get(response.url).content.decode())
    grant = ConsentGrant.objects.get(user=owner, purpose=ConsentPurpose.PARTNER_SHARING)
    assert grant.authorization.partner == partner
    assert grant.authorization.scope == ConsentScope.SCORE_AND_SUBSCORES
    assert grant.authorization.stated_purpose == "Deposit-free car rental"
    # "Until (inclusive)": the whole chosen day is covered, the next one is not.
    last_day = timezone.localtime(grant.expires_at - datetime.timedelta(microseconds=1)).date()
    assert last_day == expires_on
    assert timezone.localtime(grant.expires_at).date() == expires_on + datetime.timedelta(days=1)


def test_page_partner_sharing_until_364_days_ahead_is_accepted(owner_client, owner, partner):
    # The chosen day is inclusive, so its end is 365 days away at most: still within a year.
    expires_on = timezone.localdate() + datetime.timedelta(days=364)

    response = owner_client.post(
        GRANT_PAGE,
        {
            "purpose": "partner_sharing",
            "partner": partner.pk,
            "scope": "score",
            "stated_purpose": "Deposit-free car rental",
            "expires_on": expires_on.isoformat(),
        },
    )

    assert response.status_code == 302  # to the page showing the partner's token
    assert authorisation_allows(user=owner, partner=partner)


@pytest.mark.parametrize(
    "missing", ["partner", "scope", "stated_purpose", "expires_on", "everything"]
)
def test_page_partner_sharing_with_missing_fields_rerenders_with_errors(
    owner_client, owner, partner, missing
):
    data = partner_form_data(partner, days=30)
    if missing == "everything":
        data = {"purpose": "partner_sharing"}
    else:
        del data[missing]

    response = owner_client.post(GRANT_PAGE, data)

    assert response.status_code == 400
    errors = response.context["partner_form"].errors
    expected = (
        {"partner", "scope", "stated_purpose", "expires_on"}
        if missing == "everything"
        else {missing}
    )
    assert expected <= set(errors)
    assert not ConsentGrant.objects.filter(user=owner).exists()


@pytest.mark.parametrize("status", [Partner.Status.PENDING, Partner.Status.SUSPENDED])
def test_page_partner_sharing_with_unapproved_partner_is_refused(
    owner_client, owner, partner, status
):
    Partner.objects.filter(pk=partner.pk).update(status=status)

    response = owner_client.post(
        GRANT_PAGE,
        partner_form_data(partner, days=30),
    )

    assert response.status_code == 400
    assert "partner" in response.context["partner_form"].errors
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_page_partner_sharing_beyond_a_year_rerenders_with_expiry_error(
    owner_client, owner, partner
):
    response = owner_client.post(
        GRANT_PAGE,
        partner_form_data(partner, days=400),
    )

    assert response.status_code == 400
    assert "expires_on" in response.context["partner_form"].errors
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_page_partner_sharing_with_expiry_in_the_past_rerenders_with_error(
    owner_client, owner, partner
):
    response = owner_client.post(
        GRANT_PAGE,
        partner_form_data(partner, days=-2),
    )

    assert response.status_code == 400
    assert "expires_on" in response.context["partner_form"].errors
    assert not ConsentGrant.objects.filter(user=owner).exists()

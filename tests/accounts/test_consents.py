"""The consent ledger: services, the consent_refusal and consent_allows selectors, the API
and the pages."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client as BrowserClient
from django.urls import reverse
from django.utils import timezone

from accounts.clients import Client
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    ConsentRevocation,
    ConsentScope,
    ConsentText,
    ConsentUseLimit,
)
from accounts.selectors import (
    DECISION,
    EXPIRED,
    IDENTITY_CHECK,
    OUT_OF_SCOPE,
    PARTNER_NOT_APPROVED,
    consent_allows,
    consent_refusal,
    users_consenting_to_scoring,
)
from accounts.services import consent_grant, consent_revoke
from accounts.services.consent import consent_used_up
from benefits.models import Partner
from sesame_portal.errors import ServiceError
from tests.dates import days_ahead, in_days

pytestmark = pytest.mark.django_db

WEB = Client(channel=ConsentGrant.Channel.WEB, ip="203.0.113.7", user_agent="pytest-browser/1.0")
API = Client(channel=ConsentGrant.Channel.API, ip="2001:db8::5", user_agent="SesameApp/2.3")

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
        "expires_on": days_ahead(days).isoformat(),
    }


def consent_api(grant_id: int) -> str:
    return f"/api/v1/me/consents/{grant_id}/"


def revoke_page(grant_id: int) -> str:
    return f"/accounts/consents/{grant_id}/revoke/"


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
    return consent_grant(
        user=user,
        purpose=ConsentPurpose.PARTNER_SHARING,
        client=WEB,
        partner=partner,
        scope=scope,
        stated_purpose=kwargs.pop("stated_purpose", "Deposit-free car rental"),
        expires_at=kwargs.pop("expires_at", in_days(days)),
        **kwargs,
    )


def assert_refused(code: str, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        consent_grant(**kwargs)
    assert caught.value.code == code
    return caught.value


# --- Service and selector ---------------------------------------------------------------------


def test_consent_texts_are_published_for_every_purpose():
    assert set(ConsentText.objects.values_list("purpose", flat=True)) == set(ConsentPurpose.values)


def test_without_any_grant_nothing_is_allowed(owner, partner):
    for purpose in ConsentPurpose.values:
        assert consent_allows(user=owner, purpose=purpose, partner=partner) is False


def test_scoring_grant_allows_scoring(owner):
    grant_scoring(owner)

    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is True


def test_scoring_grant_does_not_allow_other_purposes(owner):
    grant_scoring(owner)

    assert consent_allows(user=owner, purpose=ConsentPurpose.SOCIAL_CONNECTIONS) is False
    assert consent_allows(user=owner, purpose=ConsentPurpose.UTILITY_BILLS) is False


def test_one_users_grant_does_not_allow_anything_for_another_user(owner, other_user):
    grant_scoring(owner)

    assert consent_allows(user=other_user, purpose=ConsentPurpose.SCORING) is False


def test_revoked_scoring_is_refused_at_once(owner):
    grant = grant_scoring(owner)

    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False


def test_grant_with_expiry_is_refused_after_it_expires(owner):
    expires_at = in_days(1)
    grant_scoring(owner, expires_at=expires_at)

    before = expires_at - datetime.timedelta(minutes=1)
    after = expires_at + datetime.timedelta(seconds=1)
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING, at=before) is True
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING, at=expires_at) is False
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING, at=after) is False


def test_the_users_consenting_to_scoring_are_those_consent_allows_for_one(owner, other_user):
    from accounts.models import User

    expiring, revoked, elsewhere = (
        User.objects.create_user(name, password="unused-password-42")
        for name in ("expiring", "revoked", "elsewhere")
    )
    grant_scoring(owner)
    grant_scoring(owner)  # granted again: superseded, still once
    expires_at = in_days(1)
    grant_scoring(expiring, expires_at=expires_at)
    consent_revoke(user=revoked, grant_id=grant_scoring(revoked).pk, client=WEB)
    consent_grant(user=elsewhere, purpose=ConsentPurpose.UTILITY_BILLS, client=WEB)
    everyone = [owner, other_user, expiring, revoked, elsewhere]

    for at in (None, expires_at + datetime.timedelta(seconds=1)):
        consenting = list(users_consenting_to_scoring(at=at))
        assert sorted(consenting) == sorted(
            user.pk
            for user in everyone
            if consent_allows(user=user, purpose=ConsentPurpose.SCORING, at=at)
        )
    assert sorted(users_consenting_to_scoring()) == sorted([owner.pk, expiring.pk])
    assert list(users_consenting_to_scoring(at=expires_at)) == [owner.pk]
    assert list(users_consenting_to_scoring().filter(user_id__in=[expiring.pk])) == [expiring.pk]


def test_anonymous_user_is_never_allowed(owner):
    grant_scoring(owner)

    assert consent_allows(user=AnonymousUser(), purpose=ConsentPurpose.SCORING) is False
    assert consent_allows(user=None, purpose=ConsentPurpose.SCORING) is False


def test_grant_row_already_expired_is_refused(owner):
    ConsentGrant.objects.create(
        user=owner,
        purpose=ConsentPurpose.SCORING,
        text=ConsentText.objects.filter(purpose=ConsentPurpose.SCORING).first(),
        granted_at=in_days(-10),
        expires_at=in_days(-1),
        channel=ConsentGrant.Channel.WEB,
    )

    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False
    assert not ConsentGrant.objects.current().filter(user=owner).exists()


def test_grant_in_the_past_is_refused_by_the_service(owner):
    assert_refused(
        "expires_at",
        user=owner,
        purpose=ConsentPurpose.SCORING,
        client=WEB,
        expires_at=in_days(-1),
    )
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_unknown_purpose_is_refused_by_the_service(owner):
    assert_refused("purpose", user=owner, purpose="marketing", client=WEB)
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_granting_same_purpose_twice_supersedes_the_first(owner):
    first = grant_scoring(owner)
    second = grant_scoring(owner)

    current = ConsentGrant.objects.current().filter(user=owner, purpose=ConsentPurpose.SCORING)
    assert list(current) == [second]
    revocation = ConsentRevocation.objects.get(grant=first)
    assert revocation.reason == ConsentRevocation.Reason.SUPERSEDED
    assert not ConsentRevocation.objects.filter(grant=second).exists()
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is True


def test_granting_a_different_purpose_does_not_supersede(owner):
    scoring = grant_scoring(owner)
    consent_grant(user=owner, purpose=ConsentPurpose.SOCIAL_CONNECTIONS, client=WEB)

    assert not ConsentRevocation.objects.filter(grant=scoring).exists()
    assert ConsentGrant.objects.current().filter(user=owner).count() == 2


def test_revoking_appends_a_revocation_and_leaves_the_grant_row_unchanged(owner):
    grant = grant_scoring(owner)
    row_before = ConsentGrant.objects.filter(pk=grant.pk).values().get()

    revocation = consent_revoke(user=owner, grant_id=grant.pk, client=API)

    assert ConsentGrant.objects.filter(pk=grant.pk).values().get() == row_before
    assert ConsentGrant.objects.filter(user=owner).count() == 1
    stored = ConsentRevocation.objects.get(grant=grant)
    assert stored.pk == revocation.pk
    assert stored.reason == ConsentRevocation.Reason.USER
    assert stored.channel == ConsentGrant.Channel.API
    assert stored.client_ip == API.ip
    assert stored.user_agent == API.user_agent
    assert stored.revoked_at is not None


def test_revoking_twice_is_refused_with_already_revoked(owner):
    grant = grant_scoring(owner)
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    with pytest.raises(ServiceError) as caught:
        consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    assert caught.value.code == "already_revoked"
    assert caught.value.status_code == 409
    assert ConsentRevocation.objects.filter(grant=grant).count() == 1


def test_revoking_another_users_grant_is_not_found(owner, other_user):
    grant = grant_scoring(owner)

    with pytest.raises(ServiceError) as caught:
        consent_revoke(user=other_user, grant_id=grant.pk, client=WEB)

    assert caught.value.status_code == 404
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is True


def test_grant_records_text_version_channel_client_ip_and_user_agent(owner):
    newest = ConsentText.objects.filter(purpose=ConsentPurpose.SCORING).order_by("-version")[0]

    grant = grant_scoring(owner, client=API)

    stored = ConsentGrant.objects.get(pk=grant.pk)
    assert stored.text == newest
    assert stored.channel == ConsentGrant.Channel.API
    assert stored.client_ip == API.ip
    assert stored.user_agent == API.user_agent
    assert stored.granted_at <= timezone.now()


def test_grant_records_the_newest_published_text_version(owner):
    v1 = ConsentText.objects.filter(purpose=ConsentPurpose.SCORING).order_by("-version")[0]
    v2 = ConsentText.objects.create(
        purpose=ConsentPurpose.SCORING,
        version=v1.version + 1,
        title_zh="新版",
        title_en="New wording",
        body_zh="新版文本",
        body_en="New text",
    )

    grant = grant_scoring(owner)

    assert grant.text == v2


# Partner sharing: the terms.


def test_partner_sharing_grant_allows_that_partner(owner, partner):
    grant = grant_partner(owner, partner, scope=ConsentScope.SCORE)

    assert grant.partner == partner
    assert grant.scope == ConsentScope.SCORE
    assert grant.stated_purpose == "Deposit-free car rental"
    assert grant.expires_at is not None
    assert consent_allows(user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=partner)


def test_partner_sharing_does_not_allow_another_partner(owner, partner, other_partner):
    grant_partner(owner, partner)

    assert not consent_allows(
        user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=other_partner
    )
    assert not consent_allows(user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=None)


def test_partner_sharing_does_not_allow_scoring(owner, partner):
    grant_partner(owner, partner)

    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False


def test_partner_sharing_requires_a_partner(owner):
    assert_refused(
        "partner",
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        client=WEB,
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

    assert consent_allows(user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=partner)
    assert grant.expires_at <= in_days(365)


@pytest.mark.parametrize("purpose", [ConsentPurpose.SCORING, ConsentPurpose.UTILITY_BILLS])
def test_non_partner_purpose_naming_a_partner_is_refused(owner, partner, purpose):
    assert_refused(
        "partner", user=owner, purpose=purpose, client=WEB, partner=partner, scope="score"
    )
    assert not ConsentGrant.objects.exists()


def test_partner_sharing_without_stated_purpose_states_the_partner_category(owner, partner):
    grant = grant_partner(owner, partner, stated_purpose="")

    assert grant.stated_purpose == partner.category


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

    allowed = consent_allows(
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        partner=partner,
        disclosure=disclosure,
    )

    assert allowed is (disclosure in SCOPE_ALLOWS[scope])


def test_unknown_disclosure_is_refused(owner, partner):
    grant_partner(owner, partner, scope=ConsentScope.SCORE_AND_SUBSCORES)

    assert not consent_allows(
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        partner=partner,
        disclosure="raw_data",
    )


def test_revoked_partner_is_refused_at_once(owner, partner):
    grant = grant_partner(owner, partner)

    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    assert not consent_allows(
        user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=partner, disclosure="score"
    )


def test_partner_sharing_expires(owner, partner):
    grant = grant_partner(owner, partner, days=30)

    assert not consent_allows(
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        partner=partner,
        at=grant.expires_at + datetime.timedelta(seconds=1),
    )


@pytest.mark.parametrize("status", [Partner.Status.SUSPENDED, Partner.Status.PENDING])
def test_partner_losing_approval_after_the_grant_is_refused(owner, partner, status):
    grant_partner(owner, partner)
    Partner.objects.filter(pk=partner.pk).update(status=status)

    fresh = Partner.objects.get(pk=partner.pk)
    assert not consent_allows(
        user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=fresh, disclosure="score"
    )
    # The grant itself is untouched: reinstating the partner restores the consent.
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.APPROVED)
    assert consent_allows(
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        partner=Partner.objects.get(pk=partner.pk),
    )


def test_suspended_partner_saved_in_place_is_refused(owner, partner):
    grant_partner(owner, partner)

    partner.status = Partner.Status.SUSPENDED
    partner.save()

    assert not consent_allows(user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=partner)


# A partner's call: judged on its authorisation's grant, saying why not.


def refusal(grant: ConsentGrant, disclosure: str | None = None, **kwargs) -> str | None:
    """consent_refusal for a partner's call, on the grant as the call reads it."""
    fresh = ConsentGrant.objects.select_related("revocation", "partner").get(pk=grant.pk)
    return consent_refusal(
        purpose=ConsentPurpose.PARTNER_SHARING, grant=fresh, disclosure=disclosure, **kwargs
    )


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


# --- API --------------------------------------------------------------------------------------


def test_api_list_shows_every_grant_current_or_not(owner_api, owner):
    revoked = grant_scoring(owner)
    consent_revoke(user=owner, grant_id=revoked.pk, client=WEB)
    current = consent_grant(user=owner, purpose=ConsentPurpose.UTILITY_BILLS, client=WEB)

    response = owner_api.get(CONSENTS_API)

    assert response.status_code == 200
    by_id = {row["id"]: row for row in response.json()}
    assert set(by_id) == {revoked.pk, current.pk}
    assert by_id[current.pk]["is_current"] is True
    assert by_id[current.pk]["revoked_at"] is None
    assert by_id[revoked.pk]["is_current"] is False
    assert by_id[revoked.pk]["revoked_at"] is not None
    assert by_id[current.pk]["text_version"] == current.text.version


def test_api_grant_scoring_is_201_and_allows_scoring(owner_api, owner):
    response = owner_api.post(
        CONSENTS_API,
        {"purpose": "scoring"},
        format="json",
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="SesameApp/2.3 (iOS)",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["purpose"] == "scoring"
    assert body["is_current"] is True
    assert body["channel"] == "api"
    grant = ConsentGrant.objects.get(pk=body["id"], user=owner)
    assert body["text_version"] == grant.text.version
    assert grant.client_ip == "198.51.100.4"
    assert grant.user_agent == "SesameApp/2.3 (iOS)"
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING)


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
    assert consent_allows(
        user=owner,
        purpose=ConsentPurpose.PARTNER_SHARING,
        partner=partner,
        disclosure="eligibility",
    )


def test_api_revoke_is_204_and_refuses_at_once(owner_api, owner):
    grant = grant_scoring(owner)

    response = owner_api.delete(consent_api(grant.pk))

    assert response.status_code == 204
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False
    revocation = ConsentRevocation.objects.get(grant=grant)
    assert revocation.reason == "user"
    assert revocation.channel == "api"


def test_api_revoking_twice_is_409_already_revoked(owner_api, owner):
    grant = grant_scoring(owner)
    assert owner_api.delete(consent_api(grant.pk)).status_code == 204

    response = owner_api.delete(consent_api(grant.pk))

    assert response.status_code == 409
    assert response.json()["code"] == "already_revoked"
    assert response.json()["message"]


def test_api_revoking_unknown_grant_is_404(owner_api):
    response = owner_api.delete(consent_api(999_999))

    assert response.status_code == 404
    assert response.json()["code"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"purpose": "marketing"}, "invalid"),
        ({}, "invalid"),
        ({"purpose": "partner_sharing", "partner": 999_999, "scope": "score"}, "partner"),
        ({"purpose": "scoring", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"purpose": "partner_sharing", "scope": "score"}, "partner"),
        ({"purpose": "scoring", "scope": "everything"}, "invalid"),
    ],
    ids=[
        "unknown_purpose",
        "no_purpose",
        "missing_partner_id",
        "expiry_in_past",
        "no_partner",
        "unknown_scope",
    ],
)
def test_api_grant_bad_input_is_400_with_code(owner_api, owner, payload, code):
    response = owner_api.post(CONSENTS_API, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert not ConsentGrant.objects.filter(user=owner).exists()


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


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", CONSENTS_API, None),
        ("post", CONSENTS_API, {"purpose": "scoring"}),
        ("delete", "/api/v1/me/consents/1/", None),
    ],
)
def test_api_consents_unauthenticated_is_refused_with_code(api_client, owner, method, url, data):
    response = getattr(api_client, method)(url, data, format="json")

    assert response.status_code in (401, 403)
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["message"]
    assert not ConsentGrant.objects.exists()


def test_api_list_does_not_show_other_users_grants(other_api, owner, other_user):
    owner_grant = grant_scoring(owner)
    own = consent_grant(user=other_user, purpose=ConsentPurpose.UTILITY_BILLS, client=WEB)

    response = other_api.get(CONSENTS_API)

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()]
    assert ids == [own.pk]
    assert owner_grant.pk not in ids


def test_api_other_user_cannot_revoke_owners_grant(other_api, owner):
    grant = grant_scoring(owner)

    response = other_api.delete(consent_api(grant.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not ConsentRevocation.objects.filter(grant=grant).exists()
    assert ConsentGrant.objects.current().filter(pk=grant.pk).exists()
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is True


def test_api_other_user_gets_404_not_409_for_owners_revoked_grant(other_api, owner):
    grant = grant_scoring(owner)
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    response = other_api.delete(consent_api(grant.pk))

    # Same answer as for a grant that does not exist: no hint that the id is in use.
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ConsentRevocation.objects.filter(grant=grant).count() == 1


def test_api_consent_texts_are_public_one_per_purpose(api_client):
    response = api_client.get("/api/v1/consent-texts/")

    assert response.status_code == 200
    rows = response.json()
    assert sorted(row["purpose"] for row in rows) == sorted(ConsentPurpose.values)
    assert all(row["version"] >= 1 and row["title"] and row["body"] for row in rows)


# --- Pages ------------------------------------------------------------------------------------


def test_consents_page_requires_login(client):
    response = client.get(CONSENTS_PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_consent_grant_post_requires_login(client, owner):
    response = client.post(GRANT_PAGE, {"purpose": "scoring"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not ConsentGrant.objects.exists()


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


def test_consents_page_does_not_offer_revoke_for_revoked_grants(owner_client, owner):
    grant = grant_scoring(owner)
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    response = owner_client.get(CONSENTS_PAGE)

    html = response.content.decode()
    assert f'id="consent-{grant.pk}"' in html  # listed among earlier consents
    assert f'action="{revoke_page(grant.pk)}"' not in html
    assert response.context["current_grants"] == []


def test_consents_page_does_not_list_other_users_grants(owner_client, other_user):
    theirs = grant_scoring(other_user)

    response = owner_client.get(CONSENTS_PAGE)

    assert f'id="consent-{theirs.pk}"' not in response.content.decode()


def test_page_grant_then_revoke_works_without_javascript(owner_client, owner):
    response = owner_client.post(
        GRANT_PAGE, {"purpose": "scoring"}, headers={"User-Agent": "Firefox/140"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:consents")
    grant = ConsentGrant.objects.get(user=owner, purpose=ConsentPurpose.SCORING)
    assert grant.channel == ConsentGrant.Channel.WEB
    assert grant.client_ip == "127.0.0.1"
    assert grant.user_agent == "Firefox/140"
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING)

    response = owner_client.post(revoke_page(grant.pk))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:consents")
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False
    assert ConsentRevocation.objects.get(grant=grant).channel == ConsentGrant.Channel.WEB


def test_page_grant_with_unknown_purpose_saves_nothing(owner_client, owner):
    response = owner_client.post(GRANT_PAGE, {"purpose": "marketing"})

    assert response.status_code == 302
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_page_grant_by_get_is_refused(owner_client, owner):
    response = owner_client.get(GRANT_PAGE, {"purpose": "scoring"})

    assert response.status_code == 405
    assert not ConsentGrant.objects.filter(user=owner).exists()


def test_page_revoke_by_get_is_refused(owner_client, owner):
    grant = grant_scoring(owner)

    response = owner_client.get(revoke_page(grant.pk))

    assert response.status_code == 405
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING)


def test_htmx_revoke_returns_the_row_fragment(owner_client, owner):
    grant = grant_scoring(owner)

    response = owner_client.post(revoke_page(grant.pk), headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="consent-{grant.pk}"' in html
    assert "<html" not in html.lower()
    # The revoked row no longer offers a revoke button.
    assert "hx-post" not in html
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is False
    # The message area is replaced out of band, so an earlier notice does not linger.
    assert 'id="messages"' in html
    assert 'hx-swap-oob="true"' in html
    assert "message-success" in html


def test_htmx_revoke_of_already_revoked_grant_still_returns_the_row(owner_client, owner):
    grant = grant_scoring(owner)
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    response = owner_client.post(revoke_page(grant.pk), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert f'id="consent-{grant.pk}"' in response.content.decode()
    assert ConsentRevocation.objects.filter(grant=grant).count() == 1


def test_page_revoking_an_already_revoked_grant_does_not_report_success(owner_client, owner):
    grant = grant_scoring(owner)
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    response = owner_client.post(revoke_page(grant.pk))

    assert response.status_code == 302
    levels = [message.level for message in get_messages(response.wsgi_request)]
    assert message_levels.SUCCESS not in levels
    assert ConsentRevocation.objects.filter(grant=grant).count() == 1


def test_page_revoke_reports_success(owner_client, owner):
    grant = grant_scoring(owner)

    response = owner_client.post(revoke_page(grant.pk))

    levels = [message.level for message in get_messages(response.wsgi_request)]
    assert levels == [message_levels.SUCCESS]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_page_revoke_of_other_users_grant_is_404(client, other_user, owner, htmx):
    grant = grant_scoring(owner)
    client.force_login(other_user)
    headers = {"HX-Request": "true"} if htmx else {}

    response = client.post(revoke_page(grant.pk), headers=headers)

    assert response.status_code == 404
    assert not ConsentRevocation.objects.filter(grant=grant).exists()
    assert consent_allows(user=owner, purpose=ConsentPurpose.SCORING) is True


def test_page_partner_sharing_grant_saves_the_stated_terms(owner_client, owner, partner):
    expires_on = days_ahead(60)

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
    assert grant.partner == partner
    assert grant.scope == ConsentScope.SCORE_AND_SUBSCORES
    assert grant.stated_purpose == "Deposit-free car rental"
    # "Until (inclusive)": the whole chosen day is covered, the next one is not.
    last_day = timezone.localtime(grant.expires_at - datetime.timedelta(microseconds=1)).date()
    assert last_day == expires_on
    assert timezone.localtime(grant.expires_at).date() == expires_on + datetime.timedelta(days=1)


def test_page_partner_sharing_until_364_days_ahead_is_accepted(owner_client, owner, partner):
    # The chosen day is inclusive, so its end is 365 days away at most: still within a year.
    expires_on = days_ahead(364)

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
    assert consent_allows(user=owner, purpose=ConsentPurpose.PARTNER_SHARING, partner=partner)


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


def test_page_consent_post_without_csrf_token_is_refused(owner):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = browser.post(GRANT_PAGE, {"purpose": "scoring"})

    assert response.status_code == 403
    assert not ConsentGrant.objects.filter(user=owner).exists()

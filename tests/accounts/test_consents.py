"""The consent ledger: services, the consent_refusal and consent_allows selectors, the API
and the pages. (Sharing with a partner, its terms and authorisation_refusal:
tests/benefits/test_partner_sharing.py.)"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client as BrowserClient
from django.urls import reverse
from django.utils import timezone

from accounts.clients import Client
from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation, ConsentText
from accounts.selectors import consent_allows, users_consenting_to_scoring
from accounts.services import consent_grant, consent_revoke
from benefits.models import Partner
from benefits.selectors import authorisation_allows
from sesame_portal.errors import ServiceError
from tests.dates import in_days

pytestmark = pytest.mark.django_db

WEB = Client(channel=ConsentGrant.Channel.WEB, ip="203.0.113.7", user_agent="pytest-browser/1.0")
API = Client(channel=ConsentGrant.Channel.API, ip="2001:db8::5", user_agent="SesameApp/2.3")

CONSENTS_API = "/api/v1/me/consents/"
CONSENTS_PAGE = "/accounts/consents/"
GRANT_PAGE = "/accounts/consents/grant/"


def consent_api(grant_id: int) -> str:
    return f"/api/v1/me/consents/{grant_id}/"


def revoke_page(grant_id: int) -> str:
    return f"/accounts/consents/{grant_id}/revoke/"


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(
        name="Deposit-free Rentals", category="car_rental", status=Partner.Status.APPROVED
    )


def grant_scoring(user, client: Client = WEB, **kwargs) -> ConsentGrant:
    return consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=client, **kwargs)


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
        assert consent_allows(user=owner, purpose=purpose) is False
    assert authorisation_allows(user=owner, partner=partner) is False


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

    # The first consent to scoring ends the guided first path: on to the score.
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
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

    # Consenting again is managing consents, not the first path: back to the page.
    response = owner_client.post(GRANT_PAGE, {"purpose": "scoring"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:consents")


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


def test_page_consent_post_without_csrf_token_is_refused(owner):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = browser.post(GRANT_PAGE, {"purpose": "scoring"})

    assert response.status_code == 403
    assert not ConsentGrant.objects.filter(user=owner).exists()

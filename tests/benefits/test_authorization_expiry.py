"""The reminder of a partner authorisation that ends within a week: sent once, leading to
a page (only the owner's) where the person renews it on the same terms or lets it
lapse; and the API's renewal."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from accounts.models import ConsentGrant, ConsentRevocation, Notification
from accounts.notifications import notifications_page
from accounts.services import consent_revoke
from benefits.models import ExpiryAnswer, PartnerAuthorization
from benefits.services import partner_calls
from benefits.services.data_use import authorizations_expiring_remind
from benefits.views import TOKEN_SESSION_KEY
from tests.factories import WEB, authorize, make_partner
from tests.partner_api import assert_error, score_url


@pytest.fixture(autouse=True)
def _cold_cache():
    partner_calls._keys.clear()
    yield
    partner_calls._keys.clear()


@pytest.fixture
def other_partner(db):
    return make_partner("悦途酒店 Joyway Hotels", category="hotel")


@pytest.fixture
def expiring(scored_owner, partner):
    """The owner's authorisation of the partner, given 30 days ago, ending in 3 days:
    (grant, token)."""
    grant, token = authorize(
        scored_owner,
        partner,
        "score_and_subscores",
        days=3,
        identity_check=True,
        use_limit="queries",
        max_queries=5,
    )
    ConsentGrant.objects.filter(pk=grant.pk).update(
        granted_at=timezone.now() - datetime.timedelta(days=30)
    )
    grant.refresh_from_db()
    return grant, token


def page(authorization_id: int) -> str:
    return f"/benefits/authorizations/{authorization_id}/expiring/"


def renew_url(authorization_id: int) -> str:
    return f"/api/v1/me/authorizations/{authorization_id}/renew/"


def reminders(user) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user, kind=Notification.Kind.AUTHORIZATION_EXPIRING)
    )


# --- The reminder ---------------------------------------------------------------------------------


def test_an_authorisation_ending_within_a_week_is_reminded_of_once(
    expiring, scored_owner, partner, other_user, other_partner
):
    grant, _token = expiring
    authorize(scored_owner, other_partner, "score", days=30)  # not yet
    _theirs, _token = authorize(other_user, other_partner, "score", days=2)

    assert sorted(authorizations_expiring_remind()) == sorted(
        [grant.authorization.pk, PartnerAuthorization.objects.get(grant__user=other_user).pk]
    )
    assert authorizations_expiring_remind() == []  # once

    (reminder,) = reminders(scored_owner)
    assert reminder.params == {"authorization_id": grant.authorization.pk}
    assert PartnerAuthorization.objects.get(pk=grant.authorization.pk).expiry_reminded_at
    with translation.override("en"):
        (item,) = notifications_page(user=scored_owner)
    assert item["text"].startswith(f"Your authorisation of {partner.display_name} ends ")
    assert item["url"] == page(grant.authorization.pk)
    assert other_partner.display_name not in item["text"]
    with translation.override("zh-hans"):
        (item,) = notifications_page(user=scored_owner)
    assert f"您对{partner.display_name}的授权将于" in item["text"]


def test_ended_authorisations_are_not_reminded_of(expiring, scored_owner, partner):
    grant, _token = expiring
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)
    over, _token = authorize(scored_owner, partner, "score", days=1)
    ConsentGrant.objects.filter(pk=over.pk).update(expires_at=timezone.now())  # already over

    assert authorizations_expiring_remind() == []
    assert not reminders(scored_owner)


# --- The page: renew or let it lapse --------------------------------------------------------------


def test_the_page_is_only_the_owners(client, expiring, other_user):
    grant, _token = expiring
    client.force_login(other_user)

    assert client.get(page(grant.authorization.pk)).status_code == 404
    assert client.post(page(grant.authorization.pk), {"answer": "renew"}).status_code == 404
    assert client.post(page(grant.authorization.pk), {"answer": "lapse"}).status_code == 404
    assert not ConsentGrant.objects.filter(user=other_user).exists()
    assert PartnerAuthorization.objects.get().expiry_answer == ""


def test_renewing_gives_a_new_token_on_the_same_terms_for_as_long_again(
    client, expiring, scored_owner, partner_api
):
    grant, old_token = expiring
    client.force_login(scored_owner)
    assert client.get(page(grant.authorization.pk)).status_code == 200

    response = client.post(page(grant.authorization.pk), {"answer": "renew"})

    new = PartnerAuthorization.objects.exclude(pk=grant.authorization.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/benefits/authorized/{new.grant_id}/"
    shown = client.get(response["Location"])
    token = shown.context["token"]
    assert token
    assert token in shown.content.decode()
    assert TOKEN_SESSION_KEY not in client.session  # once
    old = PartnerAuthorization.objects.get(pk=grant.authorization.pk)
    assert old.expiry_answer == ExpiryAnswer.RENEWED
    assert (new.partner_id, new.scope, new.stated_purpose) == (
        old.partner_id,
        old.scope,
        old.stated_purpose,
    )
    assert (new.identity_check, new.use_limit, new.max_queries) == (True, "queries", 5)
    length = new.grant.expires_at - new.grant.granted_at
    assert abs(length - datetime.timedelta(days=33)) < datetime.timedelta(minutes=1)
    assert old.grant.revocation.reason == ConsentRevocation.Reason.SUPERSEDED
    assert_error(partner_api.get(score_url(old_token)), 403, "authorization_replaced")
    assert partner_api.get(score_url(token)).status_code == 200


def test_letting_it_lapse_changes_nothing_but_the_answer(client, expiring, scored_owner):
    grant, _token = expiring
    client.force_login(scored_owner)

    response = client.post(page(grant.authorization.pk), {"answer": "lapse"}, follow=True)

    assert response.status_code == 200
    authorization = PartnerAuthorization.objects.get()
    assert authorization.expiry_answer == ExpiryAnswer.LAPSE
    assert authorization.grant.expires_at == grant.expires_at
    assert authorization.grant.is_current()
    assert authorizations_expiring_remind() == []  # no reminder after the answer
    assert b'value="renew"' not in response.content


def test_an_ended_authorisation_cannot_be_renewed(client, expiring, scored_owner):
    grant, _token = expiring
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)
    client.force_login(scored_owner)

    response = client.post(page(grant.authorization.pk), {"answer": "renew"})

    assert response.status_code == 400
    assert PartnerAuthorization.objects.count() == 1


def test_an_answer_that_is_neither_is_refused(client, expiring, scored_owner):
    grant, _token = expiring
    client.force_login(scored_owner)

    assert client.post(page(grant.authorization.pk), {"answer": "maybe"}).status_code == 400
    assert PartnerAuthorization.objects.get().expiry_answer == ""


# --- The API --------------------------------------------------------------------------------------


def test_the_api_renews_with_a_new_token_once(owner_api, expiring, partner_api):
    grant, old_token = expiring

    response = owner_api.post(renew_url(grant.authorization.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    new = PartnerAuthorization.objects.exclude(pk=grant.authorization.pk).get()
    assert body["id"] == new.grant_id
    assert body["authorization_id"] == new.pk
    assert body["is_current"] is True
    assert body["partner"]["id"] == new.partner_id
    assert partner_api.get(score_url(body["authorization_token"])).status_code == 200
    assert_error(partner_api.get(score_url(old_token)), 403, "authorization_replaced")
    listed = owner_api.get("/api/v1/me/consents/").json()
    assert "authorization_token" not in str(listed)
    assert {c["authorization_id"] for c in listed if c["purpose"] == "partner_sharing"} == {
        grant.authorization.pk,
        new.pk,
    }


def test_the_api_refuses_another_persons_an_unknown_and_an_ended_one(
    owner_api, other_api, api_client, expiring, scored_owner
):
    grant, _token = expiring
    url = renew_url(grant.authorization.pk)

    assert_error(other_api.post(url), 404, "not_found")
    assert_error(owner_api.post(renew_url(grant.authorization.pk + 1000)), 404, "not_found")
    assert api_client.post(url).status_code in (401, 403)
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)
    assert_error(owner_api.post(url), 409, "authorization_not_current")
    assert PartnerAuthorization.objects.count() == 1

"""Trusted helpers: inviting (the link shown once), accepting with one's own account,
acting for the person within the level's views only (every other page, action and the
API refused with a 403 and nothing changed), expiry and revocation at the next request,
the audit trail the person sees, the API and the export, and another person never
reachable."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    ConsentRevocation,
    HelperAuditEntry,
    HelperGrant,
    Notification,
    SignIn,
)
from accounts.notifications import notifications_page
from accounts.web_sessions import ACTING_SESSION_KEY
from benefits.models import PartnerAuthorization
from sesame_portal.errors import ServiceError
from tests.factories import PASSWORD, UserFactory, authorize, grant, make_partner

pytestmark = pytest.mark.django_db

HELPERS_PAGE = "/accounts/helpers/"
AUDIT_PAGE = "/accounts/helpers/audit/"
HELPING_PAGE = "/accounts/helping/"
STOP_URL = "/accounts/helping/stop/"
HELPERS_API = "/api/v1/me/helpers/"
AUDIT_API = "/api/v1/me/helper-audit/"
NEW_PASSWORD = "purple-otter-meadow-77"


def accept_url(code: str) -> str:
    return f"/accounts/helpers/accept/{code}/"


def act_url(grant_id: int) -> str:
    return f"/accounts/helping/{grant_id}/act/"


def invite(owner, level: str = "read_only", days: int = 90) -> tuple[HelperGrant, str]:
    return services.helper_invite(
        owner=owner,
        name="小明 Ming",
        email="ming@example.com",
        level=level,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )


def helper_of(owner, level: str = "read_only", username: str = "ming") -> HelperGrant:
    """An accepted helper of `owner` with an account of their own."""
    _row, code = invite(owner, level)
    helper = UserFactory(username=username, password=PASSWORD)
    return services.helper_accept(helper=helper, code=code)


def acting(grant_row: HelperGrant, language: str = "en") -> Client:
    """The helper's own browser, signed in as the helper and acting for the person."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(grant_row.helper)
    response = client.post(act_url(grant_row.pk))
    assert response.status_code == 302
    assert client.session[ACTING_SESSION_KEY] == grant_row.pk
    return client


def world() -> dict:
    """Every row of every table (but the audit trail, sessions and the sign-in log's
    "last used"), to prove a refused request changed nothing."""
    skip = {"helperauditentry", "session", "accesslog", "accessattempt", "accessfailurelog"}
    state = {}
    for model in apps.get_models():
        if model._meta.model_name in skip:
            continue
        rows = list(model.objects.order_by("pk").values())
        if model is SignIn:
            rows = [{**row, "last_used_at": None} for row in rows]
        state[model._meta.label] = rows
    return state


@pytest.fixture
def owner_setup(owner):
    """The person, consenting to scoring and sharing their score with a partner."""
    grant(owner)
    partner_grant, _token = authorize(owner, make_partner())
    return owner, partner_grant


# --- Inviting and accepting ---------------------------------------------------------------------


def test_invitation_link_is_shown_once_and_only_its_hash_is_kept(owner_client, owner):
    response = owner_client.post(
        HELPERS_PAGE, {"name": "Ming", "email": "", "level": "read_only", "months": "3"}
    )
    assert response.status_code == 302
    page = owner_client.get(HELPERS_PAGE).content.decode()
    row = HelperGrant.objects.get(owner=owner)
    code = page.split("/accounts/helpers/accept/")[1].split("/")[0]
    assert len(code) >= 30
    assert code not in row.code_hash
    assert row.level == "read_only"
    assert row.status() == "invited"
    assert 85 <= (row.expires_at - timezone.now()).days <= 90
    assert "/accounts/helpers/accept/" not in owner_client.get(HELPERS_PAGE).content.decode()


def test_invite_refuses_bad_input_and_saves_nothing(owner_client, owner):
    response = owner_client.post(HELPERS_PAGE, {"name": "", "level": "admin", "months": "99"})
    assert response.status_code == 400
    assert not HelperGrant.objects.exists()
    with pytest.raises(ServiceError):
        services.helper_invite(
            owner=owner,
            name="Ming",
            level="read_only",
            expires_at=timezone.now() + datetime.timedelta(days=400),
        )
    assert not HelperGrant.objects.exists()


def test_accepting_needs_an_account_then_binds_it_and_tells_the_person(client, owner):
    row, code = invite(owner)
    page = client.get(accept_url(code))
    assert page.status_code == 200
    assert "owner" in page.content.decode()
    assert client.post(accept_url(code)).status_code == 403
    helper = UserFactory(username="ming", password=PASSWORD)
    client.force_login(helper)
    assert client.post(accept_url(code)).status_code == 302
    row.refresh_from_db()
    assert row.helper == helper
    assert row.status() == "active"
    (_note,) = Notification.objects.filter(user=owner, kind=Notification.Kind.HELPER_ACCEPTED)
    assert "Ming" in notifications_page(user=owner)[0]["text"]
    # Used once: nobody can take it up again.
    other = UserFactory(username="someone")
    client.force_login(other)
    assert client.post(accept_url(code)).status_code == 404
    row.refresh_from_db()
    assert row.helper == helper


def test_an_unverified_helper_only_account_signs_up_from_the_link_and_comes_back(client, owner):
    _row, code = invite(owner)
    response = client.post(
        f"/accounts/signup/?next={accept_url(code)}",
        {
            "username": "helper-only",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "next": accept_url(code),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == accept_url(code)
    assert client.post(accept_url(code)).status_code == 302
    grant_row = HelperGrant.objects.get(owner=owner)
    assert grant_row.helper.username == "helper-only"
    assert not grant_row.helper.is_verified
    assert client.post(act_url(grant_row.pk)).status_code == 302
    assert client.get("/").status_code == 200


def test_signup_ignores_a_next_outside_the_portal(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "someone",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/accounts/identity/"


def test_an_expired_revoked_or_own_invitation_cannot_be_accepted(client, owner):
    expired, expired_code = invite(owner)
    HelperGrant.objects.filter(pk=expired.pk).update(
        invitation_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    revoked, revoked_code = invite(owner)
    services.helper_revoke(owner=owner, grant_id=revoked.pk)
    _own, own_code = invite(owner)
    helper = UserFactory(username="ming")
    client.force_login(helper)
    assert client.post(accept_url(expired_code)).status_code == 404
    assert client.post(accept_url(revoked_code)).status_code == 404
    assert client.get(accept_url("not-a-code")).status_code == 404
    client.force_login(owner)
    assert client.post(accept_url(own_code)).status_code == 400
    assert not HelperGrant.objects.filter(helper__isnull=False).exists()


# --- Acting within the level --------------------------------------------------------------------


@pytest.mark.parametrize("level", ["read_only", "revoke_only"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_helper_sees_the_persons_pages_with_the_banner(owner_setup, level, language):
    owner, _partner_grant = owner_setup
    client = acting(helper_of(owner, level), language)
    for url in ("/", "/score/history/", "/accounts/consents/", "/benefits/queries/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert STOP_URL in body
        assert ("You are helping owner" if language == "en" else "您正在协助 owner") in body
    # The consents shown are the person's.
    assert "绿道单车" in client.get("/accounts/consents/").content.decode()


# Every request a helper may not make, with data that would do something for the person.
FORBIDDEN = [
    (
        "post",
        "/accounts/password/",
        lambda o: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    ("get", "/accounts/password/", None),
    ("post", "/accounts/profile/education/", lambda o: {"education": "bachelor"}),
    ("post", "/accounts/identity/", lambda o: {"full_name": "张伟", "id_number": "x"}),
    ("post", "/accounts/consents/grant/", lambda o: {"purpose": ConsentPurpose.SOCIAL_CONNECTIONS}),
    ("post", "/score/proofs/", lambda o: {"shows": "band", "lifetime": "7"}),
    ("post", "/score/statement/", lambda o: {"text": "Written by the helper"}),
    ("post", "/score/disputes/new/", lambda o: {"statement": "Not mine"}),
    ("get", "/score/records/", None),
    ("post", "/score/recompute/", lambda o: {}),
    ("get", "/accounts/me/", None),
    ("get", "/accounts/me/data/export/", None),
    ("post", "/accounts/me/data/", lambda o: {"password": PASSWORD}),
    ("get", "/accounts/me/devices/", None),
    ("get", "/accounts/notifications/", None),
    ("get", "/accounts/profile/", None),
    ("post", HELPERS_PAGE, lambda o: {"name": "Eve", "level": "revoke_only", "months": "12"}),
    ("get", AUDIT_PAGE, None),
    ("get", HELPING_PAGE, None),
    ("get", "/benefits/", None),
    ("get", "/benefits/vouchers/", None),
    ("get", "/admin/", None),
    ("post", "/accounts/logout/", lambda o: {}),
    ("get", "/api/v1/me/", None),
    ("get", "/api/v1/me/score/", None),
    ("get", "/api/v1/me/export/", None),
    ("get", HELPERS_API, None),
    ("post", "/api/v1/auth/token/", lambda o: {"username": "owner", "password": PASSWORD}),
    ("post", "/api/v1/auth/logout-all/", lambda o: {}),
]


@pytest.mark.parametrize("level", ["read_only", "revoke_only"])
@pytest.mark.parametrize(("method", "url", "data"), FORBIDDEN, ids=[f[1] + f[0] for f in FORBIDDEN])
def test_every_other_page_and_action_is_refused_and_changes_nothing(
    owner_setup, level, method, url, data
):
    owner, _partner_grant = owner_setup
    grant_row = helper_of(owner, level)
    client = acting(grant_row)
    before = world()
    kwargs = {"data": data(owner)} if data else {}
    if url.startswith("/api/") and data is not None:
        kwargs["content_type"] = "application/json"
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 403
    if url.startswith("/api/"):
        assert response.json()["code"] == "permission_denied"
    assert world() == before
    entry = HelperAuditEntry.objects.filter(owner=owner).first()
    assert not entry.allowed
    assert entry.status_code == 403


def test_the_same_requests_by_the_person_do_change_things(owner_setup):
    """The forbidden requests above are real ones: from the person they work."""
    owner, _partner_grant = owner_setup
    client = Client()
    client.force_login(owner)
    before = world()
    assert client.post("/score/statement/", {"text": "Mine"}).status_code == 302
    assert (
        client.post(
            "/accounts/consents/grant/", {"purpose": ConsentPurpose.SOCIAL_CONNECTIONS}
        ).status_code
        == 302
    )
    assert (
        client.post(
            HELPERS_PAGE, {"name": "Eve", "level": "revoke_only", "months": "12"}
        ).status_code
        == 302
    )
    assert world() != before
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_read_only_helper_cannot_withdraw_a_consent(owner_setup):
    owner, partner_grant = owner_setup
    client = acting(helper_of(owner, "read_only"))
    response = client.post(f"/accounts/consents/{partner_grant.pk}/revoke/")
    assert response.status_code == 403
    assert not ConsentRevocation.objects.exists()


def test_revoke_only_helper_withdraws_a_consent_and_a_partner_authorisation(owner_setup):
    owner, partner_grant = owner_setup
    client = acting(helper_of(owner, "revoke_only"))
    scoring = ConsentGrant.objects.get(user=owner, purpose=ConsentPurpose.SCORING)
    assert client.post(f"/accounts/consents/{partner_grant.pk}/revoke/").status_code == 302
    assert client.post(f"/accounts/consents/{scoring.pk}/revoke/").status_code == 302
    assert ConsentRevocation.objects.filter(grant=partner_grant).exists()
    assert ConsentRevocation.objects.filter(grant=scoring).exists()
    authorization = PartnerAuthorization.objects.get(grant=partner_grant)
    assert not authorization.grant.is_current()
    labels = [e.action for e in HelperAuditEntry.objects.filter(owner=owner, allowed=True)]
    assert labels.count("accounts:consent_revoke") == 2


# --- Ending access -------------------------------------------------------------------------------


def test_revocation_by_the_person_ends_access_at_the_next_request(owner_setup):
    owner, _partner_grant = owner_setup
    grant_row = helper_of(owner)
    client = acting(grant_row)
    assert "You are helping owner" in client.get("/").content.decode()
    services.helper_revoke(owner=owner, grant_id=grant_row.pk)
    body = client.get("/accounts/consents/").content.decode()
    assert "You are helping owner" not in body
    assert "绿道单车" not in body
    assert ACTING_SESSION_KEY not in client.session
    assert client.post(act_url(grant_row.pk)).status_code == 404
    # Still the helper's own session, with the helper's own pages.
    assert client.get(HELPING_PAGE).status_code == 200


def test_expiry_ends_access_at_the_next_request(owner_setup):
    owner, _partner_grant = owner_setup
    grant_row = helper_of(owner)
    client = acting(grant_row)
    HelperGrant.objects.filter(pk=grant_row.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert "绿道单车" not in client.get("/accounts/consents/").content.decode()
    assert ACTING_SESSION_KEY not in client.session
    assert grant_row.status() == "active"  # the stale copy; the row says otherwise
    grant_row.refresh_from_db()
    assert grant_row.status() == "expired"


def test_stopping_returns_the_helper_to_their_own_account(owner_setup):
    owner, _partner_grant = owner_setup
    grant_row = helper_of(owner)
    client = acting(grant_row)
    assert client.post(STOP_URL).status_code == 302
    assert ACTING_SESSION_KEY not in client.session
    assert client.get("/accounts/me/").status_code == 200
    assert "ming" in client.get("/accounts/me/").content.decode()


# --- Another person is never reachable ----------------------------------------------------------


def test_a_helper_of_one_person_cannot_act_for_another(owner_setup, other_user):
    owner, _partner_grant = owner_setup
    mine = helper_of(owner, "revoke_only")
    theirs = helper_of(other_user, "revoke_only", username="someone-else")
    client = Client()
    client.force_login(mine.helper)
    assert client.post(act_url(theirs.pk)).status_code == 404
    # A session that names another helper's grant acts for nobody.
    session = client.session
    session[ACTING_SESSION_KEY] = theirs.pk
    session.save()
    response = client.get("/accounts/me/")
    assert response.status_code == 200
    assert '<h1 class="me-name">ming</h1>' in response.content.decode()
    assert ACTING_SESSION_KEY not in client.session
    # Acting for the person, the other person's consents stay out of reach.
    grant(other_user)
    others = ConsentGrant.objects.get(user=other_user)
    client = acting(mine)
    assert client.post(f"/accounts/consents/{others.pk}/revoke/").status_code == 404
    assert not ConsentRevocation.objects.filter(grant=others).exists()


def test_the_person_revokes_and_sees_only_their_own_helpers(owner_client, owner, other_user):
    theirs = helper_of(other_user)
    assert owner_client.post(f"/accounts/helpers/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "小明" not in owner_client.get(HELPERS_PAGE).content.decode()
    mine = helper_of(owner, username="mine")
    assert owner_client.post(f"/accounts/helpers/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_helper_acting_never_reaches_the_api_even_with_their_own_token(owner_setup):
    owner, _partner_grant = owner_setup
    grant_row = helper_of(owner)
    client = acting(grant_row)
    _instance, token = AuthToken.objects.create(grant_row.helper)
    response = client.get("/api/v1/me/export/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 403
    # The token alone is the helper's own account, never the person's.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/export/").json()["account"]["username"] == "ming"


# --- The audit trail -----------------------------------------------------------------------------


def test_every_page_and_action_is_in_the_persons_audit_trail(owner_setup):
    owner, partner_grant = owner_setup
    grant_row = helper_of(owner, "revoke_only")
    client = acting(grant_row)
    client.get("/score/history/")
    client.get("/accounts/profile/")
    client.post(f"/accounts/consents/{partner_grant.pk}/revoke/")
    client.post(STOP_URL)
    entries = list(HelperAuditEntry.objects.filter(owner=owner).order_by("at", "id"))
    assert [(e.action, e.allowed) for e in entries] == [
        ("accounts:helper_start", True),
        ("scoring:history", True),
        ("accounts:profile", False),
        ("accounts:consent_revoke", True),
        ("accounts:helper_stop", True),
    ]
    assert {e.helper_name for e in entries} == {"小明 Ming"}
    person = Client(HTTP_ACCEPT_LANGUAGE="en")
    person.force_login(owner)
    page = person.get(AUDIT_PAGE).content.decode()
    assert "Withdrew a consent" in page
    assert "Viewed the score history" in page
    assert "Refused" in page
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(owner)
    assert "撤回" in zh.get(AUDIT_PAGE).content.decode()


def test_the_audit_trail_is_the_persons_alone(owner_setup, other_user):
    owner, _partner_grant = owner_setup
    acting(helper_of(owner)).get("/score/history/")
    other = Client()
    other.force_login(other_user)
    assert "小明" not in other.get(AUDIT_PAGE).content.decode()
    api = APIClient()
    api.force_authenticate(other_user)
    assert api.get(AUDIT_API).json() == []


# --- The API ------------------------------------------------------------------------------------


def test_api_invites_lists_and_revokes(owner_api, owner, other_api):
    assert owner_api.get(HELPERS_API).json() == []
    expires = (timezone.now() + datetime.timedelta(days=30)).isoformat()
    response = owner_api.post(
        HELPERS_API, {"name": "Ming", "level": "revoke_only", "expires_at": expires}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "invited"
    assert body["invitation_link"].endswith(f"/accounts/helpers/accept/{body['invitation_code']}/")
    listed = owner_api.get(HELPERS_API).json()
    assert [h["id"] for h in listed] == [body["id"]]
    assert "invitation_code" not in listed[0]
    assert other_api.get(HELPERS_API).json() == []
    assert other_api.delete(f"{HELPERS_API}{body['id']}/").status_code == 404
    assert owner_api.delete(f"{HELPERS_API}{body['id']}/").status_code == 204
    again = owner_api.delete(f"{HELPERS_API}{body['id']}/")
    assert again.status_code == 409
    assert again.json()["code"] == "already_revoked"
    assert owner_api.get(HELPERS_API).json()[0]["status"] == "revoked"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"name": "Ming", "level": "owner", "expires_at": "2030-01-01T00:00:00Z"}, None),
        (
            {"name": "Ming", "level": "read_only", "expires_at": "2001-01-01T00:00:00Z"},
            "expires_at",
        ),
        (
            {"name": "Ming", "level": "read_only", "expires_at": "2999-01-01T00:00:00Z"},
            "expires_at",
        ),
        ({"level": "read_only"}, None),
    ],
)
def test_api_refuses_bad_invitations(owner_api, payload, code):
    response = owner_api.post(HELPERS_API, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"code", "message"}
    if code:
        assert response.json()["code"] == code
    assert not HelperGrant.objects.exists()


def test_api_needs_a_login(api_client):
    assert api_client.get(HELPERS_API).status_code == 401
    assert api_client.get(AUDIT_API).status_code == 401


def test_api_audit_lists_what_the_helper_did(owner_setup, owner_api):
    owner, _partner_grant = owner_setup
    acting(helper_of(owner)).get("/benefits/queries/")
    latest = owner_api.get(AUDIT_API, HTTP_ACCEPT_LANGUAGE="en").json()[0]
    assert latest["action"] == "benefits:queries"
    assert latest["label"] == "Viewed who checked the score"
    assert latest["allowed"] is True


def test_the_export_has_helpers_and_their_audit_but_no_code(owner_setup, owner_api):
    owner, _partner_grant = owner_setup
    grant_row = helper_of(owner)
    acting(grant_row).get("/score/history/")
    data = owner_api.get("/api/v1/me/export/").json()
    (helper,) = data["helpers"]
    assert helper["name"] == "小明 Ming"
    assert helper["helper__username"] == "ming"
    assert any(row["action"] == "scoring:history" for row in data["helper_audit"])
    assert grant_row.code_hash not in str(data)


def test_admin_shows_helpers_read_only(admin_user, owner):
    helper_of(owner)
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/accounts/helpergrant/").status_code == 200
    assert client.get("/admin/accounts/helperauditentry/").status_code == 200
    assert client.get("/admin/accounts/helpergrant/add/").status_code == 403

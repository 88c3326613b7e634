"""Sign-ins: a password change, logout and logout-all end tokens and sessions; the devices
and sessions list and page; revoking one; the new-device notification; the export."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from accounts.clients import device_label
from accounts.models import KnownDevice, Notification, SignIn, User
from accounts.notifications import notification_text, notifications_page
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
SIGNUP_URL = "/accounts/signup/"
PASSWORD_URL = "/accounts/password/"
DEVICES_URL = "/accounts/me/devices/"
TOKEN_API = "/api/v1/auth/token/"
LOGOUT_API = "/api/v1/auth/logout/"
LOGOUT_ALL_API = "/api/v1/auth/logout-all/"
PASSWORD_API = "/api/v1/me/password/"
SIGN_INS_API = "/api/v1/me/tokens/"
EXPORT_API = "/api/v1/me/export/"
ME_API = "/api/v1/me/"
PROFILE_API = "/api/v1/me/profile/"

NEW_PASSWORD = "purple-otter-meadow-77"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
APP = "SesameApp/2.3 (iOS 17.5)"


def browser(user_agent: str = ANDROID_CHROME) -> Client:
    return Client(HTTP_USER_AGENT=user_agent)


def web_login(user_agent: str = ANDROID_CHROME, password: str = PASSWORD) -> Client:
    client = browser(user_agent)
    response = client.post(LOGIN_URL, {"username": "owner", "password": password})
    assert response.status_code == 302
    return client


def api_token(user_agent: str = APP, password: str = PASSWORD) -> str:
    response = APIClient().post(
        TOKEN_API,
        {"username": "owner", "password": password},
        format="json",
        HTTP_USER_AGENT=user_agent,
    )
    assert response.status_code == 200
    return response.json()["token"]


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def assert_no_keys_in(body: str, user: User) -> None:
    """No token digest or session key hash of the user appears in the body."""
    rows = SignIn.objects.filter(user=user)
    secrets = [value for row in rows for value in (row.session_key_hash, row.token_id) if value]
    assert secrets
    for secret in secrets:
        assert secret not in body


def logged_in(client: Client) -> bool:
    return client.get("/accounts/me/").status_code == 200


# --- A password change ends every token and every other session ------------------------------


def test_web_password_change_ends_every_token(owner):
    token = api_token()
    assert with_token(token).get(PROFILE_API).status_code == 200
    web = web_login()

    response = web.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert with_token(token).get(PROFILE_API).status_code == 401
    assert not AuthToken.objects.filter(user=owner).exists()


def test_web_password_change_logs_out_other_sessions_and_keeps_this_one(owner):
    here = web_login(ANDROID_CHROME)
    elsewhere = web_login(IPHONE_SAFARI)

    here.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert logged_in(here)
    assert not logged_in(elsewhere)
    # The kept session is still listed (under its new key) and marked as this one.
    listed = here.get(SIGN_INS_API).json()
    assert [(item["kind"], item["current"]) for item in listed] == [("session", True)]


def test_api_password_change_ends_every_token_the_callers_included(owner):
    caller, other = api_token(), api_token()
    web = web_login()

    response = with_token(caller).post(
        PASSWORD_API, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert with_token(caller).get(PROFILE_API).status_code == 401
    assert with_token(other).get(PROFILE_API).status_code == 401
    assert not logged_in(web)
    assert with_token(api_token(password=NEW_PASSWORD)).get(PROFILE_API).status_code == 200


def test_api_password_change_by_session_keeps_that_session(owner):
    here, elsewhere = web_login(ANDROID_CHROME), web_login(IPHONE_SAFARI)
    token = api_token()

    response = here.post(
        PASSWORD_API,
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 204
    assert logged_in(here)
    assert not logged_in(elsewhere)
    assert with_token(token).get(PROFILE_API).status_code == 401


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"old_password": "not-the-password-99", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "12345"}, "password"),
        ({"old_password": PASSWORD}, "invalid"),
    ],
    ids=["wrong_old", "weak_new", "missing_new"],
)
def test_api_password_change_refused_changes_nothing_and_ends_nothing(owner, payload, code):
    token = api_token()

    response = with_token(token).post(PASSWORD_API, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert with_token(token).get(PROFILE_API).status_code == 200


def test_api_password_change_needs_a_login(api_client, owner):
    response = api_client.post(
        PASSWORD_API, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 401
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


# --- Logout and logout-all ----------------------------------------------------------------------


def test_logout_ends_only_the_token_used(owner):
    used, kept = api_token(), api_token()

    response = with_token(used).post(LOGOUT_API)

    assert response.status_code == 204
    assert with_token(used).get(PROFILE_API).status_code == 401
    assert with_token(kept).get(PROFILE_API).status_code == 200
    assert SignIn.objects.filter(user=owner, kind="token").count() == 1


def test_logout_without_a_token_is_401(api_client, owner):
    assert api_client.post(LOGOUT_API).status_code == 401


def test_logout_all_ends_every_token_and_every_web_session(owner, other_user):
    first, second = api_token(), api_token()
    web = web_login()
    others = APIClient()
    others_token = others.post(
        TOKEN_API, {"username": "other", "password": PASSWORD}, format="json"
    ).json()["token"]

    response = with_token(first).post(LOGOUT_ALL_API)

    assert response.status_code == 204
    assert with_token(first).get(PROFILE_API).status_code == 401
    assert with_token(second).get(PROFILE_API).status_code == 401
    assert not logged_in(web)
    assert not SignIn.objects.filter(user=owner).exists()
    # Nobody else is touched.
    assert with_token(others_token).get(PROFILE_API).status_code == 200


def test_logout_all_from_a_browser_logs_it_out_too(owner):
    web, elsewhere = web_login(), web_login(IPHONE_SAFARI)
    token = api_token()

    response = web.post(LOGOUT_ALL_API)

    assert response.status_code == 204
    assert web.session.get(SESSION_KEY) is None
    assert not logged_in(web)
    assert not logged_in(elsewhere)
    assert with_token(token).get(PROFILE_API).status_code == 401


def test_logout_all_without_credentials_is_401(api_client, owner):
    assert api_client.post(LOGOUT_ALL_API).status_code == 401


# --- Devices and sessions: the list and revoking ----------------------------------------------


def test_list_shows_each_token_and_session_with_device_times_and_the_current_one(owner):
    web_login(IPHONE_SAFARI)
    token = api_token(APP)

    response = with_token(token).get(SIGN_INS_API)

    assert response.status_code == 200
    items = response.json()
    assert {(item["kind"], item["device"], item["current"]) for item in items} == {
        ("session", "Safari / iPhone", False),
        ("token", "SesameApp / iOS", True),
    }
    for item in items:
        assert set(item) == {
            "id",
            "kind",
            "device",
            "created_at",
            "last_used_at",
            "expires_at",
            "current",
        }
        assert item["created_at"]
        assert item["last_used_at"]
    body = response.content.decode()
    assert token not in body
    assert token[:15] not in body
    assert_no_keys_in(body, owner)


def test_list_shows_nothing_of_another_user(owner, other_user, other_api):
    api_token()
    web_login()

    assert other_api.get(SIGN_INS_API).json() == []


def test_list_needs_a_login(api_client):
    assert api_client.get(SIGN_INS_API).status_code == 401


def test_session_keys_are_stored_hashed_never_raw(owner):
    web = web_login()
    key = web.cookies[settings.SESSION_COOKIE_NAME].value

    row = SignIn.objects.get(user=owner, kind="session")

    assert row.session_key_hash != key
    assert not SignIn.objects.filter(session_key_hash__contains=key).exists()
    assert len(row.session_key_hash) == 64


def test_revoking_a_token_ends_it(owner):
    revoked, caller = api_token(), api_token()
    row = SignIn.objects.get(token__token_key=revoked[:15])

    response = with_token(caller).delete(f"{SIGN_INS_API}{row.pk}/")

    assert response.status_code == 204
    assert with_token(revoked).get(PROFILE_API).status_code == 401
    assert with_token(caller).get(PROFILE_API).status_code == 200


def test_revoking_a_web_session_logs_it_out(owner):
    web = web_login()
    assert logged_in(web)
    row = SignIn.objects.get(user=owner, kind="session")

    response = with_token(api_token()).delete(f"{SIGN_INS_API}{row.pk}/")

    assert response.status_code == 204
    assert not logged_in(web)
    assert web.session.get(SESSION_KEY) is None


def test_revoking_another_users_sign_in_is_404_and_ends_nothing(owner, other_user):
    theirs = APIClient().post(TOKEN_API, {"username": "other", "password": PASSWORD}, format="json")
    their_token = theirs.json()["token"]
    their_row = SignIn.objects.get(user=other_user)

    response = with_token(api_token()).delete(f"{SIGN_INS_API}{their_row.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert with_token(their_token).get(PROFILE_API).status_code == 200


@pytest.mark.parametrize("sign_in_id", [999999, 2**62])
def test_revoking_an_unknown_id_is_404(owner, sign_in_id):
    response = with_token(api_token()).delete(f"{SIGN_INS_API}{sign_in_id}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_session_without_a_sign_in_row_is_logged_out(owner):
    web = web_login()
    SignIn.objects.filter(user=owner).delete()

    assert not logged_in(web)


def test_last_used_moves_at_most_every_few_minutes(owner):
    token = api_token()
    row = SignIn.objects.get(user=owner)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    SignIn.objects.filter(pk=row.pk).update(last_used_at=long_ago)

    with_token(token).get(PROFILE_API)
    row.refresh_from_db()
    moved = row.last_used_at
    assert moved > long_ago

    with_token(token).get(PROFILE_API)
    row.refresh_from_db()
    assert row.last_used_at == moved


def test_a_token_issued_before_sign_ins_were_recorded_gets_its_row_on_use(owner):
    _instance, token = AuthToken.objects.create(owner)
    assert not SignIn.objects.filter(user=owner).exists()

    assert with_token(token).get(SIGN_INS_API).json()[0]["current"] is True


# --- The devices page ---------------------------------------------------------------------------


def test_devices_page_lists_sign_ins_and_marks_this_one(owner):
    web = web_login(ANDROID_CHROME)
    api_token(APP)

    page = web.get(DEVICES_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Chrome / Android" in html
    assert "SesameApp / iOS" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "/accounts/me/devices/" in web.get("/accounts/me/").content.decode()


def test_devices_page_needs_a_login(client):
    response = client.get(DEVICES_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_devices_page_revokes_a_token(owner):
    web = web_login()
    token = api_token()
    row = SignIn.objects.get(user=owner, kind="token")

    response = web.post(f"{DEVICES_URL}{row.pk}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == DEVICES_URL
    assert with_token(token).get(PROFILE_API).status_code == 401
    assert logged_in(web)


def test_devices_page_revoking_this_session_logs_out(owner):
    web = web_login()
    row = SignIn.objects.get(user=owner, kind="session")

    response = web.post(f"{DEVICES_URL}{row.pk}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert not logged_in(web)


def test_devices_page_revoke_of_another_users_sign_in_is_404(owner, other_user):
    APIClient().post(TOKEN_API, {"username": "other", "password": PASSWORD}, format="json")
    theirs = SignIn.objects.get(user=other_user)

    response = web_login().post(f"{DEVICES_URL}{theirs.pk}/revoke/")

    assert response.status_code == 404
    assert SignIn.objects.filter(pk=theirs.pk).exists()


def test_devices_page_revoke_by_get_is_refused(owner):
    row_id = SignIn.objects.get(user=owner).pk if web_login() else None

    assert web_login().get(f"{DEVICES_URL}{row_id}/revoke/").status_code == 405


def test_devices_page_revoke_without_csrf_is_refused(owner):
    web = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=ANDROID_CHROME)
    web.force_login(owner)
    token = api_token()
    row = SignIn.objects.get(user=owner, kind="token")

    assert web.post(f"{DEVICES_URL}{row.pk}/revoke/").status_code == 403
    assert with_token(token).get(PROFILE_API).status_code == 200


# --- A new device is announced -------------------------------------------------------------------


def _sign_in_notifications(user: User) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=Notification.Kind.NEW_SIGN_IN))


def test_the_first_login_after_sign_up_announces_nothing(db):
    web = browser()
    web.post(
        SIGNUP_URL, {"username": "newcomer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    user = User.objects.get(username="newcomer")

    assert _sign_in_notifications(user) == []
    assert KnownDevice.objects.filter(user=user).count() == 1


def test_the_first_token_after_api_sign_up_announces_nothing(api_client):
    api_client.post(
        "/api/v1/auth/register/", {"username": "mobile", "password": NEW_PASSWORD}, format="json"
    )
    api_client.post(
        TOKEN_API,
        {"username": "mobile", "password": NEW_PASSWORD},
        format="json",
        HTTP_USER_AGENT=APP,
    )

    assert _sign_in_notifications(User.objects.get(username="mobile")) == []


def test_a_login_from_a_known_device_announces_nothing(owner):
    web_login(ANDROID_CHROME)
    web_login(ANDROID_CHROME)
    api_token(APP)
    api_token(APP)

    assert [n.params["device"] for n in _sign_in_notifications(owner)] == ["SesameApp / iOS"]


def test_a_web_login_from_a_new_device_is_announced(owner):
    web_login(ANDROID_CHROME)

    web_login(IPHONE_SAFARI)

    [notification] = _sign_in_notifications(owner)
    assert notification.params == {"device": "Safari / iPhone"}
    text = notification_text(notification)
    assert "Safari / iPhone" in text
    assert timezone.localtime(notification.created_at).strftime("%Y-%m-%d %H:%M") in text
    [item] = notifications_page(user=owner)
    assert item["url"] == DEVICES_URL


def test_a_token_from_a_new_device_is_announced(owner):
    web_login(ANDROID_CHROME)

    api_token(APP)

    assert [n.params["device"] for n in _sign_in_notifications(owner)] == ["SesameApp / iOS"]


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (ANDROID_CHROME, "Chrome / Android"),
        (IPHONE_SAFARI, "Safari / iPhone"),
        (APP, "SesameApp / iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge / Windows",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox / Linux",
        ),
        ("curl/8.5.0", "curl"),
        ("", ""),
        ("\x00<script>", ""),
    ],
)
def test_device_label_is_coarse_and_never_the_raw_user_agent(user_agent, label):
    assert device_label(user_agent) == label


# --- Export and deletion ----------------------------------------------------------------------


def test_export_lists_devices_and_sessions_without_any_key(owner):
    web = web_login(IPHONE_SAFARI)
    token = api_token(APP)

    response = with_token(token).get(EXPORT_API)

    assert response.status_code == 200
    export = response.json()
    assert {(item["kind"], item["device"]) for item in export["devices_and_sessions"]} == {
        ("session", "Safari / iPhone"),
        ("token", "SesameApp / iOS"),
    }
    for item in export["devices_and_sessions"]:
        assert set(item) == {"kind", "device", "created_at", "last_used_at"}
    assert {item["device"] for item in export["known_devices"]} == {
        "Safari / iPhone",
        "SesameApp / iOS",
    }
    body = response.content.decode()
    assert token not in body
    assert token[:15] not in body
    assert web.cookies[settings.SESSION_COOKIE_NAME].value not in body
    assert_no_keys_in(body, owner)


def test_account_deletion_removes_login_records_of_the_username_in_any_case(owner, other_user):
    for typed in ("owner", "OWNER", "Owner"):
        browser().post(LOGIN_URL, {"username": typed, "password": "not-the-password-99"})
    browser().post(LOGIN_URL, {"username": "other", "password": "not-the-password-99"})
    web = web_login()
    assert AccessAttempt.objects.filter(username__iexact="owner").exists()
    assert AccessLog.objects.filter(username="owner").exists()

    response = web.post("/accounts/me/data/", {"password": PASSWORD})

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username__iexact="owner").exists()
    assert not AccessLog.objects.filter(username__iexact="owner").exists()
    assert AccessAttempt.objects.filter(username="other").exists()


def test_account_deletion_removes_its_sign_ins_and_known_devices(owner):
    web_login()
    api_token()

    services.account_delete(user=owner, password=PASSWORD)

    assert not SignIn.objects.exists()
    assert not KnownDevice.objects.exists()
    assert not AuthToken.objects.exists()


def test_a_password_set_in_the_admin_ends_the_persons_tokens_and_sessions(owner, admin_user):
    token = api_token()
    web = web_login()
    admin = Client()
    admin.force_login(admin_user)

    response = admin.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert with_token(token).get(PROFILE_API).status_code == 401
    assert not logged_in(web)
    assert admin.get("/admin/").status_code == 200

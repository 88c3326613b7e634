"""Sign up, log in and out, change password, the auth API, lockout, sessions and CSRF."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/accounts/signup/"
LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"
PASSWORD_URL = "/accounts/password/"
REGISTER_API = "/api/v1/auth/register/"
TOKEN_API = "/api/v1/auth/token/"
CONSENTS_API = "/api/v1/me/consents/"

NEW_PASSWORD = "purple-otter-meadow-77"
WRONG_PASSWORD = "not-the-password-99"


def _logged_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def _form_errors(response, form_name: str = "form") -> dict:
    return response.context[form_name].errors


# --- Sign up page ---------------------------------------------------------------------------


def test_signup_creates_user_logs_in_and_redirects_to_identity_page(client):
    response = client.post(
        SIGNUP_URL,
        {"username": "newcomer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:identity")
    user = User.objects.get(username="newcomer")
    assert user.check_password(NEW_PASSWORD)
    assert _logged_in_user_id(client) == str(user.pk)


def test_signup_page_renders_for_anonymous_visitor(client):
    response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    assert 'name="password1"' in response.content.decode()


@pytest.mark.parametrize(
    "password",
    ["12345", "1234567890123", "password123"],
    ids=["too_short", "only_digits", "common"],
)
def test_signup_with_weak_password_rerenders_with_error_and_creates_nothing(client, password):
    response = client.post(
        SIGNUP_URL, {"username": "newcomer", "password1": password, "password2": password}
    )

    assert response.status_code == 200
    assert "password1" in _form_errors(response)
    assert not User.objects.filter(username="newcomer").exists()
    assert _logged_in_user_id(client) is None


def test_signup_with_mismatched_passwords_rerenders_with_error_and_creates_nothing(client):
    response = client.post(
        SIGNUP_URL,
        {"username": "newcomer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
    )

    assert response.status_code == 200
    assert "password2" in _form_errors(response)
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("username", ["owner", "OWNER"])
def test_signup_with_taken_username_rerenders_with_error_and_creates_nothing(
    client, owner, username
):
    response = client.post(
        SIGNUP_URL, {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert "username" in _form_errors(response)
    assert User.objects.filter(username__iexact="owner").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert _logged_in_user_id(client) is None


# --- Login, logout ----------------------------------------------------------------------------


def test_login_page_logs_the_user_in(client, owner):
    response = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _logged_in_user_id(client) == str(owner.pk)


def test_login_with_wrong_password_rerenders_and_does_not_log_in(client, owner):
    response = client.post(LOGIN_URL, {"username": "owner", "password": WRONG_PASSWORD})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert _logged_in_user_id(client) is None


def test_logout_by_post_ends_the_session(owner_client):
    response = owner_client.post(LOGOUT_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert _logged_in_user_id(owner_client) is None
    assert owner_client.get("/accounts/consents/").status_code == 302


def test_logout_by_get_is_refused_and_keeps_the_session(owner_client, owner):
    response = owner_client.get(LOGOUT_URL)

    assert response.status_code == 405
    assert _logged_in_user_id(owner_client) == str(owner.pk)


def test_login_rotates_the_session_key(client, owner):
    session = client.session
    session["before_login"] = True
    session.save()
    key_before = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key_before

    response = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    key_after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key_after
    assert key_after != key_before
    assert _logged_in_user_id(client) == str(owner.pk)


# --- Password change --------------------------------------------------------------------------


def test_password_change_page_requires_login(client):
    response = client.get(PASSWORD_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_password_change_with_wrong_old_password_is_refused(owner_client, owner):
    response = owner_client.post(
        PASSWORD_URL,
        {
            "old_password": WRONG_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "old_password" in _form_errors(response)
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_password_change_with_weak_new_password_is_refused(owner_client, owner):
    response = owner_client.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )

    assert response.status_code == 200
    assert "new_password2" in _form_errors(response)
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_changed_password_works_for_the_next_login_and_old_one_does_not(owner_client, owner):
    response = owner_client.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    # The session that changed the password stays logged in.
    assert _logged_in_user_id(owner_client) == str(owner.pk)

    fresh = Client()
    refused = fresh.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})
    assert refused.status_code == 200
    assert _logged_in_user_id(fresh) is None
    accepted = fresh.post(LOGIN_URL, {"username": "owner", "password": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert _logged_in_user_id(fresh) == str(owner.pk)


def test_password_change_logs_out_the_users_other_sessions(owner_client, owner):
    elsewhere = Client()
    elsewhere.force_login(owner)
    assert elsewhere.get("/accounts/consents/").status_code == 200

    owner_client.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    response = elsewhere.get("/accounts/consents/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert owner_client.get("/accounts/consents/").status_code == 200


# --- Register API -----------------------------------------------------------------------------


def test_api_register_creates_user_and_answers_201_with_id_and_username(api_client):
    response = api_client.post(
        REGISTER_API, {"username": "mobile", "password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 201
    user = User.objects.get(username="mobile")
    assert response.json() == {"id": user.pk, "username": "mobile"}
    assert user.check_password(NEW_PASSWORD)


def test_api_register_weak_password_is_400_code_password(api_client):
    response = api_client.post(
        REGISTER_API, {"username": "mobile", "password": "123"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "password"
    assert body["message"]
    assert not User.objects.filter(username="mobile").exists()


def test_api_register_taken_username_is_400_code_username_taken(api_client, owner):
    response = api_client.post(
        REGISTER_API, {"username": "Owner", "password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "username_taken"
    assert body["message"]
    assert User.objects.filter(username__iexact="owner").count() == 1


@pytest.mark.parametrize(
    "payload",
    [{}, {"username": "mobile"}, {"password": NEW_PASSWORD}],
    ids=["empty", "no_password", "no_username"],
)
def test_api_register_missing_fields_is_400_code_invalid(api_client, payload):
    response = api_client.post(REGISTER_API, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert User.objects.count() == 0


# --- Token API --------------------------------------------------------------------------------


def test_api_token_is_issued_and_authenticates_consent_list(api_client, owner):
    response = api_client.post(
        TOKEN_API, {"username": "owner", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["token"]
    assert token

    mobile = APIClient()
    assert mobile.get(CONSENTS_API).status_code in (401, 403)
    mobile.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = mobile.get(CONSENTS_API)
    assert listed.status_code == 200
    assert listed.json() == []


def test_api_bogus_token_is_refused(api_client, owner):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)

    response = api_client.get(CONSENTS_API)

    assert response.status_code in (401, 403)
    assert response.json()["code"]


def test_api_token_wrong_password_is_400_invalid_credentials(api_client, owner):
    response = api_client.post(
        TOKEN_API, {"username": "owner", "password": WRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert body["message"]
    assert "token" not in body


def test_api_token_unknown_username_is_400_invalid_credentials(api_client, owner):
    response = api_client.post(
        TOKEN_API, {"username": "nobody", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


# --- Lockout ----------------------------------------------------------------------------------


def _cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def _fail_page_logins(client: Client, username: str, times: int) -> list[int]:
    return [
        client.post(LOGIN_URL, {"username": username, "password": WRONG_PASSWORD}).status_code
        for _ in range(times)
    ]


def _fail_api_logins(client: APIClient, username: str, times: int) -> list[int]:
    return [
        client.post(
            TOKEN_API, {"username": username, "password": WRONG_PASSWORD}, format="json"
        ).status_code
        for _ in range(times)
    ]


def test_four_failed_page_logins_do_not_lock_the_account(client, owner):
    assert _fail_page_logins(client, "owner", 4) == [200] * 4

    response = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    assert _logged_in_user_id(client) == str(owner.pk)


def test_five_failed_page_logins_lock_out_even_the_right_password(client, owner):
    statuses = _fail_page_logins(client, "owner", settings.AXES_FAILURE_LIMIT)
    assert statuses[:4] == [200] * 4

    response = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) == _cool_off_seconds()
    assert _logged_in_user_id(client) is None


def test_lockout_comes_from_another_client_too(client, owner):
    # Locking is by username: a new browser (no shared cookies) is refused as well.
    _fail_page_logins(client, "owner", settings.AXES_FAILURE_LIMIT)

    other_browser = Client(REMOTE_ADDR="198.51.100.20")
    response = other_browser.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 429
    assert _logged_in_user_id(other_browser) is None


def test_five_failed_api_logins_lock_out_the_token_endpoint(api_client, owner):
    statuses = _fail_api_logins(api_client, "owner", settings.AXES_FAILURE_LIMIT)
    assert statuses[:4] == [400] * 4

    response = api_client.post(
        TOKEN_API, {"username": "owner", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert body["message"]
    assert "token" not in body
    assert int(response["Retry-After"]) == _cool_off_seconds()


def test_page_lockout_also_locks_the_token_endpoint(client, api_client, owner):
    _fail_page_logins(client, "owner", settings.AXES_FAILURE_LIMIT)

    response = api_client.post(
        TOKEN_API, {"username": "owner", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_lockout_of_one_username_does_not_affect_another(client, api_client, owner, other_user):
    _fail_page_logins(client, "owner", settings.AXES_FAILURE_LIMIT)
    _fail_api_logins(api_client, "owner", 1)

    page = Client().post(LOGIN_URL, {"username": "other", "password": PASSWORD})
    api = api_client.post(TOKEN_API, {"username": "other", "password": PASSWORD}, format="json")

    assert page.status_code == 302
    assert api.status_code == 200
    assert api.json()["token"]


def test_successful_login_resets_the_failure_count(client, owner):
    _fail_page_logins(client, "owner", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD}).status_code == 302
    client.post(LOGOUT_URL)

    _fail_page_logins(client, "owner", settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302


# --- CSRF -------------------------------------------------------------------------------------


def test_login_post_without_csrf_token_is_refused(owner):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(LOGIN_URL, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 403
    assert _logged_in_user_id(browser) is None


def test_signup_post_without_csrf_token_is_refused(db):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        SIGNUP_URL, {"username": "newcomer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="newcomer").exists()


def test_logged_in_password_change_without_csrf_token_is_refused(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = browser.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_login_post_with_csrf_token_from_the_page_is_accepted(owner):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(LOGIN_URL)
    token = page.context["csrf_token"]

    response = browser.post(
        LOGIN_URL, {"username": "owner", "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )

    assert response.status_code == 302
    assert _logged_in_user_id(browser) == str(owner.pk)

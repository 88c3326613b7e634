"""Sessions read from the cache (sesame_portal.sessions, Django's cached_db) end exactly
when they did in the database: a session ended anywhere is refused at its very next
request while its copy is still in the cache, as it would be in a process whose cache
nobody told. Run with whichever cache the suite has (per-process memory, or Redis with
CACHE_URL); the cached engine is forced here for both."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import SignIn, User, session_key_hash
from tests.accounts.test_sign_ins import (
    IPHONE_SAFARI,
    LOGOUT_ALL_API,
    NEW_PASSWORD,
    PASSWORD_URL,
    SIGN_INS_API,
    api_token,
    logged_in,
    web_login,
    with_token,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CACHED = "sesame_portal.sessions"


@pytest.fixture(autouse=True)
def _cached_sessions(settings):
    settings.SESSION_ENGINE = CACHED


def _key(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def _copy(key: str) -> dict | None:
    """The cache's copy of a session."""
    from sesame_portal.sessions import SessionStore

    return cache.get(SessionStore.cache_key_prefix + key)


def warm_login() -> Client:
    """A browser logged in, its session in the cache (the next request reads it there)."""
    client = web_login()
    assert logged_in(client)
    assert _copy(_key(client))[SESSION_KEY]
    return client


def test_a_warm_session_is_read_from_the_cache_and_its_sign_in_with_the_user(owner):
    client = warm_login()

    with CaptureQueriesContext(connection) as queries:
        assert logged_in(client)

    sql = [query["sql"] for query in queries.captured_queries]
    assert not [each for each in sql if "django_session" in each]
    # The sign-in and the user in one query, always from the database.
    assert "accounts_signin" in sql[0]
    assert '"accounts_user"' in sql[0]
    assert len([each for each in sql if '"accounts_user"' in each]) == 1


def _revoke(owner: User, client: Client) -> None:
    row = SignIn.objects.get(user=owner, session_key_hash=session_key_hash(_key(client)))
    assert with_token(api_token()).delete(f"{SIGN_INS_API}{row.pk}/").status_code == 204


def _logout_everywhere(owner: User, client: Client) -> None:
    assert with_token(api_token()).post(LOGOUT_ALL_API).status_code == 204


def _password_changed_elsewhere(owner: User, client: Client) -> None:
    other = web_login(IPHONE_SAFARI)
    response = other.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert logged_in(other)


def _password_set_in_the_admin(owner: User, client: Client) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password=PASSWORD))
    response = admin.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302


def _services_sign_out_everywhere(owner: User, client: Client) -> None:
    services.sign_out_everywhere(user=owner)


@pytest.mark.parametrize(
    "end",
    [
        _revoke,
        _logout_everywhere,
        _password_changed_elsewhere,
        _password_set_in_the_admin,
        _services_sign_out_everywhere,
    ],
)
def test_a_session_ended_elsewhere_is_refused_at_its_next_request_with_its_copy_cached(owner, end):
    client = warm_login()
    key = _key(client)

    end(owner, client)

    # Nobody told the cache: the copy is there, as in any other process's.
    assert _copy(key)[SESSION_KEY] == str(owner.pk)
    assert not logged_in(client)
    assert client.session.get(SESSION_KEY) is None
    assert _copy(key) is None  # the refused session was flushed


def test_a_logged_out_session_is_refused_even_if_its_copy_comes_back(owner):
    client = warm_login()
    key = _key(client)
    copy = _copy(key)

    assert client.post("/accounts/logout/").status_code == 302

    assert _copy(key) is None
    # A copy a failed delete left behind, or another cache still holding it.
    from sesame_portal.sessions import SessionStore

    cache.set(SessionStore.cache_key_prefix + key, copy)
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert not logged_in(replay)


def test_a_deleted_account_is_refused_with_its_copy_cached(owner):
    client = warm_login()
    key = _key(client)

    User.objects.filter(pk=owner.pk).delete()

    assert _copy(key) is not None
    assert not logged_in(client)


def test_an_inactive_user_is_not_logged_in(owner):
    client = warm_login()

    User.objects.filter(pk=owner.pk).update(is_active=False)

    assert not logged_in(client)


def test_sessions_go_on_from_the_database_when_the_cache_fails(owner, monkeypatch):
    client = warm_login()

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    backend = type(caches["default"])
    for method in ("get", "set", "delete", "has_key"):
        monkeypatch.setattr(backend, method, broken)

    assert logged_in(client)
    assert logged_in(web_login(IPHONE_SAFARI))
    assert client.post("/accounts/logout/").status_code == 302
    assert not logged_in(client)


def test_a_session_signed_with_a_retired_secret_key_stays_with_its_sign_in(owner, settings):
    client = warm_login()
    old_key = _key(client)

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40

    assert logged_in(client)
    # Django gave the session a new key and hash; its sign-in followed the key.
    new_key = _key(client)
    assert new_key != old_key
    row = SignIn.objects.get(user=owner, kind="session")
    assert row.session_key_hash == session_key_hash(new_key)
    assert logged_in(client)


def test_a_web_sessions_last_used_moves_at_most_every_few_minutes(owner):
    client = warm_login()
    row = SignIn.objects.get(user=owner, kind="session")
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    SignIn.objects.filter(pk=row.pk).update(last_used_at=long_ago)

    assert logged_in(client)
    row.refresh_from_db()
    moved = row.last_used_at
    assert moved > long_ago

    assert logged_in(client)
    row.refresh_from_db()
    assert row.last_used_at == moved

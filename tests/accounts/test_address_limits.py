"""Per-address limits on sign-up (page and API) and on identity attempts (page and API),
counted in the shared cache: many accounts from one address cannot create accounts or
probe ID numbers beyond the limits, whatever the per-account limit says."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Identity, IdentityAttempt, User
from tests.factories import PASSWORD, make_id_number

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"
ELSEWHERE = "198.51.100.9"
REGISTER_API = "/api/v1/auth/register/"
IDENTITY_API = "/api/v1/me/identity/"
NAME = "张三"
NUMBER = make_id_number("110105", "19900307", "005")
BAD_CHECK = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")


def _signup(address: str, username: str):
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/signup/",
        {"username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def _register(address: str, username: str):
    return APIClient().post(
        REGISTER_API,
        {"username": username, "password": PASSWORD},
        format="json",
        REMOTE_ADDR=address,
    )


def _api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _verify(client: APIClient, id_number: str = BAD_CHECK, address: str = ADDRESS):
    return client.post(
        IDENTITY_API,
        {"full_name": NAME, "id_number": id_number},
        format="json",
        REMOTE_ADDR=address,
    )


def _assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "rate_limited"
    assert str(body["message"]).strip()
    assert 1 <= int(response["Retry-After"]) <= 3600


# --- Sign-up --------------------------------------------------------------------------------


def test_signup_page_refuses_a_third_account_from_one_address_with_a_message(settings):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    assert _signup(ADDRESS, "first").status_code == 302
    assert _signup(ADDRESS, "second").status_code == 302

    response = _signup(ADDRESS, "third")

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors
    assert "Too many sign-ups" in errors[0]
    assert escape(errors[0]) in response.content.decode()
    assert response.context["form"]["username"].value() == "third"  # nothing typed is lost
    assert not User.objects.filter(username="third").exists()
    # Another address is counted on its own.
    assert _signup(ELSEWHERE, "third").status_code == 302


def test_api_register_answers_429_rate_limited_with_retry_after(settings):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    assert _register(ADDRESS, "first").status_code == 201
    assert _register(ADDRESS, "first").json()["code"] == "username_taken"  # counts too

    response = _register(ADDRESS, "second")

    _assert_rate_limited(response)
    assert not User.objects.filter(username="second").exists()
    assert _register(ELSEWHERE, "second").status_code == 201


def test_signup_page_and_api_share_one_count_per_address(settings):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 1
    assert _signup(ADDRESS, "first").status_code == 302

    _assert_rate_limited(_register(ADDRESS, "second"))


def test_default_signup_limit_is_10_per_address_per_hour():
    if "SIGNUPS_PER_ADDRESS_PER_HOUR" in os.environ:
        pytest.skip("SIGNUPS_PER_ADDRESS_PER_HOUR is set in the environment")
    assert django_settings.SIGNUPS_PER_ADDRESS_PER_HOUR == 10
    for number in range(10):
        assert _register(ADDRESS, f"user{number}").status_code == 201
    _assert_rate_limited(_register(ADDRESS, "user10"))


# --- Identity attempts ----------------------------------------------------------------------


def test_two_accounts_from_one_address_share_the_identity_attempt_limit(
    owner, other_user, settings
):
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 3
    owner_api, other_api = _api_for(owner), _api_for(other_user)
    assert _verify(owner_api).json()["code"] == "checksum"
    assert _verify(owner_api).json()["code"] == "checksum"
    assert _verify(other_api).json()["code"] == "checksum"

    # Each account is far below its own limit (5), but the address is used up.
    response = _verify(other_api, NUMBER)

    _assert_rate_limited(response)
    assert not Identity.objects.exists()
    assert IdentityAttempt.objects.filter(user=other_user).count() == 1
    # The same account from another address goes ahead.
    assert _verify(other_api, NUMBER, address=ELSEWHERE).status_code == 201


def test_identity_page_shows_the_address_limit_above_the_form(owner, other_user, settings):
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 1
    assert _verify(_api_for(owner)).status_code == 400
    browser = Client(REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(other_user)

    response = browser.post("/accounts/identity/", {"full_name": NAME, "id_number": NUMBER})

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors
    assert "from your network" in errors[0]
    assert escape(errors[0]) in response.content.decode()
    assert response.context["form"]["id_number"].value() == NUMBER
    assert not Identity.objects.exists()


@pytest.mark.parametrize(
    ("full_name", "id_number", "code"),
    [
        (NAME, BAD_CHECK, "checksum"),
        (NAME, NUMBER[:17], "format"),
        ("Zhang San", NUMBER, "name"),
        (NAME, make_id_number("110105", "19900307", "007"), "duplicate"),
    ],
)
def test_failed_attempts_of_every_kind_count_against_the_address(
    owner, other_user, admin_user, settings, full_name, id_number, code
):
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 1
    services.identity_verify(
        user=admin_user, full_name="李四", id_number=make_id_number("110105", "19900307", "007")
    )
    response = _api_for(owner).post(
        IDENTITY_API,
        {"full_name": full_name, "id_number": id_number},
        format="json",
        REMOTE_ADDR=ADDRESS,
    )
    assert response.json()["code"] == code

    _assert_rate_limited(_verify(_api_for(other_user), NUMBER))


def test_a_successful_verification_does_not_use_up_the_address(owner, other_user, settings):
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 1
    assert _verify(_api_for(owner), NUMBER).status_code == 201

    other = make_id_number("310101", "19850615", "222")
    assert _verify(_api_for(other_user), other).status_code == 201


def test_an_ipv6_client_counts_by_its_slash_64(owner, other_user, settings):
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 1
    assert _verify(_api_for(owner), address="2001:db8:1:2::10").status_code == 400

    _assert_rate_limited(_verify(_api_for(other_user), NUMBER, address="2001:db8:1:2::99"))
    assert _verify(_api_for(other_user), NUMBER, address="2001:db8:1:3::99").status_code == 201


def test_behind_a_proxy_the_configured_header_names_the_client(owner, other_user, settings):
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 1
    settings.CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    proxy = "127.0.0.1"
    first = _api_for(owner).post(
        IDENTITY_API,
        {"full_name": NAME, "id_number": BAD_CHECK},
        format="json",
        REMOTE_ADDR=proxy,
        HTTP_X_REAL_IP=ADDRESS,
    )
    assert first.status_code == 400

    # Another client behind the same proxy is not held back by the first one.
    second = _api_for(other_user).post(
        IDENTITY_API,
        {"full_name": NAME, "id_number": NUMBER},
        format="json",
        REMOTE_ADDR=proxy,
        HTTP_X_REAL_IP=ELSEWHERE,
    )
    assert second.status_code == 201


# --- The cache is down ----------------------------------------------------------------------


def _cache_down():
    unreachable = ConnectionError("cache unreachable")
    # The cache API counts on local memory; on Redis the counter goes in one pipeline.
    return (
        mock.patch("django.core.cache.cache.incr", side_effect=unreachable),
        mock.patch("django.core.cache.cache.add", side_effect=unreachable),
        mock.patch("redis.client.Pipeline.execute", side_effect=unreachable),
    )


def test_with_the_cache_down_sign_up_and_verification_still_work(owner, settings, caplog):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 1
    settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR = 1
    incr, add, pipeline = _cache_down()
    with incr, add, pipeline:
        assert _register(ADDRESS, "first").status_code == 201
        assert _signup(ADDRESS, "second").status_code == 302
        assert _verify(_api_for(owner)).status_code == 400
        assert _verify(_api_for(owner), NUMBER).status_code == 201
    assert any(
        record.levelname == "ERROR" and "cache unreachable" in record.getMessage()
        for record in caplog.records
    )

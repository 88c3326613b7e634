"""Real-name verification with the database: the service, the API at /api/v1/me/identity/
and the page at /accounts/identity/.

Assertions are on the contract's codes, never on exact message text (the default
language is zh-hans); messages are only checked to be non-empty.
"""

from __future__ import annotations

import datetime
import io
import logging
import os

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts import selectors, services
from accounts.crypto import decrypt_text, encrypt_text, keyed_hash, rotate_token
from accounts.models import Identity, IdentityAttempt
from accounts.resident_id import IdentityRuleError, age_on
from accounts.services.field_keys import encrypted_models
from tests.dates import today
from tests.factories import make_id_number
from tests.privacy import database_values, leaks_of, plaintext_variants

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/me/identity/"
PAGE_URL = "/accounts/identity/"

NAME = "张三"
# 110105 北京市朝阳区, born 1990-03-07, sequence 005 (odd: male), check character X.
NUMBER = "11010519900307005X"
MASKED = "1****************X"
OTHER_NUMBER = make_id_number("310101", "19850615", "222")  # 上海市黄浦区, female


def _born(days_ago: int) -> str:
    return (today() - datetime.timedelta(days=days_ago)).strftime("%Y%m%d")


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# Each refusal of the public contract, with an input that triggers exactly it.
RULE_FAILURES = {
    "format": (NAME, "11010519900307005"),
    "checksum": (NAME, _wrong_check(NUMBER)),
    "birth_date": (NAME, make_id_number("110105", "19900230", "123")),
    "region": (NAME, make_id_number("110112", "19900307", "123")),  # Tongzhou: from 1997
    "legacy_15_digit": (NAME, "110105900307123"),
    "name": ("Zhang San", NUMBER),
}


def _post(client, full_name: str = NAME, id_number: str = NUMBER, **extra):
    return client.post(
        API_URL, {"full_name": full_name, "id_number": id_number}, format="json", **extra
    )


def _age_attempts(user, minutes: int) -> None:
    IdentityAttempt.objects.filter(user=user).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )


# --- Service -------------------------------------------------------------------------------


def test_service_stores_derived_facts_ciphertext_and_keyed_hash(owner):
    identity = services.identity_verify(user=owner, full_name=f" {NAME} ", id_number=NUMBER)

    identity.refresh_from_db()
    assert identity.user == owner
    assert identity.id_number_masked == MASKED
    assert selectors.identity_birth_date(identity) == datetime.date(1990, 3, 7)
    assert "1990" not in identity.birth_date_encrypted
    assert identity.gender == Identity.Gender.MALE
    assert identity.region_code == "110105"
    assert "朝阳区" in identity.region_name
    assert identity.id_number_hash == keyed_hash(NUMBER)
    assert NUMBER not in identity.id_number_encrypted
    assert decrypt_text(identity.id_number_encrypted) == NUMBER
    assert decrypt_text(identity.full_name_encrypted) == NAME
    assert owner.is_verified
    assert list(IdentityAttempt.objects.filter(user=owner).values_list("outcome", flat=True)) == [
        "verified"
    ]


def test_service_hashes_the_normalised_number_so_spacing_and_case_do_not_matter(owner, other_user):
    services.identity_verify(user=owner, full_name=NAME, id_number=NUMBER)

    with pytest.raises(IdentityRuleError) as caught:
        services.identity_verify(
            user=other_user, full_name="李四", id_number="110105 19900307 005x"
        )
    assert caught.value.code == "duplicate"


def test_service_refuses_an_underage_applicant_with_a_custom_today(owner, today):
    number = make_id_number("110105", "20101122", "123")  # 15 on 2026-11-21

    with pytest.raises(IdentityRuleError) as caught:
        services.identity_verify(user=owner, full_name=NAME, id_number=number, today=today)

    assert caught.value.code == "underage"
    assert not Identity.objects.exists()


def test_service_accepts_an_applicant_turning_16_on_the_given_today(owner, today):
    number = make_id_number("110105", "20101121", "123")  # 16 on 2026-11-21

    identity = services.identity_verify(user=owner, full_name=NAME, id_number=number, today=today)

    assert selectors.identity_birth_date(identity) == datetime.date(2010, 11, 21)


# --- API: success --------------------------------------------------------------------------


def test_api_verify_returns_201_with_masked_number_age_gender_and_region(owner_api, owner):
    response = _post(owner_api)

    assert response.status_code == 201
    body = response.json()
    assert body["masked_id_number"] == MASKED
    assert body["age"] == age_on(datetime.date(1990, 3, 7), today())
    assert body["gender"] == "M"
    assert "朝阳区" in body["region"]
    assert "birth_date" not in body
    assert not leaks_of(NUMBER, [response.content.decode()])
    assert Identity.objects.get().user == owner


def test_api_accepts_lowercase_x_and_spaces(owner_api):
    response = _post(owner_api, id_number=" 110105 19900307 005x ")

    assert response.status_code == 201
    assert response.json()["masked_id_number"] == MASKED
    assert decrypt_text(Identity.objects.get().id_number_encrypted) == NUMBER


def test_api_derives_female_gender_from_an_even_sequence(owner_api):
    response = _post(owner_api, full_name="王芳", id_number=OTHER_NUMBER)

    assert response.status_code == 201
    assert response.json()["gender"] == "F"
    assert "黄浦区" in response.json()["region"]


def test_api_accepts_a_minority_name_with_a_look_alike_dot(owner_api):
    response = _post(owner_api, full_name="阿依古丽•买买提")

    assert response.status_code == 201
    assert decrypt_text(Identity.objects.get().full_name_encrypted) == "阿依古丽·买买提"


# --- API: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(RULE_FAILURES))
def test_api_rule_failure_returns_400_with_its_code_and_saves_nothing(owner_api, owner, code):
    full_name, id_number = RULE_FAILURES[code]

    response = _post(owner_api, full_name, id_number)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert str(body["message"]).strip()
    assert not Identity.objects.exists()
    # The attempt is counted by its outcome only.
    assert list(IdentityAttempt.objects.filter(user=owner).values_list("outcome", flat=True)) == [
        code
    ]


def test_api_refuses_a_future_birth_date_as_birth_date(owner_api):
    response = _post(owner_api, id_number=make_id_number("110105", _born(-30), "123"))

    assert response.status_code == 400
    assert response.json()["code"] == "birth_date"
    assert not Identity.objects.exists()


def test_api_refuses_an_underage_applicant_as_underage(owner_api):
    response = _post(owner_api, id_number=make_id_number("110105", _born(365 * 10), "123"))

    assert response.status_code == 400
    assert response.json()["code"] == "underage"
    assert not Identity.objects.exists()


def test_api_refuses_a_region_abolished_before_the_birth_year(owner_api):
    # 110103 Chongwen was merged away in 2010; births from 2011 cannot carry it.
    response = _post(owner_api, id_number=make_id_number("110103", "20110301", "123"))

    assert response.status_code == 400
    assert response.json()["code"] == "region"


def test_api_refuses_an_unknown_county_in_a_known_province_as_region(owner_api):
    response = _post(owner_api, id_number=make_id_number("110199", "19900307", "123"))

    assert response.status_code == 400
    assert response.json()["code"] == "region"


def test_api_refuses_a_number_verified_on_another_account_as_duplicate(owner_api, other_api):
    assert _post(owner_api).status_code == 201

    response = _post(other_api, full_name="李四", id_number=NUMBER.lower())

    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"
    assert Identity.objects.count() == 1
    assert MASKED not in response.content.decode()


def test_api_second_verification_of_a_verified_user_is_409(owner_api):
    assert _post(owner_api).status_code == 201

    response = _post(owner_api, full_name="王芳", id_number=OTHER_NUMBER)

    assert response.status_code == 409
    assert response.json()["code"] == "already_verified"
    identity = Identity.objects.get()
    assert decrypt_text(identity.id_number_encrypted) == NUMBER


@pytest.mark.parametrize("method", ["get", "post"])
def test_api_refuses_an_unauthenticated_caller_with_a_code(api_client, method):
    response = _post(api_client) if method == "post" else api_client.get(API_URL)

    assert response.status_code in (401, 403)
    assert response.json()["code"]
    assert not Identity.objects.exists()
    assert not IdentityAttempt.objects.exists()


def test_api_missing_fields_are_refused_with_a_code(owner_api):
    response = owner_api.post(API_URL, {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"]
    assert not Identity.objects.exists()


# --- API: rate limit -----------------------------------------------------------------------


def _exhaust_attempts(client, limit: int) -> None:
    for _ in range(limit):
        response = _post(client, id_number=_wrong_check(NUMBER))
        assert response.status_code == 400
        assert response.json()["code"] == "checksum"


def test_api_rate_limits_after_the_configured_attempts_per_hour(owner_api, owner, settings):
    limit = settings.IDENTITY_ATTEMPTS_PER_HOUR
    _exhaust_attempts(owner_api, limit)

    # Even a correct submission is refused now, and it is not saved.
    response = _post(owner_api)

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert str(response.json()["message"]).strip()
    assert 1 <= int(response["Retry-After"]) <= 3601
    assert not Identity.objects.exists()
    assert IdentityAttempt.objects.filter(user=owner).count() == limit


def test_default_identity_attempts_per_hour_is_5():
    if "IDENTITY_ATTEMPTS_PER_HOUR" in os.environ:
        pytest.skip("IDENTITY_ATTEMPTS_PER_HOUR is set in the environment")
    assert django_settings.IDENTITY_ATTEMPTS_PER_HOUR == 5


def test_api_rate_limit_follows_the_setting(owner_api, settings):
    settings.IDENTITY_ATTEMPTS_PER_HOUR = 2
    _exhaust_attempts(owner_api, 2)

    response = _post(owner_api)

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


def test_attempts_older_than_an_hour_no_longer_count(owner_api, owner, settings):
    _exhaust_attempts(owner_api, settings.IDENTITY_ATTEMPTS_PER_HOUR)
    assert _post(owner_api).status_code == 429

    _age_attempts(owner, minutes=61)
    response = _post(owner_api)

    assert response.status_code == 201
    assert Identity.objects.get().user == owner


def test_retry_after_counts_down_to_when_the_oldest_counted_attempt_expires(owner_api, owner):
    _exhaust_attempts(owner_api, django_settings.IDENTITY_ATTEMPTS_PER_HOUR)
    _age_attempts(owner, minutes=50)  # all of them 50 minutes ago: 10 minutes left

    response = _post(owner_api)

    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 610


def test_rate_limit_is_per_user(owner_api, other_api, settings):
    _exhaust_attempts(owner_api, settings.IDENTITY_ATTEMPTS_PER_HOUR)

    response = _post(other_api)

    assert response.status_code == 201


def test_an_hour_old_attempt_frees_one_slot_only(owner_api, owner, settings):
    limit = settings.IDENTITY_ATTEMPTS_PER_HOUR
    _exhaust_attempts(owner_api, limit)
    oldest = IdentityAttempt.objects.filter(user=owner).order_by("created_at", "pk").first()
    IdentityAttempt.objects.filter(pk=oldest.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=61)
    )

    assert _post(owner_api, id_number=_wrong_check(NUMBER)).status_code == 400
    assert _post(owner_api).status_code == 429


# --- API: reading --------------------------------------------------------------------------


def test_api_get_before_verification_is_404_with_a_code(owner_api):
    response = owner_api.get(API_URL)

    assert response.status_code == 404
    assert response.json()["code"] == "not_verified"


def test_api_get_after_verification_returns_the_masked_data(owner_api):
    created = _post(owner_api).json()

    response = owner_api.get(API_URL)

    assert response.status_code == 200
    assert response.json() == created
    assert response.json()["masked_id_number"] == MASKED
    content = response.content.decode()
    for variant in plaintext_variants(NUMBER):
        assert variant not in content


def test_api_get_never_shows_another_users_identity(owner_api, other_api):
    assert _post(owner_api).status_code == 201

    response = other_api.get(API_URL)

    assert response.status_code == 404
    assert response.json()["code"] == "not_verified"
    assert MASKED not in response.content.decode()
    assert "朝阳区" not in response.content.decode()


# --- Encryption at rest --------------------------------------------------------------------


def _verify_through_page(client) -> None:
    response = client.post(PAGE_URL, {"full_name": NAME, "id_number": NUMBER.lower()})
    assert response.status_code == 302


@pytest.mark.parametrize("channel", ["api", "page"])
def test_plaintext_id_number_is_stored_nowhere_in_the_database(
    channel, owner_api, owner_client, other_api
):
    if channel == "api":
        assert _post(owner_api).status_code == 201
    else:
        _verify_through_page(owner_client)
    # A refused attempt with another valid number must not leave it behind either.
    assert _post(other_api, id_number=OTHER_NUMBER, full_name="Wang").status_code == 400

    values = database_values()

    for number in (NUMBER, OTHER_NUMBER):
        assert not leaks_of(number, values)
    identity = Identity.objects.get()
    assert decrypt_text(identity.id_number_encrypted) == NUMBER
    assert MASKED in values  # the scan does see the identity row


def test_ciphertext_differs_for_each_encryption_of_the_same_number():
    assert encrypt_text(NUMBER) != encrypt_text(NUMBER)


def test_old_ciphertext_still_decrypts_after_key_rotation(owner, settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    identity = services.identity_verify(user=owner, full_name=NAME, id_number=NUMBER)
    old_token = Identity.objects.get(pk=identity.pk).id_number_encrypted

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    assert decrypt_text(old_token) == NUMBER
    assert selectors.identity_full_name(Identity.objects.get(pk=identity.pk)) == NAME
    # New ciphertext is made with the newest key...
    assert Fernet(new_key.encode()).decrypt(encrypt_text(NUMBER).encode()).decode() == NUMBER
    # ...and rotating re-encrypts the old token under it.
    rotated = rotate_token(old_token)
    assert MultiFernet([Fernet(new_key.encode())]).decrypt(rotated.encode()).decode() == NUMBER


def test_old_ciphertext_does_not_decrypt_once_its_key_is_dropped(owner, settings):
    old_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    identity = services.identity_verify(user=owner, full_name=NAME, id_number=NUMBER)

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(InvalidToken):
        decrypt_text(identity.id_number_encrypted)


def test_duplicate_check_survives_key_rotation(owner, other_user, settings):
    old_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    services.identity_verify(user=owner, full_name=NAME, id_number=NUMBER)

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]

    with pytest.raises(IdentityRuleError) as caught:
        services.identity_verify(user=other_user, full_name="李四", id_number=NUMBER)
    assert caught.value.code == "duplicate"


# --- Logs ----------------------------------------------------------------------------------


def _record_text(record: logging.LogRecord) -> str:
    return "\n".join([record.getMessage(), repr(record.args), repr(record.msg), repr(vars(record))])


def test_id_number_never_appears_in_logs(caplog, owner_api, other_api, owner_client):
    caplog.set_level(logging.DEBUG)

    assert _post(owner_api).status_code == 201
    assert _post(other_api, id_number=NUMBER).json()["code"] == "duplicate"
    assert _post(other_api, id_number=_wrong_check(OTHER_NUMBER)).json()["code"] == "checksum"
    assert _post(other_api, full_name="Wang", id_number=OTHER_NUMBER).json()["code"] == "name"
    owner_client.post(PAGE_URL, {"full_name": NAME, "id_number": NUMBER})
    owner_client.get(PAGE_URL)

    assert any(record.name.startswith("accounts.services") for record in caplog.records), (
        "the service's own log records were not captured"
    )
    for record in caplog.records:
        text = _record_text(record)
        for number in (NUMBER, OTHER_NUMBER, _wrong_check(OTHER_NUMBER)):
            assert not leaks_of(number, [text]), f"logged by {record.name}"


# --- Page ----------------------------------------------------------------------------------


def test_identity_page_requires_login(client):
    response = client.get(PAGE_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=" in response["Location"]


def test_identity_page_post_requires_login_and_saves_nothing(client):
    response = client.post(PAGE_URL, {"full_name": NAME, "id_number": NUMBER})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Identity.objects.exists()


def test_identity_page_shows_the_form_before_verification(owner_client):
    response = owner_client.get(PAGE_URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="id_number"' in content
    assert 'name="full_name"' in content


@pytest.mark.parametrize("code", sorted(RULE_FAILURES))
def test_identity_page_rerenders_a_refusal_with_its_message_and_saves_nothing(
    owner_client, owner, code
):
    full_name, id_number = RULE_FAILURES[code]

    response = owner_client.post(
        PAGE_URL, {"full_name": full_name, "id_number": id_number}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    field = "full_name" if code == "name" else "id_number"
    errors = response.context["form"].errors[field]
    assert errors
    assert errors[0].strip()
    assert escape(errors[0]) in response.content.decode()
    assert not Identity.objects.exists()
    assert IdentityAttempt.objects.get(user=owner).outcome == code


def test_identity_page_shows_rate_limit_above_the_form(owner_client, settings):
    settings.IDENTITY_ATTEMPTS_PER_HOUR = 1
    owner_client.post(PAGE_URL, {"full_name": NAME, "id_number": _wrong_check(NUMBER)})

    response = owner_client.post(PAGE_URL, {"full_name": NAME, "id_number": NUMBER})

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors
    assert escape(errors[0]) in response.content.decode()
    assert not Identity.objects.exists()


def test_identity_page_verifies_redirects_to_consents_and_shows_only_the_masked_number(
    owner_client, owner
):
    response = owner_client.post(PAGE_URL, {"full_name": NAME, "id_number": NUMBER.lower()})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:consents")
    assert Identity.objects.get().user == owner

    page = owner_client.get(PAGE_URL)

    assert page.status_code == 200
    content = page.content.decode()
    assert MASKED in content
    assert NAME in content
    assert 'name="id_number"' not in content
    assert not leaks_of(NUMBER, [content])
    assert NUMBER not in str(owner_client.cookies)


def test_identity_page_post_after_verification_changes_nothing(owner_client):
    _verify_through_page(owner_client)

    response = owner_client.post(PAGE_URL, {"full_name": "王芳", "id_number": OTHER_NUMBER})

    assert response.status_code == 200
    identity = Identity.objects.get()
    assert decrypt_text(identity.id_number_encrypted) == NUMBER
    assert OTHER_NUMBER not in response.content.decode()


def test_identity_page_of_one_user_never_shows_anothers_identity(owner_client, other_user):
    services.identity_verify(user=other_user, full_name="王芳", id_number=OTHER_NUMBER)

    response = owner_client.get(PAGE_URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert "王芳" not in content
    assert not leaks_of(OTHER_NUMBER, [content])


def test_rotate_field_keys_reencrypts_so_the_old_key_can_be_dropped(owner, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    services.identity_verify(user=owner, full_name="张三", id_number=NUMBER)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("rotate_field_keys", stdout=io.StringIO())

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    identity = Identity.objects.get(user=owner)
    assert decrypt_text(identity.id_number_encrypted) == NUMBER
    assert decrypt_text(identity.full_name_encrypted) == "张三"
    assert selectors.identity_birth_date(identity) == datetime.date(1990, 3, 7)


def test_every_encrypted_field_is_rotated(owner, settings):
    """Each model's ENCRYPTED_FIELDS, whatever its app: the identity, appeals and the
    evidence of appeals and disputes."""
    labels = {model._meta.label for model, _fields in encrypted_models()}
    assert labels >= {
        "accounts.Identity",
        "accounts.IdentityAppeal",
        "accounts.IdentityAppealEvidence",
        "scoring.DisputeAttachment",
    }
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    services.identity_verify(user=owner, full_name="张三", id_number=NUMBER)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]

    done = services.field_keys_rotate()

    assert done["accounts.Identity"] == 1
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    assert decrypt_text(Identity.objects.get().birth_date_encrypted) == "1990-03-07"


# --- API: the contract's codes for malformed input ---------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"full_name": NAME, "id_number": ""}, "format"),
        ({"full_name": NAME, "id_number": "   "}, "format"),
        ({"full_name": NAME}, "format"),
        ({"full_name": NAME, "id_number": NUMBER + "0" * 60}, "format"),
        ({"full_name": NAME, "id_number": ["1"]}, "format"),
        ({"full_name": "", "id_number": NUMBER}, "name"),
        ({"id_number": NUMBER}, "name"),
        ({"full_name": "张" * 200, "id_number": NUMBER}, "name"),
        ({"full_name": None, "id_number": NUMBER}, "name"),
    ],
)
def test_api_blank_or_overlong_input_gets_the_contracts_code(owner_api, payload, code):
    response = owner_api.post(API_URL, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not Identity.objects.exists()


# --- What staff see ------------------------------------------------------------------------


def test_admin_shows_the_mask_and_the_age_never_the_birth_date(client, admin_user, owner):
    identity = services.identity_verify(user=owner, full_name=NAME, id_number=NUMBER)
    client.force_login(admin_user)

    pages = [
        client.get(reverse("admin:accounts_identity_changelist")),
        client.get(reverse("admin:accounts_identity_change", args=[identity.pk])),
        client.get(reverse("admin:accounts_user_change", args=[owner.pk])),
    ]

    for page in pages:
        assert page.status_code == 200
        assert MASKED in page.content.decode()
        assert not leaks_of(NUMBER, [page.content.decode()])
    assert str(age_on(datetime.date(1990, 3, 7), today())) in pages[1].content.decode()

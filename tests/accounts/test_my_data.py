"""My data: the export (GET /api/v1/me/export/ and /accounts/me/data/export/) and
deleting the account (DELETE /api/v1/me/ and the page /accounts/me/data/)."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from accounts.clients import Client
from accounts.models import (
    ConsentGrant,
    ConsentRevocation,
    Identity,
    IdentityAttempt,
    Profile,
    User,
    WorkEmailChallenge,
)
from accounts.resident_id import age_on
from benefits.models import Partner
from benefits.services.partner_access import partner_authorize
from sesame_portal.errors import ServiceError
from tests.dates import today
from tests.factories import PASSWORD, make_id_number
from tests.privacy import leaks_of, plaintext_variants

pytestmark = pytest.mark.django_db

EXPORT_API = "/api/v1/me/export/"
ACCOUNT_API = "/api/v1/me/"
MY_DATA_PAGE = "/accounts/me/data/"
EXPORT_PAGE = "/accounts/me/data/export/"
ACCOUNT_PAGE = "/accounts/me/"
LOGIN_PAGE = "/accounts/login/"

NAME = "张三"
# 110105 北京市朝阳区, born 1990-03-07; the check character is X, so case matters.
NUMBER = "11010519900307005X"
MASKED = "1****************X"
OTHER_NAME = "李四"
OTHER_NUMBER = make_id_number("310101", "19850615", "222")
SCHOOL = "Tsinghua University"
WORK_EMAIL = "zhang.san@acme-tech.cn"

WEB = Client(channel=ConsentGrant.Channel.WEB, ip="203.0.113.7", user_agent="pytest-browser/1.0")


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(
        name="Deposit-free Rentals", category="car_rental", status=Partner.Status.APPROVED
    )


def _populate(user, *, name: str, number: str, partner: Partner, school: str) -> dict:
    """Give a user everything the portal can hold: identity (and a refused attempt),
    profile, a work-email code, an API token, current and revoked consents."""
    with pytest.raises(ServiceError):
        services.identity_verify(user=user, full_name=name, id_number=wrong_check(number))
    services.identity_verify(user=user, full_name=name, id_number=number)
    services.profile_update(
        user=user,
        sections={
            "education": {"education_level": "bachelor", "school": school, "graduation_year": 2012}
        },
    )
    services.profile_update(
        user=user,
        sections={
            "occupation": {
                "occupation": "employee",
                "employer": "Acme Technology",
                "work_email": f"{user.username}@acme-tech.cn",
            }
        },
    )
    AuthToken.objects.create(user=user)
    superseded = services.consent_grant(user=user, purpose="scoring", client=WEB)
    scoring = services.consent_grant(user=user, purpose="scoring", client=WEB)
    social = services.consent_grant(user=user, purpose="social_connections", client=WEB)
    services.consent_revoke(user=user, grant_id=social.pk, client=WEB)
    sharing, _token = partner_authorize(
        user=user,
        client=WEB,
        partner=partner,
        scope="score",
        stated_purpose="Deposit-free car rental",
        expires_at=scoring.granted_at + datetime.timedelta(days=30),
    )
    return {
        "current": [scoring.pk, sharing.pk],
        "revoked": {superseded.pk: "superseded", social.pk: "user"},
        "all": [superseded.pk, scoring.pk, social.pk, sharing.pk],
    }


@pytest.fixture
def owner_data(owner, partner) -> dict:
    return _populate(owner, name=NAME, number=NUMBER, partner=partner, school=SCHOOL)


@pytest.fixture
def other_data(other_user, partner) -> dict:
    return _populate(
        other_user, name=OTHER_NAME, number=OTHER_NUMBER, partner=partner, school="Fudan"
    )


def export_of(api: APIClient) -> tuple[object, str]:
    response = api.get(EXPORT_API)
    assert response.status_code == 200
    return response, response.content.decode()


# --- Export ----------------------------------------------------------------------------------


def test_export_is_a_json_attachment(owner_api, owner_data):
    response, body = export_of(owner_api)

    assert response["Content-Type"].startswith("application/json")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="[^"]+\.json"', disposition)
    assert isinstance(json.loads(body), dict)


def test_export_holds_account_and_identity_with_masked_number(owner_api, owner, owner_data):
    data = json.loads(export_of(owner_api)[1])

    assert data["account"]["username"] == owner.username
    assert data["account"]["date_joined"]
    identity = data["identity"]
    assert identity["masked_id_number"] == MASKED
    assert identity["full_name"] == NAME
    assert "birth_date" not in identity
    assert identity["age"] == age_on(datetime.date(1990, 3, 7), today())
    assert identity["verified_at"]
    assert [a["outcome"] for a in data["identity_attempts"]] == ["checksum", "verified"]


def test_export_holds_consents_with_text_version_and_times(owner_api, owner_data):
    data = json.loads(export_of(owner_api)[1])

    consents = {c["id"]: c for c in data["consents"]}
    assert sorted(consents) == sorted(owner_data["all"])
    for consent in consents.values():
        assert isinstance(consent["text_version"], int)
        assert consent["granted_at"]
        assert consent["purpose"]
    for grant_id, reason in owner_data["revoked"].items():
        assert consents[grant_id]["revoked_at"]
        assert consents[grant_id]["revocation_reason"] == reason
    sharing = next(c for c in consents.values() if c["purpose"] == "partner_sharing")
    assert sharing["partner"] == "Deposit-free Rentals"
    assert sharing["expires_at"]
    assert sharing["scope"] == "score"


def test_export_holds_profile_with_marks_and_completion(owner_api, owner_data):
    profile = json.loads(export_of(owner_api)[1])["profile"]

    assert profile["school"] == SCHOOL
    assert profile["graduation_year"] == 2012
    assert profile["field_marks"]["school"]["mark"] == "self_declared"
    assert profile["field_marks"]["school"]["at"]
    assert profile["completion"] == 25
    assert profile["work_email"] == "owner@acme-tech.cn"
    assert profile["work_email_verified_at"] is None


def test_export_lists_work_email_codes_without_their_hashes(owner_api, owner, owner_data):
    _response, body = export_of(owner_api)
    codes = json.loads(body)["work_email_codes"]

    assert len(codes) == 1
    assert codes[0]["email"] == "owner@acme-tech.cn"
    assert codes[0]["expires_at"]
    assert all("code_hash" not in code for code in codes)
    assert "code_hash" not in body
    challenge = WorkEmailChallenge.objects.get(user=owner)
    assert challenge.code_hash not in body
    code = re.search(r"\b(\d{6})\b", mail.outbox[0].body).group(1)
    assert code not in json.dumps(codes)


def test_export_never_contains_the_plaintext_id_number(owner_api, owner, owner_data):
    identity = Identity.objects.get(user=owner)
    _response, body = export_of(owner_api)

    assert not leaks_of(NUMBER, [body])
    assert identity.id_number_encrypted not in body
    assert identity.id_number_hash not in body


def test_export_page_downloads_the_same_json(owner_client, owner, owner_data):
    response = owner_client.get(EXPORT_PAGE)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content.decode()
    data = json.loads(body)
    assert data["identity"]["masked_id_number"] == MASKED
    assert data["account"]["username"] == owner.username
    assert not leaks_of(NUMBER, [body])


def test_export_of_other_user_holds_nothing_of_owners(owner, owner_data, other_api, other_data):
    body = export_of(other_api)[1]
    data = json.loads(body)

    assert data["account"]["username"] == "other"
    assert data["identity"]["full_name"] == OTHER_NAME
    for owners in (NAME, MASKED, SCHOOL, "owner@acme-tech.cn", *plaintext_variants(NUMBER)):
        assert owners not in body
    assert sorted(c["id"] for c in data["consents"]) == sorted(other_data["all"])
    assert [c["email"] for c in data["work_email_codes"]] == ["other@acme-tech.cn"]


def test_export_of_new_user_has_empty_identity_and_profile(owner_api, owner):
    data = json.loads(export_of(owner_api)[1])

    assert data["identity"] is None
    assert data["consents"] == []
    assert data["profile"]["completion"] == 0
    assert data["work_email_codes"] == []


def test_export_requires_authentication(api_client, client, owner_data):
    response = api_client.get(EXPORT_API)
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"

    page = client.get(EXPORT_PAGE)
    assert page.status_code == 302
    assert page["Location"].startswith(LOGIN_PAGE)


# --- Deletion --------------------------------------------------------------------------------


def assert_owner_intact(owner, owner_data) -> None:
    assert User.objects.filter(pk=owner.pk).exists()
    assert Identity.objects.filter(user=owner).exists()
    assert Profile.objects.filter(user=owner).exists()
    assert WorkEmailChallenge.objects.filter(user=owner).exists()
    assert AuthToken.objects.filter(user=owner).exists()
    grants = ConsentGrant.objects.filter(pk__in=owner_data["all"])
    assert set(grants.values_list("user_id", flat=True)) == {owner.pk}
    assert set(grants.values_list("subject_ref", flat=True)) == {""}
    assert all(ip == WEB.ip for ip in grants.values_list("client_ip", flat=True))
    assert ConsentGrant.objects.current().filter(pk__in=owner_data["current"]).count() == 2


def assert_owner_gone(owner_id: int, owner_data) -> None:
    assert not User.objects.filter(pk=owner_id).exists()
    assert not User.objects.filter(username="owner").exists()
    for model in (Identity, Profile, WorkEmailChallenge, IdentityAttempt, AuthToken):
        assert not model.objects.filter(user_id=owner_id).exists(), model.__name__
    assert not Identity.objects.filter(id_number_masked=MASKED).exists()


@pytest.fixture
def session_api(owner) -> APIClient:
    """The browser's API client: session-authenticated."""
    api = APIClient()
    api.force_login(owner)
    return api


def test_api_delete_with_wrong_password_deletes_nothing(session_api, owner, owner_data):
    response = session_api.delete(ACCOUNT_API, {"password": "not-the-password"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "password"
    assert response.json()["message"]
    assert_owner_intact(owner, owner_data)
    assert session_api.get(ACCOUNT_PAGE).status_code == 200


def test_api_delete_without_password_deletes_nothing(session_api, owner, owner_data):
    response = session_api.delete(ACCOUNT_API, {}, format="json")

    assert response.status_code == 400
    assert_owner_intact(owner, owner_data)


def test_api_delete_removes_everything_identifying(session_api, owner, owner_data):
    owner_id = owner.pk

    response = session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert_owner_gone(owner_id, owner_data)


def test_api_delete_logs_the_session_out(session_api, owner, owner_data):
    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    assert SESSION_KEY not in session_api.session
    response = session_api.get(ACCOUNT_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_PAGE)


def test_api_delete_with_token_removes_the_token(api_client, owner, owner_data):
    _instance, token = AuthToken.objects.create(user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = api_client.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert not AuthToken.objects.exists()
    assert api_client.get(EXPORT_API).status_code in (401, 403)


def test_api_delete_unauthenticated_is_refused(api_client, owner, owner_data):
    response = api_client.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    assert_owner_intact(owner, owner_data)


def test_deletion_keeps_consent_records_under_one_pseudonym(session_api, owner, owner_data):
    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    grants = ConsentGrant.objects.filter(pk__in=owner_data["all"])
    assert grants.count() == len(owner_data["all"])
    assert set(grants.values_list("user_id", flat=True)) == {None}
    refs = set(grants.values_list("subject_ref", flat=True))
    assert len(refs) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", refs.pop())
    assert set(grants.values_list("client_ip", flat=True)) == {None}
    assert set(grants.values_list("user_agent", flat=True)) == {""}
    assert all(grant.text_id and grant.granted_at for grant in grants)


def test_deletion_clears_client_of_kept_revocations(session_api, owner, owner_data):
    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    revocations = ConsentRevocation.objects.filter(grant_id__in=owner_data["all"])
    assert revocations.count() == len(owner_data["all"])
    assert set(revocations.values_list("client_ip", flat=True)) == {None}
    assert set(revocations.values_list("user_agent", flat=True)) == {""}


def test_deletion_revokes_current_grants_and_keeps_earlier_reasons(session_api, owner, owner_data):
    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    reasons = dict(
        ConsentRevocation.objects.filter(grant_id__in=owner_data["all"]).values_list(
            "grant_id", "reason"
        )
    )
    for grant_id in owner_data["current"]:
        assert reasons[grant_id] == ConsentRevocation.Reason.ACCOUNT_DELETED
    for grant_id, reason in owner_data["revoked"].items():
        assert reasons[grant_id] == reason
    assert not ConsentGrant.objects.current().filter(pk__in=owner_data["all"]).exists()


def test_deletion_leaves_other_users_untouched(
    session_api, owner, owner_data, other_user, other_data
):
    other_grants_before = list(ConsentGrant.objects.filter(user=other_user).order_by("pk").values())
    other_revocations_before = list(
        ConsentRevocation.objects.filter(grant__user=other_user).order_by("pk").values()
    )

    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    assert User.objects.filter(pk=other_user.pk).exists()
    for model in (Identity, Profile, WorkEmailChallenge, AuthToken):
        assert model.objects.filter(user=other_user).exists(), model.__name__
    assert IdentityAttempt.objects.filter(user=other_user).count() == 2
    assert (
        list(ConsentGrant.objects.filter(user=other_user).order_by("pk").values())
        == other_grants_before
    )
    assert (
        list(ConsentRevocation.objects.filter(grant__user=other_user).order_by("pk").values())
        == other_revocations_before
    )


def test_same_id_number_can_verify_a_new_account_after_deletion(session_api, owner, owner_data):
    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")
    newcomer = User.objects.create_user(username="newcomer", password=PASSWORD)

    identity = services.identity_verify(user=newcomer, full_name=NAME, id_number=NUMBER)

    assert identity.user == newcomer
    assert identity.id_number_masked == MASKED


def test_username_is_free_again_after_deletion(session_api, owner, owner_data):
    session_api.delete(ACCOUNT_API, {"password": PASSWORD}, format="json")

    response = APIClient().post(
        "/api/v1/auth/register/",
        {"username": "owner", "password": "purple-otter-meadow-77"},
        format="json",
    )

    assert response.status_code == 201


# --- The page --------------------------------------------------------------------------------


def test_my_data_page_states_what_is_kept_and_why(owner_client):
    response = owner_client.get(MY_DATA_PAGE, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    content = response.content.decode()
    assert "What we keep, and why" in content
    assert "consent" in content
    assert "regulator" in content
    assert f'href="{EXPORT_PAGE}"' in content
    assert 'name="password"' in content


def test_my_data_page_requires_login(client):
    response = client.get(MY_DATA_PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_PAGE)


def test_page_delete_with_wrong_password_rerenders_and_deletes_nothing(
    owner_client, owner, owner_data
):
    response = owner_client.post(MY_DATA_PAGE, {"password": "not-the-password"})

    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert_owner_intact(owner, owner_data)
    assert SESSION_KEY in owner_client.session


def test_page_delete_with_empty_password_deletes_nothing(owner_client, owner, owner_data):
    response = owner_client.post(MY_DATA_PAGE, {"password": ""})

    assert response.status_code == 400
    assert_owner_intact(owner, owner_data)


def test_page_delete_removes_account_logs_out_and_goes_to_login(
    owner_client, owner, owner_data, other_user, other_data
):
    owner_id = owner.pk

    response = owner_client.post(MY_DATA_PAGE, {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_PAGE)
    assert_owner_gone(owner_id, owner_data)
    assert SESSION_KEY not in owner_client.session
    follow_up = owner_client.get(ACCOUNT_PAGE)
    assert follow_up.status_code == 302
    assert follow_up["Location"].startswith(LOGIN_PAGE)
    grants = ConsentGrant.objects.filter(pk__in=owner_data["all"])
    assert set(grants.values_list("user_id", flat=True)) == {None}
    assert len(set(grants.values_list("subject_ref", flat=True))) == 1
    assert Identity.objects.filter(user=other_user).exists()


def test_page_delete_accepts_only_get_and_post(owner_client, owner):
    response = owner_client.delete(MY_DATA_PAGE)

    assert response.status_code == 405
    assert User.objects.filter(pk=owner.pk).exists()

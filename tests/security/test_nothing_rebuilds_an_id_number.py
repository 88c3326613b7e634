"""After a person has used every part of the portal that touches their identity (sign-up,
a refused and a passed verification, consent, a partner's score query and identity
checks, the queries page, the export, someone else's appeal with an ID-card photo named
after the number, a password change, another account's deletion), no column of any
table holds an ID number or anything from which one follows, and no answer shows one."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from scoring.models import ModelVersion
from tests.factories import (
    PASSWORD,
    PNG,
    authorize,
    make_api_key,
    make_id_number,
    make_partner,
    set_score,
)
from tests.partner_api import IDENTITY_CHECK_URL, partner_client, score_url
from tests.privacy import database_values, leaks_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

NUMBER = make_id_number("110105", "19900307", "005")
WRONG_CHECK = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
OTHER_NUMBER = make_id_number("310101", "19850615", "222")
NAME = "张三"


def _signed_up(username: str) -> tuple[User, APIClient]:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    body = {"username": username, "password": PASSWORD}
    assert api.post("/api/v1/auth/register/", body, format="json").status_code == 201
    token = api.post("/api/v1/auth/token/", body, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return User.objects.get(username=username), api


@pytest.fixture
def model_version():
    return ModelVersion.objects.create(
        version="privacy-1", kind=ModelVersion.Kind.PORTAL, artifact=b"{}", sha256="0" * 64
    )


def test_after_the_whole_journey_no_column_or_answer_rebuilds_an_id_number(
    model_version, recompute_calls
):
    answers: list[str] = []

    def keep(response, status: int):
        assert response.status_code == status, response.content[:300]
        answers.append(response.content.decode("utf-8", "replace"))
        return response

    person, api = _signed_up("person")
    identity = {"full_name": NAME, "id_number": WRONG_CHECK}
    keep(api.post("/api/v1/me/identity/", identity, format="json"), 400)
    identity["id_number"] = NUMBER
    keep(api.post("/api/v1/me/identity/", identity, format="json"), 201)
    keep(api.post("/api/v1/me/consents/", {"purpose": "scoring"}, format="json"), 201)
    set_score(person, 680, {"credit_history": 70}, model_version=model_version)

    partner = make_partner()
    key = make_api_key(partner)
    _grant, token = authorize(person, partner, "score", identity_check=True)
    shop = partner_client(key)
    keep(shop.get(score_url(token)), 200)
    check = {"token": token, "full_name": NAME, "id_number": NUMBER}
    assert keep(shop.post(IDENTITY_CHECK_URL, check, format="json"), 200).json() == {"match": True}
    check["id_number"] = OTHER_NUMBER
    assert keep(shop.post(IDENTITY_CHECK_URL, check, format="json"), 200).json() == {"match": False}
    for path in ("/api/v1/me/identity/", "/api/v1/me/queries/", "/api/v1/me/export/"):
        keep(api.get(path), 200)
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(person)
    pages = ("/", "/accounts/identity/", "/accounts/me/", "/accounts/me/data/", "/score/history/")
    for path in (*pages, "/accounts/consents/", "/accounts/me/devices/"):
        keep(page.get(path, follow=True), 200)

    # Someone else claims the number: refused as duplicate, then appeals with a photo of
    # the card, named after the number as phones often do.
    claimant, claimant_api = _signed_up("claimant")
    refused = keep(claimant_api.post("/api/v1/me/identity/", identity, format="json"), 400)
    appeal_path = refused.json()["appeal_url"].removeprefix("http://testserver")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(claimant)
    photo = SimpleUploadedFile(f"{NUMBER}.png", PNG + NUMBER.encode(), content_type="image/png")
    filed = browser.post(
        appeal_path,
        {"full_name": "李四", "id_number": NUMBER, "statement": "Mine.", "evidence": photo},
    )
    assert filed.status_code == 302

    # A third person verifies, then leaves; the first changes their password.
    _leaver, leaver_api = _signed_up("leaver")
    other = {"full_name": "王芳", "id_number": OTHER_NUMBER}
    keep(leaver_api.post("/api/v1/me/identity/", other, format="json"), 201)
    keep(leaver_api.delete("/api/v1/me/", {"password": PASSWORD}, format="json"), 204)
    change = {"old_password": PASSWORD, "new_password": "another-horse-battery-77"}
    keep(api.post("/api/v1/me/password/", change, format="json"), 204)

    values = database_values()
    for number in (NUMBER, WRONG_CHECK, OTHER_NUMBER):
        assert not leaks_of(number, values)
        assert not leaks_of(number, answers)

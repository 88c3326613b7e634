"""The partner API as its callers see it: addresses, a client holding a key, and the shape
of a refusal."""

from __future__ import annotations

from rest_framework.test import APIClient

PARTNER_API = "/api/v1/partner"
IDENTITY_CHECK_URL = f"{PARTNER_API}/identity-check/"


def partner_client(key: str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def score_url(token: str) -> str:
    return f"{PARTNER_API}/authorizations/{token}/score/"


def eligibility_url(token: str, benefit_id: int) -> str:
    return f"{PARTNER_API}/authorizations/{token}/benefits/{benefit_id}/eligibility/"


def voucher_url(code: str) -> str:
    return f"{PARTNER_API}/vouchers/{code}/"


def redeem_url(code: str) -> str:
    return f"{PARTNER_API}/vouchers/{code}/redeem/"


def assert_error(response, status: int, code: str) -> dict:
    """A refusal: this status and `{code, message}`, nothing more."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code
    assert body["message"]
    return body

"""Whatever a client sends, the accounts API answers with a 4xx and `{code, message}` or
a success, never a server error (hypothesis generates the bodies)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ConsentGrant, Identity

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=60),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)


def _body(fields: list[str]):
    """Objects that mostly use the real field names, with values of any JSON type."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_values)) | json_values


def _assert_clean_answer(response) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("code"), str)
        assert body["code"]
        assert isinstance(body.get("message"), str)
        assert body["message"]


@pytest.mark.django_db
@FUZZ
@given(body=_body(["full_name", "id_number"]))
def test_identity_api_never_fails_on_any_body(owner_api, body):
    response = owner_api.post("/api/v1/me/identity/", body, format="json")
    _assert_clean_answer(response)
    if response.status_code != 201:
        assert (
            not Identity.objects.filter(user__username="owner").exists()
            or response.status_code == 409
        )


@pytest.mark.django_db
@FUZZ
@given(body=_body(["purpose", "partner", "scope", "stated_purpose", "expires_at"]))
def test_consent_api_never_fails_on_any_body(owner_api, body):
    before = ConsentGrant.objects.count()
    response = owner_api.post("/api/v1/me/consents/", body, format="json")
    _assert_clean_answer(response)
    if response.status_code >= 400:
        assert ConsentGrant.objects.count() == before


@pytest.mark.django_db
@FUZZ
@given(body=_body(["username", "password"]))
def test_register_and_token_apis_never_fail_on_any_body(api_client, body):
    _assert_clean_answer(api_client.post("/api/v1/auth/register/", body, format="json"))
    _assert_clean_answer(api_client.post("/api/v1/auth/token/", body, format="json"))


@pytest.mark.django_db
@FUZZ
@given(raw=st.binary(max_size=200))
def test_malformed_json_is_a_clean_400(owner_api, raw):
    response = owner_api.generic(
        "POST", "/api/v1/me/consents/", raw, content_type="application/json"
    )
    _assert_clean_answer(response)

"""The OpenAPI schema at /api/schema/ against the app itself: schemathesis generates
requests for every operation and runs them in-process through the WSGI app, checking
that no answer is a server error and that every answer (status, content type, body)
is one the schema describes.

The partner operations are called with a valid API key and, three times in four, with
a real authorisation token, benefit or voucher code in place of a generated one, so
answers that get past the lookups are checked too; the user operations with a knox token
of a verified, scored user. Schemathesis's negative cases (the key left out, bodies and
parameters that break the schema) run alongside; bounded to 25 generated examples per
operation (plus its examples and coverage phases), derandomised so runs repeat."""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from benefits.models import Partner, Voucher
from benefits.services import voucher_claim
from benefits.services.erasure import erasure_request_create
from benefits.services.partner_calls import partner_score
from scoring import selectors as scoring_selectors
from sesame_portal.wsgi import application
from tests.dates import in_days
from tests.factories import (
    authorize,
    grant_scoring,
    make_api_key,
    make_benefit,
    make_partner,
    set_score,
    store_model,
    verify,
)

# Loaded through the app, the way a client reads it.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
partner_operations = schema.include(path_regex=r"^/api/v1/partner/")
user_operations = schema.exclude(path_regex=r"^/api/v1/partner/")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def in_process(db):
    """Requests run inside the test's transaction, as Django's test client runs them: a
    bare WSGI call would close the test's connection at each request's start and end."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def active_model(db, trained):
    """A trained, active model, so what-if answers rather than 503 for want of one."""
    scoring_selectors._cache.clear()
    yield store_model(trained)
    scoring_selectors._cache.clear()


def scored_person(username: str, model_version) -> User:
    person = User.objects.create_user(username=username, password="unused-password-42")
    verify(person, full_name="张伟")
    grant_scoring(person)
    set_score(
        person,
        688,
        {"credit_history": 71, "behaviour": 65, "capacity": 58, "identity": 90, "connections": 40},
        model_version=model_version,
    )
    return person


@pytest.fixture
def world(in_process, recompute_calls, settings, active_model):
    """An approved partner with a key (limits high enough not to get in the way), two
    verified, scored people who authorised it (scores with sub-scores; one benefit),
    vouchers valid and expired, a call in the query log, an erasure request, and a user
    API token."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "schemathesis",
        }
    }
    partner = make_partner()
    Partner.objects.filter(pk=partner.pk).update(
        rate_limit_per_minute=1_000_000, daily_quota=1_000_000
    )
    bikes, hotels, reach = (
        make_benefit(partner, 600),
        make_benefit(partner, 620),
        make_benefit(partner, 800),
    )
    person = scored_person("schema-a", active_model)
    neighbour = scored_person("schema-b", active_model)
    _grant, score_token = authorize(person, partner, "score_and_subscores")
    _grant, eligibility_token = authorize(neighbour, partner, "eligibility", benefit=bikes)
    codes = [voucher_claim(user=person, benefit_id=b.pk).code for b in (bikes, hotels)]
    lapsed = voucher_claim(user=neighbour, benefit_id=bikes.pk)
    Voucher.objects.filter(pk=lapsed.pk).update(expires_at=in_days(-1))
    partner_score(partner=partner, api_key=None, token=score_token)  # a row in the query log
    _instance, knox_token = AuthToken.objects.create(user=person)
    erasure, _created = erasure_request_create(user=neighbour, partner_id=partner.pk)
    return {
        "api_key": make_api_key(partner),
        "token": [score_token, eligibility_token],
        "benefit_id": [bikes.pk, reach.pk],
        "code": [*codes, lapsed.code],
        "knox": knox_token,
        "partner_id": [partner.pk],
        "request_id": [erasure.pk],
    }


PARTNER_IDENTIFIERS = ("token", "benefit_id", "code", "request_id")
USER_IDENTIFIERS = ("partner_id",)


def _with_real_identifiers(case, world, names=PARTNER_IDENTIFIERS) -> None:
    """Three cases in four (chosen by a hash of what was generated, so runs repeat) call
    with a real token, benefit or voucher code in place of the generated ones."""
    generated = zlib.crc32(repr(sorted(case.path_parameters.items())).encode())
    if generated % 4 == 0:
        return
    for name in names:
        if name in case.path_parameters:
            choices = world[name]
            case.path_parameters[name] = choices[generated // 4 % len(choices)]


@partner_operations.parametrize()
@BOUNDED
def test_partner_api_conforms_to_its_schema(case, world):
    """Every partner operation, called with a valid key."""
    if case.path_parameters:
        _with_real_identifiers(case, world)

    case.call_and_validate(headers={"Authorization": f"Api-Key {world['api_key']}"}, checks=CHECKS)


@user_operations.parametrize()
@BOUNDED
def test_user_api_conforms_to_its_schema(case, world):
    """Every user operation, called with the knox token of a verified, scored person."""
    if case.path_parameters:
        _with_real_identifiers(case, world, USER_IDENTIFIERS)
    case.call_and_validate(headers={"Authorization": f"Token {world['knox']}"}, checks=CHECKS)

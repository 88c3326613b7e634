"""Benefits fixtures: partners and benefits made the way admins make them, and people with
a verified identity, a scoring consent and a score set by a snapshot row: a snapshot is what
every reader of the score goes by, so no model is trained except for the nightly-run test."""

from __future__ import annotations

import datetime
import itertools
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient
from stdnum.cn import ric

from accounts.clients import Client
from accounts.models import ConsentPurpose, User
from accounts.services import consent_grant, identity_verify
from benefits.models import Benefit, BenefitCategory, Partner
from benefits.services import unlocks_apply
from benefits.services.partner_access import api_key_create, partner_authorize
from scoring.bands import band_of
from scoring.models import ModelVersion, ScoreSnapshot

# The session's trained scorecard, for the one test that runs a real nightly chunk.
from tests.scoring.conftest import trained  # noqa: F401

WEB = Client(channel="web", ip="203.0.113.9", user_agent="pytest-benefits/1.0")
PASSWORD = "unused-password-42"

_sequences = itertools.count(1)


def id_number(region: str = "110105", birth: str = "19880412") -> str:
    """A valid resident ID number, different on every call (the sequence code varies)."""
    sequence = next(_sequences) % 1000 or 1
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def birth_years_ago(years: int, *, days: int = 0) -> str:
    """A birth date (YYYYMMDD) `years` years before today, moved `days` later."""
    today = timezone.localdate()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # today is 29 February
        born = today.replace(year=today.year - years, day=28)
    born += datetime.timedelta(days=days)
    return born.strftime("%Y%m%d")


def in_days(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def make_partner(
    name: str = "绿道单车 GreenLane Bikes",
    *,
    status: str = Partner.Status.APPROVED,
    category: str = "bike_rental",
) -> Partner:
    return Partner.objects.create(
        name=name, category=category, licence_number="MB-2024-0171", status=status
    )


def make_benefit(partner: Partner, min_score: int = 600, **fields) -> Benefit:
    """A published benefit on offer since yesterday, unless told otherwise."""
    values = {
        "title_zh": f"免押金 {min_score}",
        "title_en": f"Deposit-free at {min_score}",
        "terms_zh": "凭券免押金。",
        "terms_en": "No deposit with this voucher.",
        "category": BenefitCategory.BIKE_RENTAL,
        "status": Benefit.Status.PUBLISHED,
        "active_from": in_days(-1),
    }
    values.update(fields)
    return Benefit.objects.create(partner=partner, min_score=min_score, **values)


def make_user(username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD)


def grant_scoring(user: User) -> None:
    consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=WEB)


def verify(user: User, number: str | None = None, full_name: str = "张伟") -> str:
    number = number or id_number()
    identity_verify(user=user, full_name=full_name, id_number=number)
    return number


def set_score(
    user: User,
    score: int,
    dimensions: dict[str, int] | None = None,
    *,
    model_version: ModelVersion,
    at: datetime.datetime | None = None,
) -> ScoreSnapshot:
    return ScoreSnapshot.objects.create(
        user=user,
        score=score,
        band=band_of(score),
        dimensions=dimensions if dimensions is not None else {},
        contributions={},
        reasons=[],
        features={},
        model_version=model_version,
        trigger="test",
        computed_at=at or timezone.now(),
    )


def rescore(
    user: User, score: int, dimensions: dict[str, int] | None = None, *, model_version
) -> tuple[int, int]:
    """What a recompute does after storing a snapshot: store it, then apply unlocks."""
    snapshot = set_score(user, score, dimensions, model_version=model_version)
    return unlocks_apply(scores=[(user.pk, snapshot.score, snapshot.dimensions)])


@pytest.fixture(autouse=True)
def _no_broker(recompute_calls):
    """Granting consent or verifying queues a recompute after commit; in transactional
    tests that would publish to the broker, so publishing is recorded instead."""
    return recompute_calls


@pytest.fixture
def model_version(db) -> ModelVersion:
    """A stored (inactive) version for snapshots to point at; nothing loads it."""
    return ModelVersion.objects.create(
        version="benefits-test-1", kind=ModelVersion.Kind.PORTAL, artifact=b"{}", sha256="0" * 64
    )


@pytest.fixture
def partner(db) -> Partner:
    return make_partner()


@pytest.fixture
def benefit(partner) -> Benefit:
    return make_benefit(partner, 600)


@pytest.fixture
def scored_owner(owner, model_version) -> User:
    """The owner: verified (Beijing, born 1988), consenting, scored 650."""
    verify(owner)
    grant_scoring(owner)
    set_score(owner, 650, {"capacity": 60, "credit_history": 70}, model_version=model_version)
    return owner


# --- The partner API ------------------------------------------------------------------------------

PARTNER_API = "/api/v1/partner"


def make_api_key(partner: Partner, label: str = "") -> str:
    """A new key for the partner, the way the admin makes one; returns the key itself."""
    _key, value = api_key_create(partner=partner, label=label)
    return value


def authorize(
    user: User,
    partner: Partner,
    scope: str = "score",
    *,
    benefit: Benefit | None = None,
    days: float = 30,
    purpose: str = "押金减免 deposit waiver",
    **terms,
):
    """The user authorises the partner (as the consent screen does); returns
    (grant, token). `terms`: identity_check, use_limit, max_queries."""
    return partner_authorize(
        user=user,
        partner=partner,
        scope=scope,
        stated_purpose=purpose,
        expires_at=in_days(days),
        client=WEB,
        benefit=benefit,
        **terms,
    )


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


IDENTITY_CHECK_URL = f"{PARTNER_API}/identity-check/"


def assert_error(response, status: int, code: str) -> dict:
    """A refusal: this status and `{code, message}`, nothing more."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.fixture
def partner_cache(settings):
    """The rate limits count in the cache. Each test counts in a namespace of its own, in
    whichever cache is configured (per-process memory, or Redis with CACHE_URL), so the
    counts of earlier tests, of a partner id reused after a rollback or of another xdist
    worker sharing the Redis database never leak in; nothing is flushed, which would
    disturb a test running beside it on the same Redis."""
    namespace = f"test-{uuid.uuid4().hex}"
    default = dict(settings.CACHES["default"])
    if default["BACKEND"].endswith("LocMemCache"):
        default["LOCATION"] = namespace
    default["KEY_PREFIX"] = namespace
    settings.CACHES = {**settings.CACHES, "default": default}
    yield cache
    if default["BACKEND"].endswith("LocMemCache"):
        cache.clear()  # this test's own store only
    # Redis keys of the namespace expire by themselves (two days at most).


@pytest.fixture
def api_key(partner) -> str:
    return make_api_key(partner, "primary")


@pytest.fixture
def partner_api(api_key, partner_cache) -> APIClient:
    return partner_client(api_key)

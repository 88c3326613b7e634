"""Benefits fixtures: partners and benefits made the way admins make them, and people with
a verified identity, a scoring consent and a score set by a snapshot row: a snapshot is what
every reader of the score goes by, so no model is trained except for the nightly-run test."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone
from stdnum.cn import ric

from accounts.clients import Client
from accounts.models import ConsentPurpose, User
from accounts.services import consent_grant, identity_verify
from benefits.models import Benefit, BenefitCategory, Partner
from benefits.services import unlocks_apply
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

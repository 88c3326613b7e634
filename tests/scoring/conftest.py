"""Scoring fixtures: one small scorecard trained once per session, stored per test, and
helpers that give hand-made users exactly the records a test needs."""

from __future__ import annotations

import copy
import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.clients import Client
from accounts.models import ConsentPurpose, Profile, User
from accounts.services import (
    consent_grant,
    identity_verify,
    profile_update,
    work_email_verify,
)
from scoring import selectors
from scoring.bands import band_of
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    Friendship,
    ModelVersion,
    Repayment,
    ScoreSnapshot,
    UtilityBill,
    WealthHolding,
)
from scoring.services import model_version_create
from scoring.training import TrainingResult, dataset_synthetic, model_train

WEB = Client(channel="web")


# --- Models ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def trained() -> TrainingResult:
    """A champion scorecard trained once per session (about two seconds): large enough
    that every documented effect, even the weak identity ones, earns points."""
    return model_train(dataset_synthetic(users=20000, seed=2026), challenger=False)


@pytest.fixture(scope="session")
def trained_plus_ten(trained) -> TrainingResult:
    """The same scorecard with 10 more base points: a second, distinguishable version."""
    scorecard = copy.deepcopy(trained.scorecard)
    scorecard.base_points += 10
    return TrainingResult(
        scorecard=scorecard, card=dict(trained.card, base_points=scorecard.base_points)
    )


def store_model(result: TrainingResult, *, activate: bool = True) -> ModelVersion:
    return model_version_create(
        result=result,
        kind=ModelVersion.Kind.PORTAL,
        inputs={"columns": result.scorecard.feature_names, "id_column": "id"},
        activate=activate,
    )


@pytest.fixture
def active_model(db, trained) -> ModelVersion:
    return store_model(trained)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Each test starts like a fresh process: nothing loaded yet (ids repeat across tests)."""
    selectors._cache.clear()
    yield
    selectors._cache.clear()


# --- People and their records ------------------------------------------------------------------


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int, *, of: datetime.date | None = None) -> datetime.date:
    return (of or today()) - datetime.timedelta(days=days)


def make_user(username: str) -> User:
    return User.objects.create_user(username=username, password="unused-password-42")


def grant(user: User, *purposes: str) -> None:
    for purpose in purposes or (ConsentPurpose.SCORING,):
        consent_grant(user=user, purpose=purpose, client=WEB)


def add_account(
    user: User,
    kind: str = "consumer_loan",
    *,
    opened_on: datetime.date,
    limit: float = 10000,
    balance: float = 0,
    closed_on: datetime.date | None = None,
) -> CreditAccount:
    return CreditAccount.objects.create(
        user=user,
        kind=kind,
        opened_on=opened_on,
        closed_on=closed_on,
        credit_limit=Decimal(str(limit)),
        balance=Decimal(str(balance)),
    )


def add_repayment(
    account: CreditAccount, *, due: datetime.date, days_overdue: int = 0, paid: bool = True
) -> Repayment:
    return Repayment.objects.create(
        account=account,
        user_id=account.user_id,
        due_date=due,
        amount=Decimal("500.00"),
        days_overdue=days_overdue,
        paid_date=due + datetime.timedelta(days=days_overdue) if paid else None,
    )


def add_activity(
    user: User,
    month: datetime.date,
    *,
    spend: float = 3000,
    transactions: int = 25,
    categories: int = 5,
) -> ActivityMonth:
    return ActivityMonth.objects.create(
        user=user,
        month=month.replace(day=1),
        spend=Decimal(str(spend)),
        transfers_in=Decimal("0"),
        transactions=transactions,
        categories=categories,
    )


def month_starts(count: int, *, of: datetime.date | None = None) -> list[datetime.date]:
    """The first days of this month and the count - 1 months before it."""
    first = (of or today()).replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return months


def add_bill(
    user: User, *, due: datetime.date, paid_on: datetime.date | None, kind: str = "power"
) -> UtilityBill:
    return UtilityBill.objects.create(
        user=user, kind=kind, due_date=due, amount=Decimal("120.00"), paid_date=paid_on
    )


def add_wealth(user: User, amount: float, *, as_of: datetime.date, product="fund"):
    return WealthHolding.objects.create(
        user=user, product=product, amount=Decimal(str(amount)), as_of=as_of
    )


def befriend(user: User, friend: User) -> None:
    """A verified friendship, stored in both directions as the import stores it."""
    Friendship.objects.create(user=user, friend=friend)
    Friendship.objects.create(user=friend, friend=user)


def past_snapshot(
    user: User, score: int, *, model_version: ModelVersion, at: datetime.datetime
) -> ScoreSnapshot:
    return ScoreSnapshot.objects.create(
        user=user,
        score=score,
        band=band_of(score),
        dimensions={},
        contributions={},
        reasons=[],
        features={},
        model_version=model_version,
        trigger="test",
        computed_at=at,
    )


def set_profile(user: User, **values) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.save()
    return profile


def verify_identity(user: User, id_number: str, full_name: str = "张伟") -> None:
    identity_verify(user=user, full_name=full_name, id_number=id_number)


def verify_work_email(user: User, email: str = "wei@example-corp.cn") -> None:
    """The real flow: save the work section, read the mailed code, type it in."""
    profile_update(
        user=user,
        sections={
            "occupation": {"occupation": "employee", "employer": "示例公司", "work_email": email}
        },
    )
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    work_email_verify(user=user, code=code)


def solid_file(user: User, *, of: datetime.date | None = None) -> CreditAccount:
    """An ordinary, mid-range file: some credit, regular activity, a few profile answers."""
    of = of or today()
    card = add_account(
        user, "credit_card", opened_on=days_ago(1500, of=of), limit=20000, balance=9000
    )
    loan = add_account(user, "consumer_loan", opened_on=days_ago(800, of=of), limit=30000)
    for k in range(1, 19):
        add_repayment(loan, due=days_ago(30 * k, of=of))
    for i, month in enumerate(month_starts(6, of=of)):
        add_activity(user, month, spend=2500 + 200 * (i % 3), categories=4)
    set_profile(
        user,
        income_band="5k_8k",
        provident_fund_months=0,
        education_level="senior_high",
        address="示例路1号",
        address_years=4,
    )
    return card

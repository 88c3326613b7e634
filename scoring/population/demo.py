"""Demo data for a local run: a trained model if none is active, a small synthetic
population, and records for the demo people so their scores say something."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import users_consenting_to_scoring
from accounts.services import profile_update
from scoring.ml.features import features_compute
from scoring.ml.health import model_usable
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    ModelVersion,
    Repayment,
    ScoreSnapshot,
    UtilityBill,
    WealthHolding,
)
from scoring.population.generate import population_draw
from scoring.population.store import population_save
from scoring.selectors import feature_inputs_load, model_active
from scoring.services.scores import (
    model_version_train,
    score_recompute,
    scores_compute,
    snapshots_write_and_follow_up,
)

DEMO_POPULATION_SEED = 2026
DEMO_POPULATION_USERS = 300


def demo_model_ensure() -> ModelVersion:
    """Train and activate a portal model when none is active (a fresh machine)."""
    active = model_active()
    if active is not None:
        return active
    return model_version_train(
        users=20_000, seed=DEMO_POPULATION_SEED, challenger=False, activate=True
    )


DEMO_POPULATION_PREFIX = f"pop{DEMO_POPULATION_SEED}"


def demo_population_ensure() -> int:
    if User.objects.filter(username__startswith=f"{DEMO_POPULATION_PREFIX}-").exists():
        return 0
    population = population_draw(users=DEMO_POPULATION_USERS, seed=DEMO_POPULATION_SEED)
    return len(population_save(population, prefix=DEMO_POPULATION_PREFIX))


def demo_population_score() -> int:
    """Score the synthetic people who have no score yet, in one vectorised pass as the
    nightly run does (seconds, not one recompute each), so the admin's "how many would
    qualify" preview counts people rather than showing zeros. Idempotent: people already
    scored are left alone."""
    model = model_usable()
    if model is None:
        return 0
    user_ids = sorted(
        set(
            users_consenting_to_scoring().filter(
                user__username__startswith=f"{DEMO_POPULATION_PREFIX}-"
            )
        )
        - set(
            ScoreSnapshot.objects.filter(
                user__username__startswith=f"{DEMO_POPULATION_PREFIX}-"
            ).values_list("user_id", flat=True)
        )
    )
    if not user_ids:
        return 0
    now = timezone.now()
    day = timezone.localdate(now)
    inputs = feature_inputs_load(user_ids=user_ids, as_of=day, previous_before=now)
    scored = scores_compute(model=model, features=features_compute(inputs, as_of=day))
    return snapshots_write_and_follow_up(
        scored=scored, model_version_id=model.model_version_id, trigger="demo", computed_at=now
    )


@transaction.atomic
def demo_records_load(*, user: User) -> None:
    """A plausible two-account credit file with one late instalment last spring, a card
    used near its limit and little saved: a middling score (high 600s), so the demo shows
    benefits both unlocked and still to reach, and what-if has something to suggest."""
    if CreditAccount.objects.filter(user=user).exists():
        return
    today = timezone.localdate()
    card = CreditAccount.objects.create(
        user=user,
        kind="credit_card",
        opened_on=today - datetime.timedelta(days=5 * 365),
        credit_limit=20000,
        balance=16000,
    )
    loan = CreditAccount.objects.create(
        user=user,
        kind="consumer_loan",
        opened_on=today - datetime.timedelta(days=400),
        credit_limit=30000,
        balance=12000,
    )
    for month in range(1, 25):
        due = today - datetime.timedelta(days=30 * month)
        late = 12 if month == 8 else 0
        for account in (card, loan) if month <= 13 else (card,):
            Repayment.objects.create(
                account=account,
                user=user,
                due_date=due,
                amount=800,
                paid_date=due + datetime.timedelta(days=late),
                days_overdue=late,
            )
    for month in range(12):
        first = (today.replace(day=1) - datetime.timedelta(days=31 * month)).replace(day=1)
        ActivityMonth.objects.get_or_create(
            user=user,
            month=first,
            defaults={
                "spend": 1500 + 2500 * (month % 3),
                "transfers_in": 9000,
                "transactions": 40,
                "categories": 2,
            },
        )
        UtilityBill.objects.create(
            user=user,
            kind="power",
            amount=180,
            due_date=first + datetime.timedelta(days=14),
            paid_date=first + datetime.timedelta(days=10),
        )
    WealthHolding.objects.create(user=user, product="money_market", amount=2000, as_of=today)
    profile_update(
        user=user,
        sections={
            "education": {
                "education_level": "bachelor",
                "school": "北京大学",
                "graduation_year": 2012,
            },
            "income": {"income_band": "8k_12k"},
            "address": {"address": "北京市朝阳区示例路 1 号", "address_years": 4},
        },
    )


def demo_scores_compute(*, users: list[User]) -> int:
    return sum(1 for user in users if score_recompute(user=user, trigger="demo"))

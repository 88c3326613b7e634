"""A person's score outlook for the next months, for the goal planner: what each action
would add (what-if's own function), which verifications would let declared answers
count fully, when each late record leaves the window the model reads it over, and the
expected score by month. Stores nothing.

The expected score is an estimate from the current model: the latest score, plus the
points the active model gives back as late records leave their windows, plus the
actions the person commits to; everything else is held as it is today (no new records,
no new late payments, the same model). Points always come from one place: the
person's features scored by what-if (scoring.services.scores.what_if_scored).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentPurpose, SectionVerification, User
from accounts.profile_sections import SECTION_BY_KEY
from accounts.selectors import consent_allows, profile_get
from scoring.ml.features import (
    BILLS_WINDOW_DAYS,
    MICROLOANS_WINDOW_DAYS,
    REPAYMENTS_WINDOW_DAYS,
    FeatureInputs,
    RawTables,
    facts_of_tables,
    features_compute,
    features_verified_only,
)
from scoring.ml.health import model_usable
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import CreditAccount, Dispute, Repayment, ScoreSnapshot, UtilityBill
from scoring.selectors import feature_inputs_load, record_facts, records_counted, score_latest
from scoring.services.scores import (
    points_of,
    score_what_if,
    what_if_levers_for,
    what_if_scored,
)

# The actions a plan proposes, each with the change it tries in what-if: things a person
# can do. Income, education, provident fund months and years at an address are facts
# about the person, not steps to take, so a plan never proposes them.
PLAN_LEVERS: dict[str, object] = {
    "repay_overdue": True,
    "bills_paid_on_time": True,
    "card_utilisation": 0.3,
    "work_email_verified": True,
    "complete_profile": True,
}
PLAN_MONTHS = 12

# The facts the windows below change; the others stay as they are today.
_WINDOWED_FACTS = (
    "rp_count",
    "rp_on_time_rate",
    "rp_worst_overdue_days",
    "rp_unpaid",
    "rp_days_since_late",
    "ac_new_microloans",
    "bills_on_time_rate",
)


@dataclass(frozen=True)
class LateRecord:
    """A record that lowers the score until it leaves its window."""

    kind: str  # "repayment", "bill" or "microloan"
    on: datetime.date  # due date (opening date for a microloan)
    days_overdue: int | None
    unpaid: bool
    window_months: int
    stops_counting_on: datetime.date


@dataclass(frozen=True)
class LeverStep:
    lever: str
    points: int
    committed: bool


@dataclass(frozen=True)
class VerificationStep:
    section: str
    points: int
    url: str


@dataclass(frozen=True)
class MonthOutlook:
    month: datetime.date
    score: int
    recovered: int  # points given back by records that left their windows by then
    from_levers: int  # points from the committed actions


@dataclass
class Outlook:
    score: int | None  # the latest snapshot's score
    computed_at: datetime.datetime | None
    model_version: str
    today: datetime.date
    levers: list[LeverStep] = field(default_factory=list)
    verifications: list[VerificationStep] = field(default_factory=list)
    late_records: list[LateRecord] = field(default_factory=list)
    months: list[MonthOutlook] = field(default_factory=list)
    available: bool = True  # False: no consent, no model or no score yet


def _late_records(user: User, today: datetime.date, *, bills_count: bool) -> pd.DataFrame:
    """The person's records that the windowed facts read, as frames for facts_of_tables:
    instalments and bills due in their windows, microloans opened in theirs."""
    # What the score counts: records under a dispute past its deadline are left out.
    repayments = pd.DataFrame(
        list(
            records_counted(
                Repayment.objects.filter(
                    user=user,
                    due_date__gt=today - datetime.timedelta(days=REPAYMENTS_WINDOW_DAYS),
                    due_date__lt=today,
                ),
                Dispute.Kind.REPAYMENT,
                [user.pk],
            ).values_list("due_date", "days_overdue", "paid_date")
        ),
        columns=["due_date", "days_overdue", "paid_date"],
    )
    microloans = pd.DataFrame(
        list(
            CreditAccount.objects.filter(
                user=user,
                kind=CreditAccount.Kind.MICROLOAN,
                opened_on__gt=today - datetime.timedelta(days=MICROLOANS_WINDOW_DAYS),
            ).values_list("opened_on", flat=True)
        ),
        columns=["opened_on"],
    )
    bills = pd.DataFrame(
        list(
            records_counted(
                UtilityBill.objects.filter(
                    user=user,
                    due_date__gt=today - datetime.timedelta(days=BILLS_WINDOW_DAYS),
                    due_date__lt=today,
                ),
                Dispute.Kind.BILL,
                [user.pk],
            ).values_list("due_date", "paid_date")
        )
        if bills_count
        else [],
        columns=["due_date", "paid_date"],
    )
    return repayments, microloans, bills


def _windowed_facts(
    user_id: int,
    today: datetime.date,
    at: datetime.date,
    repayments: pd.DataFrame,
    microloans: pd.DataFrame,
    bills: pd.DataFrame,
) -> pd.DataFrame:
    """The windowed facts on day `at` from today's records, late ones that have left
    their window by then taken out (aggregated by facts_of_tables, the features' own
    in-memory aggregation). Read as of today, so instalments not yet due never count;
    the time since the last 30+ day late instalment grows to `at`."""
    repayments = repayments[(repayments["days_overdue"] == 0) | (repayments["stops"] > at)].assign(
        user_id=user_id, paid=lambda f: f["paid_date"].notna()
    )
    microloans = microloans[microloans["stops"] > at]
    bills = bills[(~bills["late"]) | (bills["stops"] > at)].assign(user_id=user_id)

    def empty(**columns: str) -> pd.DataFrame:
        return pd.DataFrame({"user_id": pd.Series(dtype=int)}).assign(
            **{name: pd.Series(dtype=dtype) for name, dtype in columns.items()}
        )

    tables = RawTables(
        people=pd.DataFrame(index=pd.Index([user_id], name="user_id")),
        repayments=repayments[["user_id", "due_date", "days_overdue", "paid"]].astype(
            {"due_date": "datetime64[ns]", "days_overdue": float, "user_id": int}
        ),
        accounts=pd.DataFrame(
            {
                "user_id": [user_id] * len(microloans),
                "kind": [CreditAccount.Kind.MICROLOAN] * len(microloans),
                "opened_on": pd.to_datetime(microloans["opened_on"]),
                "closed_on": pd.NaT,
                "credit_limit": 0.0,
                "balance": 0.0,
            }
        ),
        activity=empty(month="datetime64[ns]", spend=float, transactions=float, categories=float),
        bills=bills[["user_id", "due_date", "paid_date"]].astype(
            {"due_date": "datetime64[ns]", "paid_date": "datetime64[ns]", "user_id": int}
        ),
        wealth=empty(product=object, as_of="datetime64[ns]", amount=float),
        friends=empty(friend_score=float, friend_on_court_list=bool),
    )
    facts = facts_of_tables(tables, as_of=today)[list(_WINDOWED_FACTS)]
    facts["rp_days_since_late"] += (at - today).days
    if not len(microloans):
        facts["ac_new_microloans"] = 0.0
    return facts


def _frames(inputs: FeatureInputs, facts: pd.DataFrame, today: datetime.date):
    inputs = FeatureInputs(people=inputs.people, facts=facts)
    features = features_compute(inputs, as_of=today)
    return features, features_verified_only(inputs, features)


def score_outlook(
    *, user: User, committed: Iterable[str] = (), today: datetime.date | None = None
) -> Outlook:
    """The person's outlook (see the module): a fixed number of queries, whatever the
    number of records or months."""
    today = today or timezone.localdate()
    snapshot: ScoreSnapshot | None = score_latest(user=user)
    model = model_usable()
    outlook = Outlook(
        score=snapshot.score if snapshot else None,
        computed_at=snapshot.computed_at if snapshot else None,
        model_version=model.version if model is not None else "",
        today=today,
    )
    if (
        snapshot is None
        or model is None
        or not consent_allows(user=user, purpose=ConsentPurpose.SCORING)
    ):
        outlook.available = False
        return outlook

    # What to do: what-if's own answer, each action alone, in points.
    applicable = what_if_levers_for(
        facts=record_facts(user=user, today=today), profile=profile_get(user=user)
    )
    proposed = {name: value for name, value in PLAN_LEVERS.items() if name in applicable}
    committed_levers = {name: proposed[name] for name in committed if name in proposed}
    if proposed:
        tried = score_what_if(user=user, changes=proposed)
        outlook.levers = sorted(
            (
                LeverStep(row["lever"], row["points"], row["lever"] in committed_levers)
                for row in tried["levers"]
                if row["points"] > 0
            ),
            key=lambda step: -step.points,
        )

    inputs = feature_inputs_load(user_ids=[user.pk], as_of=today, previous_before=timezone.now())
    bills_count = bool(inputs.people["consent_utility_bills"].iloc[0])
    repayments, microloans, bills = _late_records(user, today, bills_count=bills_count)
    repayments["stops"] = [
        due + datetime.timedelta(days=REPAYMENTS_WINDOW_DAYS) for due in repayments["due_date"]
    ]
    microloans["stops"] = [
        opened + datetime.timedelta(days=MICROLOANS_WINDOW_DAYS)
        for opened in microloans["opened_on"]
    ]
    bills["late"] = [
        paid is None or pd.isna(paid) or paid > due
        for due, paid in zip(bills["due_date"], bills["paid_date"], strict=True)
    ]
    bills["stops"] = [due + datetime.timedelta(days=BILLS_WINDOW_DAYS) for due in bills["due_date"]]
    outlook.late_records = _late_list(repayments, microloans, bills)

    # What to verify: declared answers count within a cap; a verified section counts
    # fully. Each section's worth is its answers scored as verified, by the same points.
    features, verified = _frames(
        inputs, _merged(inputs.facts, repayments, microloans, bills, user.pk, today, today), today
    )
    outlook.verifications = _verification_steps(model, inputs, features, verified, today)

    # The months: the same features as late records leave their windows, scored by
    # what-if with the committed actions.
    first = None
    for month in range(PLAN_MONTHS + 1):
        at = today + relativedelta(months=month)
        frames = _frames(
            inputs, _merged(inputs.facts, repayments, microloans, bills, user.pk, today, at), today
        )
        scored = what_if_scored(
            model=model,
            features=frames[0],
            verified=frames[1],
            changes=committed_levers,
        )
        if first is None:
            first = scored["current"]
        if month == 0:
            continue
        recovered = scored["current"] - first
        from_levers = scored["score"] - scored["current"]
        outlook.months.append(
            MonthOutlook(
                month=at,
                score=int(np.clip(snapshot.score + recovered + from_levers, SCORE_MIN, SCORE_MAX)),
                recovered=recovered,
                from_levers=from_levers,
            )
        )
    return outlook


def _merged(
    facts: pd.DataFrame,
    repayments: pd.DataFrame,
    microloans: pd.DataFrame,
    bills: pd.DataFrame,
    user_id: int,
    today: datetime.date,
    at: datetime.date,
) -> pd.DataFrame:
    merged = facts.copy()
    windowed = _windowed_facts(user_id, today, at, repayments, microloans, bills)
    for name in _WINDOWED_FACTS:
        merged[name] = windowed[name].reindex(merged.index).to_numpy()
    return merged


def _late_list(
    repayments: pd.DataFrame, microloans: pd.DataFrame, bills: pd.DataFrame
) -> list[LateRecord]:
    rows = [
        LateRecord(
            "repayment",
            due,
            int(days),
            paid is None or pd.isna(paid),
            REPAYMENTS_WINDOW_DAYS // 30,
            stops,
        )
        for due, days, paid, stops in repayments[
            ["due_date", "days_overdue", "paid_date", "stops"]
        ].itertuples(index=False)
        if days > 0
    ]
    rows += [
        LateRecord("microloan", opened, None, False, MICROLOANS_WINDOW_DAYS // 30, stops)
        for opened, stops in microloans[["opened_on", "stops"]].itertuples(index=False)
    ]
    rows += [
        LateRecord(
            "bill",
            due,
            None,
            paid is None or pd.isna(paid),
            BILLS_WINDOW_DAYS // 30,
            stops,
        )
        for due, paid, late, stops in bills[["due_date", "paid_date", "late", "stops"]].itertuples(
            index=False
        )
        if late
    ]
    return sorted(rows, key=lambda row: row.stops_counting_on)


def _verification_steps(
    model, inputs: FeatureInputs, features: pd.DataFrame, verified: pd.DataFrame | None, today
) -> list[VerificationStep]:
    if verified is None:
        return []
    declared = inputs.people["declared"].iloc[0]
    card = model.scorecard

    def score_of(verified_frame: pd.DataFrame | None) -> int:
        return int(card.scores(card.total(points_of(card, features, verified_frame)))[0])

    now = score_of(verified)
    steps = []
    for section in SectionVerification.Section.values:
        fields = set(SECTION_BY_KEY[section].fields)
        if not fields & declared:
            continue
        people = inputs.people.copy()
        people["declared"] = [frozenset(declared - fields)]
        as_verified = features_verified_only(
            FeatureInputs(people=people, facts=inputs.facts), features
        )
        points = score_of(as_verified) - now
        if points > 0:
            steps.append(
                VerificationStep(
                    section,
                    points,
                    reverse("accounts:profile_verify", kwargs={"section": section}),
                )
            )
    return sorted(steps, key=lambda step: -step.points)

"""Reads for scoring: the active model (integrity-checked), the raw tables of a set of
users (one query per table, whatever the number of users), and snapshots."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, FieldMark, Identity, Profile, User
from accounts.profile_sections import completion_of_values
from accounts.selectors import consent_allows
from scoring.explain.breakdown import snapshot_breakdown
from scoring.ml.artifacts import LoadedModel, artifact_load
from scoring.ml.features import RawTables
from scoring.models import (
    ActivityMonth,
    CourtListEntry,
    CreditAccount,
    Friendship,
    ModelVersion,
    PendingRecompute,
    RecomputeChunk,
    RecomputeRun,
    Repayment,
    ScoreSnapshot,
    UtilityBill,
    WealthHolding,
)
from sesame_portal.bulk import IN_LIST_MAX, ids_lookup

_cache: dict[tuple[int, str], LoadedModel] = {}
_cache_lock = threading.Lock()

PROFILE_VALUES = [
    f.name
    for f in Profile._meta.get_fields()
    if f.concrete and f.name not in ("id", "user", "field_marks", "updated_at")
]


def _answers_split(profile: dict, marks: dict | None) -> tuple[frozenset[str], dict]:
    """The answered fields not verified (declared), and the profile's values with only
    the verified answers kept. A value with no mark counts as declared."""
    marks = marks or {}
    declared = frozenset(
        name
        for name, value in profile.items()
        if value not in (None, "")
        and name != "work_email_verified_at"
        and (marks.get(name) or {}).get("mark") != FieldMark.VERIFIED
    )
    return declared, {name: None if name in declared else value for name, value in profile.items()}


def model_load(model_version: ModelVersion) -> LoadedModel:
    """Load (once per process) and verify a model version; raises ArtifactIntegrityError."""
    key = (model_version.pk, model_version.sha256)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = artifact_load(
                artifact=bytes(model_version.artifact),
                sha256=model_version.sha256,
                version=model_version.version,
                model_version_id=model_version.pk,
            )
        return _cache[key]


def model_active(*, kind: str = ModelVersion.Kind.PORTAL) -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


def model_last_activated() -> ModelVersion | None:
    """The most recently activated version of any kind (what `score_csv` uses)."""
    return (
        ModelVersion.objects.filter(is_active=True).order_by("-activated_at", "-created_at").first()
    )


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def court_listed_at(id_number_hash: str) -> Exists:
    """Whether the ID number keyed hash at this path of the outer query is on the court
    list: one subquery to annotate any number of rows with (identities, friendships)."""
    return Exists(CourtListEntry.objects.filter(id_number_hash=OuterRef(id_number_hash)))


def is_court_listed(user: User) -> bool:
    return CourtListEntry.objects.filter(
        id_number_hash__in=Identity.objects.filter(user=user).values("id_number_hash")
    ).exists()


def tables_load(
    *, user_ids: list[int], as_of: datetime.date, previous_before: datetime.datetime | None = None
) -> RawTables:
    """The raw rows of these users: a fixed number of queries for any number of users.

    Friends' scores are the latest computed before `previous_before` (the start of the
    current run), so a run never feeds on its own results.
    """
    ids = sorted(set(user_ids))
    wanted = set(ids)
    since_24m = as_of - datetime.timedelta(days=730)
    since_12m = as_of - datetime.timedelta(days=365)

    users = list(
        User.objects.filter(**ids_lookup(ids, "pk"))
        .order_by("pk")  # features come out in user-id order on every database
        .values(
            "pk",
            "identity__id",
            "profile__field_marks",
            *(f"profile__{name}" for name in PROFILE_VALUES),
        )
    )
    people_rows = []
    for row in users:
        if row["pk"] not in wanted:
            continue
        profile = {name: row[f"profile__{name}"] for name in PROFILE_VALUES}
        declared, verified_only = _answers_split(profile, row["profile__field_marks"])
        people_rows.append(
            {
                "user_id": row["pk"],
                "verified": 1.0 if row["identity__id"] else 0.0,
                "education_level": profile["education_level"],
                "work_email_verified": 1.0 if profile["work_email_verified_at"] else 0.0,
                "vehicle_owned": profile["vehicle_owned"],
                "vehicle_value": profile["vehicle_value"],
                "property_owned": profile["property_owned"],
                "property_mortgaged": profile["property_mortgaged"],
                "provident_fund_months": profile["provident_fund_months"],
                "income_band": profile["income_band"],
                "address_years": profile["address_years"],
                "completion": completion_of_values(profile),
                "declared": declared,
                "completion_verified": completion_of_values(verified_only),
            }
        )
    people = pd.DataFrame(
        people_rows,
        columns=[
            "user_id",
            "verified",
            "education_level",
            "work_email_verified",
            "vehicle_owned",
            "vehicle_value",
            "property_owned",
            "property_mortgaged",
            "provident_fund_months",
            "income_band",
            "address_years",
            "completion",
            "declared",
            "completion_verified",
        ],
    ).set_index("user_id")
    for column in ("provident_fund_months", "address_years"):
        people[column] = people[column].astype(float)
    consents = set(
        ConsentGrant.objects.current()
        .filter(
            **ids_lookup(ids),
            purpose__in=[ConsentPurpose.UTILITY_BILLS, ConsentPurpose.SOCIAL_CONNECTIONS],
        )
        .values_list("user_id", "purpose")
    )
    people["consent_utility_bills"] = [
        (uid, ConsentPurpose.UTILITY_BILLS.value) in consents for uid in people.index
    ]
    people["consent_social_connections"] = [
        (uid, ConsentPurpose.SOCIAL_CONNECTIONS.value) in consents for uid in people.index
    ]

    repayments = _frame(
        Repayment.objects.filter(
            **ids_lookup(ids), due_date__gt=since_24m, due_date__lte=as_of
        ).values_list("user_id", "due_date", "days_overdue", "paid_date"),
        ["user_id", "due_date", "days_overdue", "paid_date"],
    )
    repayments["paid"] = repayments["paid_date"].notna()
    accounts = _frame(
        CreditAccount.objects.filter(**ids_lookup(ids)).values_list(
            "user_id", "kind", "opened_on", "closed_on", "credit_limit", "balance"
        ),
        ["user_id", "kind", "opened_on", "closed_on", "credit_limit", "balance"],
    )
    accounts[["credit_limit", "balance"]] = accounts[["credit_limit", "balance"]].astype(float)
    activity = _frame(
        ActivityMonth.objects.filter(**ids_lookup(ids), month__gt=since_12m).values_list(
            "user_id", "month", "spend", "transactions", "categories"
        ),
        ["user_id", "month", "spend", "transactions", "categories"],
    )
    activity["spend"] = activity["spend"].astype(float)
    bills = _frame(
        UtilityBill.objects.filter(**ids_lookup(ids), due_date__gt=since_12m).values_list(
            "user_id", "due_date", "paid_date"
        ),
        ["user_id", "due_date", "paid_date"],
    )
    wealth = _frame(
        WealthHolding.objects.filter(
            **ids_lookup(ids), as_of__gt=as_of - datetime.timedelta(days=92)
        ).values_list("user_id", "product", "as_of", "amount"),
        ["user_id", "product", "as_of", "amount"],
    )
    wealth["amount"] = wealth["amount"].astype(float)
    previous = ScoreSnapshot.objects.filter(user_id=OuterRef("friend_id"))
    if previous_before is not None:
        previous = previous.filter(computed_at__lt=previous_before)
    friends = _frame(
        Friendship.objects.filter(**ids_lookup(ids))
        .annotate(
            friend_score=Subquery(previous.order_by("-computed_at").values("score")[:1]),
            on_list=court_listed_at("friend__identity__id_number_hash"),
        )
        .values_list("user_id", "friend_score", "on_list"),
        ["user_id", "friend_score", "friend_on_court_list"],
    )
    friends["friend_score"] = friends["friend_score"].astype(float)
    friends["friend_on_court_list"] = friends["friend_on_court_list"].astype(float)

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["user_id"].isin(wanted)] if len(ids) > IN_LIST_MAX else frame

    return RawTables(
        people=people,
        repayments=_dates(mine(repayments), "due_date"),
        accounts=_dates(mine(accounts), "opened_on", "closed_on"),
        activity=_dates(mine(activity), "month"),
        bills=_dates(mine(bills), "due_date", "paid_date"),
        wealth=_dates(mine(wealth), "as_of"),
        friends=mine(friends),
    )


# A snapshot names its model version; the artifact and the card (tens of kilobytes each)
# are not read along with every snapshot.
MODEL_VERSION_HEAVY = ("model_version__artifact", "model_version__card")


def score_latest(*, user: User) -> ScoreSnapshot | None:
    return (
        ScoreSnapshot.objects.filter(user=user)
        .select_related("model_version")
        .defer(*MODEL_VERSION_HEAVY)
        .order_by("-computed_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class RecordFacts:
    """What a person's records hold, as far as explaining their score needs: which
    dimensions rest on data of theirs and which what-if levers can move anything."""

    credit_records: bool  # a credit account or an instalment
    open_cards: bool  # an open credit card (its use is a lever)
    overdue_unpaid: bool  # an instalment past its due date and unpaid
    activity: bool  # payment activity in the last 12 months
    bills: bool  # utility bills, counted only with the utility-bills consent
    capacity_answers: bool  # income, property, vehicle or provident fund answered
    wealth: bool
    friends: bool  # verified friends, counted only with the social-connections consent

    @property
    def dimensions_without_data(self) -> frozenset[str]:
        """The dimensions with nothing of the person's behind them: their sub-score is
        the model's typical value, not a measure of the person. Identity always has data
        (a score needs a verified identity)."""
        empty = {
            "credit_history": not self.credit_records,
            "behaviour": not (self.activity or self.bills),
            "capacity": not (self.capacity_answers or self.wealth),
            "connections": not self.friends,
        }
        return frozenset(name for name, is_empty in empty.items() if is_empty)


def overdue_unpaid(*, user: User | OuterRef, today: datetime.date) -> QuerySet[Repayment]:
    """Instalments past their due date and still unpaid."""
    return Repayment.objects.filter(user=user, paid_date__isnull=True, due_date__lt=today)


def record_facts_windows(today: datetime.date) -> dict[str, datetime.date]:
    """The days record facts are read from, each a value of its own (as a prepared
    query takes them): today, and the features' 12-month and 92-day windows."""
    return {
        "today": today,
        "year_ago": today - datetime.timedelta(days=365),
        "quarter_ago": today - datetime.timedelta(days=92),
    }


# What record_facts_of reads besides record_facts_at's annotations.
RECORD_FACTS_PROFILE = (
    "profile__income_band",
    "profile__property_owned",
    "profile__vehicle_owned",
    "profile__provident_fund_months",
)


def record_facts_at(
    *,
    user: OuterRef,
    today: datetime.date,
    year_ago: datetime.date,
    quarter_ago: datetime.date,
    at: datetime.datetime,
) -> dict:
    """What RecordFacts holds, as annotations of a row of users (the user at `user` of
    the outer query), to read with RECORD_FACTS_PROFILE and turn into RecordFacts with
    record_facts_of. Windows: record_facts_windows; `at`: when consents are current."""
    consented = ConsentGrant.objects.current(at).filter(user=user)
    return {
        "has_accounts": Exists(CreditAccount.objects.filter(user=user)),
        "has_repayments": Exists(Repayment.objects.filter(user=user)),
        "has_open_cards": Exists(
            CreditAccount.objects.filter(
                user=user, kind=CreditAccount.Kind.CREDIT_CARD, closed_on__isnull=True
            )
        ),
        "has_overdue": Exists(overdue_unpaid(user=user, today=today)),
        "has_activity": Exists(ActivityMonth.objects.filter(user=user, month__gt=year_ago)),
        "has_bills": Exists(UtilityBill.objects.filter(user=user, due_date__gt=year_ago))
        & Exists(consented.filter(purpose=ConsentPurpose.UTILITY_BILLS)),
        "has_wealth": Exists(WealthHolding.objects.filter(user=user, as_of__gt=quarter_ago)),
        "has_friends": Exists(Friendship.objects.filter(user=user))
        & Exists(consented.filter(purpose=ConsentPurpose.SOCIAL_CONNECTIONS)),
    }


def record_facts_of(row: dict) -> RecordFacts:
    """RecordFacts from a row read with record_facts_at and RECORD_FACTS_PROFILE."""
    return RecordFacts(
        credit_records=bool(row["has_accounts"] or row["has_repayments"]),
        open_cards=bool(row["has_open_cards"]),
        overdue_unpaid=bool(row["has_overdue"]),
        activity=bool(row["has_activity"]),
        bills=bool(row["has_bills"]),
        capacity_answers=bool(row["profile__income_band"])
        or any(
            row[f"profile__{name}"] is not None
            for name in ("property_owned", "vehicle_owned", "provident_fund_months")
        ),
        wealth=bool(row["has_wealth"]),
        friends=bool(row["has_friends"]),
    )


def record_facts(*, user: User, today: datetime.date) -> RecordFacts:
    """One query for what RecordFacts holds, over the windows the features read."""
    facts = record_facts_at(user=OuterRef("pk"), **record_facts_windows(today), at=timezone.now())
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(**facts)
        .values(*facts, *RECORD_FACTS_PROFILE)
        .get()
    )
    return record_facts_of(row)


def score_latest_summary(*, user_id: int) -> ScoreSnapshot | None:
    """The latest score with only its score, band, time and sub-scores: what a partner can
    be shown, without reading the reasons and features stored beside them."""
    return (
        ScoreSnapshot.objects.filter(user_id=user_id)
        .only("score", "band", "computed_at", "dimensions")
        .order_by("-computed_at", "-id")
        .first()
    )


def score_usable(*, user: User) -> ScoreSnapshot | None:
    """The latest score's summary (see above) while the person consents to scoring; None
    otherwise: what eligibility, partners and proofs may go by."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        return None
    return score_latest_summary(user_id=user.pk)


def score_checked_at_at(*, user: OuterRef) -> dict:
    """When a run of everyone last scored the user at `user` of an outer query again, as
    an annotation (`checked_by_run_at`, null if none did). A run writes a snapshot only
    where something changed; its done chunks (ranges of user ids) record whom it checked.
    The two newest runs are enough (the newest may still be going)."""
    newest_runs = RecomputeRun.objects.order_by("-started_at", "-id").values("id")[:2]
    covering = RecomputeChunk.objects.filter(
        run_id__in=Subquery(newest_runs),
        first_user_id__lte=user,
        last_user_id__gte=user,
        done_at__isnull=False,
    ).order_by("-done_at")
    return {"checked_by_run_at": Subquery(covering.values("done_at")[:1])}


def score_checked_of(
    computed_at: datetime.datetime, checked_by_run_at: datetime.datetime | None
) -> datetime.datetime:
    """When the person's latest score (computed at `computed_at`) was last confirmed: its
    own moment, or later, when a run scored them again and found the same."""
    if checked_by_run_at is not None and checked_by_run_at > computed_at:
        return checked_by_run_at
    return computed_at


def score_checked_at(*, user_id: int, snapshot: ScoreSnapshot) -> datetime.datetime:
    """score_checked_of for one person's latest snapshot: one query."""
    checked = (
        User.objects.filter(pk=user_id)
        .annotate(**score_checked_at_at(user=OuterRef("pk")))
        .values_list("checked_by_run_at", flat=True)
        .first()
    )
    return score_checked_of(snapshot.computed_at, checked)


def score_history(*, user: User, limit: int | None = 60) -> QuerySet[ScoreSnapshot]:
    history = (
        ScoreSnapshot.objects.filter(user=user)
        .select_related("model_version")
        .defer(*MODEL_VERSION_HEAVY)
        .order_by("-computed_at", "-id")
    )
    return history if limit is None else history[:limit]


def score_recompute_status(*, user: User) -> str | None:
    """ "computing" while a per-user recompute is queued or running, "failed" once the
    worker gave up on it, None when nothing is waiting."""
    pending = PendingRecompute.objects.filter(user_id=user.pk).values("failed_at").first()
    return recompute_status_of(pending is not None, pending and pending["failed_at"])


def recompute_status_of(pending: bool, failed_at: datetime.datetime | None) -> str | None:
    """score_recompute_status from what score_recompute_status_at reads."""
    if not pending:
        return None
    return "failed" if failed_at else "computing"


def score_recompute_status_at(*, user: OuterRef) -> dict:
    """What score_recompute_status reads, as annotations of a row of users (the user at
    `user` of the outer query): `recompute_pending` and `recompute_failed_at`, for
    recompute_status_of."""
    pending = PendingRecompute.objects.filter(user_id=user).order_by("pk")
    return {
        "recompute_pending": Exists(pending),
        "recompute_failed_at": Subquery(pending.values("failed_at")[:1]),
    }


def score_latest_at(*, user: OuterRef) -> dict:
    """Which snapshot is the latest of the user at `user` of an outer query (the one
    score_latest reads; null before a first score) and how many they have, as
    annotations (`latest_id`, `snapshots`): together they name the latest score and the
    history up to it, even should a snapshot be added with an earlier time or removed."""
    mine = ScoreSnapshot.objects.filter(user_id=user)
    counted = mine.order_by().values("user_id").annotate(n=Count("pk")).values("n")
    return {
        "latest_id": Subquery(mine.order_by("-computed_at", "-id").values("id")[:1]),
        "snapshots": Coalesce(Subquery(counted), 0, output_field=IntegerField()),
    }


def _disputes_export(user: User) -> list[dict]:
    """The person's disputes, each with who opened its evidence (by role: "owner" or
    "staff", never the staff account) and when; two queries."""
    disputes = list(
        user.disputes.order_by("created_at", "id").values(
            "id",
            "kind",
            "record_summary",
            "statement",
            "status",
            "resolution",
            "created_at",
            "due_at",
            "resolved_at",
        )
    )
    openings: dict[int, list[dict]] = {}
    for dispute_id, role, at in (
        user.disputes.filter(evidence_accesses__isnull=False)
        .order_by("evidence_accesses__at", "evidence_accesses__id")
        .values_list("id", "evidence_accesses__role", "evidence_accesses__at")
    ):
        openings.setdefault(dispute_id, []).append({"by": role, "at": at})
    for dispute in disputes:
        dispute["evidence_opened"] = openings.pop(dispute.pop("id"), [])
    return disputes


def _score_exported(snapshot: ScoreSnapshot) -> dict:
    breakdown = snapshot_breakdown(snapshot)
    return {
        "score": snapshot.score,
        "band": snapshot.band,
        "computed_at": snapshot.computed_at,
        "model_version": snapshot.model_version.version,
        "trigger": snapshot.trigger,
        "dimensions": snapshot.dimensions,
        "points_by_feature": breakdown.points,
        "feature_values": breakdown.values,
    }


def score_export(*, user: User) -> dict:
    """scoring's part of "download my data": every score with what it was computed from,
    the disputes, the personal statement and the proofs."""
    return {
        "scores": [_score_exported(s) for s in score_history(user=user, limit=None)],
        "disputes": _disputes_export(user),
        "personal_statement": (
            user.personal_statement.text if hasattr(user, "personal_statement") else None
        ),
        "score_proofs": list(
            user.score_proofs.order_by("created_at", "id").values(
                "shows", "threshold", "show_name", "created_at", "expires_at", "revoked_at"
            )
        ),
    }

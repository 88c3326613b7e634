"""Reads for scoring: the active model (integrity-checked), what the features of a set of
users are computed from (their records aggregated per user by the database, a fixed number
of queries whatever the number of users), and snapshots."""

from __future__ import annotations

import datetime
import functools
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, FieldMark, Identity, Profile, User
from accounts.profile_sections import completion_of_columns
from accounts.selectors import consent_allows
from scoring.explain.breakdown import snapshot_breakdown
from scoring.ml.artifacts import LoadedModel, artifact_load
from scoring.ml.features import (
    ACTIVITY_WINDOW_DAYS,
    BILLS_WINDOW_DAYS,
    DELINQUENT_DAYS,
    FACT_COLUMNS,
    MICROLOANS_WINDOW_DAYS,
    REPAYMENTS_WINDOW_DAYS,
    WEALTH_WINDOW_DAYS,
    FeatureInputs,
)
from scoring.models import (
    ActivityMonth,
    CourtListEntry,
    CreditAccount,
    Dispute,
    Friendship,
    ModelVersion,
    PendingRecompute,
    PersonalStatement,
    RecomputeChunk,
    RecomputeRun,
    Repayment,
    ScoreSnapshot,
    UtilityBill,
    WealthHolding,
)
from scoring.models.disputes import UNCOUNTED
from sesame_portal.bulk import IN_LIST_MAX, ids_lookup

_cache: dict[tuple[int, str], LoadedModel] = {}
_cache_lock = threading.Lock()

PROFILE_VALUES = [
    f.name
    for f in Profile._meta.get_fields()
    if f.concrete and f.name not in ("id", "user", "field_marks", "updated_at")
]
# The answers that carry a mark (declared or verified), which the people rows are built
# from; a verified work email is verified by construction (read as a flag).
MARKABLE = [name for name in PROFILE_VALUES if name != "work_email_verified_at"]


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


def court_listed_at(id_number_hash: str) -> Exists:
    """Whether the ID number keyed hash at this path of the outer query is on the court
    list: one subquery to annotate any number of rows with (identities, friendships)."""
    return Exists(CourtListEntry.objects.filter(id_number_hash=OuterRef(id_number_hash)))


def is_court_listed(user: User) -> bool:
    return CourtListEntry.objects.filter(
        id_number_hash__in=Identity.objects.filter(user=user).values("id_number_hash")
    ).exists()


@functools.cache
def _people_query() -> QuerySet:
    """The people rows' query without its ids (annotating it resolves the relations of
    its columns: done once a process)."""
    marks = {
        f"mark_{name}": KeyTextTransform("mark", KeyTransform(name, "profile__field_marks"))
        for name in MARKABLE
    }
    email_verified = ExpressionWrapper(
        Q(profile__work_email_verified_at__isnull=False), output_field=BooleanField()
    )
    return (
        User.objects.order_by("pk")  # features come out in user-id order on every database
        .annotate(email_verified=email_verified, **marks)
        .values_list(
            "pk",
            "identity__id",
            *(f"profile__{name}" for name in MARKABLE),
            "email_verified",
            *marks,
        )
    )


def _people_load(ids: list[int]) -> pd.DataFrame:
    """FeatureInputs.people of these users, in user-id order: two queries, one narrow row
    each; each profile field's mark is read out of the JSON by the database."""
    rows = _people_query().filter(**ids_lookup(ids, "pk"))
    table = np.array(list(rows), dtype=object).reshape(-1, 3 + 2 * len(MARKABLE))
    consents = np.array(
        list(
            ConsentGrant.objects.current()
            .filter(
                **ids_lookup(ids),
                purpose__in=[ConsentPurpose.UTILITY_BILLS, ConsentPurpose.SOCIAL_CONNECTIONS],
            )
            .values_list("user_id", "purpose")
        ),
        dtype=object,
    ).reshape(-1, 2)
    user_ids = table[:, 0].astype(np.int64)
    if len(ids) > IN_LIST_MAX:  # a range was read: keep the ids asked for (sorted)
        wanted = np.asarray(ids, dtype=np.int64)
        at = np.searchsorted(wanted, user_ids).clip(max=len(wanted) - 1)
        mine = wanted[at] == user_ids
        table, user_ids = table[mine], user_ids[mine]
    values = {name: table[:, 2 + i] for i, name in enumerate(MARKABLE)}
    email_verified = table[:, 2 + len(MARKABLE)].astype(float)
    first_mark = 3 + len(MARKABLE)
    # Answered and not verified: declared (a value with no mark counts as declared).
    declared = np.column_stack(
        [
            (values[name] != None)  # noqa: E711 - elementwise
            & (values[name] != "")
            & (table[:, first_mark + i] != FieldMark.VERIFIED.value)
            for i, name in enumerate(MARKABLE)
        ]
    ).reshape(len(table), len(MARKABLE))
    verified_only = {
        name: np.where(declared[:, i], None, values[name]) for i, name in enumerate(MARKABLE)
    }
    # Each person's declared fields as a frozenset, built once per distinct pattern.
    codes = declared.astype(np.int64) @ (1 << np.arange(len(MARKABLE), dtype=np.int64))
    sets = {
        code: frozenset(name for i, name in enumerate(MARKABLE) if code >> i & 1)
        for code in np.unique(codes).tolist()
    }
    people = pd.DataFrame(
        {
            "verified": (table[:, 1] != None).astype(float),  # noqa: E711
            "education_level": values["education_level"],
            "work_email_verified": email_verified,
            "vehicle_owned": values["vehicle_owned"],
            "vehicle_value": values["vehicle_value"],
            "property_owned": values["property_owned"],
            "property_mortgaged": values["property_mortgaged"],
            "provident_fund_months": _float(values["provident_fund_months"]),
            "income_band": values["income_band"],
            "address_years": _float(values["address_years"]),
            "completion": completion_of_columns(values),
            "declared": pd.Series(codes).map(sets).to_numpy(),
            "completion_verified": completion_of_columns(verified_only),
            "consent_utility_bills": np.isin(
                user_ids,
                consents[consents[:, 1] == ConsentPurpose.UTILITY_BILLS, 0].astype(np.int64),
            ),
            "consent_social_connections": np.isin(
                user_ids,
                consents[consents[:, 1] == ConsentPurpose.SOCIAL_CONNECTIONS, 0].astype(np.int64),
            ),
        },
        index=pd.Index(user_ids, name="user_id"),
    )
    return people


def _float(column: np.ndarray) -> np.ndarray:
    """A column of numbers or None (NULL) as floats, NaN for None."""
    return np.array([np.nan if value is None else value for value in column], dtype=float)


def _days_before(as_of: datetime.date, column: np.ndarray) -> np.ndarray:
    """Days from each date (None: NaN) to `as_of`."""
    dates = np.array(column, dtype="datetime64[D]")
    return (np.datetime64(as_of, "D") - dates) / np.timedelta64(1, "D")


def _grouped(queryset: QuerySet, columns: dict) -> tuple[np.ndarray, np.ndarray]:
    """One row per user of these aggregates, fetched as plain tuples (numbers and dates,
    no per-row conversion): (user ids, the aggregates as an object table, one column
    each in the order of `columns`)."""
    query = (
        queryset.order_by().values("user_id").annotate(**columns).values_list("user_id", *columns)
    )
    # The SQL's columns come in this order (the grouping field, then the aggregates).
    assert [*query.query.values_select, *query.query.annotation_select] == ["user_id", *columns]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    table = np.array(rows, dtype=object).reshape(-1, 1 + len(columns))
    return table[:, 0].astype(np.int64), table[:, 1:]


def records_counted(records: QuerySet, kind: str, ids: list[int]) -> QuerySet:
    """These repayments or bills of these users less those under a dispute that passed
    its deadline unanswered (UNCOUNTED). NOT IN a small subquery: PostgreSQL runs it once
    and probes a hash of its ids (a "hashed SubPlan"), whatever its row estimates say,
    where a NOT EXISTS could be planned as a nested loop over every record; the
    subquery reads only the chunk's range of the partial index that holds just them."""
    uncounted = Dispute.objects.filter(
        UNCOUNTED, **ids_lookup(ids), kind=kind, record_id__isnull=False
    ).values("record_id")
    return records.exclude(pk__in=uncounted)


def _facts_load(
    ids: list[int], *, as_of: datetime.date, previous_before: datetime.datetime | None
) -> pd.DataFrame:
    """FACT_COLUMNS of these users (sorted ids), aggregated per user by the database: one
    query per source, one row per user, whatever the number of records (see
    scoring.ml.features for what each fact is)."""
    wanted = np.asarray(ids, dtype=np.int64)
    facts = np.full((len(wanted), len(FACT_COLUMNS)), np.nan)
    position = {name: i for i, name in enumerate(FACT_COLUMNS)}

    def put(user_ids: np.ndarray, **columns: np.ndarray) -> None:
        at = np.searchsorted(wanted, user_ids).clip(max=max(len(wanted) - 1, 0))
        mine = wanted[at] == user_ids if len(wanted) else np.zeros(len(user_ids), bool)
        for name, column in columns.items():
            facts[at[mine], position[name]] = np.asarray(column, dtype=float)[mine]

    def days(n: int) -> datetime.date:
        return as_of - datetime.timedelta(days=n)

    user_ids, rp = _grouped(
        records_counted(
            Repayment.objects.filter(
                **ids_lookup(ids), due_date__gt=days(REPAYMENTS_WINDOW_DAYS), due_date__lt=as_of
            ),
            Dispute.Kind.REPAYMENT,
            ids,
        ),
        {
            "n": Count("pk"),
            "on_time": Count("pk", filter=Q(days_overdue=0)),
            "worst": Max("days_overdue"),
            "unpaid": Count("pk", filter=Q(paid_date__isnull=True)),
            "last_late": Max("due_date", filter=Q(days_overdue__gte=DELINQUENT_DAYS)),
        },
    )
    count = rp[:, 0].astype(float)
    put(
        user_ids,
        rp_count=count,
        rp_on_time_rate=rp[:, 1].astype(float) / count,
        rp_worst_overdue_days=rp[:, 2].astype(float),
        rp_unpaid=rp[:, 3].astype(float),
        rp_days_since_late=_days_before(as_of, rp[:, 4]),
    )

    open_card = Q(kind=CreditAccount.Kind.CREDIT_CARD, closed_on__isnull=True)
    user_ids, ac = _grouped(
        CreditAccount.objects.filter(**ids_lookup(ids)),
        {
            "n": Count("pk"),
            "oldest": Min("opened_on"),
            "balance": Sum(Cast("balance", FloatField()), filter=open_card),
            "limit": Sum(Cast("credit_limit", FloatField()), filter=open_card),
            "micro": Count(
                "pk",
                filter=Q(
                    kind=CreditAccount.Kind.MICROLOAN, opened_on__gt=days(MICROLOANS_WINDOW_DAYS)
                ),
            ),
        },
    )
    put(
        user_ids,
        ac_count=ac[:, 0].astype(float),
        ac_oldest_days=_days_before(as_of, ac[:, 1]),
        card_balance=_float(ac[:, 2]),
        card_limit=_float(ac[:, 3]),
        ac_new_microloans=ac[:, 4].astype(float),
    )

    # The spread of spending from whole cents (and squared cents): integers, exact in
    # PostgreSQL's numeric sums (in a double elsewhere, to about ¥100,000 a month), so
    # the variance is computed from exact integers with one rounding.
    user_ids, act = _grouped(
        ActivityMonth.objects.filter(
            **ids_lookup(ids),
            month__gt=days(ACTIVITY_WINDOW_DAYS),
            month__lte=as_of,
            transactions__gt=0,
        ),
        {
            "n": Count("pk"),
            "total": Sum("spend"),
            "squares": Sum(F("spend") * F("spend")),
            "categories": Sum("categories"),
        },
    )
    n = act[:, 0].astype(np.int64)
    total = np.array([round(value * 100) for value in act[:, 1]], dtype=object)
    squares = np.array([round(value * 10_000) for value in act[:, 2]], dtype=object)
    spread = (n * squares - total * total).astype(float)  # exact integers, then one rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = spread / (n * (n - 1)).astype(float) / 10_000.0
    put(
        user_ids,
        act_months=n.astype(float),
        act_spend_mean=total.astype(float) / n / 100.0,
        act_spend_std=np.sqrt(variance),
        act_categories_mean=act[:, 3].astype(float) / n,
    )

    user_ids, bills = _grouped(
        records_counted(
            UtilityBill.objects.filter(
                **ids_lookup(ids), due_date__gt=days(BILLS_WINDOW_DAYS), due_date__lt=as_of
            ),
            Dispute.Kind.BILL,
            ids,
        ),
        {
            "n": Count("pk"),
            "on_time": Count("pk", filter=Q(paid_date__isnull=False, paid_date__lte=F("due_date"))),
        },
    )
    put(user_ids, bills_on_time_rate=bills[:, 1].astype(float) / bills[:, 0].astype(float))

    # Providers report holdings by statement date: each product's latest only.
    newer = WealthHolding.objects.filter(
        # The range too: the planner then hashes this chunk's holdings, not all of them.
        **ids_lookup(ids),
        user_id=OuterRef("user_id"),
        product=OuterRef("product"),
        as_of__gt=OuterRef("as_of"),
    )
    user_ids, wealth = _grouped(
        WealthHolding.objects.filter(
            ~Exists(newer), **ids_lookup(ids), as_of__gt=days(WEALTH_WINDOW_DAYS)
        ),
        {"total": Sum(Cast("amount", FloatField()))},
    )
    put(user_ids, wealth_total=_float(wealth[:, 0]))

    # Each friend's latest score before the run and court listing: one probe each into
    # the (user, computed_at) index and the identity's, never a scan of either table.
    # Their current snapshot, unless this run wrote it: then (rarely) the history's last.
    friend = OuterRef("friend_id")
    previous = snapshots_latest_first(friend)
    if previous_before is not None:
        previous = previous.filter(computed_at__lt=previous_before)
        earlier = ScoreSnapshot.objects.filter(
            user_id=friend, current=False, computed_at__lt=previous_before
        ).order_by("-computed_at", "-id")
        previous_score = Coalesce(
            Subquery(previous.values("score")[:1]), Subquery(earlier.values("score")[:1])
        )
    else:
        previous_score = Subquery(previous.values("score")[:1])
    listed = CourtListEntry.objects.filter(
        id_number_hash=Subquery(
            Identity.objects.filter(user_id=OuterRef(OuterRef("friend_id"))).values(
                "id_number_hash"
            )[:1]
        )
    )
    user_ids, friends = _grouped(
        Friendship.objects.filter(**ids_lookup(ids)),
        {
            "n": Count("pk"),
            # A double's mean of whole numbers: their exact sum over their count.
            "score_mean": Avg(Cast(previous_score, FloatField())),
            "listed": Count("pk", filter=Exists(listed)),
        },
    )
    count = friends[:, 0].astype(float)
    put(
        user_ids,
        fr_count=count,
        fr_score_mean=_float(friends[:, 1]),
        fr_court_share=friends[:, 2].astype(float) / count,
    )
    return pd.DataFrame(facts, index=pd.Index(wanted, name="user_id"), columns=list(FACT_COLUMNS))


def feature_inputs_load(
    *, user_ids: list[int], as_of: datetime.date, previous_before: datetime.datetime | None = None
) -> FeatureInputs:
    """What the features of these users are computed from: their people rows and their
    records aggregated per user by the database, a fixed number of queries for any number
    of users; the nightly chunk and a single user's recompute both read this. A repayment
    or bill under a dispute that passed its deadline unanswered is left out until the
    dispute is answered (UNCOUNTED, scoring.services.dispute_notices).

    Friends' scores are the latest computed before `previous_before` (the start of the
    current run), so a run never feeds on its own results.
    """
    ids = sorted(set(user_ids))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These are index range scans and probes: PostgreSQL's JIT, which the probes'
            # estimated cost sets off, spent more compiling (35-150 ms) than it saved.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        people = _people_load(ids)
        facts = _facts_load(list(people.index), as_of=as_of, previous_before=previous_before)
    return FeatureInputs(people=people, facts=facts)


# A snapshot names its model version; the artifact and the card (tens of kilobytes each)
# are not read along with every snapshot.
MODEL_VERSION_HEAVY = ("model_version__artifact", "model_version__card")


def snapshots_latest_first(user: User | int | OuterRef) -> QuerySet[ScoreSnapshot]:
    """The user's snapshots that may be their latest, latest first (by computed_at, then
    id): the first is their score. Every reader of a latest score starts here. Only
    current snapshots (scoring.services.snapshot_history): on PostgreSQL one partition,
    however long the history."""
    return ScoreSnapshot.objects.filter(user_id=user, current=True).order_by("-computed_at", "-id")


def score_latest(*, user: User) -> ScoreSnapshot | None:
    return (
        snapshots_latest_first(user.pk)
        .select_related("model_version")
        .defer(*MODEL_VERSION_HEAVY)
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
        snapshots_latest_first(user_id).only("score", "band", "computed_at", "dimensions").first()
    )


def score_usable(*, user: User) -> ScoreSnapshot | None:
    """The latest score's summary (see above) while the person consents to scoring; None
    otherwise: what eligibility, partners and proofs may go by."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        return None
    return score_latest_summary(user_id=user.pk)


def personal_statement_text(*, user: User) -> str | None:
    """The person's personal statement (本人声明); None if they have not written one."""
    return personal_statement_of(user_id=user.pk).values_list("text", flat=True).first()


def personal_statement_of(*, user_id) -> QuerySet[PersonalStatement]:
    """The personal statement of `user_id` (an id, or an OuterRef in an annotation)."""
    return PersonalStatement.objects.filter(user_id=user_id)


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
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(**score_recompute_status_at(user=OuterRef("pk")))
        .values("recompute_pending", "recompute_failed_at")
        .first()
    )
    if row is None:
        return None
    return recompute_status_of(row["recompute_pending"], row["recompute_failed_at"])


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
        "latest_id": Subquery(snapshots_latest_first(user).values("id")[:1]),
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
            "overdue_at",
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
                "shows",
                "threshold",
                "show_name",
                "show_statement",
                "origin",
                "created_at",
                "expires_at",
                "revoked_at",
            )
        ),
    }

"""Saving a synthetic population into the database as real portal users with records,
so the portal, the nightly run and the tests have people to score.

About 50 rows a person (repayments, activity months, bills, ...): they are written as
plain tuples built column by column from the drawn frames, streamed with COPY on
PostgreSQL (sesame_portal.bulk.copy_insert; bulk_create elsewhere). Model instances and
the ORM's per-field preparation cost far more than the database does at that volume.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from stdnum.cn import ric

from accounts.crypto import birth_date_encrypt, encrypt_text, keyed_hash
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    FieldMark,
    Identity,
    Profile,
    User,
)
from accounts.resident_id import mask_id_number
from accounts.selectors import consent_texts_current
from scoring.models import (
    ActivityMonth,
    CourtListEntry,
    CreditAccount,
    Friendship,
    Repayment,
    SyntheticOutcome,
    UtilityBill,
    WealthHolding,
)
from scoring.population.generate import REGIONS, Population
from sesame_portal.bulk import copy_insert

BATCH = 5000
# Rows handed to copy_insert at once: bounds the memory of the tuples of one table.
COPY_BATCH = 100_000
# Existing identity hashes are looked up this many at a time.
LOOKUP_BATCH = 500
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _none(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    return value


def _id_number(rng, region: str, birth: datetime.date, male: bool) -> str:
    sequence = int(rng.integers(0, 500)) * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


# --- writing rows ----------------------------------------------------------------------


def _defaults(model: type[Model], columns: Sequence[str], now: datetime.datetime) -> dict:
    """The columns of `model` not given, with the value a new instance would have."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in columns:
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        values[field.column] = now if auto else field.get_default()
    return values


def _write(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[tuple],
    *,
    now: datetime.datetime,
    json_columns: frozenset[str] = frozenset(),
    ignore_conflicts: bool = False,
) -> None:
    """Insert rows given as tuples in the order of `columns` (the model's column names);
    the other columns get their defaults. COPY on PostgreSQL, in batches."""
    rest = _defaults(model, columns, now)
    names = (*columns, *rest)
    tail = tuple(rest.values())
    rows = iter(rows)
    while batch := list(itertools.islice(rows, COPY_BATCH)):
        copy_insert(
            model,
            names,
            [row + tail for row in batch] if tail else batch,
            json_columns=json_columns,
            ignore_conflicts=ignore_conflicts,
        )


def _write_returning_ids(
    model: type[Model], columns: Sequence[str], rows: list[tuple], *, now: datetime.datetime
) -> list[int]:
    """Insert rows and return their primary keys, in order. On PostgreSQL the ids are
    taken from the table's sequence first and written with the rows (COPY returns
    nothing); elsewhere bulk_create returns them."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        rest = _defaults(model, columns, now)
        instances = [model(**dict(zip(columns, row, strict=True)), **rest) for row in rows]
        model.objects.bulk_create(instances, batch_size=BATCH)
        return [instance.pk for instance in instances]
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk, len(rows)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    _write(
        model,
        (pk, *columns),
        ((pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)),
        now=now,
    )
    return ids


# --- columns of the drawn frames as Python values -------------------------------------


def _dates(values: pd.Series) -> list[datetime.date | None]:
    """datetime64 values as dates (NaT as None)."""
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]").astype(object).tolist()


def _money(values: pd.Series) -> list[float]:
    return [round(value, 2) for value in values.to_numpy(dtype=float).tolist()]


def _ints(values: pd.Series) -> list[int]:
    return values.to_numpy(dtype=np.int64).tolist()


def _strings(values: pd.Series) -> list[str]:
    return [str(value) for value in values.tolist()]


def _users_of(population_ids: pd.Series, positions: pd.Index, user_ids: np.ndarray) -> list[int]:
    """The user id of each population id (every one must be a saved person)."""
    at = positions.get_indexer(population_ids.to_numpy())
    if (at < 0).any():
        missing = population_ids.to_numpy()[at < 0][0]
        raise KeyError(missing)
    return user_ids[at].tolist()


# --- the population --------------------------------------------------------------------


@transaction.atomic
def population_save(population: Population, *, prefix: str | None = None) -> dict[int, int]:
    """Create one portal user per person; return {population id: user id}."""
    rng = np.random.default_rng(population.seed + 1)
    prefix = prefix or f"pop{population.seed}"
    now = timezone.now()
    traits, people, profiles = population.traits, population.tables.people, population.profiles
    positions = traits.index
    position_list = positions.to_list()

    # One unusable password for everyone, made once.
    unusable = make_password(None)
    user_ids = _write_returning_ids(
        User,
        ("username", "password", "date_joined"),
        [(f"{prefix}-{pos:07d}", unusable, now) for pos in position_list],
        now=now,
    )
    to_user = dict(zip(position_list, user_ids, strict=True))
    user_array = np.asarray(user_ids, dtype=np.int64)

    _identities_save(population, rng, to_user, now)
    _profiles_save(profiles, to_user, now)

    texts = consent_texts_current()
    bills_wanted = people["consent_utility_bills"].reindex(positions).to_numpy(dtype=bool)
    social_wanted = people["consent_social_connections"].reindex(positions).to_numpy(dtype=bool)
    grants = []
    for pos, bills, social in zip(position_list, bills_wanted, social_wanted, strict=True):
        user_id = to_user[pos]
        grants.append((user_id, ConsentPurpose.SCORING))
        if bills:
            grants.append((user_id, ConsentPurpose.UTILITY_BILLS))
        if social:
            grants.append((user_id, ConsentPurpose.SOCIAL_CONNECTIONS))
    text_of = {purpose: text.pk for purpose, text in texts.items()}
    api = str(ConsentGrant.Channel.API.value)
    _write(
        ConsentGrant,
        ("user_id", "purpose", "text_id", "granted_at", "channel"),
        ((user_id, str(p.value), text_of[p], now, api) for user_id, p in grants),
        now=now,
    )

    tables = population.tables
    accounts = tables.accounts
    account_users = _users_of(accounts["user_id"], positions, user_array)
    account_ids = _write_returning_ids(
        CreditAccount,
        ("user_id", "kind", "opened_on", "closed_on", "credit_limit", "balance"),
        list(
            zip(
                account_users,
                _strings(accounts["kind"]),
                _dates(accounts["opened_on"]),
                _dates(accounts["closed_on"]),
                _money(accounts["credit_limit"]),
                _money(accounts["balance"]),
                strict=True,
            )
        ),
        now=now,
    )

    repayments = tables.repayments
    at = repayments["account"].to_numpy(dtype=np.int64)
    due = pd.to_datetime(repayments["due_date"]).to_numpy(dtype="datetime64[D]")
    late = repayments["days_overdue"].to_numpy(dtype=np.int64)
    paid = np.where(
        repayments["paid"].to_numpy(dtype=bool),
        due + late.astype("timedelta64[D]"),
        np.datetime64("NaT", "D"),
    )
    _write(
        Repayment,
        ("account_id", "user_id", "due_date", "amount", "days_overdue", "paid_date"),
        zip(
            np.asarray(account_ids, dtype=np.int64)[at].tolist(),
            np.asarray(account_users, dtype=np.int64)[at].tolist(),
            due.astype(object).tolist(),
            _money(repayments["amount"]),
            late.tolist(),
            paid.astype(object).tolist(),
            strict=True,
        ),
        now=now,
    )

    activity = tables.activity
    _write(
        ActivityMonth,
        ("user_id", "month", "spend", "transfers_in", "transactions", "categories"),
        zip(
            _users_of(activity["user_id"], positions, user_array),
            _dates(activity["month"]),
            _money(activity["spend"]),
            _money(activity["transfers_in"]),
            _ints(activity["transactions"]),
            _ints(activity["categories"]),
            strict=True,
        ),
        now=now,
    )
    bills = tables.bills
    _write(
        UtilityBill,
        ("user_id", "kind", "due_date", "amount", "paid_date"),
        zip(
            _users_of(bills["user_id"], positions, user_array),
            _strings(bills["kind"]),
            _dates(bills["due_date"]),
            _money(bills["amount"]),
            _dates(bills["paid_date"]),
            strict=True,
        ),
        now=now,
    )
    wealth = tables.wealth
    _write(
        WealthHolding,
        ("user_id", "product", "amount", "as_of"),
        zip(
            _users_of(wealth["user_id"], positions, user_array),
            _strings(wealth["product"]),
            _money(wealth["amount"]),
            _dates(wealth["as_of"]),
            strict=True,
        ),
        now=now,
    )
    friends = tables.friends
    _write(
        Friendship,
        ("user_id", "friend_id", "verified_at"),
        zip(
            _users_of(friends["user_id"], positions, user_array),
            _users_of(friends["friend"], positions, user_array),
            itertools.repeat(now),
        ),
        now=now,
        ignore_conflicts=True,
    )
    _write(
        SyntheticOutcome,
        ("user_id", "seed", "p_default", "defaulted"),
        zip(
            user_ids,
            itertools.repeat(int(population.seed)),
            np.asarray(population.p_default, dtype=float).tolist(),
            np.asarray(population.defaulted, dtype=bool).tolist(),
        ),
        now=now,
    )
    return to_user


def _identities_save(
    population: Population, rng: np.random.Generator, to_user: dict[int, int], now
) -> None:
    """Verified people get an identity with a valid resident ID number (one per number:
    a number drawn twice, or already in the database, is skipped); those the draw put on
    the court list are listed. The numbers are drawn in the order of the people, so a
    seed gives the same identities whatever is already saved."""
    traits, people = population.traits, population.tables.people
    positions = traits.index
    verified = people["verified"].reindex(positions).to_numpy()
    ages = traits["age"].to_numpy(dtype=np.int64).tolist()
    genders = _strings(traits["gender"])
    listed = traits["court_listed"].to_numpy(dtype=bool).tolist()
    year = population.as_of.year
    drawn = []
    for i, pos in enumerate(positions.to_list()):
        if not verified[i]:
            continue
        birth = datetime.date(
            year - ages[i] - 1, int(rng.integers(1, 13)), int(rng.integers(1, 29))
        )
        number = _id_number(rng, REGIONS[pos % len(REGIONS)], birth, genders[i] == "M")
        drawn.append((i, pos, birth, number, keyed_hash(number)))

    digests = sorted({digest for *_rest, digest in drawn})
    taken = set()
    for start in range(0, len(digests), LOOKUP_BATCH):
        taken.update(
            Identity.objects.filter(
                id_number_hash__in=digests[start : start + LOOKUP_BATCH]
            ).values_list("id_number_hash", flat=True)
        )
    rows, court = [], []
    for i, pos, birth, number, digest in drawn:
        if digest in taken:
            continue
        taken.add(digest)
        name = SURNAMES[pos % len(SURNAMES)] + GIVEN[(pos * 7) % len(GIVEN)]
        rows.append(
            (
                to_user[pos],
                encrypt_text(name),
                encrypt_text(number),
                digest,
                mask_id_number(number),
                birth_date_encrypt(birth),
                genders[i],
                number[:6],
                "",
                now,
            )
        )
        if listed[i]:
            court.append(CourtListEntry(id_number_hash=digest))
    _write(
        Identity,
        (
            "user_id",
            "full_name_encrypted",
            "id_number_encrypted",
            "id_number_hash",
            "id_number_masked",
            "birth_date_encrypted",
            "gender",
            "region_code",
            "region_name",
            "verified_at",
        ),
        rows,
        now=now,
    )
    CourtListEntry.objects.bulk_create(court, batch_size=BATCH, ignore_conflicts=True)


_INTEGERS = ("graduation_year", "provident_fund_months", "address_years")


def _profiles_save(profiles: pd.DataFrame, to_user: dict[int, int], now) -> None:
    """One profile a person, every answered field marked self-declared (a verified work
    email marked verified)."""
    names = [name for name in profiles.columns if name != "work_email_verified"]
    self_declared = {"mark": str(FieldMark.SELF_DECLARED.value), "at": now.isoformat()}
    verified_mark = {"mark": str(FieldMark.VERIFIED.value), "at": now.isoformat()}
    columns = [profiles[name].tolist() for name in names]
    emails = profiles["work_email_verified"].tolist()
    rows = []
    for pos, email, *row in zip(profiles.index.to_list(), emails, *columns, strict=True):
        values = {}
        for name, value in zip(names, row, strict=True):
            value = _none(value)
            if value is None and name in _TEXT:
                value = ""
            values[name] = value
        for name in _INTEGERS:
            values[name] = None if values[name] in (None, "") else int(values[name])
        marks = {name: self_declared for name, value in values.items() if value not in (None, "")}
        verified_email = bool(email)
        work_email = ""
        if verified_email:
            work_email = f"staff{pos}@example-corp.cn"
            marks["work_email"] = verified_mark
        rows.append(
            (
                to_user[pos],
                *values.values(),
                work_email,
                marks,
                now if verified_email else None,
                now,
            )
        )
    _write(
        Profile,
        (
            "user_id",
            *names,
            "work_email",
            "field_marks",
            "work_email_verified_at",
            "updated_at",
        ),
        rows,
        now=now,
        json_columns=frozenset({"field_marks"}),
    )


_TEXT = {
    f.name
    for f in Profile._meta.get_fields()
    if f.concrete and f.get_internal_type() in ("CharField", "EmailField")
}

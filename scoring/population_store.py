"""Saving a synthetic population into the database as real portal users with records,
so the portal, the nightly run and the tests have people to score."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from accounts.crypto import encrypt_text, keyed_hash
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
from benefits.models import CourtListEntry
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    Friendship,
    Repayment,
    SyntheticOutcome,
    UtilityBill,
    WealthHolding,
)
from scoring.population import REGIONS, Population

BATCH = 5000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _none(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    return value


def _date(value) -> datetime.date | None:
    value = _none(value)
    return None if value is None else pd.Timestamp(value).date()


def _id_number(rng, region: str, birth: datetime.date, male: bool) -> str:
    sequence = int(rng.integers(0, 500)) * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


@transaction.atomic
def population_save(population: Population, *, prefix: str | None = None) -> dict[int, int]:
    """Create one portal user per person; return {population id: user id}."""
    rng = np.random.default_rng(population.seed + 1)
    prefix = prefix or f"pop{population.seed}"
    now = timezone.now()
    positions = population.traits.index.to_list()
    unusable = make_password(None)
    users = [User(username=f"{prefix}-{pos:07d}", password=unusable) for pos in positions]
    User.objects.bulk_create(users, batch_size=BATCH)
    ids = dict(User.objects.filter(username__startswith=f"{prefix}-").values_list("username", "pk"))
    to_user = {pos: ids[f"{prefix}-{pos:07d}"] for pos in positions}

    traits, people, profiles = population.traits, population.tables.people, population.profiles
    identities, taken = [], set(Identity.objects.values_list("id_number_hash", flat=True))
    for pos in positions:
        if not people.at[pos, "verified"]:
            continue
        age = int(traits.at[pos, "age"])
        birth = datetime.date(
            population.as_of.year - age - 1, int(rng.integers(1, 13)), int(rng.integers(1, 29))
        )
        number = _id_number(
            rng, REGIONS[pos % len(REGIONS)], birth, traits.at[pos, "gender"] == "M"
        )
        digest = keyed_hash(number)
        if digest in taken:
            continue
        taken.add(digest)
        name = SURNAMES[pos % len(SURNAMES)] + GIVEN[(pos * 7) % len(GIVEN)]
        identities.append(
            Identity(
                user_id=to_user[pos],
                full_name_encrypted=encrypt_text(name),
                id_number_encrypted=encrypt_text(number),
                id_number_hash=digest,
                id_number_masked=mask_id_number(number),
                birth_date=birth,
                gender=traits.at[pos, "gender"],
                region_code=number[:6],
                region_name="",
                verified_at=now,
            )
        )
    Identity.objects.bulk_create(identities, batch_size=BATCH)
    position_of = {user_id: pos for pos, user_id in to_user.items()}
    court = [
        CourtListEntry(id_number_hash=i.id_number_hash)
        for i in identities
        if traits.at[position_of[i.user_id], "court_listed"]
    ]
    CourtListEntry.objects.bulk_create(court, batch_size=BATCH, ignore_conflicts=True)

    profile_rows = []
    for pos, row in profiles.iterrows():
        values = {k: _none(v) for k, v in row.items() if k != "work_email_verified"}
        values = {k: ("" if v is None and k in _TEXT else v) for k, v in values.items()}
        for key in ("graduation_year", "provident_fund_months", "address_years"):
            values[key] = None if values[key] in (None, "") else int(values[key])
        marks = {
            k: {"mark": FieldMark.SELF_DECLARED, "at": now.isoformat()}
            for k, v in values.items()
            if v not in (None, "")
        }
        verified_email = bool(row["work_email_verified"])
        if verified_email:
            values["work_email"] = f"staff{pos}@example-corp.cn"
            marks["work_email"] = {"mark": FieldMark.VERIFIED, "at": now.isoformat()}
        profile_rows.append(
            Profile(
                user_id=to_user[pos],
                field_marks=marks,
                work_email_verified_at=now if verified_email else None,
                updated_at=now,
                **values,
            )
        )
    Profile.objects.bulk_create(profile_rows, batch_size=BATCH)

    texts = consent_texts_current()
    grants = []
    for pos in positions:
        wanted = [ConsentPurpose.SCORING]
        if people.at[pos, "consent_utility_bills"]:
            wanted.append(ConsentPurpose.UTILITY_BILLS)
        if people.at[pos, "consent_social_connections"]:
            wanted.append(ConsentPurpose.SOCIAL_CONNECTIONS)
        grants += [
            ConsentGrant(
                user_id=to_user[pos],
                purpose=p,
                text=texts[p],
                granted_at=now,
                channel=ConsentGrant.Channel.API,
            )
            for p in wanted
        ]
    ConsentGrant.objects.bulk_create(grants, batch_size=BATCH)

    tables = population.tables
    accounts = [
        CreditAccount(
            user_id=to_user[r.user_id],
            kind=r.kind,
            opened_on=_date(r.opened_on),
            closed_on=_date(r.closed_on),
            credit_limit=round(r.credit_limit, 2),
            balance=round(r.balance, 2),
        )
        for r in tables.accounts.itertuples()
    ]
    CreditAccount.objects.bulk_create(accounts, batch_size=BATCH)
    repayments = []
    for r in tables.repayments.itertuples():
        account = accounts[r.account]
        due = _date(r.due_date)
        repayments.append(
            Repayment(
                account_id=account.pk,
                user_id=account.user_id,
                due_date=due,
                amount=round(r.amount, 2),
                days_overdue=int(r.days_overdue),
                paid_date=(due + datetime.timedelta(days=int(r.days_overdue))) if r.paid else None,
            )
        )
    Repayment.objects.bulk_create(repayments, batch_size=BATCH)
    ActivityMonth.objects.bulk_create(
        [
            ActivityMonth(
                user_id=to_user[r.user_id],
                month=_date(r.month),
                spend=round(r.spend, 2),
                transfers_in=round(r.transfers_in, 2),
                transactions=int(r.transactions),
                categories=int(r.categories),
            )
            for r in tables.activity.itertuples()
        ],
        batch_size=BATCH,
    )
    UtilityBill.objects.bulk_create(
        [
            UtilityBill(
                user_id=to_user[r.user_id],
                kind=r.kind,
                due_date=_date(r.due_date),
                amount=round(r.amount, 2),
                paid_date=_date(r.paid_date),
            )
            for r in tables.bills.itertuples()
        ],
        batch_size=BATCH,
    )
    WealthHolding.objects.bulk_create(
        [
            WealthHolding(
                user_id=to_user[r.user_id],
                product=r.product,
                amount=round(r.amount, 2),
                as_of=_date(r.as_of),
            )
            for r in tables.wealth.itertuples()
        ],
        batch_size=BATCH,
    )
    Friendship.objects.bulk_create(
        [
            Friendship(user_id=to_user[r.user_id], friend_id=to_user[r.friend], verified_at=now)
            for r in tables.friends.itertuples()
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    SyntheticOutcome.objects.bulk_create(
        [
            SyntheticOutcome(
                user_id=to_user[pos],
                seed=population.seed,
                p_default=float(population.p_default[i]),
                defaulted=bool(population.defaulted[i]),
            )
            for i, pos in enumerate(positions)
        ],
        batch_size=BATCH,
    )
    return to_user


_TEXT = {
    f.name
    for f in Profile._meta.get_fields()
    if f.concrete and f.get_internal_type() in ("CharField", "EmailField")
}

"""Test data in one place: factory_boy factories for the rows tests need, and the few
builders that go through the portal's own services (verifying an identity, granting a
consent, authorising a partner), so that such records are made as a person makes them."""

from __future__ import annotations

import datetime
import itertools
import re
from decimal import Decimal

import factory
import numpy as np
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from stdnum.cn import ric

from accounts.clients import Client
from accounts.models import ConsentPurpose, Profile, User
from accounts.services import (
    consent_grant,
    identity_verify,
    profile_update,
    section_verification_decide,
    section_verification_file,
    work_email_verify,
)
from benefits.models import Benefit, BenefitCategory, Partner
from benefits.services import unlocks_apply
from benefits.services.partner_access import api_key_create, partner_authorize
from scoring.explain.breakdown import array_encode
from scoring.ml.bands import band_of
from scoring.ml.features import FEATURES
from scoring.ml.training import TrainingResult
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
from scoring.services.scores import model_version_create
from scoring.services.snapshot_history import snapshots_supersede
from tests.dates import days_ago, in_days, month_starts, today

# The password of the named users (owner, other, admin) tests sign in with.
PASSWORD = "correct-horse-battery-42"
# The password of people made only to own records; nobody signs in with it.
UNUSED_PASSWORD = "unused-password-42"

# Bytes that start as a PNG image does (its signature, then zeros), for upload tests.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# The browser a person grants consents from, as the services record it.
WEB = Client(channel="web", ip="203.0.113.9", user_agent="pytest-benefits/1.0")


# --- Resident ID numbers ---------------------------------------------------------------------


def make_id_number(region: str = "110105", birth: str = "19900307", sequence: str = "123") -> str:
    """A resident ID number with the right check character (for tests only)."""
    body = f"{region}{birth}{sequence}"
    return body + ric.calc_check_digit(body + "0")


_sequences = itertools.count(1)


def id_number(region: str = "110105", birth: str = "19880412") -> str:
    """A valid resident ID number, different on every call (the sequence code varies)."""
    sequence = next(_sequences) % 1000 or 1
    return make_id_number(region, birth, f"{sequence:03d}")


# --- Factories -------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    """A person with a hashed password, made as sign-up makes one (create_user)."""

    class Meta:
        model = User

    username = factory.Sequence("person-{}".format)
    password = UNUSED_PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)


class AdminFactory(UserFactory):
    username = "admin"
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_superuser(*args, **kwargs)


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    name = "绿道单车 GreenLane Bikes"
    category = "bike_rental"
    licence_number = "MB-2024-0171"
    status = Partner.Status.APPROVED


class BenefitFactory(DjangoModelFactory):
    """A published benefit on offer since yesterday."""

    class Meta:
        model = Benefit

    partner = factory.SubFactory(PartnerFactory)
    min_score = 600
    title_zh = factory.LazyAttribute(lambda o: f"免押金 {o.min_score}")
    title_en = factory.LazyAttribute(lambda o: f"Deposit-free at {o.min_score}")
    terms_zh = "凭券免押金。"
    terms_en = "No deposit with this voucher."
    category = BenefitCategory.BIKE_RENTAL
    status = Benefit.Status.PUBLISHED
    active_from = factory.LazyFunction(lambda: in_days(-1))


FEATURE_NAMES = [f.name for f in FEATURES]


class ModelVersionFactory(DjangoModelFactory):
    """A stored stand-in version for snapshots to point at; nothing loads it."""

    class Meta:
        model = ModelVersion
        django_get_or_create = ("version",)

    version = factory.Sequence("test-{}".format)
    kind = ModelVersion.Kind.PORTAL
    artifact = b"{}"
    sha256 = "0" * 64
    # Every portal feature, typical at 0 points: a snapshot's points are its reasons.
    points_layout = factory.LazyFunction(
        lambda: {"features": FEATURE_NAMES, "typical_points": [0.0] * len(FEATURE_NAMES)}
    )


def snapshot_arrays(
    model_version: ModelVersion, points: dict[str, float], values: dict | None = None
) -> dict:
    """A snapshot's stored points and values (scoring.explain.breakdown), from dicts by
    feature name in the order of the version's layout; a feature left out has 0 points
    and no value. No points: stored without a breakdown."""
    if not points:
        return {"feature_points": None, "feature_values": None}
    names = model_version.points_layout["features"]
    assert set(points) <= set(names), set(points) - set(names)
    values = values or {}
    return {
        "feature_points": array_encode(np.array([points.get(n, 0.0) for n in names])),
        "feature_values": array_encode(
            np.array([np.nan if values.get(n) is None else values[n] for n in names])
        ),
    }


class ScoreSnapshotFactory(DjangoModelFactory):
    """A score written by hand, as a recompute would store it, without running a model."""

    class Meta:
        model = ScoreSnapshot
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    score = 650
    band = factory.LazyAttribute(lambda o: band_of(o.score))

    class Params:
        contributions = factory.LazyFunction(dict)  # {feature: points}
        features = factory.LazyFunction(dict)  # {feature: value}

    dimensions = factory.LazyFunction(dict)
    model_version = factory.SubFactory(ModelVersionFactory)
    feature_points = factory.LazyAttribute(
        lambda o: snapshot_arrays(o.model_version, o.contributions, o.features)["feature_points"]
    )
    feature_values = factory.LazyAttribute(
        lambda o: snapshot_arrays(o.model_version, o.contributions, o.features)["feature_values"]
    )
    trigger = "test"
    computed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def superseding(obj, create, extracted, **kwargs):
        # As every write of a score does: the user's earlier snapshots become history.
        if create:
            snapshots_supersede(user_ids=[obj.user_id])
            obj.refresh_from_db(fields=["current"])


class CreditAccountFactory(DjangoModelFactory):
    class Meta:
        model = CreditAccount

    user = factory.SubFactory(UserFactory)
    kind = "consumer_loan"
    opened_on = factory.LazyFunction(lambda: days_ago(365))
    closed_on = None
    credit_limit = Decimal("10000")
    balance = Decimal("0")


class RepaymentFactory(DjangoModelFactory):
    """An instalment, paid `days_overdue` days after it fell due unless paid=False."""

    class Meta:
        model = Repayment

    class Params:
        paid = True

    account = factory.SubFactory(CreditAccountFactory)
    user_id = factory.LazyAttribute(lambda o: o.account.user_id)
    due_date = factory.LazyFunction(lambda: days_ago(30))
    amount = Decimal("500.00")
    days_overdue = 0
    paid_date = factory.LazyAttribute(
        lambda o: o.due_date + datetime.timedelta(days=o.days_overdue) if o.paid else None
    )


class ActivityMonthFactory(DjangoModelFactory):
    class Meta:
        model = ActivityMonth

    user = factory.SubFactory(UserFactory)
    month = factory.LazyFunction(lambda: today().replace(day=1))
    spend = Decimal("3000")
    transfers_in = Decimal("0")
    transactions = 25
    categories = 5


class UtilityBillFactory(DjangoModelFactory):
    class Meta:
        model = UtilityBill

    user = factory.SubFactory(UserFactory)
    kind = "power"
    due_date = factory.LazyFunction(lambda: days_ago(30))
    amount = Decimal("120.00")
    paid_date = factory.LazyAttribute(lambda o: o.due_date)


class WealthHoldingFactory(DjangoModelFactory):
    class Meta:
        model = WealthHolding

    user = factory.SubFactory(UserFactory)
    product = "fund"
    amount = Decimal("10000")
    as_of = factory.LazyFunction(today)


class FriendshipFactory(DjangoModelFactory):
    class Meta:
        model = Friendship

    user = factory.SubFactory(UserFactory)
    friend = factory.SubFactory(UserFactory)


# --- People ----------------------------------------------------------------------------------


def make_user(username: str) -> User:
    return UserFactory(username=username)


def grant(user: User, *purposes: str) -> None:
    """The user grants these consents (scoring when none is named), as the web form does."""
    for purpose in purposes or (ConsentPurpose.SCORING,):
        consent_grant(user=user, purpose=purpose, client=WEB)


def grant_scoring(user: User) -> None:
    grant(user, ConsentPurpose.SCORING)


def verify_identity(user: User, id_number: str, full_name: str = "张伟") -> None:
    identity_verify(user=user, full_name=full_name, id_number=id_number)


def verify(user: User, number: str | None = None, full_name: str = "张伟") -> str:
    """Verify the user's identity (a fresh valid number unless given); returns the number."""
    number = number or id_number()
    verify_identity(user, number, full_name)
    return number


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


def set_profile(user: User, **values) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.save()
    return profile


PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def pdf_upload(name: str = "scan.pdf", data: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def verify_section(user: User, section: str, *, by: User | None = None) -> None:
    """The real flow: file a document for the section's current answers, staff approve."""
    verification = section_verification_file(user=user, section=section, document=pdf_upload())
    section_verification_decide(verification=verification, approve=True, by=by)


def mark_verified(user: User, *fields: str) -> Profile:
    """Mark answers verified as if staff had checked them (sections with no verification
    path, such as income, in tests of what verified answers do to the score)."""
    profile = Profile.objects.get(user=user)
    for name in fields:
        profile.field_marks[name] = {"mark": "verified", "at": timezone.now().isoformat()}
    profile.save(update_fields=["field_marks"])
    return profile


def befriend(user: User, friend: User) -> None:
    """A verified friendship, stored in both directions as the import stores it."""
    FriendshipFactory(user=user, friend=friend)
    FriendshipFactory(user=friend, friend=user)


# --- Credit records --------------------------------------------------------------------------


def add_account(
    user: User,
    kind: str = "consumer_loan",
    *,
    opened_on: datetime.date,
    limit: float = 10000,
    balance: float = 0,
    closed_on: datetime.date | None = None,
) -> CreditAccount:
    return CreditAccountFactory(
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
    return RepaymentFactory(account=account, due_date=due, days_overdue=days_overdue, paid=paid)


def add_activity(
    user: User,
    month: datetime.date,
    *,
    spend: float = 3000,
    transactions: int = 25,
    categories: int = 5,
) -> ActivityMonth:
    return ActivityMonthFactory(
        user=user,
        month=month.replace(day=1),
        spend=Decimal(str(spend)),
        transactions=transactions,
        categories=categories,
    )


def add_bill(
    user: User, *, due: datetime.date, paid_on: datetime.date | None, kind: str = "power"
) -> UtilityBill:
    return UtilityBillFactory(user=user, kind=kind, due_date=due, paid_date=paid_on)


def add_wealth(user: User, amount: float, *, as_of: datetime.date, product="fund"):
    return WealthHoldingFactory(
        user=user, product=product, amount=Decimal(str(amount)), as_of=as_of
    )


# The profile answers solid_file gives, self-declared (no marks) unless a test verifies them.
SOLID_FILE_ANSWERS = (
    "income_band",
    "provident_fund_months",
    "education_level",
    "address",
    "address_years",
)


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


# --- Models and scores -----------------------------------------------------------------------


def store_model(result: TrainingResult, *, activate: bool = True) -> ModelVersion:
    """Store a trained scorecard as the admin's upload does (active unless told not)."""
    return model_version_create(
        result=result,
        kind=ModelVersion.Kind.PORTAL,
        inputs={"columns": result.scorecard.feature_names, "id_column": "id"},
        activate=activate,
    )


def past_snapshot(
    user: User, score: int, *, model_version: ModelVersion, at: datetime.datetime
) -> ScoreSnapshot:
    return ScoreSnapshotFactory(user=user, score=score, model_version=model_version, computed_at=at)


def set_score(
    user: User,
    score: int,
    dimensions: dict[str, int] | None = None,
    *,
    model_version: ModelVersion,
    at: datetime.datetime | None = None,
) -> ScoreSnapshot:
    return ScoreSnapshotFactory(
        user=user,
        score=score,
        dimensions=dimensions if dimensions is not None else {},
        model_version=model_version,
        computed_at=at or timezone.now(),
    )


def rescore(
    user: User, score: int, dimensions: dict[str, int] | None = None, *, model_version
) -> tuple[int, int]:
    """What a recompute does after storing a snapshot: store it, then apply unlocks."""
    snapshot = set_score(user, score, dimensions, model_version=model_version)
    return unlocks_apply(scores=[(user.pk, snapshot.score, snapshot.dimensions)])


# --- Partners and benefits -------------------------------------------------------------------


def make_partner(
    name: str = "绿道单车 GreenLane Bikes",
    *,
    status: str = Partner.Status.APPROVED,
    category: str = "bike_rental",
) -> Partner:
    return PartnerFactory(name=name, status=status, category=category)


def make_benefit(partner: Partner, min_score: int = 600, **fields) -> Benefit:
    """A published benefit on offer since yesterday, unless told otherwise."""
    return BenefitFactory(partner=partner, min_score=min_score, **fields)


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

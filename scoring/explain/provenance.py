"""Where each piece of a person's profile comes from and what it does to their score:
each section's answers with their source (self-declared, or verified and how) and date,
and the points the score's matching items add or take away now (against a typical
person, as the reasons count them). Read in a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from accounts.models import ConsentPurpose, FieldMark, Profile, SectionVerification, User
from accounts.profile_sections import SECTIONS
from accounts.selectors import (
    consent_grants_for_user,
    identity_for_user,
    profile_get,
    profile_value_display,
    verified_how,
)
from scoring.explain.breakdown import snapshot_breakdown
from scoring.models import ScoreSnapshot

# The score's items that read each section (profile completion reads them all).
SECTION_FEATURES = {
    "education": ("id_education_rank",),
    "occupation": ("id_work_email_verified",),
    "vehicle": ("cp_assets",),
    "property": ("cp_assets",),
    "provident_fund": ("cp_provident_fund_months",),
    "income": ("cp_income_rank",),
    "address": ("id_years_at_address",),
    "phone": (),
}
VERIFIABLE_SECTIONS = frozenset(SectionVerification.Section.values)


@dataclass(frozen=True)
class Item:
    label: str
    value: str
    verified: bool
    how: str
    at: datetime.datetime | None


@dataclass(frozen=True)
class SectionSource:
    key: str
    title: str
    used_by_score: bool
    items: list[Item]
    points: int | None  # None: the score does not use it, or there is no score
    # Some answer the score reads is self-declared: its points count within the cap
    # on declared answers (scoring.ml.declared), so `points` is the capped share.
    declared: bool = False
    verifiable: bool = False  # a document (or a code) can verify it


def _impacts(snapshot: ScoreSnapshot | None) -> dict[str, float]:
    if snapshot is None:
        return {}
    return {row["feature"]: row["impact"] for row in snapshot_breakdown(snapshot).reasons}


def profile_sources(*, user: User, snapshot: ScoreSnapshot | None) -> list[SectionSource]:
    """Each section with answers, in the flow's order; sections left empty are left out."""
    profile = profile_get(user=user)
    impacts = _impacts(snapshot)
    sources = []
    for section in SECTIONS:
        items = []
        for name in section.fields:
            value = profile_value_display(profile, name)
            if not value:
                continue
            mark = profile.field_marks.get(name) or {}
            verified = mark.get("mark") == FieldMark.VERIFIED or (
                name == "work_email" and profile.work_email_verified_at is not None
            )
            at = mark.get("at")
            items.append(
                Item(
                    label=str(Profile._meta.get_field(name).verbose_name),
                    value=value,
                    verified=verified,
                    how=verified_how(name, {**mark, "mark": FieldMark.VERIFIED})
                    if verified
                    else "",
                    at=datetime.datetime.fromisoformat(at) if at else None,
                )
            )
        if not items:
            continue
        features = SECTION_FEATURES.get(section.key, ())
        points = (
            round(sum(impacts.get(f, 0.0) for f in features))
            if snapshot is not None and section.used_by_score and features
            else None
        )
        sources.append(
            SectionSource(
                key=section.key,
                title=str(section.title),
                used_by_score=section.used_by_score,
                items=items,
                points=points,
                declared=points is not None and any(not item.verified for item in items),
                verifiable=section.key in VERIFIABLE_SECTIONS,
            )
        )
    return sources


@dataclass(frozen=True)
class DataCategory:
    """An optional data category (social connections, utility bills): counted or not,
    the grant to revoke, and what its dimension's items do to the score now."""

    purpose: str
    label: str
    counted: bool
    grant_id: int | None
    points: int | None


CATEGORY_FEATURES = {
    ConsentPurpose.SOCIAL_CONNECTIONS: (
        "cn_verified_friends",
        "cn_friends_mean_score",
        "cn_friends_court_list_share",
    ),
    ConsentPurpose.UTILITY_BILLS: ("bh_bills_on_time_rate",),
}


def data_categories(*, user: User, snapshot: ScoreSnapshot | None) -> list[DataCategory]:
    current = {
        grant.purpose: grant
        for grant in consent_grants_for_user(user=user)
        if grant.purpose != ConsentPurpose.PARTNER_SHARING and grant.is_current()
    }
    impacts = _impacts(snapshot)
    return [
        DataCategory(
            purpose=purpose.value,
            label=str(purpose.label),
            counted=purpose.value in current,
            grant_id=current[purpose.value].pk if purpose.value in current else None,
            points=round(sum(impacts.get(f, 0.0) for f in features))
            if snapshot is not None and purpose.value in current
            else None,
        )
        for purpose, features in CATEGORY_FEATURES.items()
    ]


def identity_source(*, user: User, snapshot: ScoreSnapshot | None) -> dict | None:
    identity = identity_for_user(user=user)
    if identity is None:
        return None
    impact = _impacts(snapshot).get("id_verified")
    return {
        "at": identity.verified_at,
        "masked": identity.id_number_masked,
        "points": round(impact) if impact is not None else None,
    }

"""The profile's sections: which fields each holds, when it counts as complete, and
whether the score uses it. The pages, the API and the completion bar all read this."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import EMPLOYED_OCCUPATIONS, Profile

# Self-declared answers together may move the score by at most this many points, either
# way; verified answers count fully. Why 30, and how: scoring/ml/declared.py.
DECLARED_POINTS_CAP = 30

# What proves each section that has no code to type (accounts/services/verification.py).
VERIFICATION_DOCUMENTS = {
    "education": _(
        "A photo or scan of your diploma or degree certificate, or the CHSI (学信网) online "
        "verification code of your degree."
    ),
    "vehicle": _("A photo or scan of your vehicle registration certificate (机动车登记证书)."),
    "property": _(
        "A photo or scan of your real estate title certificate (不动产权证书), and of the "
        "mortgage contract if there is one."
    ),
    "provident_fund": _(
        "A statement of your housing provident fund account showing the months contributed."
    ),
}


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    why: str | Promise
    fields: tuple[str, ...]
    used_by_score: bool
    is_complete: Callable[[Profile], bool]


SECTIONS: tuple[Section, ...] = (
    Section(
        "education",
        _("Education"),
        _("Education is part of your identity traits."),
        ("education_level", "school", "graduation_year"),
        True,
        lambda p: bool(p.education_level and p.school and p.graduation_year),
    ),
    Section(
        "occupation",
        _("Work"),
        _("A stable job, and a work email verified with a code, strengthen your identity."),
        ("occupation", "employer", "work_email"),
        True,
        lambda p: (
            bool(p.occupation) and (p.occupation not in EMPLOYED_OCCUPATIONS or bool(p.employer))
        ),
    ),
    Section(
        "vehicle",
        _("Vehicle"),
        _("A vehicle you own counts towards your capacity."),
        ("vehicle_owned", "vehicle_value"),
        True,
        lambda p: p.vehicle_owned is False or (p.vehicle_owned is True and bool(p.vehicle_value)),
    ),
    Section(
        "property",
        _("Property"),
        _("Property you own counts towards your capacity."),
        ("property_owned", "property_mortgaged"),
        True,
        lambda p: (
            p.property_owned is False
            or (p.property_owned is True and p.property_mortgaged is not None)
        ),
    ),
    Section(
        "provident_fund",
        _("Housing provident fund"),
        _("Months of housing provident fund contributions show steady income."),
        ("provident_fund_months",),
        True,
        lambda p: p.provident_fund_months is not None,
    ),
    Section(
        "income",
        _("Income"),
        _("Your monthly income band counts towards your capacity."),
        ("income_band",),
        True,
        lambda p: bool(p.income_band),
    ),
    Section(
        "address",
        _("Address"),
        _("Years at the same address show stability."),
        ("address", "address_years"),
        True,
        lambda p: bool(p.address) and p.address_years is not None,
    ),
    Section(
        "phone",
        _("Phone"),
        _("So we can reach you about your account. It does not change your score."),
        ("phone",),
        False,
        lambda p: bool(p.phone),
    ),
)

SECTION_BY_KEY = {section.key: section for section in SECTIONS}
SECTION_KEYS = tuple(SECTION_BY_KEY)


# The percentage for each number of complete sections.
_PERCENT_OF_DONE = tuple(round(100 * done / len(SECTIONS)) for done in range(len(SECTIONS) + 1))


def completion_percent(profile) -> int:
    """Percentage of sections complete, 0 to 100, for a Profile or anything with its
    attributes."""
    return _PERCENT_OF_DONE[sum(1 for section in SECTIONS if section.is_complete(profile))]


def completion_of_columns(columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
    """completion_percent of many profiles at once, from their values as columns (each a
    sequence of the same length; None: unanswered), for the nightly run: a section's rule
    runs once per distinct set of that section's answers, not once per person. A rule
    reads only its section's fields (else AttributeError)."""
    count = len(next(iter(columns.values())))
    done = np.zeros(count, dtype=np.int64)
    for section in SECTIONS:
        keys = np.fromiter(
            zip(*(columns[name] for name in section.fields), strict=True), object, count
        )
        codes, distinct = pd.factorize(keys)
        verdicts = np.fromiter(
            (
                section.is_complete(SimpleNamespace(**dict(zip(section.fields, key, strict=True))))
                for key in distinct
            ),
            dtype=bool,
            count=len(distinct),
        )
        done += verdicts[codes]
    return np.asarray(_PERCENT_OF_DONE, dtype=np.int64)[done]


def completion_of_values(values: Mapping[str, Any]) -> int:
    """completion_percent for profile values read as a mapping (a `.values()` row, a
    synthetic person): a NaN counts as unanswered."""
    cleaned = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}
    return completion_percent(SimpleNamespace(**cleaned))


def section_for_field(field: str) -> Section | None:
    return next((s for s in SECTIONS if field in s.fields), None)


def next_section(key: str) -> Section | None:
    index = SECTION_KEYS.index(key)
    return SECTIONS[index + 1] if index + 1 < len(SECTIONS) else None

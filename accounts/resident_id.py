"""Rules for the 18-character resident ID number (GB 11643-1999) and Chinese names.

Pure functions with no database: the checksum, birth date and region tables come from
python-stdnum (`stdnum.cn.ric`); this module maps each failing rule to the error code of
the public contract and adds the rules stdnum leaves to us (future birth dates, age).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from sesame_portal.errors import ServiceError

MINIMUM_AGE = 16
EARLIEST_BIRTH_YEAR = 1900

# CJK unified ideographs (basic, extension A, extensions B onwards) for the name parts.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
# Minority names join their parts with a middle dot; people type several look-alikes.
_DOT_VARIANTS = "\u00b7\u2022\u30fb\uff65\u2027\u0387\u22c5\u2219"
_NAME_RE = re.compile(rf"[{_HAN}]+(?:\u00b7[{_HAN}]+)*")
NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 30


class IdentityRuleError(ServiceError):
    """A failed identity rule; its code is one of the public contract's."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: datetime.date
    gender: str  # "M" or "F": the parity of the sequence code
    region_code: str
    region_name: str

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


# Chinese keyboards type full-width digits and X; read them as their ASCII forms.
_FULL_WIDTH = {0xFF10 + digit: str(digit) for digit in range(10)} | {0xFF38: "X", 0xFF58: "x"}
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")


def normalise_id_number(raw: str) -> str:
    """Drop every kind of whitespace, read full-width characters as ASCII and x as X."""
    return "".join(str(raw).split()).translate(_FULL_WIDTH).upper()


def normalise_name(raw: str) -> str:
    name = "".join(str(raw).split())
    for dot in _DOT_VARIANTS:
        name = name.replace(dot, "\u00b7")
    return name


def mask_id_number(number: str) -> str:
    """Keep the first and the last character only: 1****************X. A mask that kept
    the region and the last four hid exactly the birth date, so it and a birth date
    kept beside it gave the whole number back."""
    return f"{number[:1]}{'*' * (len(number) - 2)}{number[-1:]}"


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    """Whole years lived. A 29 February birthday is reached on 1 March in common years,
    because (2, 28) still sorts before (2, 29)."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def validate_name(raw: str) -> str:
    name = normalise_name(raw)
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH or not _NAME_RE.fullmatch(name):
        raise IdentityRuleError(
            "name",
            _(
                "Enter your full name in Chinese characters as on your ID card, "
                "%(min)d to %(max)d characters; minority names may use a middle dot (·)."
            )
            % {"min": NAME_MIN_LENGTH, "max": NAME_MAX_LENGTH},
        )
    return name


def parse_resident_id(raw: str, *, today: datetime.date) -> ResidentId:
    """Validate an ID number rule by rule and derive what it encodes.

    The order matters: each number fails on the first rule it breaks, so the code a
    person sees names the actual mistake.
    """
    number = normalise_id_number(raw)
    if re.fullmatch(r"[0-9]{15}", number):
        raise IdentityRuleError(
            "legacy_15_digit",
            _(
                "This is an old 15-digit ID number. Enter the 18-digit number on your "
                "current second-generation ID card."
            ),
        )
    if not _ID_RE.fullmatch(number):
        raise IdentityRuleError(
            "format",
            _("An ID number has 18 characters: 17 digits, then a digit or the letter X."),
        )
    if ric.calc_check_digit(number) != number[17]:
        raise IdentityRuleError(
            "checksum",
            _("This ID number's check character does not match. Check each digit and retry."),
        )
    try:
        birth_date = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        birth_date = None
    if birth_date is None or birth_date > today or birth_date.year < EARLIEST_BIRTH_YEAR:
        raise IdentityRuleError(
            "birth_date",
            _("The birth date in this ID number (digits 7 to 14) is not a possible birth date."),
        )
    try:
        place = ric.get_birth_place(number)
    # stdnum raises KeyError for an unknown county inside a known province.
    except (stdnum_errors.ValidationError, KeyError):
        raise IdentityRuleError(
            "region",
            _("The region code (first 6 digits) did not exist in the birth year."),
        ) from None
    if age_on(birth_date, today) < MINIMUM_AGE:
        raise IdentityRuleError(
            "underage",
            _("You must be at least %(age)d years old to use Sesame Portal.")
            % {"age": MINIMUM_AGE},
        )
    region_name = "".join(
        part
        for part in (
            place.get("province", ""),
            place.get("prefecture", ""),
            place.get("county", ""),
        )
        if part
    )
    return ResidentId(
        number=number,
        birth_date=birth_date,
        gender="M" if int(number[16]) % 2 else "F",
        region_code=number[:6],
        region_name=region_name,
    )

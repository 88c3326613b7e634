"""The profile's rules, which the profile service checks before it saves and the step
pages' forms show beside their fields: each answer on its own, against the person's age,
and the answers of a section together (`profile_section_clean`)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import EMPLOYED_OCCUPATIONS, Profile
from accounts.profile_sections import SECTION_BY_KEY
from accounts.resident_id import age_on

# Personal mailbox providers: an address there says nothing about an employer.
FREE_WEBMAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "vip.qq.com",
        "foxmail.com",
        "163.com",
        "vip.163.com",
        "126.com",
        "yeah.net",
        "188.com",
        "sina.com",
        "sina.cn",
        "vip.sina.com",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "tom.com",
        "21cn.com",
        "2980.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "live.cn",
        "msn.com",
        "yahoo.com",
        "yahoo.com.cn",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "mail.com",
        "gmx.com",
        "gmx.net",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "hey.com",
    }
)

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


def validate_no_control_characters(value: str) -> None:
    """Refuse control and format characters (Unicode Cc and Cf): bidirectional overrides
    and isolates (U+202A to U+202E, U+2066 to U+2069) that make text read differently from what
    it says, zero-width characters, a byte order mark, terminal controls."""
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in value):
        raise ValidationError(_("Remove the invisible control characters."), code="control")


def validate_plain_text(value: str) -> None:
    """Refuse markup and control characters in free text: it is shown back to people
    and partners, and nobody's school or employer needs angle brackets."""
    if "<" in value or ">" in value:
        raise ValidationError(
            _("Use plain text: the characters < and > are not allowed."), code="markup"
        )
    validate_no_control_characters(value)


def validate_work_email_domain(value: str) -> None:
    domain = value.rsplit("@", 1)[-1].lower().strip()
    if domain in FREE_WEBMAIL_DOMAINS:
        raise ValidationError(
            _("%(domain)s is a personal mailbox. Enter the email address your employer gave you."),
            code="free_webmail",
            params={"domain": domain},
        )


def normalise_mobile(value: str) -> str:
    """Accept the ways people type a mainland mobile number: spaces, dashes, +86."""
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE_RE.fullmatch(digits):
        raise ValidationError(
            _("Enter an 11-digit mainland mobile number starting with 1."), code="phone"
        )
    return digits


# --- The profile's answers -------------------------------------------------------------------

EARLIEST_GRADUATION_YEAR = 1950
MAX_PROVIDENT_FUND_MONTHS = 600
MAX_ADDRESS_YEARS = 100
WORKING_AGE = 16

# Answers a section may leave empty: whether they are needed depends on another answer.
PROFILE_OPTIONAL_FIELDS = frozenset(
    {"employer", "work_email", "vehicle_value", "property_mortgaged"}
)


def profile_field_validators(name: str, *, today: datetime.date) -> list[Callable[[Any], None]]:
    """The checks of one profile answer on its own (the other answers and the person's
    age aside), each with its own message."""
    if name in ("school", "employer", "address"):
        return [validate_plain_text]
    if name == "work_email":
        return [validate_work_email_domain]
    if name == "graduation_year":
        return [
            MinValueValidator(EARLIEST_GRADUATION_YEAR, _("Enter a year from 1950 on.")),
            MaxValueValidator(today.year, _("The graduation year cannot be in the future.")),
        ]
    if name == "provident_fund_months":
        return [
            MinValueValidator(0, _("The number of months cannot be negative.")),
            MaxValueValidator(MAX_PROVIDENT_FUND_MONTHS, _("Enter at most 600 months (50 years).")),
        ]
    if name == "address_years":
        return [
            MinValueValidator(0, _("The number of years cannot be negative.")),
            MaxValueValidator(MAX_ADDRESS_YEARS, _("Enter at most 100 years.")),
        ]
    return []


def validate_against_age(
    name: str, value: Any, *, birth_date: datetime.date, today: datetime.date
) -> None:
    """Refuse years and months a person born on `birth_date` cannot plausibly claim."""
    lived = age_on(birth_date, today)
    if name == "graduation_year" and value < birth_date.year + 10:
        raise ValidationError(
            _("This graduation year is too close to your birth year (%(year)d)."),
            params={"year": birth_date.year},
        )
    if name == "provident_fund_months" and value > max(0, lived - WORKING_AGE) * 12 + 12:
        raise ValidationError(_("That is more months than you have been of working age."))
    if name == "address_years" and value > lived:
        raise ValidationError(_("That is longer than you have been alive."))


def _answer_clean(
    name: str, value: Any, *, birth_date: datetime.date | None, today: datetime.date
) -> Any:
    field = Profile._meta.get_field(name)
    if isinstance(value, str):
        value = value.strip()
    if value in (None, ""):
        if name not in PROFILE_OPTIONAL_FIELDS:
            raise ValidationError(forms.Field.default_error_messages["required"], code="required")
        return None if field.null else ""
    if name == "phone":
        return normalise_mobile(value)
    errors: list[ValidationError] = []
    checks = profile_field_validators(name, today=today)
    if isinstance(field, models.CharField):
        # The column's own checks: its length, its choices, an email address's form.
        checks.insert(0, lambda text: field.clean(text, None))
    for check in checks:
        try:
            check(value)
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    if birth_date is not None:
        validate_against_age(name, value, birth_date=birth_date, today=today)
    return value


def profile_section_clean(
    section: str,
    values: Mapping[str, Any],
    *,
    birth_date: datetime.date | None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """Check one section's answers, typed (text, whole numbers, True/False; None or ""
    for no answer), and return them as they are saved: text trimmed, a mobile number as
    its eleven digits, a work email in lower case, answers another answer makes moot
    cleared. Refuses with ValidationError({field: [messages]}).

    `birth_date` (of the verified identity, None before) bounds the years and months a
    person can plausibly claim. A field missing from `values` is not checked (a form
    leaves out what it refused already) and counts as unanswered for the others.
    """
    today = today or timezone.localdate()
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[ValidationError]] = {}
    for name in SECTION_BY_KEY[section].fields:
        if name not in values:
            continue
        try:
            cleaned[name] = _answer_clean(name, values[name], birth_date=birth_date, today=today)
        except ValidationError as error:
            errors[name] = error.error_list
    if section == "occupation":
        occupation = cleaned.get("occupation")
        if occupation and occupation not in EMPLOYED_OCCUPATIONS:
            # Students, retirees and people not working have no employer to verify.
            cleaned["employer"], cleaned["work_email"] = "", ""
        elif occupation and not cleaned.get("employer") and "employer" not in errors:
            errors["employer"] = [ValidationError(_("Enter your employer's name."))]
        if cleaned.get("work_email"):
            cleaned["work_email"] = cleaned["work_email"].lower()
    elif section == "vehicle":
        if cleaned.get("vehicle_owned") is False:
            cleaned["vehicle_value"] = ""
        elif cleaned.get("vehicle_owned") and not cleaned.get("vehicle_value"):
            errors.setdefault("vehicle_value", []).append(
                ValidationError(_("Choose the vehicle's approximate value."))
            )
    elif section == "property":
        if cleaned.get("property_owned") is False:
            cleaned["property_mortgaged"] = None
        elif cleaned.get("property_owned") and cleaned.get("property_mortgaged") is None:
            errors.setdefault("property_mortgaged", []).append(
                ValidationError(_("Say whether there is a mortgage."))
            )
    if errors:
        raise ValidationError(errors)
    return cleaned

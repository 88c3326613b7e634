"""Checks on what admins type into a benefit, shared by the admin form and CSV import."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scoring.ml.features import DIMENSIONS

_REGION_RE = re.compile(r"[1-9][0-9](?:[0-9]{2}){0,2}")


def validate_min_subscores(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_('Give minimum sub-scores as {"dimension": minimum}.'))
    for dimension, minimum in value.items():
        if dimension not in DIMENSIONS:
            raise ValidationError(
                _("%(name)s is not a dimension; use one of: %(names)s.")
                % {"name": dimension, "names": ", ".join(DIMENSIONS)}
            )
        if isinstance(minimum, bool) or not isinstance(minimum, int) or not 0 <= minimum <= 100:
            raise ValidationError(
                _("The minimum for %(name)s must be a whole number from 0 to 100.")
                % {"name": dimension}
            )


def validate_regions(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(code, str) and _REGION_RE.fullmatch(code) for code in value
    ):
        raise ValidationError(
            _(
                "Give regions as a list of region codes of 2, 4 or 6 digits, for example "
                '["31", "4403"]; leave it empty for everywhere.'
            )
        )

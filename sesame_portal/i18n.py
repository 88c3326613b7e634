"""Texts with numbers that come from constants, translated when they are shown.

`ngettext_lazy(...) % values` is not lazy: the proxy formats at once, in whatever
language is active at import (zh-Hans), so a module-level help text would stay Chinese
on an English page. `format_when_shown` defers the formatting to the moment of use."""

from __future__ import annotations

from django.utils.functional import lazy


def _formatted(text, values: dict) -> str:
    return str(text % values)


# format_when_shown(text, values): `text % values` (text: a lazy translation), translated
# and formatted when shown.
format_when_shown = lazy(_formatted, str)

"""`{% icon "name" %}`: one of the portal's icons (static/icons/<name>.svg), inlined so that
it takes no request and draws in the text's colour (stroke="currentColor")."""

from __future__ import annotations

import functools
from pathlib import Path

from django import template
from django.contrib.staticfiles import finders
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@functools.cache
def _icon_markup(name: str) -> str:
    found = finders.find(f"icons/{name}.svg")
    if not found:
        raise template.TemplateSyntaxError(f"No icon named {name!r} in static/icons/.")
    svg = Path(found).read_text(encoding="utf-8").strip()
    # Decorative: the text beside it says what it means.
    return svg.replace("<svg ", '<svg class="icon" aria-hidden="true" focusable="false" ', 1)


@register.simple_tag
def icon(name: str) -> SafeString:
    return mark_safe(_icon_markup(name))  # noqa: S308 - the portal's own files, not input

"""`{% kept "includes/part.html" name=value ... %}`: a page part that shows nothing but
the values given (the header's link and inbox count, the tab bar and which tab is
current), drawn once per process for each set of values and language and then copied.
The part is rendered with those values alone (no request, no CSRF token, no context
processors), so nothing else can find its way into a copy; its key names every value,
the language and the script prefix, so a copy is never stale. A template file's final
newline is not part of the part (base.html places it)."""

from __future__ import annotations

import hashlib

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from sesame_portal.recent import Recent

register = template.Library()

# A few KB each: the tab bar for each page path seen lately, the header for each count.
_kept = Recent(500)


@register.simple_tag
def kept(template_name: str, **values) -> SafeString:
    shown = (
        template_name,
        get_language(),
        get_script_prefix(),
        sorted((name, str(value)) for name, value in values.items()),
    )
    # Hashed: a path may carry a token (an appeal's link), which no key should hold.
    key = hashlib.sha256(repr(shown).encode()).hexdigest()
    html = None if settings.DEBUG else _kept.get(key)  # DEBUG: templates being edited
    if html is None:
        html = render_to_string(template_name, values).removesuffix("\n")
        _kept.put(key, html)
    return mark_safe(html)  # noqa: S308 - our own templates' output

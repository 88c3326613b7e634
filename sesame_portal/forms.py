from __future__ import annotations

from django import forms
from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Renders form fields with the portal's own field template (templates/includes)."""

    field_template_name = "includes/field.html"


class TickBox(forms.CheckboxInput):
    """A checkbox that is ticked only by what a ticked box sends ("on", or a link's
    "true", "1", "yes"). Django's own CheckboxInput takes any other non-empty text as a
    tick, so `show_score=0` or `=off` counted as the person's consent."""

    TICKED = frozenset({"on", "true", "1", "yes"})

    def value_from_datadict(self, data, files, name) -> bool:
        value = data.get(name)
        if isinstance(value, bool):
            return value
        return isinstance(value, str) and value.strip().lower() in self.TICKED


class TickBoxField(forms.BooleanField):
    """forms.BooleanField read with TickBox: every yes/no box of the portal's forms."""

    widget = TickBox

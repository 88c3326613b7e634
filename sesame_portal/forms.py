from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Renders form fields with the portal's own field template (templates/includes)."""

    field_template_name = "includes/field.html"

from __future__ import annotations

from django import template

from scoring.model_health import model_alerts

register = template.Library()


@register.simple_tag
def model_integrity_alerts() -> list:
    """Active model versions that failed their integrity check (the admin banner)."""
    return model_alerts()

from __future__ import annotations

from django import template

from scoring.ml.health import model_alerts

register = template.Library()

# Active model versions that failed their integrity check (the admin banner).
register.simple_tag(model_alerts, name="model_integrity_alerts")

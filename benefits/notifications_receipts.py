"""How decision receipts and honour reports read in the inbox: a partner reported a
decision about the person, or admins answered the person's honour report. Registered
with accounts' notifications from BenefitsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Notification
from accounts.notifications import notification_kind_register
from benefits.models import HonourReport, PartnerDecision
from benefits.models.partners import name_in_language


def _partner_name(params: dict) -> str:
    return name_in_language(params.get("partner", ""), params.get("partner_en"))


def decision_reported_text(notification: Notification, context: Any = None) -> str:
    params = notification.params or {}
    value = params.get("decision", "")
    label = PartnerDecision(value).label if value in PartnerDecision.values else value
    return _(
        "%(partner)s reported its decision after checking your score: %(decision)s. "
        "See it beside the query."
    ) % {"partner": _partner_name(params), "decision": label}


def honour_report_answered_text(notification: Notification, context: Any = None) -> str:
    params = notification.params or {}
    if params.get("outcome") == HonourReport.Status.UPHELD:
        sentence = _("Your report about %(partner)s was upheld. Read the answer.")
    else:
        sentence = _("Your report about %(partner)s was not upheld. Read the answer.")
    return sentence % {"partner": _partner_name(params)}


def notification_kinds_register() -> None:
    notification_kind_register(
        Notification.Kind.PARTNER_DECISION_REPORTED,
        text=decision_reported_text,
        url=lambda n: reverse("benefits:queries"),
    )
    notification_kind_register(
        Notification.Kind.HONOUR_REPORT_ANSWERED,
        text=honour_report_answered_text,
        url=lambda n: reverse("benefits:honour_reports"),
    )

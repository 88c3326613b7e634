"""Benefit jobs: thin, they call a service."""

from __future__ import annotations

from celery import shared_task

from benefits.services import data_use
from benefits.services.anomalies import partner_anomalies_detect as detect
from benefits.services.erasure import erasure_requests_overdue_flag as overdue_flag


@shared_task(name="benefits.partner_anomalies_detect", ignore_result=True)
def partner_anomalies_detect() -> int:
    return len(detect())


@shared_task(name="benefits.erasure_requests_overdue_flag", ignore_result=True)
def erasure_requests_overdue_flag() -> int:
    return len(overdue_flag())


@shared_task(name="benefits.data_use_digests_create", ignore_result=True)
def data_use_digests_create() -> int:
    """Mondays: the week's digest of data uses for those who chose one."""
    return len(data_use.data_use_digests_create())


@shared_task(name="benefits.authorizations_expiring_remind", ignore_result=True)
def authorizations_expiring_remind() -> int:
    """Daily: remind people of their partner authorisations that end within a week."""
    return len(data_use.authorizations_expiring_remind())

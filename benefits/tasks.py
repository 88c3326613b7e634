"""Benefit jobs: thin, they call a service."""

from __future__ import annotations

from celery import shared_task

from benefits.services.anomalies import partner_anomalies_detect as detect
from benefits.services.erasure import erasure_requests_overdue_flag as overdue_flag


@shared_task(name="benefits.partner_anomalies_detect", ignore_result=True)
def partner_anomalies_detect() -> int:
    return len(detect())


@shared_task(name="benefits.erasure_requests_overdue_flag", ignore_result=True)
def erasure_requests_overdue_flag() -> int:
    return len(overdue_flag())

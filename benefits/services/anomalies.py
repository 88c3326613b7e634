"""Flagging partners whose calls look like scraping or resale: a volume far above their
own recent baseline, many distinct people in a short time, many refused calls. Flags
are shown in the admin; a partner configured for it is suspended at once."""

from __future__ import annotations

import datetime
import logging

from django.db.models import Count, Q
from django.utils import timezone

from benefits.models import Partner, PartnerAnomaly, PartnerQuery
from benefits.services.partners import partner_status_set

logger = logging.getLogger(__name__)

# Thresholds: a flag needs both a ratio and an absolute floor, so a quiet partner's
# first busy hour is not an anomaly.
SPIKE_FACTOR = 5  # calls in the last hour against the hourly mean of the previous week
SPIKE_FLOOR = 200
DISTINCT_USERS_WINDOW = datetime.timedelta(minutes=10)
DISTINCT_USERS_MAX = 300
REFUSED_FLOOR = 50
REFUSED_SHARE = 0.5


def _flags(counts: dict) -> list[tuple[str, dict]]:
    flags = []
    hour, week, users, refused = (
        counts["hour"],
        counts["week"],
        counts["users"],
        counts["refused"],
    )
    baseline = week / (7 * 24)
    if hour >= SPIKE_FLOOR and hour > SPIKE_FACTOR * baseline:
        flags.append(
            (
                PartnerAnomaly.Kind.VOLUME_SPIKE,
                {"calls_last_hour": hour, "hourly_baseline": round(baseline, 1)},
            )
        )
    if users > DISTINCT_USERS_MAX:
        flags.append(
            (
                PartnerAnomaly.Kind.MANY_USERS,
                {"distinct_people_last_10_minutes": users, "limit": DISTINCT_USERS_MAX},
            )
        )
    if refused >= REFUSED_FLOOR and refused > REFUSED_SHARE * hour:
        flags.append(
            (
                PartnerAnomaly.Kind.MANY_REFUSALS,
                {"refused_last_hour": refused, "calls_last_hour": hour},
            )
        )
    return flags


def partner_anomalies_detect(*, now: datetime.datetime | None = None) -> list[PartnerAnomaly]:
    """Look at every approved partner's recent calls (one aggregate query), record new
    flags (one open flag per partner and kind) and suspend partners configured for it."""
    now = now or timezone.now()
    hour_ago = now - datetime.timedelta(hours=1)
    week_ago = hour_ago - datetime.timedelta(days=7)
    recent_users = now - DISTINCT_USERS_WINDOW
    rows = (
        PartnerQuery.objects.filter(
            created_at__gte=week_ago, partner__status=Partner.Status.APPROVED
        )
        .values("partner_id")
        .annotate(
            hour=Count("id", filter=Q(created_at__gte=hour_ago)),
            week=Count("id", filter=Q(created_at__lt=hour_ago)),
            users=Count("user_id", filter=Q(created_at__gte=recent_users), distinct=True),
            refused=Count("id", filter=Q(created_at__gte=hour_ago) & ~Q(outcome="ok")),
        )
    )
    open_flags = set(
        PartnerAnomaly.objects.filter(resolved_at__isnull=True).values_list("partner_id", "kind")
    )
    created = []
    for row in rows:
        for kind, detail in _flags(row):
            if (row["partner_id"], kind) in open_flags:
                continue
            partner = Partner.objects.get(pk=row["partner_id"])
            anomaly = PartnerAnomaly.objects.create(
                partner=partner, kind=kind, detail=detail, detected_at=now
            )
            logger.warning("partner %s flagged: %s %s", partner.pk, kind, detail)
            if partner.suspend_on_anomaly and partner.status == Partner.Status.APPROVED:
                partner_status_set(
                    partners=[partner],
                    status=Partner.Status.SUSPENDED,
                    reason=f"automatic: {anomaly.get_kind_display()}",
                    by=None,
                )
                anomaly.suspended_partner = True
                anomaly.save(update_fields=["suspended_partner"])
                partner.status = Partner.Status.SUSPENDED
            created.append(anomaly)
    return created

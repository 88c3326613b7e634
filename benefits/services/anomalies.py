"""Flagging partners whose calls look like scraping or resale: a volume far above their
own recent baseline, many distinct people in a short time, many refused calls, repeated
identity check mismatches (guessing at ID numbers). Flags are shown in the admin; a
partner configured for it is suspended at once."""

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
# Identity checks answered "no" in the last hour, over all the partner's authorisations
# (each authorisation also stops its own checks after a few; see partner_calls).
IDENTITY_MISMATCH_FLOOR = 3


def _flags(counts: dict) -> list[tuple[str, dict]]:
    flags = []
    hour, week, users, refused, mismatches = (
        counts["hour"],
        counts["week"],
        counts["users"],
        counts["refused"],
        counts["mismatches"],
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
    if mismatches >= IDENTITY_MISMATCH_FLOOR:
        flags.append(
            (
                PartnerAnomaly.Kind.IDENTITY_MISMATCHES,
                {"identity_mismatches_last_hour": mismatches},
            )
        )
    return flags


def _flag(partner: Partner, kind: str, detail: dict, now: datetime.datetime) -> PartnerAnomaly:
    """Record one flag and suspend the partner if it is configured for it."""
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
    return anomaly


def identity_mismatches_flag(*, partner: Partner, detail: dict) -> PartnerAnomaly | None:
    """Flag at once an authorisation whose identity checks stopped after repeated
    mismatches (one open flag per partner and kind, as the detector keeps)."""
    kind = PartnerAnomaly.Kind.IDENTITY_MISMATCHES
    if PartnerAnomaly.objects.filter(partner=partner, kind=kind, resolved_at__isnull=True).exists():
        return None
    return _flag(partner, kind, detail, timezone.now())


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
            mismatches=Count(
                "id",
                filter=Q(
                    created_at__gte=hour_ago,
                    kind=PartnerQuery.Kind.IDENTITY_CHECK,
                    outcome="ok",
                    detail__match=False,
                ),
            ),
        )
    )
    open_flags = set(
        PartnerAnomaly.objects.filter(resolved_at__isnull=True).values_list("partner_id", "kind")
    )
    created = []
    partners: dict[int, Partner] = {}  # one object per partner: a suspension is seen once
    for row in rows:
        for kind, detail in _flags(row):
            if (row["partner_id"], kind) in open_flags:
                continue
            partner = partners.get(row["partner_id"])
            if partner is None:
                partner = partners[row["partner_id"]] = Partner.objects.get(pk=row["partner_id"])
            created.append(_flag(partner, kind, detail, now))
    return created

"""Reads of decision receipts, honour reports and partners' public cards (kept beside
benefits.selectors, which answers the partner calls' and the catalogue's questions)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from benefits.models import (
    Benefit,
    DecisionReceipt,
    HonourReport,
    Partner,
    PartnerAnomaly,
    PartnerDecision,
    PartnerQuery,
)
from benefits.selectors import benefits_offered
from benefits.services.receipts import DECIDED_KINDS
from scoring.models import Dispute

# The complaint rate is counted per this many answered queries.
COMPLAINTS_PER = 1000


def receipts_for_user(*, user: User) -> QuerySet[DecisionReceipt]:
    """The decisions partners reported about the person, newest first."""
    return (
        DecisionReceipt.objects.filter(user=user)
        .select_related("partner", "query")
        .order_by("-reported_at", "-id")
    )


def receipt_for_user(*, user: User, receipt_id: int) -> DecisionReceipt | None:
    """One of the person's receipts; None for another person's or an unknown one."""
    return DecisionReceipt.objects.filter(pk=receipt_id, user=user).first()


def receipts_by_query(*, user: User, query_ids: list[int]) -> dict[int, DecisionReceipt]:
    """The person's receipts of these queries, by query id (one read for a page)."""
    rows = DecisionReceipt.objects.filter(user=user, query_id__in=query_ids).select_related(
        "dispute"
    )
    return {row.query_id: row for row in rows}


def disputes_open_for_user(*, user: User) -> list[Dispute]:
    """The person's disputes still waiting for an answer: where a decision may be added."""
    return list(Dispute.objects.filter(user=user, status__in=Dispute.OPEN).order_by("created_at"))


def honour_reports_for_user(*, user: User) -> QuerySet[HonourReport]:
    return (
        HonourReport.objects.filter(user=user)
        .select_related("partner", "benefit")
        .order_by("-created_at", "-id")
    )


def benefits_unlocked_by_user(*, user: User) -> list[Benefit]:
    """Every benefit the person has unlocked, now or before: what they may report."""
    return list(
        Benefit.objects.filter(unlocks__user=user)
        .select_related("partner")
        .distinct()
        .order_by("partner__name", "title_zh")
    )


def honour_reports_overdue(now: datetime.datetime | None = None) -> QuerySet[HonourReport]:
    """Reports still unanswered past their deadline (flagged in the admin)."""
    return HonourReport.objects.filter(
        status=HonourReport.Status.RECEIVED, due_at__lt=now or timezone.now()
    )


# --- Public cards --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerCard:
    """What anyone may read about an approved partner: no person appears in it."""

    partner: Partner
    decisions: int  # decisions reported
    declined: int
    refusal_rate: Decimal | None  # percent of decisions reported that were declines
    answered_queries: int  # score and eligibility queries answered
    complaints_upheld: int  # honour reports upheld
    complaint_rate: Decimal | None  # upheld honour reports per COMPLAINTS_PER answered queries
    anomalies_open: int
    benefits_on_offer: int


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def partner_card(*, partner_id: int) -> PartnerCard | None:
    """The public card of an approved partner; None for any other (unknown, pending or
    suspended alike). Aggregates only: a fixed number of queries, whatever the volume."""
    partner = Partner.objects.filter(pk=partner_id, status=Partner.Status.APPROVED).first()
    if partner is None:
        return None
    decisions = DecisionReceipt.objects.filter(partner=partner).aggregate(
        all=Count("id"), declined=Count("id", filter=Q(outcome=PartnerDecision.DECLINED))
    )
    answered = PartnerQuery.objects.filter(
        partner=partner, kind__in=DECIDED_KINDS, outcome="ok"
    ).count()
    upheld = HonourReport.objects.filter(partner=partner, status=HonourReport.Status.UPHELD).count()
    return PartnerCard(
        partner=partner,
        decisions=decisions["all"],
        declined=decisions["declined"],
        refusal_rate=(
            _rounded(Decimal(100 * decisions["declined"]) / decisions["all"])
            if decisions["all"]
            else None
        ),
        answered_queries=answered,
        complaints_upheld=upheld,
        complaint_rate=(
            _rounded(Decimal(COMPLAINTS_PER * upheld) / answered) if answered else None
        ),
        anomalies_open=PartnerAnomaly.objects.filter(
            partner=partner, resolved_at__isnull=True
        ).count(),
        benefits_on_offer=benefits_offered().filter(partner=partner).count(),
    )


# --- Export ---------------------------------------------------------------------------------


def receipts_export(*, user: User) -> dict:
    """The decisions reported about the person and their honour reports, for "download
    my data"."""
    return {
        "partner_decisions": list(
            DecisionReceipt.objects.filter(user=user)
            .order_by("reported_at", "id")
            .values(
                "partner__name",
                "query__kind",
                "query__created_at",
                "outcome",
                "limit",
                "reason_code",
                "reported_at",
                "dispute_id",
                "disputed_at",
            )
        ),
        "honour_reports": list(
            HonourReport.objects.filter(user=user)
            .order_by("created_at", "id")
            .values(
                "partner__name",
                "benefit__title_zh",
                "what_happened",
                "status",
                "answer",
                "created_at",
                "due_at",
                "answered_at",
            )
        ),
    }

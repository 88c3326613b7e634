"""What a person is told about their disputes, and the deadline that keeps the promise.

Every change of a dispute's status (received, under review, corrected, rejected) and the
passing of its deadline unanswered is one notification to its owner, mailed to those who
turned email on, as score notifications are. `disputes_overdue_mark` (run by the beat
task `scoring.disputes_overdue_mark`) marks the disputes that just passed their deadline
unanswered; from then on their repayment or bill does not count in the score
(scoring.models.disputes.UNCOUNTED, read by scoring.selectors.feature_inputs_load) until
the dispute is answered. This module does not queue recomputes: it returns whom to
recompute, and scoring.tasks queues them (it may not import scoring.tasks).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import Notification
from accounts.tasks import notification_emails_queue
from scoring.models import Dispute

logger = logging.getLogger(__name__)

# Snapshot triggers of the recomputes around the deadline (their words are in
# scoring.explain.reasons.TRIGGER_TEXTS).
TRIGGER_OVERDUE = "dispute_overdue"
TRIGGER_ANSWERED_LATE = "dispute_answered_late"
OVERDUE = "overdue"  # the notification's status when the deadline passed


def _notice(dispute: Dispute, status: str, note: str) -> dict:
    params = {
        "dispute_id": dispute.pk,
        "status": status,
        "due": timezone.localdate(dispute.due_at).isoformat(),
    }
    if status == Dispute.Status.REJECTED:
        params["reason"] = note
    if status == OVERDUE:
        params["uncounted"] = dispute.kind in Dispute.SCORED_KINDS
    return params


def disputes_notify(
    *, changes: Iterable[tuple[Dispute, str, str]], at: datetime.datetime
) -> list[Notification]:
    """One notification per (dispute, new status or OVERDUE, note), stamped `at`, and one
    email task after commit for their owners who asked for email: two writes for any
    number of disputes."""
    rows = [
        Notification(
            user_id=dispute.user_id,
            kind=Notification.Kind.DISPUTE_UPDATED,
            params=_notice(dispute, status, note),
            created_at=at,
        )
        for dispute, status, note in changes
    ]
    Notification.objects.bulk_create(rows)
    notification_emails_queue(user_ids={row.user_id for row in rows}, at=at)
    return rows


def disputes_overdue_mark(*, now: datetime.datetime | None = None) -> set[int]:
    """Mark the open disputes whose deadline has passed and that are not marked yet, and
    tell their owners. Returns the users to recompute: those whose disputed repayment or
    bill now leaves their score. Safe to run twice (the mark is the guard; rows another
    run holds are skipped, and that run marks them)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Dispute.objects.select_for_update(skip_locked=True)
            .filter(status__in=Dispute.OPEN, due_at__lte=now, overdue_at__isnull=True)
            .order_by("due_at", "pk")
        )
        if not due:
            return set()
        Dispute.objects.filter(pk__in=[d.pk for d in due]).update(overdue_at=now)
        for dispute in due:
            dispute.overdue_at = now
        disputes_notify(changes=[(d, OVERDUE, "") for d in due], at=now)
    logger.info("disputes past their deadline", extra={"disputes": len(due)})
    return {d.user_id for d in due if d.record_uncounted}

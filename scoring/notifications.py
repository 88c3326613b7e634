"""How scoring's notifications read: a score change with its main reason in the reader's
language, leading to its explanation in the history; a dispute's news (received, under
review, answered, deadline passed), leading to the dispute. Registered with accounts'
notifications from ScoringConfig.ready()."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Notification
from accounts.notifications import notification_kind_register
from scoring.explain.changes import Part, base_points_of, change_between
from scoring.models import Dispute, ScoreSnapshot
from scoring.services.dispute_notices import OVERDUE

Snapshots = dict[int, ScoreSnapshot]
# A score notification's context: its two snapshots and their models' base points.
ScoreContext = tuple[Snapshots, dict[int, float]]


def score_snapshots_for(notifications: Sequence[Notification]) -> ScoreContext:
    """The two snapshots of every score notification, with their models' base points: two
    queries whatever the number. Only the notified user's own snapshots are read; one
    that is gone (history deleted) is simply missing."""
    wanted = {
        pk
        for n in notifications
        if n.kind == Notification.Kind.SCORE_CHANGED
        for pk in ((n.params or {}).get("previous_id"), (n.params or {}).get("snapshot_id"))
        if isinstance(pk, int)
    }
    if not wanted:
        return {}, {}
    snapshots = list(
        ScoreSnapshot.objects.filter(pk__in=wanted, user_id__in={n.user_id for n in notifications})
        .select_related("model_version")
        .only(
            "id",
            "user_id",
            "score",
            "feature_points",
            "feature_values",
            "model_version__points_layout",
            "computed_at",
        )
    )
    return {s.pk: s for s in snapshots}, base_points_of(snapshots)


def _signed(points: int) -> str:
    # As the score pages show points: a plus, or a true minus sign.
    return f"+{points}" if points >= 0 else f"\u2212{-points}"


def _main_reason(
    notification: Notification, snapshots: Snapshots, base_points: dict[int, float]
) -> Part | None:
    """The largest part of the change that moved the score the way it went."""
    params = notification.params or {}
    before = snapshots.get(params.get("previous_id"))
    after = snapshots.get(params.get("snapshot_id"))
    if before is None or after is None or {before.user_id, after.user_id} != {notification.user_id}:
        return None
    change = change_between(before, after, base_points=base_points)
    return next((part for part in change.parts if part.points * change.total > 0), None)


def score_changed_text(notification: Notification, context: ScoreContext | None = None) -> str:
    """The change; with its snapshots in `context` (see score_snapshots_for), its main
    reason too."""
    snapshots, base_points = context or ({}, {})
    params = notification.params or {}
    values = {"before": params.get("from", 0), "after": params.get("to", 0)}
    reason = _main_reason(notification, snapshots, base_points)
    if reason is None:
        return _("Your score went from %(before)d to %(after)d.") % values
    return _(
        "Your score went from %(before)d to %(after)d (%(change)s), "
        "mostly because of: %(reason)s (%(points)s)."
    ) % {
        **values,
        "change": _signed(values["after"] - values["before"]),
        "reason": reason.text,
        "points": _signed(reason.points),
    }


def score_changed_url(notification: Notification) -> str | None:
    """The change's explanation in the history."""
    snapshot_id = (notification.params or {}).get("snapshot_id")
    if not isinstance(snapshot_id, int):
        return None
    return f"{reverse('scoring:history')}?at={snapshot_id}#change"


def _due(params: dict) -> str:
    try:
        return date_format(datetime.date.fromisoformat(params.get("due", "")))
    except (TypeError, ValueError):
        return ""


def dispute_updated_text(notification: Notification, context: Any = None) -> str:
    """The dispute's news in one sentence (no record details: an email is not the place)."""
    params = notification.params or {}
    status, values = params.get("status"), {"due": _due(params)}
    if status == Dispute.Status.RECEIVED:
        return _("We received your dispute of a record and will answer by %(due)s.") % values
    if status == Dispute.Status.UNDER_REVIEW:
        return _("Your dispute is under review. We will answer by %(due)s.") % values
    if status == Dispute.Status.CORRECTED:
        return _("Your dispute was upheld: the record is corrected and your score recomputed.")
    if status == Dispute.Status.REJECTED:
        return _("Your dispute was rejected. Reason: %(reason)s") % {
            "reason": params.get("reason", "")
        }
    if status == OVERDUE and params.get("uncounted"):
        return (
            _(
                "We did not answer your dispute by %(due)s. Until we do, the disputed record "
                "does not count in your score, which is recomputed without it."
            )
            % values
        )
    if status == OVERDUE:
        return (
            _(
                "We did not answer your dispute by %(due)s. We are sorry: we will answer it as "
                "soon as we can."
            )
            % values
        )
    return str(notification.get_kind_display())


def dispute_updated_url(notification: Notification) -> str | None:
    dispute_id = (notification.params or {}).get("dispute_id")
    if not isinstance(dispute_id, int):
        return None
    return reverse("scoring:dispute", args=[dispute_id])


def notification_kinds_register() -> None:
    notification_kind_register(
        Notification.Kind.SCORE_CHANGED,
        text=score_changed_text,
        url=score_changed_url,
        context=score_snapshots_for,
    )
    notification_kind_register(
        Notification.Kind.DISPUTE_UPDATED,
        text=dispute_updated_text,
        url=dispute_updated_url,
        subject=gettext_lazy("Sesame Portal: news of your dispute"),
    )

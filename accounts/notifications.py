"""Notifications: writing score changes, their text in the reader's language, reading and
marking them, and mailing them to the users who asked for email."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationPreference, User
from scoring.explain import Part, base_points_of, change_between
from scoring.models import ScoreSnapshot
from sesame_portal.bulk import copy_insert
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# Links in emails need the portal's address; there is no request to take it from.

Snapshots = dict[int, ScoreSnapshot]


# --- Writing ------------------------------------------------------------------------------------


def score_changes_notify(
    *,
    changes: Iterable[tuple[int, int | None, int | None, int, int]],
    at: datetime.datetime,
) -> list[int]:
    """One notification for each user whose new score differs from their previous one.

    `changes` are (user id, previous snapshot id, previous score, new snapshot id, new
    score); a first score (no previous snapshot) or an unchanged one says nothing. One
    bulk insert for any number of users (the nightly run calls it once per chunk).
    Returns the ids of the users notified.
    """
    rows = [
        (
            user_id,
            Notification.Kind.SCORE_CHANGED,
            {"from": before, "to": after, "snapshot_id": snapshot_id, "previous_id": previous_id},
            at,
        )
        for user_id, previous_id, before, snapshot_id, after in changes
        if previous_id is not None and before != after
    ]
    copy_insert(
        Notification,
        ("user_id", "kind", "params", "created_at"),
        rows,
        json_columns=frozenset({"params"}),
    )
    return [row[0] for row in rows]


def partner_grants_ended_notify(
    *, user_ids: Iterable[int], partner_name: str, at: datetime.datetime
) -> None:
    """Tell each person that their authorisation of a partner ended because the partner
    was suspended: one bulk insert however many people."""
    copy_insert(
        Notification,
        ("user_id", "kind", "params", "created_at"),
        [
            (user_id, Notification.Kind.PARTNER_AUTHORIZATION_ENDED, {"partner": partner_name}, at)
            for user_id in user_ids
        ],
        json_columns=frozenset({"params"}),
    )


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_email_set(
    *, user: User, by_email: bool, email: str = "", language: str = ""
) -> NotificationPreference:
    """Turn notification emails on or off. An address typed here becomes the account's
    email when it has none; emails are written in `language` (the page's)."""
    email = (email or "").strip()
    if by_email and not (user.email or email):
        raise ServiceError("email_required", _("Enter the email address to send them to."))
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with transaction.atomic():
        if email and not user.email:
            user.email = email
            user.save(update_fields=["email"])
        preference, _created = NotificationPreference.objects.update_or_create(
            user=user, defaults={"by_email": by_email, "language": language}
        )
    return preference


# --- Reading ------------------------------------------------------------------------------------


def notifications_for_user(*, user: User, limit: int = PAGE_SIZE) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_email_preference(*, user: User) -> NotificationPreference:
    """The user's choice, or the default (inbox only) when they never made one."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def score_snapshots_for(
    notifications: Sequence[Notification],
) -> tuple[Snapshots, dict[int, float]]:
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
        ScoreSnapshot.objects.filter(
            pk__in=wanted, user_id__in={n.user_id for n in notifications}
        ).only("id", "user_id", "score", "contributions", "model_version_id", "computed_at")
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


def _score_changed_text(
    notification: Notification, snapshots: Snapshots, base_points: dict[int, float]
) -> str:
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


APPEAL_KINDS = (Notification.Kind.IDENTITY_APPEAL_FILED, Notification.Kind.IDENTITY_APPEAL_DECIDED)


def _appeal_text(kind: str, params: dict) -> str:
    if kind == Notification.Kind.IDENTITY_APPEAL_FILED:
        return _(
            "Someone appealed against the real-name verification on your account, saying "
            "the ID number is theirs. Our staff will review it and tell you the outcome."
        )
    approved = params.get("outcome") == "approved"
    if params.get("role") == "holder":
        if approved:
            return _(
                "An appeal against the real-name verification on your account was upheld: "
                "the ID number now belongs to another account, and your account is no "
                "longer verified."
            )
        return _(
            "An appeal against the real-name verification on your account was rejected: "
            "nothing changes for you."
        )
    if approved:
        return _("Your identity appeal was upheld: your real name is now verified on this account.")
    return _("Your identity appeal was rejected. Reason: %(reason)s") % {
        "reason": params.get("reason", "")
    }


def notification_text(
    notification: Notification,
    *,
    snapshots: Snapshots | None = None,
    base_points: dict[int, float] | None = None,
) -> str:
    """One sentence in the active language. A score change names its main reason when
    its two snapshots are given (see score_snapshots_for)."""
    params = notification.params or {}
    if notification.kind == Notification.Kind.SCORE_CHANGED:
        return _score_changed_text(notification, snapshots or {}, base_points or {})
    if notification.kind in APPEAL_KINDS:
        return _appeal_text(notification.kind, params)
    if notification.kind == Notification.Kind.PARTNER_AUTHORIZATION_ENDED:
        return _(
            "Your authorisation of %(partner)s has ended because the partner was suspended. "
            "It can no longer see anything of yours; if it is approved again, it must ask "
            "you again."
        ) % {"partner": params.get("partner", "")}
    if notification.kind == Notification.Kind.NEW_SIGN_IN:
        return _(
            "New sign-in on %(device)s at %(time)s. If it was not you, change your password: "
            "that signs out every device."
        ) % {
            "device": params.get("device") or _("an unknown device"),
            "time": timezone.localtime(notification.created_at).strftime("%Y-%m-%d %H:%M"),
        }
    english = (get_language() or "").startswith("en")
    titles = [
        (item.get("title_en") if english else None) or item.get("title_zh", "")
        for item in params.get("benefits", [])
    ]
    listed = (", " if english else "、").join(titles)
    if notification.kind == Notification.Kind.BENEFIT_UNLOCKED:
        return ngettext(
            "Unlocked: %(titles)s. Claim it under Benefits.",
            "Unlocked: %(titles)s. Claim them under Benefits.",
            len(titles),
        ) % {"titles": listed}
    if notification.kind == Notification.Kind.BENEFIT_LOCKED:
        return ngettext(
            "Locked again: %(titles)s. Your score is below what it needs, or the offer changed.",
            "Locked again: %(titles)s. Your score is below what they need, or the offers changed.",
            len(titles),
        ) % {"titles": listed}
    return str(notification.get_kind_display())


def notification_url(notification: Notification) -> str | None:
    """Where the notification leads: a score change to its explanation in the history, an
    identity appeal to the verification page, an ended partner authorisation to the
    consents page, a new sign-in to the devices page."""
    if notification.kind == Notification.Kind.NEW_SIGN_IN:
        return reverse("accounts:devices")
    snapshot_id = (notification.params or {}).get("snapshot_id")
    if notification.kind == Notification.Kind.SCORE_CHANGED and isinstance(snapshot_id, int):
        return f"{reverse('scoring:history')}?at={snapshot_id}#change"
    if notification.kind in APPEAL_KINDS:
        return reverse("accounts:identity")
    if notification.kind == Notification.Kind.PARTNER_AUTHORIZATION_ENDED:
        return reverse("accounts:consents")
    return None


def notifications_page(*, user: User, limit: int = PAGE_SIZE) -> list[dict]:
    """The user's latest notifications as the inbox shows them, newest first: a fixed
    number of queries (the notifications, then their snapshots and base points)."""
    notifications = list(notifications_for_user(user=user, limit=limit))
    snapshots, base_points = score_snapshots_for(notifications)
    return [
        {
            "text": notification_text(n, snapshots=snapshots, base_points=base_points),
            "url": notification_url(n),
            "kind": n.kind,
            "created_at": n.created_at,
            "unread": n.read_at is None,
        }
        for n in notifications
    ]


# --- Email --------------------------------------------------------------------------------------


def notification_emails_queue(*, user_ids: Iterable[int], at: datetime.datetime) -> None:
    """After commit, one task that mails these users the notifications they got at `at`.

    Both recomputes stamp a snapshot's score and benefit notifications with one moment,
    so the task finds them all; it mails only users who turned email on, so callers may
    pass users who did not.
    """
    from accounts.tasks import notification_emails_send as task

    ids = sorted(set(user_ids))
    if not ids:
        return
    stamp = at.isoformat()
    # robust: a broker that is down must not fail the request that already committed.
    transaction.on_commit(lambda: task.delay(ids, stamp), robust=True)


def _portal_url(path: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + path


def _email_message(
    user: User,
    notifications: list[Notification],
    snapshots: Snapshots,
    base_points: dict[int, float],
) -> EmailMessage:
    """One email for one user: each sentence with its link, nothing more about them (no
    name, no ID number: an inbox is not a safe place for those)."""
    inbox = _portal_url(reverse("accounts:notifications"))
    with translation.override(user.notification_preference.language):
        lines = []
        for n in notifications:
            lines.append(notification_text(n, snapshots=snapshots, base_points=base_points))
            lines += [_portal_url(notification_url(n) or reverse("accounts:notifications")), ""]
        lines.append(
            _(
                "You get these emails because you asked for them on your notifications "
                "page. Turn them off there: %(url)s"
            )
            % {"url": inbox}
        )
        subject = _("Sesame Portal: your score or benefits changed")
    return EmailMessage(
        subject=subject,
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )


def notification_emails_send(*, user_ids: Sequence[int], at: datetime.datetime) -> int:
    """Mail each of these users who turned email on the notifications they got at `at`
    and were not mailed yet: one email a user, over one connection. Returns the number
    of emails sent."""
    pending = list(
        Notification.objects.filter(
            user_id__in=sorted(set(user_ids)),
            created_at=at,
            emailed_at__isnull=True,
            user__notification_preference__by_email=True,
        )
        .exclude(user__email="")
        .select_related("user__notification_preference")
        .order_by("user_id", "id")
    )
    if not pending:
        return 0
    snapshots, base_points = score_snapshots_for(pending)
    by_user: dict[int, list[Notification]] = {}
    for n in pending:
        by_user.setdefault(n.user_id, []).append(n)
    sent = 0
    with get_connection() as connection:
        for items in by_user.values():
            with transaction.atomic():
                # Claim before sending: a second delivery of this task waits on these rows
                # and then finds them mailed; a failed send rolls the claim back.
                claimed = Notification.objects.filter(
                    pk__in=[n.pk for n in items], emailed_at__isnull=True
                ).update(emailed_at=timezone.now())
                if not claimed:
                    continue
                message = _email_message(items[0].user, items, snapshots, base_points)
                message.connection = connection
                message.send()
            sent += 1
    logger.info("notification emails sent", extra={"emails": sent})
    return sent

"""Notifications: their text in the reader's language, reading and marking them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Notification, User


def notification_text(notification: Notification) -> str:
    params = notification.params or {}
    english = (get_language() or "").startswith("en")
    title = params.get("title_en" if english else "title_zh") or params.get("title_zh", "")
    if notification.kind == Notification.Kind.BENEFIT_UNLOCKED:
        return _("Unlocked: %(title)s. Your score reached %(score)s; claim it under Benefits.") % {
            "title": title,
            "score": params.get("min_score", ""),
        }
    if notification.kind == Notification.Kind.BENEFIT_LOCKED:
        return _(
            "%(title)s is locked again: your score fell below %(score)s or the offer changed."
        ) % {"title": title, "score": params.get("min_score", "")}
    return str(notification.get_kind_display())


def notifications_for_user(*, user: User, limit: int = 100) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )

"""Notifications: their text in the reader's language, reading and marking them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language, ngettext

from accounts.models import Notification, User


def notification_text(notification: Notification) -> str:
    params = notification.params or {}
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


def notifications_for_user(*, user: User, limit: int = 100) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )

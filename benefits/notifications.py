"""How benefit notifications read: the benefits unlocked or locked again, listed by their
titles in the reader's language. Registered with accounts' notifications from
BenefitsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language, ngettext

from accounts.models import Notification
from accounts.notifications import notification_kind_register


def _titles(notification: Notification) -> list[str]:
    english = (get_language() or "").startswith("en")
    return [
        (item.get("title_en") if english else None) or item.get("title_zh", "")
        for item in (notification.params or {}).get("benefits", [])
    ]


def _listed(titles: list[str]) -> str:
    return (", " if (get_language() or "").startswith("en") else "、").join(titles)


def benefit_unlocked_text(notification: Notification, context: Any = None) -> str:
    titles = _titles(notification)
    return ngettext(
        "Unlocked: %(titles)s. Claim it under Benefits.",
        "Unlocked: %(titles)s. Claim them under Benefits.",
        len(titles),
    ) % {"titles": _listed(titles)}


def benefit_locked_text(notification: Notification, context: Any = None) -> str:
    titles = _titles(notification)
    return ngettext(
        "Locked again: %(titles)s. Your score is below what it needs, or the offer changed.",
        "Locked again: %(titles)s. Your score is below what they need, or the offers changed.",
        len(titles),
    ) % {"titles": _listed(titles)}


def notification_kinds_register() -> None:
    # No link: the inbox is where they are read (as before).
    notification_kind_register(Notification.Kind.BENEFIT_UNLOCKED, text=benefit_unlocked_text)
    notification_kind_register(Notification.Kind.BENEFIT_LOCKED, text=benefit_locked_text)

"""How benefit notifications read: the benefits unlocked or locked again, listed by their
titles in the reader's language, and erasure requests done or overdue. Registered with
accounts' notifications from BenefitsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.models import Notification
from accounts.notifications import notification_kind_register


def benefits_changed_text(notification: Notification, context: Any = None) -> str:
    """The benefits unlocked, or locked again, by their titles in the active language."""
    english = (get_language() or "").startswith("en")
    titles = [
        (item.get("title_en") if english else None) or item.get("title_zh", "")
        for item in (notification.params or {}).get("benefits", [])
    ]
    if notification.kind == Notification.Kind.BENEFIT_UNLOCKED:
        sentence = ngettext(
            "Unlocked: %(titles)s. Claim it under Benefits.",
            "Unlocked: %(titles)s. Claim them under Benefits.",
            len(titles),
        )
    else:
        sentence = ngettext(
            "Locked again: %(titles)s. Your score is below what it needs, or the offer changed.",
            "Locked again: %(titles)s. Your score is below what they need, or the offers changed.",
            len(titles),
        )
    return sentence % {"titles": (", " if english else "、").join(titles)}


def goal_reached_text(notification: Notification, context: Any = None) -> str:
    """The goal reached: the benefit by its title, or the score."""
    params = notification.params or {}
    english = (get_language() or "").startswith("en")
    title = (params.get("title_en") if english else None) or params.get("title_zh")
    if title:
        return _(
            "Goal reached: your score of %(score)s meets the %(target)s that %(title)s needs."
        ) % {"score": params.get("score"), "target": params.get("target"), "title": title}
    return _(
        "Goal reached: your score is now %(score)s, at or above your target of %(target)s."
    ) % {
        "score": params.get("score"),
        "target": params.get("target"),
    }


def goal_url(notification: Notification) -> str:
    return reverse("benefits:goal")


def erasure_text(notification: Notification, context: Any = None) -> str:
    """An erasure request done by the partner, or overdue."""
    partner = (notification.params or {}).get("partner", "")
    if notification.kind == Notification.Kind.PARTNER_ERASURE_DONE:
        return _("%(partner)s says it has erased your data, as you asked.") % {"partner": partner}
    return _(
        "%(partner)s has not confirmed erasing your data in time. We have flagged it to our staff."
    ) % {"partner": partner}


def erasure_url(notification: Notification) -> str | None:
    partner_id = (notification.params or {}).get("partner_id")
    return reverse("benefits:partner", args=[partner_id]) if partner_id else None


def notification_kinds_register() -> None:
    # No link: the inbox is where they are read (as before).
    for kind in (Notification.Kind.BENEFIT_UNLOCKED, Notification.Kind.BENEFIT_LOCKED):
        notification_kind_register(kind, text=benefits_changed_text)
    notification_kind_register(Notification.Kind.GOAL_REACHED, text=goal_reached_text, url=goal_url)
    # An erasure request leads to the partner's page, where it is shown.
    for kind in (Notification.Kind.PARTNER_ERASURE_DONE, Notification.Kind.PARTNER_ERASURE_OVERDUE):
        notification_kind_register(kind, text=erasure_text, url=erasure_url)

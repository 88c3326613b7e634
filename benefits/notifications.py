"""How benefit notifications read: the benefits unlocked or locked again, listed by their
titles in the reader's language, and erasure requests done or overdue. Registered with
accounts' notifications from BenefitsConfig.ready()."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from accounts.models import Notification
from accounts.notifications import notification_kind_register
from accounts.templatetags.expiry import expiry
from benefits.models import DISCLOSED_LABELS, PartnerQuery
from benefits.selectors import authorizations_notified, queries_notified


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


def _ids(notifications: Sequence[Notification], key: str) -> list[tuple[int, int]]:
    """(user id, the id under `key` in params) of each notification that names one."""
    pairs = []
    for n in notifications:
        value = (n.params or {}).get(key)
        if isinstance(value, int):
            pairs.append((n.user_id, value))
    return pairs


# The fields disclosed, in the order DISCLOSED_LABELS names them (score before band).
_DISCLOSED_ORDER = {name: index for index, name in enumerate(DISCLOSED_LABELS)}


def data_used_context(notifications: Sequence[Notification]) -> dict[int, PartnerQuery]:
    """The calls these DATA_USED notifications name, with their partners (one query)."""
    return queries_notified(notified=_ids(notifications, "query_id"))


def data_used_text(notification: Notification, context: Any = None) -> str:
    """Who used what, for what: "<partner> checked your score for “<purpose>”. Disclosed:
    <fields>." in the active language."""
    query = (context or {}).get((notification.params or {}).get("query_id"))
    if query is None or query.user_id != notification.user_id:
        return _("A partner used your data. See who checked your score.")
    english = (get_language() or "").startswith("en")
    values = {
        "partner": query.partner.display_name,
        "purpose": query.purpose,
        "fields": (", " if english else "、").join(
            str(DISCLOSED_LABELS.get(name, name))
            for name in sorted(
                query.fields_disclosed,
                key=lambda name: _DISCLOSED_ORDER.get(name, len(_DISCLOSED_ORDER)),
            )
        ),
    }
    if query.kind == PartnerQuery.Kind.IDENTITY_CHECK:
        sentence = _(
            "%(partner)s checked your name and ID number for “%(purpose)s”. Disclosed: %(fields)s."
        )
    elif query.kind == PartnerQuery.Kind.VOUCHER_REDEEM:
        sentence = _("%(partner)s redeemed your voucher for “%(purpose)s”. Disclosed: %(fields)s.")
    else:
        sentence = _("%(partner)s checked your score for “%(purpose)s”. Disclosed: %(fields)s.")
    return sentence % values


def data_use_digest_text(notification: Notification, context: Any = None) -> str:
    params = notification.params or {}
    count = params.get("count") or 0
    return ngettext(
        "Partners used your data %(count)s time in the week since %(since)s.",
        "Partners used your data %(count)s times in the week since %(since)s.",
        count,
    ) % {"count": count, "since": params.get("since", "")}


def queries_url(notification: Notification) -> str:
    return reverse("benefits:queries")


def authorization_expiring_context(notifications: Sequence[Notification]) -> dict:
    """The authorisations these reminders name, with partners and grants (one query)."""
    return authorizations_notified(notified=_ids(notifications, "authorization_id"))


def authorization_expiring_text(notification: Notification, context: Any = None) -> str:
    authorization = (context or {}).get((notification.params or {}).get("authorization_id"))
    if authorization is None or authorization.grant.expires_at is None:
        return _("An authorisation of a partner ends soon. Renew it or let it lapse.")
    return _("Your authorisation of %(partner)s ends %(date)s. Renew it or let it lapse.") % {
        "partner": authorization.partner.display_name,
        "date": expiry(authorization.grant.expires_at),
    }


def authorization_expiring_url(notification: Notification) -> str | None:
    authorization_id = (notification.params or {}).get("authorization_id")
    if not isinstance(authorization_id, int):
        return None
    return reverse("benefits:authorization_expiring", args=[authorization_id])


def notification_kinds_register() -> None:
    # No link: the inbox is where they are read (as before).
    for kind in (Notification.Kind.BENEFIT_UNLOCKED, Notification.Kind.BENEFIT_LOCKED):
        notification_kind_register(kind, text=benefits_changed_text)
    notification_kind_register(Notification.Kind.GOAL_REACHED, text=goal_reached_text, url=goal_url)
    # An erasure request leads to the partner's page, where it is shown.
    for kind in (Notification.Kind.PARTNER_ERASURE_DONE, Notification.Kind.PARTNER_ERASURE_OVERDUE):
        notification_kind_register(kind, text=erasure_text, url=erasure_url)
    # Mailed by accounts.data_use_emails_send, alone: under a subject of their own.
    used = gettext_lazy("Sesame Portal: a partner used your data")
    notification_kind_register(
        Notification.Kind.DATA_USED,
        text=data_used_text,
        url=queries_url,
        context=data_used_context,
        subject=used,
    )
    notification_kind_register(
        Notification.Kind.DATA_USE_DIGEST,
        text=data_use_digest_text,
        url=queries_url,
        subject=used,
    )
    notification_kind_register(
        Notification.Kind.AUTHORIZATION_EXPIRING,
        text=authorization_expiring_text,
        url=authorization_expiring_url,
        context=authorization_expiring_context,
    )

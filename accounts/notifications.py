"""Notifications: writing score changes, their text in the reader's language, reading and
marking them, and mailing them to the users who asked for email.

Each app says how its own kinds read (a sentence, maybe a link) by registering them from
its AppConfig.ready() with notification_kind_register; accounts knows none of the apps
above it. Accounts registers its own kinds (identity appeals, ended partner
authorisations, new sign-ins) here."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    DATA_USE_EMAILED,
    DataUseAlerts,
    Notification,
    NotificationPreference,
    User,
)
from accounts.profile_sections import SECTION_BY_KEY
from sesame_portal.bulk import copy_insert
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# The data-use email sweep looks this far back: a worker away longer than this does not
# mail old news when it comes back.
DATA_USE_EMAIL_WINDOW = datetime.timedelta(days=2)
# Links in emails need the portal's address; there is no request to take it from.


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


def data_used_notify(*, user_id: int, query_id: int, at: datetime.datetime) -> None:
    """Tell the person at once that a partner's call (logged as `query_id`) used their
    data, unless they chose a weekly digest instead: one statement, no read before it.
    Called in the transaction that writes the call's log row (the partner score's fast
    path puts the same insert, data_used_insert_sql, within its own one statement)."""
    params = Notification._meta.get_field("params").get_db_prep_save(
        {"query_id": query_id}, connection
    )
    created_at = Notification._meta.get_field("created_at").get_db_prep_save(at, connection)
    value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            data_used_insert_sql(user="%s", params=value, at="%s"),
            [user_id, params, created_at, user_id],
        )


def data_used_insert_sql(*, user: str, params: str, at: str, source: str = "") -> str:
    """The DATA_USED notification's insert, skipped for a person who chose the weekly
    digest: the one place that rule is written. `user`, `params` and `at` are SQL
    expressions (placeholders, or columns of `source`, a FROM clause)."""
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(Notification._meta.db_table)} "  # noqa: S608
        f"(user_id, kind, params, created_at) SELECT {user}, "
        f"'{Notification.Kind.DATA_USED.value}', {params}, {at}{source} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(NotificationPreference._meta.db_table)} p "
        f"WHERE p.user_id = {user} AND p.data_use_alerts = '{DataUseAlerts.WEEKLY.value}')"
    )


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_email_set(
    *,
    user: User,
    by_email: bool,
    email: str = "",
    language: str = "",
    data_use_alerts: str | None = None,
) -> NotificationPreference:
    """Turn notification emails on or off. An address typed here becomes the account's
    email when it has none; emails are written in `language` (the page's).
    `data_use_alerts` (a DataUseAlerts; None: unchanged): hear of each use of one's data
    by a partner, or of a week's uses in one digest."""
    email = (email or "").strip()
    if data_use_alerts is not None and data_use_alerts not in DataUseAlerts.values:
        raise ServiceError("data_use_alerts", _("Choose when to hear that your data was used."))
    if by_email and not (user.email or email):
        raise ServiceError("email_required", _("Enter the email address to send them to."))
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with transaction.atomic():
        if email and not user.email:
            user.email = email
            user.save(update_fields=["email"])
        defaults = {"by_email": by_email, "language": language}
        if data_use_alerts is not None:
            defaults["data_use_alerts"] = data_use_alerts
        preference, _created = NotificationPreference.objects.update_or_create(
            user=user, defaults=defaults
        )
    return preference


# --- Reading ------------------------------------------------------------------------------------


def notifications_for_user(*, user: User, limit: int = PAGE_SIZE) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def _unread(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True)


def notifications_unread_count(*, user: User) -> int:
    return _unread(user).count()


def notifications_unread_count_at(*, user: OuterRef) -> Coalesce:
    """notifications_unread_count for the user at `user` of an outer query, as an
    expression (a page that reads everything in one query hands it to the header)."""
    counted = _unread(user).order_by().values("user").annotate(unread=Count("pk"))
    return Coalesce(Subquery(counted.values("unread")), 0)


def notification_email_preference(*, user: User) -> NotificationPreference:
    """The user's choice, or the default (inbox only) when they never made one."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


# --- Kinds: their sentence and link, registered by the app that owns each kind ------------------


@dataclass(frozen=True)
class KindHandlers:
    """How notifications of one kind read: `text(notification, context)` is one sentence in
    the active language, `url(notification)` where it leads (None: nowhere), and
    `context(notifications)` loads, in a fixed number of queries, what the texts of these
    notifications of the kind need (passed to `text` as `context`; None when not loaded);
    `subject` is an email's subject when every notification in it is of such a kind
    (lazy; None: the general one)."""

    text: Callable[[Notification, Any], str]
    url: Callable[[Notification], str | None] | None = None
    context: Callable[[Sequence[Notification]], Any] | None = None
    subject: Any = None


_KINDS: dict[str, KindHandlers] = {}


def notification_kind_register(
    kind: str,
    *,
    text: Callable[[Notification, Any], str],
    url: Callable[[Notification], str | None] | None = None,
    context: Callable[[Sequence[Notification]], Any] | None = None,
    subject: Any = None,
) -> None:
    """Say how notifications of `kind` read; called from the owning app's AppConfig.ready()."""
    _KINDS[kind] = KindHandlers(text=text, url=url, context=context, subject=subject)


def notification_contexts(notifications: Sequence[Notification]) -> dict[str, Any]:
    """What the texts of these notifications need, by kind: one load per kind that has one
    and is among them (see KindHandlers.context)."""
    by_kind: dict[str, list[Notification]] = {}
    for n in notifications:
        by_kind.setdefault(n.kind, []).append(n)
    return {
        kind: handlers.context(items)
        for kind, items in by_kind.items()
        if (handlers := _KINDS.get(kind)) is not None and handlers.context is not None
    }


def notification_text(notification: Notification, *, contexts: dict[str, Any] | None = None) -> str:
    """One sentence in the active language. A kind that needs more than the notification
    (a score change names its main reason) finds it in `contexts` (see
    notification_contexts) and says less without it."""
    handlers = _KINDS.get(notification.kind)
    if handlers is None:
        return str(notification.get_kind_display())
    return handlers.text(notification, (contexts or {}).get(notification.kind))


def notification_url(notification: Notification) -> str | None:
    """Where the notification leads, as its kind says (None: nowhere)."""
    handlers = _KINDS.get(notification.kind)
    if handlers is None or handlers.url is None:
        return None
    return handlers.url(notification)


def _appeal_text(notification: Notification, context: Any = None) -> str:
    params = notification.params or {}
    if notification.kind == Notification.Kind.IDENTITY_APPEAL_FILED:
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


def _partner_authorization_ended_text(notification: Notification, context: Any = None) -> str:
    return _(
        "Your authorisation of %(partner)s has ended because the partner was suspended. "
        "It can no longer see anything of yours; if it is approved again, it must ask "
        "you again."
    ) % {"partner": (notification.params or {}).get("partner", "")}


def _new_sign_in_text(notification: Notification, context: Any = None) -> str:
    return _(
        "New sign-in on %(device)s at %(time)s. If it was not you, change your password: "
        "that signs out every device."
    ) % {
        "device": (notification.params or {}).get("device") or _("an unknown device"),
        "time": timezone.localtime(notification.created_at).strftime("%Y-%m-%d %H:%M"),
    }


def _helper_accepted_text(notification: Notification, context: Any = None) -> str:
    name = (notification.params or {}).get("name", "")
    return _(
        "%(name)s accepted your invitation and can now act for you as your helper. "
        "You can revoke them at any time."
    ) % {"name": name}


def _profile_verification_text(notification: Notification, context: Any = None) -> str:
    params = notification.params or {}
    section = SECTION_BY_KEY.get(params.get("section", ""))
    title = section.title if section is not None else ""
    if params.get("outcome") == "approved":
        return _("%(section)s is verified: those answers now count fully towards your score.") % {
            "section": title
        }
    return _("We could not verify %(section)s. Reason: %(reason)s") % {
        "section": title,
        "reason": params.get("reason", ""),
    }


def notification_kinds_register() -> None:
    """Accounts' own kinds: an identity appeal leads to the verification page, an ended
    partner authorisation to the consents page, a new sign-in to the devices page."""
    appeals = (Notification.Kind.IDENTITY_APPEAL_FILED, Notification.Kind.IDENTITY_APPEAL_DECIDED)
    for kind in appeals:
        notification_kind_register(
            kind, text=_appeal_text, url=lambda n: reverse("accounts:identity")
        )
    notification_kind_register(
        Notification.Kind.PARTNER_AUTHORIZATION_ENDED,
        text=_partner_authorization_ended_text,
        url=lambda n: reverse("accounts:consents"),
    )
    notification_kind_register(
        Notification.Kind.NEW_SIGN_IN,
        text=_new_sign_in_text,
        url=lambda n: reverse("accounts:devices"),
    )
    notification_kind_register(
        Notification.Kind.HELPER_ACCEPTED,
        text=_helper_accepted_text,
        url=lambda n: reverse("accounts:helpers"),
    )
    notification_kind_register(
        Notification.Kind.PROFILE_VERIFICATION_DECIDED,
        text=_profile_verification_text,
        url=lambda n: reverse(
            "accounts:profile_verify", args=[(n.params or {}).get("section", "education")]
        ),
    )


def notifications_page(*, user: User, limit: int = PAGE_SIZE) -> list[dict]:
    """The user's latest notifications as the inbox shows them, newest first: a fixed
    number of queries (the notifications, then what the texts of their kinds need)."""
    notifications = list(notifications_for_user(user=user, limit=limit))
    contexts = notification_contexts(notifications)
    return [
        {
            "text": notification_text(n, contexts=contexts),
            "url": notification_url(n),
            "kind": n.kind,
            "created_at": n.created_at,
            "unread": n.read_at is None,
        }
        for n in notifications
    ]


# --- Email --------------------------------------------------------------------------------------


def _portal_url(path: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + path


def _email_message(
    user: User,
    notifications: list[Notification],
    contexts: dict[str, Any],
) -> EmailMessage:
    """One email for one user: each sentence with its link, nothing more about them (no
    name, no ID number: an inbox is not a safe place for those)."""
    inbox = _portal_url(reverse("accounts:notifications"))
    with translation.override(user.notification_preference.language):
        lines = []
        for n in notifications:
            lines.append(notification_text(n, contexts=contexts))
            lines += [_portal_url(notification_url(n) or reverse("accounts:notifications")), ""]
        lines.append(
            _(
                "You get these emails because you asked for them on your notifications "
                "page. Turn them off there: %(url)s"
            )
            % {"url": inbox}
        )
        subjects = {
            handlers.subject if (handlers := _KINDS.get(n.kind)) is not None else None
            for n in notifications
        }
        subject = (
            str(next(iter(subjects)))
            if len(subjects) == 1 and None not in subjects
            else _("Sesame Portal: your score or benefits changed")
        )
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
    return _emails_deliver(pending)


def data_use_emails_send(*, now: datetime.datetime | None = None) -> int:
    """Mail the data-use alerts and digests not mailed yet to the users who turned email
    on (the beat runs it every minute): each is claimed as it is mailed, so a task
    delivered twice, or two at once, sends nothing twice. Returns the emails sent."""
    now = now or timezone.now()
    pending = list(
        Notification.objects.filter(
            kind__in=DATA_USE_EMAILED,
            emailed_at__isnull=True,
            created_at__gte=now - DATA_USE_EMAIL_WINDOW,
            user__notification_preference__by_email=True,
        )
        .exclude(user__email="")
        .select_related("user__notification_preference")
        .order_by("user_id", "id")
    )
    return _emails_deliver(pending)


def _emails_deliver(pending: list[Notification]) -> int:
    """One email a user for these notifications (ordered by user, with their users and
    preferences), over one connection, each claimed as it is sent."""
    if not pending:
        return 0
    contexts = notification_contexts(pending)
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
                message = _email_message(items[0].user, items, contexts)
                message.connection = connection
                message.send()
            sent += 1
    logger.info("notification emails sent", extra={"emails": sent})
    return sent

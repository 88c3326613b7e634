"""Erasure requests (PIPL art. 47): the person asks a partner to erase what it received
about them, the partner says when it has, and a request left past its due time is
flagged to the person and the admins."""

from __future__ import annotations

import datetime
import logging

from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Notification, User
from accounts.tasks import notification_emails_queue
from benefits.credentials import token_id
from benefits.models import ErasureRequest, Partner, PartnerAuthorization, erasure_due
from benefits.selectors import partner_known_to_user
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)


def erasure_request_create(
    *, user: User, partner_id: int, at: datetime.datetime | None = None
) -> tuple[ErasureRequest, bool]:
    """Ask the partner to erase what it received about the person: (the request, whether
    it is new). Idempotent: while one is open, asking again gives it back. Only a partner
    that knows something about the person (partner_known_to_user) can be asked."""
    partner = partner_known_to_user(user=user, partner_id=partner_id)
    if partner is None:
        raise ServiceError(
            "not_found", _("This partner has received nothing of yours."), status_code=404
        )
    at = at or timezone.now()
    existing = ErasureRequest.objects.open().filter(user=user, partner=partner).first()
    if existing is not None:
        return existing, False
    prefixes = (
        PartnerAuthorization.objects.filter(grant__user=user, partner=partner)
        .order_by("created_at", "pk")
        .values_list("prefix", flat=True)
    )
    try:
        with transaction.atomic():
            request = ErasureRequest.objects.create(
                user=user,
                partner=partner,
                token_ids=[
                    token_id(prefix) for prefix in prefixes.values_list("prefix", flat=True)
                ],
                created_at=at,
                due_at=erasure_due(at),
            )
    except IntegrityError:  # the same request made at the same moment: one stays open
        return ErasureRequest.objects.open().get(user=user, partner=partner), False
    return request, True


def erasure_request_done(
    *, partner: Partner, request_id: int, note: str = "", at: datetime.datetime | None = None
) -> ErasureRequest:
    """The partner says it erased the person's data: the request closes with its note,
    and the person is told. Another partner's request is not found; a request done
    already is refused (409)."""
    at = at or timezone.now()
    with transaction.atomic():
        request = (
            ErasureRequest.objects.select_for_update()
            .filter(pk=request_id, partner=partner)
            .first()
        )
        if request is None:
            raise ServiceError(
                "erasure_request_not_found",
                _("You have no such erasure request."),
                status_code=404,
            )
        if request.is_done:
            raise ServiceError(
                "erasure_request_done",
                _("This erasure request is marked done already."),
                status_code=409,
            )
        request.done_at = at
        request.partner_note = note.strip()[:500]
        request.save(update_fields=["done_at", "partner_note"])
        _notify([request], Notification.Kind.PARTNER_ERASURE_DONE, at)
    return request


def erasure_requests_overdue_flag(*, now: datetime.datetime | None = None) -> list[ErasureRequest]:
    """Flag each open request past its due time, once: tell its person and mail the
    admins the list. Safe to run twice (a request flagged is claimed with its flag)."""
    now = now or timezone.now()
    flagged = []
    candidates = ErasureRequest.objects.overdue(now).filter(overdue_notified_at__isnull=True)
    with transaction.atomic():
        for request in candidates.select_related("partner").order_by("due_at", "id"):
            claimed = ErasureRequest.objects.filter(
                pk=request.pk, overdue_notified_at__isnull=True, done_at__isnull=True
            ).update(overdue_notified_at=now)
            if claimed:
                request.overdue_notified_at = now
                flagged.append(request)
        _notify(flagged, Notification.Kind.PARTNER_ERASURE_OVERDUE, now)
    if flagged:
        logger.warning("erasure requests overdue", extra={"count": len(flagged)})
        mail_admins(
            f"{len(flagged)} erasure request(s) overdue",
            "\n".join(
                f"#{request.pk} to {request.partner.name}, due {request.due_at:%Y-%m-%d %H:%M}"
                for request in flagged
            )
            + "\n\nSee Erasure requests in the admin (filter: overdue).",
            fail_silently=True,
        )
    return flagged


def _notify(requests: list[ErasureRequest], kind: str, at: datetime.datetime) -> None:
    """One notification of `kind` to each request's person (if they still have an
    account), mailed to those who asked for email."""
    rows = [
        Notification(
            user_id=request.user_id,
            kind=kind,
            params={
                "partner": request.partner.name,
                "partner_id": request.partner_id,
                "request_id": request.pk,
            },
            created_at=at,
        )
        for request in requests
        if request.user_id is not None
    ]
    Notification.objects.bulk_create(rows)
    notification_emails_queue(user_ids=[row.user_id for row in rows], at=at)

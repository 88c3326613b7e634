"""Telling people how their data is used: the weekly digest of partners' calls for those
who chose it over an alert each time (the alert itself is written with the call's log
row, partner_calls._log), and the reminder of an authorisation that ends soon, answered
by renewing it on the same terms or letting it lapse."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.clients import Client
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    DataUseAlerts,
    Notification,
    User,
)
from benefits.models import ExpiryAnswer, PartnerAuthorization, PartnerQuery
from benefits.selectors import authorization_for_user
from benefits.services.partner_access import partner_authorize
from benefits.services.partner_calls import ALERTED_KINDS
from sesame_portal.bulk import copy_insert
from sesame_portal.errors import ServiceError

DIGEST_PERIOD = datetime.timedelta(days=7)
# A digest written less than this long ago means this week's is done.
DIGEST_DONE_WITHIN = datetime.timedelta(days=6)
EXPIRY_NOTICE = datetime.timedelta(days=7)


def data_use_digests_create(*, now: datetime.datetime | None = None) -> list[int]:
    """One DATA_USE_DIGEST notification for each person who chose a weekly digest and
    whose data partners used (answered calls of the alerted kinds) in the past week:
    how many times, since when. A second run within the week writes nothing (a digest
    already written counts as done). Two queries and one insert however many people.
    Returns the ids of the people told; the email sweep mails those who asked for email."""
    now = now or timezone.now()
    since = now - DIGEST_PERIOD
    already = Notification.objects.filter(
        kind=Notification.Kind.DATA_USE_DIGEST, created_at__gt=now - DIGEST_DONE_WITHIN
    ).values("user_id")
    counts = list(
        PartnerQuery.objects.filter(
            outcome="ok",
            kind__in=ALERTED_KINDS,
            created_at__gte=since,
            created_at__lt=now,
            user__notification_preference__data_use_alerts=DataUseAlerts.WEEKLY,
        )
        .exclude(user_id__in=already)
        .values("user_id")
        .annotate(count=Count("pk"))
        .order_by("user_id")
        .values_list("user_id", "count")
    )
    day = timezone.localdate(since).isoformat()
    copy_insert(
        Notification,
        ("user_id", "kind", "params", "created_at"),
        [
            (user_id, Notification.Kind.DATA_USE_DIGEST, {"count": count, "since": day}, now)
            for user_id, count in counts
        ],
        json_columns=frozenset({"params"}),
    )
    return [user_id for user_id, _count in counts]


def authorizations_expiring_remind(*, now: datetime.datetime | None = None) -> list[int]:
    """Remind each person once of a current authorisation of a partner that ends within
    EXPIRY_NOTICE: the authorisations are claimed (expiry_reminded_at) under a row lock
    with their reminders written in one transaction, so a second run, or two at once,
    reminds nobody twice. Returns the ids of the authorisations reminded of."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            PartnerAuthorization.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                expiry_reminded_at__isnull=True,
                grant__in=ConsentGrant.objects.current(now).filter(
                    purpose=ConsentPurpose.PARTNER_SHARING, expires_at__lte=now + EXPIRY_NOTICE
                ),
            )
            .values_list("pk", "grant__user_id")
            .order_by("pk")
        )
        PartnerAuthorization.objects.filter(pk__in=[pk for pk, _user in due]).update(
            expiry_reminded_at=now
        )
        copy_insert(
            Notification,
            ("user_id", "kind", "params", "created_at"),
            [
                (user_id, Notification.Kind.AUTHORIZATION_EXPIRING, {"authorization_id": pk}, now)
                for pk, user_id in due
            ],
            json_columns=frozenset({"params"}),
        )
    return [pk for pk, _user in due]


def _expiring(*, user: User, authorization_id: int) -> PartnerAuthorization:
    """The user's own authorisation while it is current (another's or none: not found),
    locked first, so that two answers at once are taken one after the other."""
    list(
        PartnerAuthorization.objects.select_for_update()
        .filter(pk=authorization_id, grant__user=user)
        .values_list("pk")
    )
    authorization = authorization_for_user(user=user, authorization_id=authorization_id)
    if authorization is None:
        raise ServiceError("not_found", _("You have no such authorisation."), status_code=404)
    if not authorization.grant.is_current():
        raise ServiceError(
            "authorization_not_current",
            _("This authorisation has already ended; authorise the partner again instead."),
            status_code=409,
        )
    return authorization


def authorization_renew(
    *, user: User, authorization_id: int, client: Client
) -> tuple[ConsentGrant, str]:
    """Renew the user's current authorisation of a partner: a new one (grants are never
    changed: partner_authorize replaces the current one) with the same partner and terms,
    and an end date as far from now as the original's was from its start. Returns the
    new grant and the partner's new token (shown once)."""
    with transaction.atomic():
        old = _expiring(user=user, authorization_id=authorization_id)
        grant = old.grant
        length = grant.expires_at - grant.granted_at
        new_grant, token = partner_authorize(
            user=user,
            partner=old.partner,
            scope=old.scope,
            stated_purpose=old.stated_purpose,
            expires_at=timezone.now() + length,
            client=client,
            benefit=old.benefit,
            identity_check=old.identity_check,
            use_limit=old.use_limit,
            max_queries=old.max_queries,
        )
        PartnerAuthorization.objects.filter(pk=old.pk).update(
            expiry_answer=ExpiryAnswer.RENEWED,
            expiry_reminded_at=old.expiry_reminded_at or timezone.now(),
        )
    return new_grant, token


def authorization_lapse(*, user: User, authorization_id: int) -> PartnerAuthorization:
    """The person lets their authorisation end on its date: nothing changes but their
    answer, recorded, and no more reminders."""
    with transaction.atomic():
        authorization = _expiring(user=user, authorization_id=authorization_id)
        authorization.expiry_answer = ExpiryAnswer.LAPSE
        authorization.expiry_reminded_at = authorization.expiry_reminded_at or timezone.now()
        authorization.save(update_fields=["expiry_answer", "expiry_reminded_at"])
    return authorization

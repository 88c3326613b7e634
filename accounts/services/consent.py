"""The consent ledger: grants and revocations are only ever added."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.clients import Client
from accounts.models import (
    DATA_CATEGORY_PURPOSES,
    ConsentGrant,
    ConsentGrantQuerySet,
    ConsentPurpose,
    ConsentRevocation,
    User,
)
from accounts.selectors import consent_text_current
from accounts.signals import consent_revoked, person_data_changed
from sesame_portal.errors import ServiceError


def consent_grant(
    *,
    user: User,
    purpose: str,
    client: Client,
    expires_at: datetime.datetime | None = None,
    terms_check: Callable[[datetime.datetime], None] | None = None,
    replaces: Callable[[ConsentGrantQuerySet], ConsentGrantQuerySet] | None = None,
) -> ConsentGrant:
    """Record a grant against the current text for its purpose.

    A current grant it replaces is closed as superseded, so at most one is ever current:
    of the same purpose, or, for partner sharing (granted per partner), those `replaces`
    picks out of the person's current sharing grants. `terms_check(now)`: the checks of
    the terms the caller records beside the grant (a partner's), run after the purpose
    and end date are checked and before the text is looked up; it raises ServiceError.
    Call it inside the caller's transaction when the caller records such terms."""
    now = timezone.now()
    if purpose not in ConsentPurpose.values:
        raise ServiceError("purpose", _("Unknown consent purpose."))
    if expires_at is not None and expires_at <= now:
        raise ServiceError("expires_at", _("The end date must be in the future."))
    if terms_check is not None:
        terms_check(now)
    if purpose == ConsentPurpose.PARTNER_SHARING and replaces is None:
        # Superseding every sharing grant would end the person's other partners' too.
        raise ValueError("Partner sharing is granted per partner: say which grants it replaces.")
    text = consent_text_current(purpose=purpose)
    if text is None:
        raise ServiceError(
            "unavailable", _("This consent cannot be given right now."), status_code=503
        )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        previous = ConsentGrant.objects.current(now).filter(user=user, purpose=purpose)
        for grant in replaces(previous) if replaces is not None else previous:
            ConsentRevocation.objects.create(
                grant=grant,
                revoked_at=now,
                reason=ConsentRevocation.Reason.SUPERSEDED,
                channel=client.channel,
                client_ip=client.ip,
                user_agent=client.user_agent,
            )
        grant = ConsentGrant.objects.create(
            user=user,
            purpose=purpose,
            text=text,
            granted_at=now,
            expires_at=expires_at,
            channel=client.channel,
            client_ip=client.ip,
            user_agent=client.user_agent,
        )
        if purpose != ConsentPurpose.PARTNER_SHARING:
            # What the score may use changed (scoring recomputes with a scoring consent).
            person_data_changed.send(User, user_ids={user.pk}, trigger=f"consent:{purpose}")
        return grant


def consent_revoke(*, user: User, grant_id: int, client: Client) -> ConsentRevocation:
    """Revoke one of the user's own grants; effective for every check from now on."""
    with transaction.atomic():
        grant = ConsentGrant.objects.select_for_update().filter(user=user, pk=grant_id).first()
        if grant is None:
            raise ServiceError("not_found", _("No such consent."), status_code=404)
        if ConsentRevocation.objects.filter(grant=grant).exists():
            raise ServiceError(
                "already_revoked", _("This consent was already revoked."), status_code=409
            )
        revocation = ConsentRevocation.objects.create(
            grant=grant,
            reason=ConsentRevocation.Reason.USER,
            channel=client.channel,
            client_ip=client.ip,
            user_agent=client.user_agent,
        )
        # Revoking scoring: no score, no benefits (benefits closes what was unlocked).
        consent_revoked.send(User, user=user, purpose=grant.purpose)
        if grant.purpose in DATA_CATEGORY_PURPOSES:
            # A data category left the score; revoking scoring itself stops recomputes.
            person_data_changed.send(
                User, user_ids={user.pk}, trigger=f"consent_revoked:{grant.purpose}"
            )
        return revocation


def consent_used_up(*, grant: ConsentGrant) -> ConsentRevocation:
    """End a partner authorisation limited in use that reached its limit (its queries,
    or the partner's decision); called in the partner call's transaction, with the
    authorisation locked. The person sees it as used up, not as revoked by them."""
    return ConsentRevocation.objects.create(
        grant=grant,
        reason=ConsentRevocation.Reason.USED_UP,
        channel=ConsentGrant.Channel.API,
    )

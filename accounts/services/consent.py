"""The consent ledger: grants and revocations are only ever added."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.clients import Client
from accounts.models import (
    DATA_CATEGORY_PURPOSES,
    MAX_QUERIES_LIMIT,
    ConsentGrant,
    ConsentPurpose,
    ConsentRevocation,
    ConsentScope,
    ConsentUseLimit,
    User,
)
from accounts.selectors import consent_text_current
from accounts.signals import consent_revoked, person_data_changed
from accounts.validators import validate_no_control_characters
from benefits.models import Partner
from sesame_portal.errors import ServiceError

PARTNER_SHARING_MAX_DAYS = 365
STATED_PURPOSE_MAX_LENGTH = 200  # ConsentGrant.stated_purpose


def _grant_validate_partner_terms(
    *,
    purpose: str,
    partner: Partner | None,
    scope: str,
    expires_at: datetime.datetime | None,
    now: datetime.datetime,
    identity_check: bool = False,
    use_limit: str = "",
    max_queries: int | None = None,
) -> None:
    if purpose != ConsentPurpose.PARTNER_SHARING:
        if partner is not None or scope or identity_check or use_limit or max_queries:
            raise ServiceError(
                "partner",
                _("Leave out the partner and scope: only sharing with a partner takes them."),
            )
        return
    if partner is None:
        raise ServiceError("partner", _("Choose the partner you want to share with."))
    if not partner.is_approved:
        raise ServiceError(
            "partner_not_approved", _("This partner is not approved to receive data.")
        )
    if scope not in ConsentScope.values:
        raise ServiceError("scope", _("Choose what the partner may see."))
    if expires_at is None:
        raise ServiceError("expires_at", _("Sharing with a partner needs an end date."))
    if expires_at > now + datetime.timedelta(days=PARTNER_SHARING_MAX_DAYS):
        raise ServiceError("expires_at", _("Sharing with a partner can last at most one year."))
    _grant_validate_use_limit(use_limit=use_limit, max_queries=max_queries)


def _grant_validate_use_limit(*, use_limit: str, max_queries: int | None) -> None:
    if use_limit not in ConsentUseLimit.values:
        raise ServiceError("use_limit", _("Choose how many times the partner may ask."))
    if use_limit == ConsentUseLimit.QUERIES:
        if max_queries is None or not 1 <= max_queries <= MAX_QUERIES_LIMIT:
            raise ServiceError(
                "max_queries",
                _("Allow between 1 and %(most)s queries.") % {"most": MAX_QUERIES_LIMIT},
            )
    elif max_queries is not None:
        raise ServiceError(
            "max_queries", _("A number of queries goes only with a limit in queries.")
        )


def stated_purpose_clean(value: str | None) -> str:
    """A partner's stated purpose as plain text, shown to the person as the partner's own
    words: spaces collapsed, at most STATED_PURPOSE_MAX_LENGTH characters, and nothing
    invisible that could make it read differently from what it says."""
    value = " ".join((value or "").split())
    if len(value) > STATED_PURPOSE_MAX_LENGTH:
        raise ServiceError(
            "stated_purpose",
            _("Keep the purpose to %(max)d characters.") % {"max": STATED_PURPOSE_MAX_LENGTH},
        )
    try:
        validate_no_control_characters(value)
    except ValidationError as exc:
        raise ServiceError("stated_purpose", exc.messages[0]) from None
    return value


def consent_grant(
    *,
    user: User,
    purpose: str,
    client: Client,
    partner: Partner | None = None,
    scope: str = "",
    stated_purpose: str = "",
    expires_at: datetime.datetime | None = None,
    identity_check: bool = False,
    use_limit: str = "",
    max_queries: int | None = None,
) -> ConsentGrant:
    """Record a grant against the current text for its purpose.

    A grant with the same purpose (and partner) that is still current is closed as
    superseded, so at most one grant per purpose and partner is ever current. A partner
    sharing grant also records whether identity checks are allowed and its limit in use.
    """
    now = timezone.now()
    if purpose not in ConsentPurpose.values:
        raise ServiceError("purpose", _("Unknown consent purpose."))
    if expires_at is not None and expires_at <= now:
        raise ServiceError("expires_at", _("The end date must be in the future."))
    _grant_validate_partner_terms(
        purpose=purpose,
        partner=partner,
        scope=scope,
        expires_at=expires_at,
        now=now,
        identity_check=identity_check,
        use_limit=use_limit,
        max_queries=max_queries,
    )
    text = consent_text_current(purpose=purpose)
    if text is None:
        raise ServiceError(
            "unavailable", _("This consent cannot be given right now."), status_code=503
        )
    stated_purpose = stated_purpose_clean(stated_purpose)
    if purpose == ConsentPurpose.PARTNER_SHARING and not stated_purpose:
        stated_purpose = partner.category
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        for previous in ConsentGrant.objects.current(now).filter(
            user=user, purpose=purpose, partner=partner
        ):
            ConsentRevocation.objects.create(
                grant=previous,
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
            partner=partner,
            scope=scope,
            stated_purpose=stated_purpose,
            identity_check=identity_check,
            use_limit=use_limit,
            max_queries=max_queries,
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

"""Giving partners access: API keys (created, shown once, revoked) and the user's
authorisation of a partner, which is a partner-sharing consent grant plus a token."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.clients import Client
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    ConsentScope,
    ConsentUseLimit,
    UseLimitChoice,
    User,
)
from accounts.services.consent import consent_grant
from benefits.credentials import API_KEY_KIND, TOKEN_KIND, credential_new
from benefits.models import Benefit, Partner, PartnerApiKey, PartnerAuthorization
from sesame_portal.errors import ServiceError


def api_key_create(
    *, partner: Partner, label: str = "", by: User | None = None
) -> tuple[PartnerApiKey, str]:
    """A new key for the partner; the key itself is returned once and never stored."""
    value, prefix, digest = credential_new(API_KEY_KIND)
    key = PartnerApiKey.objects.create(
        partner=partner, label=label[:100], prefix=prefix, key_hash=digest, created_by=by
    )
    return key, value


def api_key_revoke(*, key: PartnerApiKey) -> PartnerApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def use_limit_default(partner: Partner) -> str:
    """A lender's authorisation ends with its decision unless the person chooses
    otherwise; other partners' last until their end date."""
    return ConsentUseLimit.DECISION if partner.is_lending else ConsentUseLimit.NONE


def partner_authorize(
    *,
    user: User,
    partner: Partner,
    scope: str,
    stated_purpose: str,
    expires_at: datetime.datetime | None,
    client: Client,
    benefit: Benefit | None = None,
    identity_check: bool = False,
    use_limit: str | None = None,
    max_queries: int | None = None,
) -> tuple[ConsentGrant, str]:
    """Record the user's authorisation of a partner (a consent grant with its text
    version, scope, purpose and expiry) and return it with the token the partner will
    hold. The token is returned once; only its hash is kept. An eligibility-only
    authorisation names one benefit (from the partner's link) or, given on the consents
    page without one, covers yes/no for any of the partner's benefits.

    `identity_check`: the person ticked that the partner may ask whether a name and ID
    number match them. `use_limit`: a UseLimitChoice (or a ConsentUseLimit; None: the
    partner's default), with `max_queries` for a number of queries."""
    if use_limit is None:
        use_limit = use_limit_default(partner)
    elif use_limit == UseLimitChoice.NONE:
        use_limit = ConsentUseLimit.NONE
    elif use_limit == UseLimitChoice.ONE_QUERY:
        use_limit, max_queries = ConsentUseLimit.QUERIES, 1
    if scope != ConsentScope.ELIGIBILITY:
        benefit = None
    elif benefit is not None and benefit.partner_id != partner.pk:
        raise ServiceError("benefit", _("Choose one of this partner's own benefits."))
    with transaction.atomic():
        grant = consent_grant(
            user=user,
            purpose=ConsentPurpose.PARTNER_SHARING,
            partner=partner,
            scope=scope,
            stated_purpose=stated_purpose,
            expires_at=expires_at,
            client=client,
            identity_check=identity_check,
            use_limit=use_limit,
            max_queries=max_queries,
        )
        value, prefix, digest = credential_new(TOKEN_KIND)
        PartnerAuthorization.objects.create(
            grant=grant, partner=partner, benefit=benefit, prefix=prefix, token_hash=digest
        )
    return grant, value

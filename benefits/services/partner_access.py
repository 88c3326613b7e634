"""Giving partners access: API keys (created, shown once, revoked) and the user's
authorisation of a partner, which is a partner-sharing consent grant (accounts' ledger)
plus the partner, the terms and a token (PartnerAuthorization); and ending a partner's
authorisations when it loses its approval."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.clients import Client
from accounts.models import (
    ConsentGrant,
    ConsentGrantQuerySet,
    ConsentPurpose,
    ConsentRevocation,
    User,
)
from accounts.notifications import partner_grants_ended_notify
from accounts.services.consent import consent_grant
from accounts.validators import validate_no_control_characters
from benefits.credentials import API_KEY_KIND, TOKEN_KIND, credential_new
from benefits.models import (
    MAX_QUERIES_LIMIT,
    Benefit,
    ConsentScope,
    ConsentUseLimit,
    Partner,
    PartnerApiKey,
    PartnerAuthorization,
    UseLimitChoice,
)
from sesame_portal.counters import version_bump
from sesame_portal.errors import ServiceError

PARTNER_SHARING_MAX_DAYS = 365
STATED_PURPOSE_MAX_LENGTH = 200  # PartnerAuthorization.stated_purpose
# The version every process checks its cached keys and partners against on every partner
# call (partner_calls.partner_admit).
PARTNER_ACCESS_VERSION = "partner-access-version"


def partner_access_changed() -> None:
    """A key was revoked, or a partner's status or limits changed: every process drops
    the keys and partners it cached at its next partner call. Bumped at once (a cache that
    cannot be reached fails the change rather than leave it unannounced) and again once
    the change is committed, so that no process caches the old rows in between.

    Authorisations and consents are not cached: every call reads them."""
    version_bump(PARTNER_ACCESS_VERSION)
    transaction.on_commit(lambda: version_bump(PARTNER_ACCESS_VERSION))


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
        partner_access_changed()
    return key


def partner_terms_validate(
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
    """The partner and terms a consent comes with: only sharing takes them, and sharing
    needs them all (an approved partner, a scope, an end date within the year, a valid
    limit in use)."""
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
    _use_limit_validate(use_limit=use_limit, max_queries=max_queries)


def _use_limit_validate(*, use_limit: str, max_queries: int | None) -> None:
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
    version and expiry, and beside it the partner, scope, stated purpose and terms) and
    return the grant with the token the partner will hold. The token is returned once;
    only its hash is kept. An eligibility-only authorisation names one benefit (from the
    partner's link) or, given on the consents page without one, covers yes/no for any of
    the partner's benefits.

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

    def terms_check(now: datetime.datetime) -> None:
        partner_terms_validate(
            purpose=ConsentPurpose.PARTNER_SHARING,
            partner=partner,
            scope=scope,
            expires_at=expires_at,
            now=now,
            identity_check=identity_check,
            use_limit=use_limit,
            max_queries=max_queries,
        )

    def same_partner(current: ConsentGrantQuerySet) -> ConsentGrantQuerySet:
        # A new authorisation of a partner replaces the person's current one of it.
        return current.filter(authorization__partner=partner)

    with transaction.atomic():
        grant = consent_grant(
            user=user,
            purpose=ConsentPurpose.PARTNER_SHARING,
            expires_at=expires_at,
            client=client,
            terms_check=terms_check,
            replaces=same_partner,
        )
        # Checked once the consent text is known to be there, as always; an error here
        # rolls the grant back.
        stated_purpose = stated_purpose_clean(stated_purpose) or partner.category
        value, prefix, digest = credential_new(TOKEN_KIND)
        PartnerAuthorization.objects.create(
            grant=grant,
            partner=partner,
            scope=scope,
            stated_purpose=stated_purpose,
            identity_check=identity_check,
            use_limit=use_limit,
            max_queries=max_queries,
            benefit=benefit,
            prefix=prefix,
            token_hash=digest,
        )
    return grant, value


def partner_grants_end(*, partner_id: int, partner_name: str, at: datetime.datetime) -> list[int]:
    """End every current grant of sharing with this partner, recorded as ended because
    the partner was suspended (not as the person's own revocation), and tell each person
    in the app. The grants stay ended: a partner approved again must be authorised anew.
    Returns the ids of the people whose grant ended."""
    with transaction.atomic():
        # Locked like a person's own revocation locks its grant, so the two never collide.
        grants = list(
            ConsentGrant.objects.current(at)
            .select_for_update(of=("self",))
            .filter(purpose=ConsentPurpose.PARTNER_SHARING, authorization__partner_id=partner_id)
            .only("id", "user_id")
        )
        ConsentRevocation.objects.bulk_create(
            ConsentRevocation(
                grant_id=grant.pk,
                revoked_at=at,
                reason=ConsentRevocation.Reason.PARTNER_SUSPENDED,
                channel=ConsentGrant.Channel.SYSTEM,
            )
            for grant in grants
        )
        user_ids = sorted({grant.user_id for grant in grants if grant.user_id is not None})
        partner_grants_ended_notify(user_ids=user_ids, partner_name=partner_name, at=at)
    return user_ids

"""Writes for accounts: registration, real-name verification and the consent ledger."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.clients import Client
from accounts.crypto import encrypt_text, keyed_hash, rotate_token
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    ConsentRevocation,
    ConsentScope,
    Identity,
    IdentityAttempt,
    User,
)
from accounts.resident_id import IdentityRuleError, parse_resident_id, validate_name
from accounts.selectors import consent_text_current
from benefits.models import Partner
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)

PARTNER_SHARING_MAX_DAYS = 365


def user_register(*, username: str, password: str) -> User:
    username = (username or "").strip()
    candidate = User(username=username)
    try:
        candidate.clean_fields(exclude=["password"])
    except ValidationError as exc:
        message = " ".join(exc.message_dict.get("username", [_("Enter a valid username.")]))
        raise ServiceError("username", message) from None
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError("username_taken", _("This username is already taken."))
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ServiceError("password", " ".join(exc.messages)) from None
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, password=password)
    except IntegrityError:
        raise ServiceError("username_taken", _("This username is already taken.")) from None


def _identity_attempts_retry_after(user: User, now: datetime.datetime) -> int | None:
    """Seconds until another attempt is allowed, or None when one is allowed now."""
    window_start = now - datetime.timedelta(hours=1)
    recent = list(
        IdentityAttempt.objects.filter(user=user, created_at__gt=window_start)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.IDENTITY_ATTEMPTS_PER_HOUR]
    )
    if len(recent) < settings.IDENTITY_ATTEMPTS_PER_HOUR:
        return None
    oldest_counted = recent[-1]
    return max(1, int((oldest_counted + datetime.timedelta(hours=1) - now).total_seconds()) + 1)


def _identity_create(
    *, user: User, full_name: str, id_number: str, today: datetime.date
) -> Identity:
    name = validate_name(full_name)
    resident = parse_resident_id(id_number, today=today)
    digest = keyed_hash(resident.number)
    if Identity.objects.filter(id_number_hash=digest).exists():
        raise IdentityRuleError(
            "duplicate", _("This ID number is already verified on another account.")
        )
    try:
        with transaction.atomic():
            return Identity.objects.create(
                user=user,
                full_name_encrypted=encrypt_text(name),
                id_number_encrypted=encrypt_text(resident.number),
                id_number_hash=digest,
                id_number_masked=resident.masked,
                birth_date=resident.birth_date,
                gender=resident.gender,
                region_code=resident.region_code,
                region_name=resident.region_name,
            )
    except IntegrityError:
        # Lost a race: either this user verified twice at once, or two accounts sent
        # the same number at once. The unique constraints decided; say which.
        if Identity.objects.filter(user=user).exists():
            raise ServiceError(
                "already_verified", _("Your identity is already verified."), status_code=409
            ) from None
        raise IdentityRuleError(
            "duplicate", _("This ID number is already verified on another account.")
        ) from None


def identity_verify(
    *, user: User, full_name: str, id_number: str, today: datetime.date | None = None
) -> Identity:
    """Verify a user's real name and resident ID number, once per user and per number.

    Every submission is counted (not its content) so guessing is rate-limited; the
    number itself is only ever stored encrypted and as a keyed hash.
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    failure: ServiceError | None = None
    with transaction.atomic():
        # Serialise one user's attempts so the rate limit cannot be raced.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        if Identity.objects.filter(user=user).exists():
            raise ServiceError(
                "already_verified", _("Your identity is already verified."), status_code=409
            )
        retry_after = _identity_attempts_retry_after(user, now)
        if retry_after is not None:
            raise ServiceError(
                "rate_limited",
                _("Too many verification attempts. Try again in %(minutes)d minutes.")
                % {"minutes": (retry_after + 59) // 60},
                status_code=429,
                retry_after=retry_after,
            )
        try:
            identity = _identity_create(
                user=user, full_name=full_name, id_number=id_number, today=today
            )
            outcome = "verified"
        except IdentityRuleError as error:
            failure, outcome = error, error.code
        IdentityAttempt.objects.create(user=user, created_at=now, outcome=outcome)
    if failure is not None:
        logger.info(
            "identity verification refused", extra={"user_id": user.pk, "code": failure.code}
        )
        raise failure
    logger.info("identity verified", extra={"user_id": user.pk})
    return identity


def _grant_validate_partner_terms(
    *,
    purpose: str,
    partner: Partner | None,
    scope: str,
    expires_at: datetime.datetime | None,
    now: datetime.datetime,
) -> None:
    if purpose != ConsentPurpose.PARTNER_SHARING:
        if partner is not None or scope:
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


def consent_grant(
    *,
    user: User,
    purpose: str,
    client: Client,
    partner: Partner | None = None,
    scope: str = "",
    stated_purpose: str = "",
    expires_at: datetime.datetime | None = None,
) -> ConsentGrant:
    """Record a grant against the current text for its purpose.

    A grant with the same purpose (and partner) that is still current is closed as
    superseded, so at most one grant per purpose and partner is ever current.
    """
    now = timezone.now()
    if purpose not in ConsentPurpose.values:
        raise ServiceError("purpose", _("Unknown consent purpose."))
    if expires_at is not None and expires_at <= now:
        raise ServiceError("expires_at", _("The end date must be in the future."))
    _grant_validate_partner_terms(
        purpose=purpose, partner=partner, scope=scope, expires_at=expires_at, now=now
    )
    text = consent_text_current(purpose=purpose)
    if text is None:
        raise ServiceError(
            "unavailable", _("This consent cannot be given right now."), status_code=503
        )
    stated_purpose = " ".join((stated_purpose or "").split())[:200]
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
        return ConsentGrant.objects.create(
            user=user,
            purpose=purpose,
            text=text,
            partner=partner,
            scope=scope,
            stated_purpose=stated_purpose,
            granted_at=now,
            expires_at=expires_at,
            channel=client.channel,
            client_ip=client.ip,
            user_agent=client.user_agent,
        )


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
        return ConsentRevocation.objects.create(
            grant=grant,
            reason=ConsentRevocation.Reason.USER,
            channel=client.channel,
            client_ip=client.ip,
            user_agent=client.user_agent,
        )


IDENTITY_ATTEMPT_RETENTION = datetime.timedelta(days=30)


def accounts_housekeeping(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete expired API tokens and verification attempts older than the retention.

    Attempts only feed the hourly rate limit; keeping them a month covers abuse review
    without holding a record of every try for ever.
    """
    from knox.models import AuthToken

    now = now or timezone.now()
    tokens, _ = AuthToken.objects.filter(expiry__lt=now).delete()
    attempts, _ = IdentityAttempt.objects.filter(
        created_at__lt=now - IDENTITY_ATTEMPT_RETENTION
    ).delete()
    return {"expired_tokens": tokens, "old_identity_attempts": attempts}


def identity_keys_rotate(*, chunk_size: int = 500) -> int:
    """Re-encrypt every identity under the newest Fernet key, a chunk at a time."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            chunk = list(
                Identity.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "full_name_encrypted", "id_number_encrypted")[:chunk_size]
            )
            if not chunk:
                return done
            for identity in chunk:
                identity.full_name_encrypted = rotate_token(identity.full_name_encrypted)
                identity.id_number_encrypted = rotate_token(identity.id_number_encrypted)
            Identity.objects.bulk_update(chunk, ["full_name_encrypted", "id_number_encrypted"])
        done += len(chunk)
        last_pk = chunk[-1].pk

"""Real-name verification, and keeping the encrypted identity readable across key rotation."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import birth_date_encrypt, encrypt_text, keyed_hash, rotate_token
from accounts.models import (
    Identity,
    IdentityAttempt,
    User,
)
from accounts.resident_id import IdentityRuleError, parse_resident_id, validate_name
from scoring.services import score_recompute_queue
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)


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
                birth_date_encrypted=birth_date_encrypt(resident.birth_date),
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
        if failure is None:
            score_recompute_queue(user=user, trigger="identity_verified")
    if failure is not None:
        logger.info(
            "identity verification refused", extra={"user_id": user.pk, "code": failure.code}
        )
        raise failure
    logger.info("identity verified", extra={"user_id": user.pk})
    return identity


_ENCRYPTED_FIELDS = ["full_name_encrypted", "id_number_encrypted", "birth_date_encrypted"]


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
                .only("pk", *_ENCRYPTED_FIELDS)[:chunk_size]
            )
            if not chunk:
                return done
            for identity in chunk:
                for name in _ENCRYPTED_FIELDS:
                    setattr(identity, name, rotate_token(getattr(identity, name)))
            Identity.objects.bulk_update(chunk, _ENCRYPTED_FIELDS)
        done += len(chunk)
        last_pk = chunk[-1].pk

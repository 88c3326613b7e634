"""Real-name verification, and keeping the encrypted identity readable across key rotation."""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import birth_date_encrypt, encrypt_text, keyed_hash
from accounts.models import (
    Identity,
    IdentityAttempt,
    User,
)
from accounts.resident_id import IdentityRuleError, parse_resident_id, validate_name
from accounts.services.appeals import appeal_offer_make
from accounts.services.attempts import identity_attempt_begin
from accounts.signals import person_data_changed
from accounts.throttle import throttle_refund
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)


def _duplicate(*, user: User, digest: str) -> IdentityRuleError:
    """The `duplicate` refusal, with the appeal offered to this user for this number only
    (see appeal_offer_make); the caller raises it."""
    error = IdentityRuleError(
        "duplicate", _("This ID number is already verified on another account.")
    )
    holder = Identity.objects.filter(id_number_hash=digest).values_list("pk", flat=True).first()
    error.appeal_token = appeal_offer_make(user=user, identity_id=holder) if holder else None
    return error


def _identity_create(
    *, user: User, full_name: str, id_number: str, today: datetime.date
) -> Identity:
    name = validate_name(full_name)
    resident = parse_resident_id(id_number, today=today)
    digest = keyed_hash(resident.number)
    if Identity.objects.filter(id_number_hash=digest).exists():
        raise _duplicate(user=user, digest=digest)
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
        raise _duplicate(user=user, digest=digest) from None


def identity_verify(
    *,
    user: User,
    full_name: str,
    id_number: str,
    today: datetime.date | None = None,
    client_ip: str | None = None,
) -> Identity:
    """Verify a user's real name and resident ID number, once per user and per number.

    Every submission is counted (not its content) so guessing is rate-limited per user
    and per client address; a successful one is taken back from the address's count. The
    number itself is only ever stored encrypted and as a keyed hash. A `duplicate`
    refusal carries `appeal_token`, the offer of an appeal for that number.
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    failure: ServiceError | None = None
    with transaction.atomic():
        counted = identity_attempt_begin(user=user, client_ip=client_ip, now=now)
        try:
            identity = _identity_create(
                user=user, full_name=full_name, id_number=id_number, today=today
            )
            outcome = "verified"
        except IdentityRuleError as error:
            failure, outcome = error, error.code
        IdentityAttempt.objects.create(user=user, created_at=now, outcome=outcome)
        if failure is None:
            person_data_changed.send(User, user_ids={user.pk}, trigger="identity_verified")
    if failure is not None:
        logger.info(
            "identity verification refused", extra={"user_id": user.pk, "code": failure.code}
        )
        raise failure
    throttle_refund(counted)  # only failed attempts count against the address
    logger.info("identity verified", extra={"user_id": user.pk})
    return identity

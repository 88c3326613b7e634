"""Identity appeals (实名申诉): the rightful owner of an ID number verified on another
account asks for it back.

The appeal is offered only to a logged-in user who has just been refused with
`duplicate`, for that number only (a signed offer naming the user and the identity, valid
for an hour), so the appeal form cannot be used to ask whether other numbers are
registered. Filing re-checks the name and number with the verification rules and needs
the number's keyed hash to be the contested identity's; it counts as an identity attempt
(per user and per address). Staff with the decide permission approve (the identity moves
to the appellant, both scores are recomputed) or reject with a reason; the holder hears
of the filing and of the outcome, the appellant of the outcome.
"""

from __future__ import annotations

import datetime
import logging

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import encrypt_text, keyed_hash
from accounts.models import (
    Identity,
    IdentityAppeal,
    IdentityAppealEvidence,
    IdentityAttempt,
    Notification,
    User,
)
from accounts.resident_id import IdentityRuleError, parse_resident_id, validate_name
from accounts.services.attempts import identity_attempt_begin
from accounts.signals import person_data_changed
from sesame_portal.errors import ServiceError
from sesame_portal.uploads import evidence_content_type, statement_clean

logger = logging.getLogger(__name__)

APPEAL_OFFER_SALT = "accounts.identity-appeal-offer"
APPEAL_OFFER_MAX_AGE = datetime.timedelta(hours=1)


# --- The offer --------------------------------------------------------------------------------


def appeal_offer_make(*, user: User, identity_id: int) -> str:
    """A signed, timed offer to `user` to appeal against this identity (and no other)."""
    return signing.dumps({"u": user.pk, "i": identity_id}, salt=APPEAL_OFFER_SALT)


def appeal_offer_identity_id(*, token: str, user: User) -> int:
    """The identity a current offer to this user names; anything else is 404 not_found
    (forged, expired, or another user's offer)."""
    try:
        offer = signing.loads(token, salt=APPEAL_OFFER_SALT, max_age=APPEAL_OFFER_MAX_AGE)
    except signing.BadSignature:
        offer = None
    if not isinstance(offer, dict) or offer.get("u") != user.pk or not offer.get("i"):
        raise ServiceError(
            "not_found",
            _("This appeal link is not valid any more. Submit your ID number again."),
            status_code=404,
        )
    return int(offer["i"])


# --- Filing ----------------------------------------------------------------------------------


def _notify(user_id: int | None, kind: str, params: dict) -> None:
    if user_id is not None:
        Notification.objects.create(user_id=user_id, kind=kind, params=params)


def _appeal_create(
    *,
    user: User,
    identity_id: int,
    full_name: str,
    id_number: str,
    statement: str,
    evidence: UploadedFile,
    content_type: str,
    today: datetime.date,
    now: datetime.datetime,
) -> IdentityAppeal:
    name = validate_name(full_name)
    resident = parse_resident_id(id_number, today=today)
    identity = Identity.objects.select_for_update().filter(pk=identity_id).first()
    if (
        identity is None
        or identity.user_id == user.pk
        or identity.id_number_hash != keyed_hash(resident.number)
    ):
        raise IdentityRuleError(
            "appeal_mismatch",
            _("This is not the ID number you submitted. Enter it exactly as on your ID card."),
        )
    if IdentityAppeal.objects.filter(appellant=user, status=IdentityAppeal.Status.PENDING).exists():
        raise ServiceError(
            "already_appealed",
            _("You already have an appeal waiting for a decision."),
            status_code=409,
        )
    appeal = IdentityAppeal.objects.create(
        appellant=user,
        identity=identity,
        holder_id=identity.user_id,
        id_number_hash=identity.id_number_hash,
        full_name_encrypted=encrypt_text(name),
        statement=statement,
        created_at=now,
    )
    IdentityAppealEvidence.objects.create(
        appeal=appeal, **IdentityAppealEvidence.sealed(evidence, content_type)
    )
    _notify(identity.user_id, Notification.Kind.IDENTITY_APPEAL_FILED, {"appeal_id": appeal.pk})
    return appeal


def identity_appeal_file(
    *,
    user: User,
    token: str,
    full_name: str,
    id_number: str,
    statement: str,
    evidence: UploadedFile | None,
    client_ip: str | None = None,
) -> IdentityAppeal:
    """File an appeal against the identity the offer names. Counts as an identity
    attempt; the name and number go through the verification rules again."""
    identity_id = appeal_offer_identity_id(token=token, user=user)
    statement = statement_clean(statement, missing=_("Say why this ID number is yours."))
    if evidence is None:
        raise ServiceError("attachment", _("Attach a photo or scan of your ID card."))
    content_type = evidence_content_type(evidence)
    now = timezone.now()
    today = timezone.localdate(now)
    failure: ServiceError | None = None
    with transaction.atomic():
        identity_attempt_begin(user=user, client_ip=client_ip, now=now)
        try:
            appeal = _appeal_create(
                user=user,
                identity_id=identity_id,
                full_name=full_name,
                id_number=id_number,
                statement=statement,
                evidence=evidence,
                content_type=content_type,
                today=today,
                now=now,
            )
            outcome = "appeal"
        except ServiceError as error:
            failure, outcome = error, error.code
        IdentityAttempt.objects.create(user=user, created_at=now, outcome=outcome[:20])
    if failure is not None:
        logger.info("identity appeal refused", extra={"user_id": user.pk, "code": failure.code})
        raise failure
    logger.info("identity appeal filed", extra={"user_id": user.pk, "appeal_id": appeal.pk})
    return appeal


# --- Deciding --------------------------------------------------------------------------------


def identity_appeal_decide_check(
    *, appeal: IdentityAppeal, approve: bool, reason: str
) -> Identity | None:
    """Whether this decision can be taken now (the admin form asks before saving, the
    decision again under its locks). Returns the contested identity, if it still exists."""
    if appeal.status != IdentityAppeal.Status.PENDING:
        raise ServiceError("already_decided", _("This appeal is already decided."), status_code=409)
    if not approve and not (reason or "").strip():
        raise ServiceError("reason", _("Say why the appeal is rejected."))
    identity = Identity.objects.filter(
        pk=appeal.identity_id, id_number_hash=appeal.id_number_hash
    ).first()
    if approve and identity is None:
        raise ServiceError(
            "identity_gone",
            _(
                "This ID number is no longer verified on any account: the appellant can "
                "now verify it directly. Reject the appeal."
            ),
        )
    if approve and Identity.objects.filter(user_id=appeal.appellant_id).exists():
        raise ServiceError(
            "appellant_verified",
            _("The appellant has verified an ID number since. Reject the appeal."),
        )
    return identity


def identity_appeal_decide(
    *, appeal: IdentityAppeal, approve: bool, reason: str = "", by: User | None = None
) -> IdentityAppeal:
    """Staff's decision. Approving moves the identity row to the appellant (with the name
    the appellant gave) and recomputes both people's scores and benefits; rejecting needs
    a reason. Either way the appellant and the holder are told."""
    reason = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        current = IdentityAppeal.objects.select_for_update().get(pk=appeal.pk)
        holder_id = (
            Identity.objects.filter(pk=current.identity_id)
            .values_list("user_id", flat=True)
            .first()
        ) or current.holder_id
        # Both people's rows, in a fixed order: their own verifications wait for this.
        User.objects.select_for_update().filter(pk__in=[current.appellant_id, holder_id]).order_by(
            "pk"
        ).exists()
        Identity.objects.select_for_update().filter(pk=current.identity_id).exists()
        identity = identity_appeal_decide_check(appeal=current, approve=approve, reason=reason)
        holder_id = identity.user_id if identity is not None else current.holder_id
        if approve:
            identity.user_id = current.appellant_id
            identity.full_name_encrypted = current.full_name_encrypted
            identity.verified_at = now
            identity.save(update_fields=["user", "full_name_encrypted", "verified_at"])
        current.status = (
            IdentityAppeal.Status.APPROVED if approve else IdentityAppeal.Status.REJECTED
        )
        current.reason = reason
        current.holder_id = holder_id
        current.decided_at = now
        current.decided_by = by
        current.save(update_fields=["status", "reason", "holder", "decided_at", "decided_by"])
        outcome = {"appeal_id": current.pk, "outcome": current.status}
        _notify(
            current.appellant_id,
            Notification.Kind.IDENTITY_APPEAL_DECIDED,
            {**outcome, "role": "appellant", "reason": reason},
        )
        _notify(holder_id, Notification.Kind.IDENTITY_APPEAL_DECIDED, {**outcome, "role": "holder"})
        if approve:
            # The holder is now unverified and the appellant verified: scores and unlocks
            # follow (scoring recomputes those with a current scoring consent).
            person_data_changed.send(
                User,
                user_ids={pk for pk in (current.appellant_id, holder_id) if pk is not None},
                trigger="identity_appeal",
            )
    logger.info(
        "identity appeal decided", extra={"appeal_id": current.pk, "outcome": current.status}
    )
    return current

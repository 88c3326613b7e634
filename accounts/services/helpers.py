"""Trusted helpers: inviting one (the code shown once), accepting with one's own account,
revoking, and writing down what a helper did while acting for the person. Which views a
helper may reach is `accounts.helper_access`; the session check that puts a helper in the
person's place is `accounts.web_sessions`."""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    HelperAuditEntry,
    HelperGrant,
    Notification,
    User,
    invitation_code_hash,
)
from sesame_portal.errors import ServiceError

# How long an invitation may wait to be accepted, and the longest access a person may give.
INVITATION_VALID = datetime.timedelta(days=7)
MAX_ACCESS = datetime.timedelta(days=365)
# A person's open invitations and active helpers together, at most.
MAX_HELPERS = 5


def helper_invite(
    *,
    owner: User,
    name: str,
    email: str = "",
    level: str,
    expires_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> tuple[HelperGrant, str]:
    """Invite a helper. Returns the invitation and its code, which is stored only as a
    hash and so can be shown this once."""
    now = now or timezone.now()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ServiceError("name", _("Enter the helper's name (up to 100 characters)."))
    if level not in HelperGrant.Level.values:
        raise ServiceError("level", _("Choose what the helper may do."))
    if expires_at <= now or expires_at > now + MAX_ACCESS:
        raise ServiceError("expires_at", _("Choose an end date within the next year."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=owner.pk).first()
        open_grants = [
            grant
            for grant in HelperGrant.objects.filter(owner=owner, revoked_at=None)
            if grant.status(now) in ("invited", "active")
        ]
        if len(open_grants) >= MAX_HELPERS:
            raise ServiceError(
                "too_many_helpers",
                _("You can have at most %(count)d helpers. Revoke one first.")
                % {"count": MAX_HELPERS},
                status_code=409,
            )
        code = secrets.token_urlsafe(24)
        grant = HelperGrant.objects.create(
            owner=owner,
            name=name,
            email=(email or "").strip(),
            level=level,
            code_hash=invitation_code_hash(code),
            invited_at=now,
            invitation_expires_at=now + INVITATION_VALID,
            expires_at=expires_at,
        )
    return grant, code


def _invitation(code: str, now: datetime.datetime) -> HelperGrant:
    grant = (
        HelperGrant.objects.select_related("owner")
        .filter(code_hash=invitation_code_hash(code or ""))
        .first()
    )
    if grant is None or grant.status(now) != "invited":
        raise ServiceError(
            "invitation_invalid",
            _("This invitation is not valid: it was used, revoked or has expired."),
            status_code=404,
        )
    return grant


def helper_invitation(*, code: str, now: datetime.datetime | None = None) -> HelperGrant:
    """The open invitation of this code (for the page that asks to accept it)."""
    return _invitation(code, now or timezone.now())


def helper_accept(*, helper: User, code: str, now: datetime.datetime | None = None) -> HelperGrant:
    """The helper's own account takes up the invitation; the person is told."""
    now = now or timezone.now()
    with transaction.atomic():
        grant = _invitation(code, now)
        grant = HelperGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.status(now) != "invited":
            raise ServiceError(
                "invitation_invalid",
                _("This invitation is not valid: it was used, revoked or has expired."),
                status_code=404,
            )
        if grant.owner_id == helper.pk:
            raise ServiceError("own_invitation", _("You cannot be your own helper."))
        grant.helper = helper
        grant.accepted_at = now
        grant.save(update_fields=["helper", "accepted_at"])
        Notification.objects.create(
            user_id=grant.owner_id,
            kind=Notification.Kind.HELPER_ACCEPTED,
            params={"name": grant.name},
            created_at=now,
        )
    return grant


def helper_revoke(
    *, owner: User, grant_id: int, now: datetime.datetime | None = None
) -> HelperGrant:
    """End a helper's access (or an open invitation) of the person's own; the helper is
    out at their next request. Another person's or an unknown id is a 404."""
    now = now or timezone.now()
    with transaction.atomic():
        grant = HelperGrant.objects.select_for_update().filter(owner=owner, pk=grant_id).first()
        if grant is None:
            raise ServiceError("not_found", _("No such helper."), status_code=404)
        if grant.revoked_at is not None:
            raise ServiceError(
                "already_revoked", _("This helper was already revoked."), status_code=409
            )
        grant.revoked_at = now
        grant.save(update_fields=["revoked_at"])
    return grant


def helper_audit_record(
    *, grant: HelperGrant, action: str, method: str, allowed: bool, status_code: int
) -> HelperAuditEntry:
    """Write down one request made while acting for the person."""
    return HelperAuditEntry.objects.create(
        grant=grant,
        owner_id=grant.owner_id,
        helper_name=grant.name,
        action=action[:80],
        method=method[:10],
        allowed=allowed,
        status_code=status_code,
    )

"""Deleting an account: everything that identifies the person goes; the consent ledger
stays as evidence, detached from the person and tied only to a random pseudonym."""

from __future__ import annotations

import logging
import uuid

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ConsentGrant, ConsentRevocation, User
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)


def account_delete(*, user: User, password: str) -> str:
    """Delete the account after the password is re-entered; return the pseudonym its
    kept consent records now carry."""
    if not user.check_password(password or ""):
        raise ServiceError("password", _("The password is not right."))
    now = timezone.now()
    pseudonym = uuid.uuid4().hex
    user_id = user.pk
    with transaction.atomic():
        grants = ConsentGrant.objects.filter(user=user)
        for grant in grants.current(now):
            ConsentRevocation.objects.create(
                grant=grant,
                revoked_at=now,
                reason=ConsentRevocation.Reason.ACCOUNT_DELETED,
                channel=ConsentGrant.Channel.WEB,
            )
        # What could identify the person (address, browser) goes; times, text versions,
        # partners and scopes stay, which is what a regulator asks about.
        ConsentRevocation.objects.filter(grant__user=user).update(client_ip=None, user_agent="")
        grants.update(user=None, subject_ref=pseudonym, client_ip=None, user_agent="")
        # Login records of the name in any case: usernames are unique regardless of case
        # (see user_register), so "OWNER" typed at the login page can only mean this account.
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username__iexact=user.username).delete()
        user.delete()
    logger.info("account deleted", extra={"user_id": user_id})
    return pseudonym

"""What every identity attempt (a verification or an appeal) goes through first: one at a
time per user, not for a verified user, and within the per-user limit (counted in the
database) and the per-address limit (counted in the shared cache)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Identity, IdentityAttempt, User
from accounts.throttle import throttle_count
from sesame_portal.errors import ServiceError


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


def identity_attempt_begin(
    *, user: User, client_ip: str | None, now: datetime.datetime
) -> str | None:
    """Inside the caller's transaction: lock the user (so the limits cannot be raced),
    refuse a verified user (409) or one over a limit (429), and count the attempt against
    the address. Returns the address counter's key (see throttle_refund)."""
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
    return throttle_count(
        action="identity",
        address=client_ip,
        limit=settings.IDENTITY_ATTEMPTS_PER_ADDRESS_PER_HOUR,
        message=_(
            "Too many verification attempts from your network. Try again in %(minutes)d minutes."
        ),
        now=now,
    )

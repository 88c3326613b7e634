"""Creating accounts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import (
    User,
)
from accounts.throttle import throttle_count
from sesame_portal.errors import ServiceError


def user_register(*, username: str, password: str, client_ip: str | None = None) -> User:
    """Create an account. Every attempt counts against the per-address hourly limit
    (refused ones too: a taken username answers a question)."""
    throttle_count(
        action="signup",
        address=client_ip,
        limit=settings.SIGNUPS_PER_ADDRESS_PER_HOUR,
        message=_("Too many sign-ups from your network. Try again in %(minutes)d minutes."),
    )
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

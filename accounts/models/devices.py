"""Where a user is signed in: each API token and each web session, with the device it came
from, and the devices a user has signed in from before (to tell a new one)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def session_key_hash(session_key: str) -> str:
    """What is stored of a session key. Keys are 32 random characters, so a plain SHA-256
    cannot be reversed or guessed; it does not depend on SECRET_KEY, so rotating that
    does not log everybody out."""
    return hashlib.sha256(session_key.encode()).hexdigest()


class SignIn(models.Model):
    """One live sign-in: an API token or a web session. Deleting the row ends it: a token
    row goes with its token; a session whose row is gone is logged out at its next request
    (see accounts.web_sessions). A web session is known only by a hash of its key, so a
    leaked table lets nobody take over a session."""

    class Kind(models.TextChoices):
        TOKEN = "token", _("App (API token)")
        SESSION = "session", _("Web browser")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ins"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    token = models.OneToOneField(
        "knox.AuthToken",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sign_in",
    )
    session_key_hash = models.CharField(
        _("session key (SHA-256)"), max_length=64, null=True, blank=True, unique=True
    )
    device = models.CharField(_("device"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), default=timezone.now)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        indexes = [models.Index(fields=["user", "-last_used_at"], name="accounts_signin_user_used")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="token", token__isnull=False, session_key_hash__isnull=True)
                    | models.Q(kind="session", token__isnull=True, session_key_hash__isnull=False)
                ),
                name="accounts_signin_token_or_session",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.device or '?'} for {self.user_id}"


class KnownDevice(models.Model):
    """A device (its label) a user has signed in from: a sign-in from any other one is
    announced. Kept after the sign-in ends; deleted with the account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="known_devices"
    )
    device = models.CharField(_("device"), max_length=100, blank=True)
    first_seen_at = models.DateTimeField(_("first seen at"), default=timezone.now)

    class Meta:
        verbose_name = _("known device")
        verbose_name_plural = _("known devices")
        constraints = [
            models.UniqueConstraint(fields=["user", "device"], name="accounts_knowndevice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.device or '?'} for {self.user_id}"

"""Trusted helpers: a person lets a family member see (and, at the revoke-only level,
withdraw consents in) their portal from the helper's own account, until an expiry or
until the person revokes it; every request made while acting is written down for the
person to see."""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def invitation_code_hash(code: str) -> str:
    """What is stored of an invitation code: 32 random bytes, so a plain SHA-256 can be
    neither reversed nor guessed."""
    return hashlib.sha256(code.encode()).hexdigest()


class HelperGrant(models.Model):
    """One invitation of a helper and, once accepted, their access. Never deleted by the
    person: revoking stamps `revoked_at`, so the audit trail keeps who it was."""

    class Level(models.TextChoices):
        READ_ONLY = "read_only", _("See only")
        REVOKE_ONLY = "revoke_only", _("See and withdraw consents")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpers"
    )
    # The helper's own account, set when they accept.
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="helping",
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    code_hash = models.CharField(_("invitation code hash"), max_length=64, unique=True)
    invited_at = models.DateTimeField(_("invited at"), default=timezone.now)
    invitation_expires_at = models.DateTimeField(_("invitation valid until"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("access ends at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("trusted helper")
        verbose_name_plural = _("trusted helpers")
        ordering = ["-invited_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.level}) for {self.owner_id}"

    def is_active(self, now: datetime.datetime | None = None) -> bool:
        """Accepted, by an account that still exists, not revoked and not expired."""
        now = now or timezone.now()
        return (
            self.helper_id is not None
            and self.accepted_at is not None
            and self.revoked_at is None
            and self.expires_at > now
        )

    def status(self, now: datetime.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.accepted_at is None:
            return "invited" if self.invitation_expires_at > now else "expired"
        return "active" if self.helper_id is not None else "revoked"


class HelperAuditEntry(models.Model):
    """One request a helper made while acting for the person: which page or action,
    whether it was allowed, when. Kept with the person's account; the helper's name is
    copied so the line still reads after their account is gone."""

    grant = models.ForeignKey(HelperGrant, on_delete=models.CASCADE, related_name="audit")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helper_audit"
    )
    helper_name = models.CharField(_("helper"), max_length=100)
    at = models.DateTimeField(_("at"), default=timezone.now)
    # The view's URL name (never the path: a path may carry a token) and the method.
    action = models.CharField(_("action"), max_length=80)
    method = models.CharField(_("method"), max_length=10)
    allowed = models.BooleanField(_("allowed"))
    status_code = models.PositiveSmallIntegerField(_("status"))

    class Meta:
        verbose_name = _("helper audit entry")
        verbose_name_plural = _("helper audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["owner", "-at"], name="accounts_helper_audit_owner")]

    def __str__(self) -> str:
        return f"{self.helper_name} {self.method} {self.action} at {self.at:%Y-%m-%d %H:%M}"

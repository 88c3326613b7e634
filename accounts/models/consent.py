from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConsentPurpose(models.TextChoices):
    SCORING = "scoring", _("Compute my credit score")
    SOCIAL_CONNECTIONS = "social_connections", _("Use my social connections")
    UTILITY_BILLS = "utility_bills", _("Use my utility bills")
    PARTNER_SHARING = "partner_sharing", _("Share with a partner")


# Optional data categories: each needs its own consent on top of the scoring consent.
DATA_CATEGORY_PURPOSES = (ConsentPurpose.SOCIAL_CONNECTIONS, ConsentPurpose.UTILITY_BILLS)


class ConsentText(models.Model):
    """A published, versioned consent text. Published texts never change: a new
    wording is a new version, and every grant records the version it agreed to."""

    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    version = models.PositiveIntegerField(_("version"))
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_zh = models.TextField(_("text (Chinese)"))
    body_en = models.TextField(_("text (English)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="consent_text_version")
        ]
        ordering = ["purpose", "-version"]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version}"

    def title(self, language: str) -> str:
        return self.title_zh if language.startswith("zh") else self.title_en

    def body(self, language: str) -> str:
        return self.body_zh if language.startswith("zh") else self.body_en


class ConsentGrantQuerySet(models.QuerySet):
    def current(self, at=None) -> ConsentGrantQuerySet:
        at = at or timezone.now()
        return self.filter(revocation__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class ConsentGrant(models.Model):
    """An append-only record of one grant. It is never edited: revoking adds a
    ConsentRevocation, and expiry is read from `expires_at`. A partner-sharing grant's
    partner and terms are recorded beside it by the partners' side (its authorisation)."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web page")
        API = "api", _("API")
        # Records the portal writes itself, such as the end of a suspended partner's grants.
        SYSTEM = "system", _("The portal")

    # Null once the account is deleted: the record stays as evidence, tied only to a
    # random pseudonym (subject_ref) that identifies nobody.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="consent_grants",
    )
    subject_ref = models.CharField(_("pseudonym after deletion"), max_length=32, blank=True)
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="grants")
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    objects = ConsentGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent grant")
        verbose_name_plural = _("consent grants")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.user_id})"

    def is_current(self, at=None) -> bool:
        return not hasattr(self, "revocation") and not self.has_expired(at)

    def has_expired(self, at=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or timezone.now())


class ConsentRevocation(models.Model):
    class Reason(models.TextChoices):
        USER = "user", _("Revoked by the user")
        SUPERSEDED = "superseded", _("Replaced by a newer grant")
        ACCOUNT_DELETED = "account_deleted", _("The account was deleted")
        # The partner lost its approval (suspended or back in review): its grants end for
        # good, and approving it again needs a new grant from each person.
        PARTNER_SUSPENDED = "partner_suspended", _("Ended: the partner was suspended")
        # A partner authorisation limited in use reached its limit (its queries, or the
        # partner's decision).
        USED_UP = "used_up", _("Used up: its limit was reached")

    grant = models.OneToOneField(ConsentGrant, on_delete=models.CASCADE, related_name="revocation")
    revoked_at = models.DateTimeField(_("revoked at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentGrant.Channel.choices)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent revocation")
        verbose_name_plural = _("consent revocations")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} at {self.revoked_at:%Y-%m-%d %H:%M}"

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Partner(models.Model):
    """A merchant that offers benefits and, with a user's consent, reads their score.
    Only approved partners offer benefits or query; status changes go through
    benefits.services.partner_status_set, which records who, when and why."""

    # The category of lenders (loans, credit lines): their authorisations end with
    # their decision unless the person chooses otherwise.
    LENDING_CATEGORY = "lending"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=100, unique=True)
    category = models.CharField(_("category"), max_length=50)
    licence_number = models.CharField(_("licence number"), max_length=50, blank=True)
    status = models.CharField(
        _("qualification status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("status changed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Abuse controls of the partner API.
    rate_limit_per_minute = models.PositiveIntegerField(_("calls per minute"), default=120)
    daily_quota = models.PositiveIntegerField(_("calls per day"), default=20_000)
    suspend_on_anomaly = models.BooleanField(
        _("suspend automatically on an anomaly"), default=False
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def is_lending(self) -> bool:
        return self.category.strip().lower() == self.LENDING_CATEGORY


class PartnerStatusChange(models.Model):
    """Append-only history of a partner's qualification status, with the reason given."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="status_changes")
    status_from = models.CharField(_("from"), max_length=10, choices=Partner.Status.choices)
    status_to = models.CharField(_("to"), max_length=10, choices=Partner.Status.choices)
    reason = models.CharField(_("reason"), max_length=300)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.status_from} → {self.status_to}"

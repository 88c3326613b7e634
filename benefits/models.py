from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Partner(models.Model):
    """A merchant that offers benefits and, with a user's consent, reads their score."""

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

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class CourtListEntry(models.Model):
    """A person on the court list of dishonest judgment debtors (失信被执行人), kept only
    as the keyed hash of the ID number (the same HMAC as verified identities)."""

    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, unique=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("court list entry")
        verbose_name_plural = _("court list entries")

    def __str__(self) -> str:
        return f"court list entry {self.pk}"

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.evidence import SealedEvidence


class SectionVerification(models.Model):
    """A person asks for one profile section's answers to be verified: with a document
    (a diploma, a vehicle or property certificate, a provident fund statement) or, for
    education, a CHSI (学信网) online verification code. Staff with the decide permission
    check it and approve (the answers filed become verified) or reject with a reason.
    `answers` keeps the section's answers as filed: staff approve exactly those."""

    class Section(models.TextChoices):
        EDUCATION = "education", _("Education")
        VEHICLE = "vehicle", _("Vehicle")
        PROPERTY = "property", _("Property")
        PROVIDENT_FUND = "provident_fund", _("Housing provident fund")

    class Method(models.TextChoices):
        DOCUMENT = "document", _("by document")
        CHSI_CODE = "chsi_code", _("by CHSI online verification code")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="section_verifications",
        verbose_name=_("person"),
    )
    section = models.CharField(_("section"), max_length=20, choices=Section.choices)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    code = models.CharField(_("verification code"), max_length=20, blank=True)
    answers = models.JSONField(_("answers filed"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("filed at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("profile verification")
        verbose_name_plural = _("profile verifications")
        ordering = ["created_at"]
        permissions = [
            ("decide_sectionverification", _("Can approve or reject profile verifications"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "section"],
                condition=Q(status="pending"),
                name="accounts_one_pending_verification_per_section",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"verification {self.pk} of {self.section} ({self.status})"


class SectionVerificationDocument(SealedEvidence):
    """The document behind a verification, handed out only to staff who may see them."""

    verification = models.OneToOneField(
        SectionVerification, on_delete=models.CASCADE, related_name="document"
    )

    class Meta:
        verbose_name = _("verification document")
        verbose_name_plural = _("verification documents")

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.evidence import SealedEvidence
from accounts.models.users import Identity
from sesame_portal.uploads import STATEMENT_MAX


class IdentityAppeal(models.Model):
    """A person says the ID number verified on another account is theirs (实名申诉).
    Staff with the decide permission approve it (the identity moves to the appellant)
    or reject it with a reason. The number exists here only as its keyed hash; the
    name the appellant gave only encrypted."""

    ENCRYPTED_FIELDS = ("full_name_encrypted",)

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="identity_appeals",
        verbose_name=_("appellant"),
    )
    # The contested verification, and who held it when last looked at (filed or decided).
    identity = models.ForeignKey(
        Identity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("identity"),
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="identity_appeals_against",
        verbose_name=_("holder"),
    )
    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, db_index=True)
    full_name_encrypted = models.TextField(_("appellant's full name (encrypted)"))
    statement = models.TextField(_("statement"), max_length=STATEMENT_MAX)
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
        verbose_name = _("identity appeal")
        verbose_name_plural = _("identity appeals")
        ordering = ["created_at"]
        permissions = [("decide_identityappeal", _("Can approve or reject identity appeals"))]
        constraints = [
            models.UniqueConstraint(
                fields=["appellant"],
                condition=Q(status="pending"),
                name="accounts_one_pending_appeal_per_appellant",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"identity appeal {self.pk} ({self.status})"


class IdentityAppealEvidence(SealedEvidence):
    """The photo or scan of the ID card, handed out only to staff who may see appeals."""

    appeal = models.OneToOneField(IdentityAppeal, on_delete=models.CASCADE, related_name="evidence")

    class Meta:
        verbose_name = _("appeal evidence")
        verbose_name_plural = _("appeal evidence")

"""The trained model versions: the artifact, its checksum and card, and which one is active."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ModelVersion(models.Model):
    """A trained scorecard. The artifact is JSON (tables of bins and points, nothing
    executable) and its sha256 is checked every time it is loaded."""

    class Kind(models.TextChoices):
        PORTAL = "portal", _("Portal features")
        EXTERNAL = "external", _("External CSV")

    version = models.CharField(_("version"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    artifact = models.BinaryField(_("artifact"))
    sha256 = models.CharField(_("sha256"), max_length=64)
    card = models.JSONField(_("model card"), default=dict)
    # {"features": [names], "typical_points": [points]}: the order of its snapshots'
    # arrays and what their reasons are measured against (scoring.explain.breakdown).
    points_layout = models.JSONField(_("points layout"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the artifact last failed its check (missing, changed or unreadable);
    # cleared when it verifies again. Shown to admins as an alert.
    integrity_failed_at = models.DateTimeField(
        _("integrity check failed at"), null=True, blank=True
    )
    integrity_error = models.CharField(_("integrity error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(is_active=True),
                name="one_active_model_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.version

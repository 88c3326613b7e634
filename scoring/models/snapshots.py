"""Score snapshots: one computed score with everything needed to explain it later."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scoring.explain.reasons import trigger_text
from scoring.models.model_versions import ModelVersion


class ScoreSnapshot(models.Model):
    """One computed score, with everything needed to explain it later."""

    class Band(models.TextChoices):
        POOR = "poor", _("Poor")
        FAIR = "fair", _("Fair")
        GOOD = "good", _("Good")
        VERY_GOOD = "very_good", _("Very good")
        EXCELLENT = "excellent", _("Excellent")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_snapshots"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    band = models.CharField(_("band"), max_length=10, choices=Band.choices)
    dimensions = models.JSONField(_("sub-scores"))  # {dimension: 0..100}
    # Each feature's points and value (NaN: missing) as little-endian float64, in the
    # order of the model version's points_layout: a row stays far below PostgreSQL's
    # 2 KB TOAST threshold. Read through scoring.explain.breakdown.snapshot_breakdown,
    # which derives the reasons too. Empty: stored without its breakdown.
    feature_points = models.BinaryField(_("points by feature"), null=True, blank=True)
    feature_values = models.BinaryField(_("feature values"), null=True, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="snapshots"
    )
    trigger = models.CharField(_("trigger"), max_length=60)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    run = models.ForeignKey(
        "RecomputeRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    # False once a later snapshot of the user is written (scoring.services.snapshot_history
    # .snapshots_supersede): a person's latest snapshot is always current. On PostgreSQL
    # the table is partitioned on it, the history again by month (migration 0013), so
    # reading a latest score probes one partition and old months can be dropped whole.
    current = models.BooleanField(_("current"), default=True, db_default=True)

    class Meta:
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")
        indexes = [models.Index(fields=["user", "-computed_at"])]
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"{self.score} for {self.user_id} at {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def trigger_label(self) -> str:
        return trigger_text(self.trigger)

"""The nightly run split into chunks, and the per-user recompute waiting or running."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scoring.models.model_versions import ModelVersion


class RecomputeRun(models.Model):
    """One recompute of everyone (nightly, or asked for by an admin), split into chunks."""

    class Kind(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly")
        MANUAL = "manual", _("Manual")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    chunk_size = models.PositiveIntegerField(_("chunk size"))
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    users_done = models.PositiveIntegerField(_("users scored"), default=0)
    # Of those, the users given a new snapshot (their score, a sub-score, the points or
    # the model changed); the others were checked and keep their latest one.
    users_changed = models.PositiveIntegerField(_("scores changed"), default=0)
    failures = models.PositiveIntegerField(_("failed chunk attempts"), default=0)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk}"

    @property
    def progress(self) -> int:
        return round(100 * self.chunks_done / self.chunks_total) if self.chunks_total else 100


class RecomputeChunk(models.Model):
    """A range of user ids within a run. Done exactly once, however often it is delivered."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="chunks")
    first_user_id = models.BigIntegerField()
    last_user_id = models.BigIntegerField()
    queued_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    users_done = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "first_user_id"], name="chunk_once_per_run")
        ]
        indexes = [models.Index(fields=["run", "done_at"])]

    def __str__(self) -> str:
        return f"users {self.first_user_id}-{self.last_user_id} of run {self.run_id}"


class PendingRecompute(models.Model):
    """A user's per-user recompute from the moment it is queued until it is done.

    Queued (started_at empty): changes arriving meanwhile ride on it instead of queueing
    another. Running (started_at set): a new change queues again. Failed (failed_at set):
    the worker gave up; the score home stops waiting and says so. Done: the row is gone.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pending recompute of {self.user_id}"

"""Signed score proofs a person hands out, and every opening of one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN


class ScoreProof(models.Model):
    """A link (and QR code) the person gives a merchant instead of a screenshot: signed
    by the portal, showing only what the person chose, judged on their current score
    when opened, until it expires or they revoke it."""

    class Shows(models.TextChoices):
        BAND = "band", _("My score band")
        AT_LEAST = "at_least", _("Whether my score is at least a number")

    class Origin(models.TextChoices):
        LINK = "link", _("A link to share")
        STATEMENT = "statement", _("A printed statement")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_proofs"
    )
    shows = models.CharField(_("shows"), max_length=10, choices=Shows.choices)
    threshold = models.PositiveSmallIntegerField(_("at least"), null=True, blank=True)
    show_name = models.BooleanField(_("shows the masked name"), default=False)
    show_statement = models.BooleanField(_("shows the personal statement"), default=False)
    # A printed statement (PDF) carries its own proof, whose QR code verifies it.
    origin = models.CharField(
        _("made for"), max_length=10, choices=Origin.choices, default=Origin.LINK
    )
    # Signed into the link together with the id: a link for a deleted proof that is
    # re-created under the same id does not come back to life.
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("score proof")
        verbose_name_plural = _("score proofs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shows="band", threshold__isnull=True)
                | models.Q(shows="at_least", threshold__gte=SCORE_MIN, threshold__lte=SCORE_MAX),
                name="proof_threshold_matches_what_it_shows",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="proof_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"proof {self.pk} of {self.user_id}"


class ScoreProofOpening(models.Model):
    """Each time a proof link is opened, answered or not: the person sees them all."""

    proof = models.ForeignKey(ScoreProof, on_delete=models.CASCADE, related_name="openings")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=20)  # shown, expired, revoked, …
    answer = models.CharField(_("what it showed"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("proof opening")
        verbose_name_plural = _("proof openings")
        indexes = [models.Index(fields=["proof", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.opened_at:%Y-%m-%d %H:%M}"

"""A person's goal: a benefit of the catalogue (its score threshold) or a score to reach.
One per person; the plan towards it is computed on read (benefits.selectors.goal_plan)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.models.catalogue import Benefit
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN


class Goal(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="goal",
        verbose_name=_("user"),
    )
    # A benefit's threshold is read when the plan is, so a changed minimum score follows.
    benefit = models.ForeignKey(
        Benefit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("benefit"),
    )
    target_score = models.PositiveSmallIntegerField(
        _("target score"),
        null=True,
        blank=True,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
    )
    # The actions the person commits to (scoring.services.outlook.PLAN_LEVERS keys).
    levers = models.JSONField(_("committed actions"), default=list, blank=True)
    created_at = models.DateTimeField(_("set at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # When a score first reached the target (cleared if a later one falls below it), so
    # the person is told once each time they get there.
    reached_at = models.DateTimeField(_("reached at"), null=True, blank=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(
                condition=(Q(benefit__isnull=False) & Q(target_score__isnull=True))
                | (Q(benefit__isnull=True) & Q(target_score__isnull=False)),
                name="goal_benefit_or_score",
            )
        ]

    def __str__(self) -> str:
        return f"goal of {self.user_id}"

    @property
    def score_needed(self) -> int:
        """The score the goal asks for: the benefit's minimum, or the score chosen."""
        return self.benefit.min_score if self.benefit_id else self.target_score

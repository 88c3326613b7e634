"""Setting and clearing a person's goal, and following new scores to tell them when one
reaches it (from the scores_written hook, once per nightly chunk)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, When
from django.utils.translation import gettext as _

from accounts.models import Notification, User
from benefits.models import Goal
from benefits.selectors import benefits_offered
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.selectors import score_usable
from scoring.services.outlook import PLAN_LEVERS
from sesame_portal.bulk import copy_insert, ids_lookup
from sesame_portal.errors import ServiceError


def _levers_valid(levers: Any) -> list[str]:
    if levers is None:
        return []
    if not isinstance(levers, list | tuple) or not all(isinstance(name, str) for name in levers):
        raise ServiceError("invalid_levers", _("Committed actions must be a list of names."))
    unknown = [name for name in levers if name not in PLAN_LEVERS]
    if unknown:
        raise ServiceError(
            "unknown_lever",
            _("%(name)s is not an action a plan offers.") % {"name": unknown[0]},
        )
    return list(dict.fromkeys(levers))


def goal_set(
    *,
    user: User,
    benefit_id: Any = None,
    target_score: Any = None,
    levers: Any = None,
) -> Goal:
    """Set the person's one goal (replacing any other): a benefit on offer now, or a
    score from 350 to 950; `levers`, the actions they commit to."""
    if (benefit_id is None) == (target_score is None):
        raise ServiceError(
            "target_required", _("Choose either a benefit or a score as your goal, not both.")
        )
    benefit = None
    if benefit_id is not None:
        if isinstance(benefit_id, bool) or not isinstance(benefit_id, int):
            raise ServiceError("unknown_benefit", _("That benefit is not on offer."))
        benefit = benefits_offered().filter(pk=benefit_id).first()
        if benefit is None:
            raise ServiceError("unknown_benefit", _("That benefit is not on offer."))
    elif (
        isinstance(target_score, bool)
        or not isinstance(target_score, int)
        or not SCORE_MIN <= target_score <= SCORE_MAX
    ):
        raise ServiceError(
            "invalid_score",
            _("A target score is a whole number from %(min)d to %(max)d.")
            % {"min": SCORE_MIN, "max": SCORE_MAX},
        )
    committed = _levers_valid(levers)
    # Already there: the plan says so, and no later score announces it as news.
    latest = score_usable(user=user)
    needed = benefit.min_score if benefit else target_score
    reached_at = latest.computed_at if latest and latest.score >= needed else None
    with transaction.atomic():
        goal, _created = Goal.objects.update_or_create(
            user=user,
            defaults={
                "benefit": benefit,
                "target_score": None if benefit else target_score,
                "levers": committed,
                "reached_at": reached_at,
            },
        )
    return goal


def goal_delete(*, user: User) -> bool:
    """Remove the person's goal; False when they had none."""
    deleted, _rows = Goal.objects.filter(user=user).delete()
    return bool(deleted)


def goals_follow_scores(*, scores: Iterable[tuple[int, int, dict]], at: datetime.datetime) -> int:
    """The goals of these users (user id, new score, sub-scores) against their new
    scores: a goal the score now reaches is marked reached and its person gets one
    notification; one the score fell below is open again. A fixed number of queries for
    any number of users (the nightly chunk's own follow-up). Returns how many were told."""
    score_of = {user_id: score for user_id, score, _dims in scores}
    if not score_of:
        return 0
    user_ids = sorted(score_of)
    goals = [
        row
        for row in Goal.objects.filter(**ids_lookup(user_ids))
        .annotate(
            needed=Case(
                When(benefit__isnull=False, then=F("benefit__min_score")),
                default=F("target_score"),
                output_field=IntegerField(),
            )
        )
        .values_list(
            "pk",
            "user_id",
            "needed",
            "reached_at",
            "benefit_id",
            "benefit__title_zh",
            "benefit__title_en",
        )
        if row[1] in score_of
    ]
    reached = [row for row in goals if row[3] is None and score_of[row[1]] >= row[2]]
    fallen = [row[0] for row in goals if row[3] is not None and score_of[row[1]] < row[2]]
    if reached:
        Goal.objects.filter(pk__in=[row[0] for row in reached]).update(reached_at=at)
        copy_insert(
            Notification,
            ("user_id", "kind", "params", "created_at"),
            [
                (
                    user_id,
                    Notification.Kind.GOAL_REACHED,
                    {
                        "score": score_of[user_id],
                        "target": needed,
                        "benefit_id": benefit_id,
                        "title_zh": title_zh or "",
                        "title_en": title_en or "",
                    },
                    at,
                )
                for _pk, user_id, needed, _r, benefit_id, title_zh, title_en in reached
            ],
            json_columns=frozenset({"params"}),
        )
    if fallen:
        Goal.objects.filter(pk__in=fallen).update(reached_at=None)
    return len(reached)

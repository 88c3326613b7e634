"""Score jobs. Thin: they take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="scoring.recompute_user", ignore_result=True)
def score_recompute_user(user_id: int, trigger: str) -> str:
    """Recompute one user's score after a change that matters.

    The scoring engine (model, features, snapshots) lands with the scoring issue; until
    then the change is recorded in the worker log and nothing is computed.
    """
    logger.info("score recompute requested", extra={"user_id": user_id, "trigger": trigger})
    return "no_model"

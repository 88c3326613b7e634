"""What scoring tells the apps above it: `scores_written` reaches its receivers with the
current snapshots' rows and moment, and what they say they recorded decides, with the
score notifications, whether the people who asked for email get one."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from accounts.notifications import notification_email_set
from scoring.services.scores import Scored, snapshots_write_and_follow_up
from scoring.signals import scores_written
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _row(user_id: int, score: int) -> Scored:
    return Scored(
        user_ids=[user_id],
        scores=np.array([score]),
        totals=np.array([float(score)]),
        dimensions={"capacity": np.array([60])},
        points=np.zeros((1, 0)),
        values=np.zeros((1, 0)),
    )


@pytest.fixture
def emails(monkeypatch) -> list[list[int]]:
    queued: list[list[int]] = []
    monkeypatch.setattr(
        "scoring.services.scores.notification_emails_queue",
        lambda *, user_ids, at: queued.append(list(user_ids)),
    )
    return queued


@pytest.mark.parametrize("recorded", [0, 1])
def test_a_first_score_is_emailed_only_when_a_receiver_recorded_something(
    active_model,
    emails,
    recorded,
):
    user = make_user("mailed")
    notification_email_set(user=user, by_email=True, email="mailed@example.com")
    heard = []

    def receiver(sender, *, scores, at, **kwargs) -> int:
        heard.append((scores, at))
        return recorded

    scores_written.connect(receiver, weak=False, dispatch_uid="test_receiver")
    try:
        at = timezone.now()
        snapshots_write_and_follow_up(
            scored=_row(user.pk, 700),
            model_version_id=active_model.pk,
            trigger="test",
            computed_at=at,
        )
    finally:
        scores_written.disconnect(dispatch_uid="test_receiver")
    # A first score says nothing itself: only the receiver's news asks for the email.
    assert heard == [([(user.pk, 700, {"capacity": 60})], at)]
    assert emails == ([[user.pk]] if recorded else [])

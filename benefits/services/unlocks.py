"""Recording unlocks as scores cross thresholds, in bulk, with a notification each."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, Notification, User
from benefits.eligibility import unlocked_pairs
from benefits.models import BenefitUnlock
from benefits.selectors import benefits_offered, people_for


def _notification(user_id: int, kind: str, benefit) -> Notification:
    return Notification(
        user_id=user_id,
        kind=kind,
        params={
            "benefit_id": benefit.pk,
            "title_zh": benefit.title_zh,
            "title_en": benefit.title_en,
            "min_score": benefit.min_score,
        },
    )


def unlocks_apply(
    *, scores: Iterable[tuple[int, int, dict]], now: datetime.datetime | None = None
) -> tuple[int, int]:
    """Bring the unlock records of these users in line with their new scores, given as
    (user id, score, sub-scores) of the snapshots just written.

    Newly qualifying users get an open unlock and a notification; users who no longer
    qualify (their score fell, the benefit ended, the partner was suspended, they were
    court-listed) have theirs closed, kept as history, with a notification. A fixed
    number of queries for any number of users: the nightly run calls it once per chunk.
    Returns (unlocked, locked).
    """
    now = now or timezone.now()
    rows = list(scores)
    if not rows:
        return 0, 0
    score_of = {user_id: score for user_id, score, _dims in rows}
    benefits = {b.pk: b for b in benefits_offered(now=now)}
    target = unlocked_pairs(
        people_for(rows), list(benefits.values()), today=timezone.localdate(now)
    )
    open_unlocks = list(
        BenefitUnlock.objects.filter(user_id__in=score_of, locked_at__isnull=True)
        .select_related("benefit")
        .only(
            "id",
            "user_id",
            "benefit_id",
            "benefit__title_zh",
            "benefit__title_en",
            "benefit__min_score",
        )
    )
    held = {(u.user_id, u.benefit_id) for u in open_unlocks}
    fresh = sorted(target - held)
    closing = [u for u in open_unlocks if (u.user_id, u.benefit_id) not in target]

    # ignore_conflicts: a run overlapping a per-user recompute may have opened it first;
    # only the rows written here (stamped with this call's time) are announced.
    BenefitUnlock.objects.bulk_create(
        [
            BenefitUnlock(
                user_id=user_id,
                benefit_id=benefit_id,
                unlocked_at=now,
                score_at_unlock=score_of[user_id],
            )
            for user_id, benefit_id in fresh
        ],
        ignore_conflicts=True,
    )
    if closing:
        BenefitUnlock.objects.filter(pk__in=[u.pk for u in closing]).update(
            locked_at=now,
            score_at_lock=Case(
                *[When(pk=u.pk, then=Value(score_of[u.user_id])) for u in closing],
                output_field=IntegerField(),
            ),
        )
    if fresh:
        fresh = list(
            BenefitUnlock.objects.filter(
                user_id__in={user_id for user_id, _b in fresh},
                locked_at__isnull=True,
                unlocked_at=now,
            ).values_list("user_id", "benefit_id")
        )
    Notification.objects.bulk_create(
        [
            _notification(user_id, Notification.Kind.BENEFIT_UNLOCKED, benefits[benefit_id])
            for user_id, benefit_id in fresh
        ]
        + [_notification(u.user_id, Notification.Kind.BENEFIT_LOCKED, u.benefit) for u in closing]
    )
    return len(fresh), len(closing)


def unlocks_close_without_consent(*, now: datetime.datetime | None = None) -> int:
    """Close the open unlocks of everyone whose scoring consent has lapsed (expired
    rather than revoked, which closes them at once); the nightly run calls it."""
    consenting = (
        ConsentGrant.objects.current().filter(purpose=ConsentPurpose.SCORING).values("user_id")
    )
    return (
        BenefitUnlock.objects.filter(locked_at__isnull=True)
        .exclude(user_id__in=consenting)
        .update(locked_at=now or timezone.now())
    )


def unlocks_close_all(*, users: Iterable[User | int], now: datetime.datetime | None = None) -> int:
    """Close every open unlock of these users at once (scoring consent revoked, court
    list match), without a score to record."""
    user_ids = [u if isinstance(u, int) else u.pk for u in users]
    return BenefitUnlock.objects.filter(user_id__in=user_ids, locked_at__isnull=True).update(
        locked_at=now or timezone.now()
    )

"""Recording unlocks as scores cross thresholds, in bulk, with a notification each."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from accounts.models import Notification, User
from accounts.selectors import users_consenting_to_scoring
from benefits.eligibility import unlocked_pairs
from benefits.models import Benefit, BenefitUnlock
from benefits.selectors import benefits_offered, people_for
from sesame_portal.bulk import copy_insert, ids_lookup


def _benefit_params(benefit: Benefit) -> dict:
    return {
        "id": benefit.pk,
        "title_zh": benefit.title_zh,
        "title_en": benefit.title_en,
        "min_score": benefit.min_score,
    }


def _close(closing: list[tuple[int, int]], now: datetime.datetime) -> None:
    """Close unlocks given as (unlock id, score now): one statement for any number."""
    if connection.vendor == "postgresql":
        table = BenefitUnlock._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS u SET locked_at = %s, score_at_lock = v.score "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, score) WHERE u.id = v.id",
                [now, [pk for pk, _s in closing], [score for _pk, score in closing]],
            )
        return
    by_score: dict[int, list[int]] = defaultdict(list)
    for pk, score in closing:
        by_score[score].append(pk)
    for score, pks in by_score.items():
        BenefitUnlock.objects.filter(pk__in=pks).update(locked_at=now, score_at_lock=score)


def unlocks_apply(
    *, scores: Iterable[tuple[int, int, dict]], now: datetime.datetime | None = None
) -> tuple[int, int]:
    """Bring the unlock records of these users in line with their new scores, given as
    (user id, score, sub-scores) of the snapshots just written.

    Newly qualifying users get an open unlock; users who no longer qualify (their score
    fell, the benefit ended, the partner was suspended, they were court-listed) have it
    closed, kept as history. Each user with a change gets one notification listing what
    unlocked and one listing what locked. A fixed number of queries for any number of
    users, COPY on PostgreSQL: the nightly run calls it once per chunk.
    Returns (unlocked, locked).
    """
    now = now or timezone.now()
    rows = list(scores)
    if not rows:
        return 0, 0
    score_of = {user_id: score for user_id, score, _dims in rows}
    user_ids = sorted(score_of)
    benefits = {b.pk: b for b in benefits_offered(now=now)}
    target = (
        unlocked_pairs(people_for(rows), list(benefits.values()), today=timezone.localdate(now))
        if benefits
        else set()
    )
    held = [
        (pk, user_id, benefit_id)
        for pk, user_id, benefit_id in BenefitUnlock.objects.filter(
            **ids_lookup(user_ids), locked_at__isnull=True
        ).values_list("id", "user_id", "benefit_id")
        if user_id in score_of
    ]
    fresh = sorted(target - {(user_id, benefit_id) for _pk, user_id, benefit_id in held})
    closing = [held_row for held_row in held if held_row[1:] not in target]

    if fresh:
        # ignore_conflicts: a recompute overlapping this one may have opened it first;
        # only the rows written here (stamped with this call's time) are announced.
        copy_insert(
            BenefitUnlock,
            ("user_id", "benefit_id", "unlocked_at", "score_at_unlock"),
            ((user_id, benefit_id, now, score_of[user_id]) for user_id, benefit_id in fresh),
            ignore_conflicts=True,
        )
        fresh = [
            (user_id, benefit_id)
            for user_id, benefit_id in BenefitUnlock.objects.filter(
                **ids_lookup(sorted({user_id for user_id, _b in fresh})),
                locked_at__isnull=True,
                unlocked_at=now,
            ).values_list("user_id", "benefit_id")
            if user_id in score_of
        ]
    if closing:
        _close([(pk, score_of[user_id]) for pk, user_id, _b in closing], now)
        gone = {benefit_id for _pk, _u, benefit_id in closing} - benefits.keys()
        benefits |= {b.pk: b for b in Benefit.objects.filter(pk__in=gone)}

    news: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for user_id, benefit_id in fresh:
        news[user_id, Notification.Kind.BENEFIT_UNLOCKED].append(
            _benefit_params(benefits[benefit_id])
        )
    for _pk, user_id, benefit_id in closing:
        news[user_id, Notification.Kind.BENEFIT_LOCKED].append(
            _benefit_params(benefits[benefit_id])
        )
    copy_insert(
        Notification,
        ("user_id", "kind", "params", "created_at"),
        (
            (user_id, kind, {"benefits": items}, now)
            for (user_id, kind), items in sorted(news.items())
        ),
        json_columns=frozenset({"params"}),
    )
    return len(fresh), len(closing)


def unlocks_close_without_consent(*, now: datetime.datetime | None = None) -> int:
    """Close the open unlocks of everyone whose scoring consent has lapsed (expired
    rather than revoked, which closes them at once); the nightly run calls it."""
    return (
        BenefitUnlock.objects.filter(locked_at__isnull=True)
        .exclude(user_id__in=users_consenting_to_scoring())
        .update(locked_at=now or timezone.now())
    )


def unlocks_close_all(*, users: Iterable[User | int], now: datetime.datetime | None = None) -> int:
    """Close every open unlock of these users at once (scoring consent revoked, court
    list match), without a score to record."""
    user_ids = [u if isinstance(u, int) else u.pk for u in users]
    return BenefitUnlock.objects.filter(user_id__in=user_ids, locked_at__isnull=True).update(
        locked_at=now or timezone.now()
    )

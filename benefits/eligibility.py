"""Whether a person qualifies for a benefit, and if not, what stands in the way.

Plain functions over plain values, so that the catalogue page, the claim, the partner
API, the admin's preview and the nightly run all decide the same way."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from accounts.resident_id import age_on
from scoring.ml.scorecard import SCORE_MIN

# Why a benefit is not unlocked, in the order a person would want to hear them.
BLOCK_COURT_LIST = "court_list"
BLOCK_NO_SCORE = "no_score"
BLOCK_SCORE = "score"
BLOCK_SUBSCORE = "subscore"
BLOCK_AGE = "age"
BLOCK_REGION = "region"


@dataclass(frozen=True)
class Person:
    """What eligibility needs to know about one user."""

    user_id: int
    score: int | None
    dimensions: dict[str, int] = field(default_factory=dict)
    birth_date: datetime.date | None = None
    region_code: str = ""
    court_listed: bool = False


@dataclass(frozen=True)
class Eligibility:
    benefit_id: int
    unlocked: bool
    points_away: int | None  # score points still needed; 0 once the score is enough
    progress: int  # 0-100, how far the score is from the scale's bottom to the minimum
    blocked_by: tuple[str, ...]
    subscores_short: tuple[str, ...] = ()  # dimensions below their minimum


def region_matches(region_code: str, regions: list[str]) -> bool:
    return not regions or any(region_code.startswith(prefix) for prefix in regions)


def subscores_short(dimensions: dict[str, int], minimums: dict[str, int]) -> tuple[str, ...]:
    """The dimensions below their minimum, in a stable order."""
    if not minimums:
        return ()
    return tuple(
        dimension
        for dimension, minimum in sorted(minimums.items())
        if dimensions.get(dimension, 0) < minimum
    )


def age_of(person: Person, today: datetime.date) -> int | None:
    return age_on(person.birth_date, today) if person.birth_date else None


def blocked_by(person: Person, benefit, age: int | None) -> list[str]:
    """Why this benefit is not unlocked for this person, in the order a person would want
    to hear them; empty when it is unlocked. The rules themselves, for one person
    (`eligibility_of`) and for a chunk (`unlocked_pairs`); `age` is the person's age today
    (`age_of`), worked out once a person."""
    blocked: list[str] = []
    if person.court_listed:
        blocked.append(BLOCK_COURT_LIST)
    if person.score is None:
        blocked.append(BLOCK_NO_SCORE)
    else:
        if person.score < benefit.min_score:
            blocked.append(BLOCK_SCORE)
        if subscores_short(person.dimensions, benefit.min_subscores):
            blocked.append(BLOCK_SUBSCORE)
    if benefit.min_age and (age is None or age < benefit.min_age):
        blocked.append(BLOCK_AGE)
    if not region_matches(person.region_code, benefit.regions):
        blocked.append(BLOCK_REGION)
    return blocked


def eligibility_of(person: Person, benefit, *, today: datetime.date) -> Eligibility:
    """Decide for one person and one benefit (any object with the Benefit fields), with
    how far the score is from the minimum and which sub-scores fall short."""
    blocked = blocked_by(person, benefit, age_of(person, today))
    if person.score is None:
        points_away, progress, short = None, 0, ()
    else:
        points_away = max(0, benefit.min_score - person.score)
        span = benefit.min_score - SCORE_MIN
        progress = 100 if points_away == 0 else int(100 * (person.score - SCORE_MIN) / span)
        short = subscores_short(person.dimensions, benefit.min_subscores)
    return Eligibility(
        benefit_id=benefit.pk,
        unlocked=not blocked,
        points_away=points_away,
        progress=max(0, min(100, progress)),
        blocked_by=tuple(blocked),
        subscores_short=short,
    )


def unlocked_pairs(people: list[Person], benefits: list, *, today: datetime.date) -> set:
    """(user id, benefit id) for every benefit each person has unlocked: `blocked_by` over
    a chunk, used by both recomputes (`unlocks_apply`), without building a result
    per pair (a chunk checks thousands of pairs)."""
    pairs = set()
    for person in people:
        age = age_of(person, today)
        pairs.update(
            (person.user_id, benefit.pk)
            for benefit in benefits
            if not blocked_by(person, benefit, age)
        )
    return pairs

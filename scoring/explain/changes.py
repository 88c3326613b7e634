"""Why a score changed between two snapshots, in whole points that add up to the change.

The scorecard is additive: a score is the model's base points plus each feature's points,
rounded and kept within 350-950. So the change between two snapshots splits exactly into
each feature's change in points, the change of base points when the model version changed,
and (rarely) what the 350-950 limits took off. Parts are rounded to whole points by the
largest-remainder method, so they always add up to the change shown. The events behind a
change (an instalment paid late, a profile step verified, a new model) come from the
person's records dated between the two snapshots.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation, Identity, Profile
from scoring.explain.breakdown import model_versions_attach, snapshot_breakdown
from scoring.explain.reasons import DIMENSION_LABELS, FEATURE_LABELS, trigger_text
from scoring.ml.features import FEATURE_BY_NAME
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import ModelVersion, Repayment, ScoreSnapshot, UtilityBill

MODEL_PART = "model"
LIMITS_PART = "limits"
MAX_EVENTS = 8


@dataclass(frozen=True)
class Part:
    key: str  # a feature name, "model" or "limits"
    dimension: str | None
    points: int
    text: str


@dataclass(frozen=True)
class Event:
    date: datetime.date
    text: str


@dataclass
class ScoreChange:
    before: ScoreSnapshot
    after: ScoreSnapshot
    total: int
    parts: list[Part]  # non-zero, largest first
    dimensions: dict[str, int]  # every dimension, zero included
    events: list[Event] = field(default_factory=list)

    @property
    def dimension_rows(self) -> list[tuple[str, int]]:
        return [(str(DIMENSION_LABELS[key]), points) for key, points in self.dimensions.items()]

    @property
    def broken_down(self) -> bool:
        return bool(self.parts) or self.total == 0

    @property
    def model_changed(self) -> bool:
        return self.before.model_version_id != self.after.model_version_id


def _whole_points(raw: dict[str, float], target: int) -> dict[str, int]:
    """Round each part so that the parts add up to `target` exactly (target is within one
    point of the raw sum): floor everything, then give the missing points to the parts
    with the largest remainders."""
    floors = {key: math.floor(value) for key, value in raw.items()}
    missing = target - sum(floors.values())
    for key in sorted(raw, key=lambda k: raw[k] - floors[k], reverse=True)[:missing]:
        floors[key] += 1
    return floors


def _part_text(key: str) -> str:
    if key == MODEL_PART:
        return _("A new model version: its base points")
    if key == LIMITS_PART:
        return _("Scores are kept between %(min)d and %(max)d") % {
            "min": SCORE_MIN,
            "max": SCORE_MAX,
        }
    return str(FEATURE_LABELS.get(key, key))


def change_between(
    before: ScoreSnapshot, after: ScoreSnapshot, *, base_points: dict[int, float]
) -> ScoreChange:
    """The change from `before` to `after`; base_points maps model version ids to their
    base points (see base_points_of)."""
    total = after.score - before.score
    whole: dict[str, int] = {}
    points_before = snapshot_breakdown(before).points
    points_after = snapshot_breakdown(after).points
    # A snapshot stored without its breakdown (imported history) leaves only the total.
    if points_before and points_after:
        base_before = base_points.get(before.model_version_id, 0.0)
        base_after = base_points.get(after.model_version_id, 0.0)
        raw = {
            name: points_after.get(name, 0.0) - points_before.get(name, 0.0)
            for name in {*points_before, *points_after}
        }
        if base_after != base_before:
            raw[MODEL_PART] = base_after - base_before
        total_before = base_before + sum(points_before.values())
        total_after = base_after + sum(points_after.values())
        unclipped = round(total_after) - round(total_before)
        whole = _whole_points(raw, unclipped)
        if total != unclipped:
            whole[LIMITS_PART] = total - unclipped
    parts = [
        Part(
            key=key,
            dimension=getattr(FEATURE_BY_NAME.get(key), "dimension", None),
            points=points,
            text=_part_text(key),
        )
        for key, points in whole.items()
        if points
    ]
    parts.sort(key=lambda part: (-abs(part.points), part.key))
    dimensions = dict.fromkeys(DIMENSION_LABELS, 0)
    for part in parts:
        if part.dimension in dimensions:
            dimensions[part.dimension] += part.points
    return ScoreChange(before=before, after=after, total=total, parts=parts, dimensions=dimensions)


def base_points_of(snapshots: list[ScoreSnapshot]) -> dict[int, float]:
    """Base points of every model version these snapshots name: one query."""
    ids = {s.model_version_id for s in snapshots}
    return {
        pk: float(base or 0)
        for pk, base in ModelVersion.objects.filter(pk__in=ids).values_list(
            "pk", "card__base_points"
        )
    }


def _records(
    *, user, start: datetime.datetime, end: datetime.datetime
) -> list[tuple[datetime.date | datetime.datetime, str]]:
    """Dated records behind score changes after `start` up to `end`: a fixed number of
    queries. Records kept by day carry a date; the others their moment."""
    first, last = timezone.localdate(start), timezone.localdate(end)
    found: list[tuple[datetime.date | datetime.datetime, str]] = []
    # An unpaid instalment counts from its due date, a late one from the day it was paid.
    late = Repayment.objects.filter(
        Q(paid_date__isnull=True, due_date__gt=first, due_date__lte=last)
        | Q(days_overdue__gt=0, paid_date__gt=first, paid_date__lte=last),
        user=user,
    )
    for due, overdue, paid in late.values_list("due_date", "days_overdue", "paid_date"):
        if paid is None:
            text = _("The instalment due on %(date)s is unpaid.") % {"date": date_format(due)}
            found.append((due, text))
        else:
            text = ngettext(
                "The instalment due on %(date)s was paid %(days)d day late.",
                "The instalment due on %(date)s was paid %(days)d days late.",
                overdue,
            ) % {"date": date_format(due), "days": overdue}
            found.append((paid, text))
    on_time = Repayment.objects.filter(
        user=user, paid_date__gt=first, paid_date__lte=last, days_overdue=0
    )
    for paid in on_time.values_list("paid_date", flat=True):
        found.append((paid, ON_TIME))
    bills = UtilityBill.objects.filter(user=user, due_date__gt=first, due_date__lte=last)
    for kind, due, paid in bills.values_list("kind", "due_date", "paid_date"):
        if paid is None or paid > due:
            text = _("Your %(kind)s bill due on %(date)s was paid late or not at all.") % {
                "kind": str(UtilityBill.Kind(kind).label).lower(),
                "date": date_format(due),
            }
            found.append((due, text))
    verified = Identity.objects.filter(user=user, verified_at__gt=start, verified_at__lte=end)
    for moment in verified.values_list("verified_at", flat=True):
        found.append((moment, _("Your real name was verified.")))
    work_email = Profile.objects.filter(
        user=user, work_email_verified_at__gt=start, work_email_verified_at__lte=end
    )
    for moment in work_email.values_list("work_email_verified_at", flat=True):
        found.append((moment, _("Your work email was verified.")))
    # The person's own consents to purposes; authorising a partner is not a change here.
    grants = ConsentGrant.objects.filter(
        user=user, granted_at__gt=start, granted_at__lte=end
    ).exclude(purpose=ConsentPurpose.PARTNER_SHARING)
    for purpose, moment in grants.values_list("purpose", "granted_at"):
        text = _("You consented: %(purpose)s.") % {"purpose": ConsentPurpose(purpose).label}
        found.append((moment, text))
    revoked = ConsentRevocation.objects.filter(
        grant__user=user, revoked_at__gt=start, revoked_at__lte=end
    ).exclude(grant__purpose=ConsentPurpose.PARTNER_SHARING)
    for purpose, moment in revoked.values_list("grant__purpose", "revoked_at"):
        text = _("You withdrew a consent: %(purpose)s.") % {
            "purpose": ConsentPurpose(purpose).label
        }
        found.append((moment, text))
    return found


ON_TIME = object()  # marks an on-time repayment: counted, not listed one by one


def _within(when, start: datetime.datetime, end: datetime.datetime) -> bool:
    if isinstance(when, datetime.datetime):
        return start < when <= end
    return timezone.localdate(start) < when <= timezone.localdate(end)


def events_in_windows(
    *, user, windows: list[tuple[datetime.datetime, datetime.datetime]]
) -> list[list[Event]]:
    """The events of each (start, end] window, oldest first, at most MAX_EVENTS each;
    the records of all windows are read together, so any number of windows costs the
    same few queries."""
    if not windows:
        return []
    records = _records(user=user, start=min(w[0] for w in windows), end=max(w[1] for w in windows))
    result = []
    for start, end in windows:
        inside = [(when, text) for when, text in records if _within(when, start, end)]
        events = [
            Event(
                when if not isinstance(when, datetime.datetime) else timezone.localdate(when), text
            )
            for when, text in inside
            if text is not ON_TIME
        ]
        on_time = sum(1 for _when, text in inside if text is ON_TIME)
        if on_time:
            events.append(
                Event(
                    timezone.localdate(end),
                    ngettext(
                        "%(count)d instalment was repaid on time.",
                        "%(count)d instalments were repaid on time.",
                        on_time,
                    )
                    % {"count": on_time},
                )
            )
        events.sort(key=lambda event: event.date)
        result.append(events[-MAX_EVENTS:])
    return result


def changes_explain(snapshots: list[ScoreSnapshot]) -> dict[int, ScoreChange]:
    """For snapshots of one person, newest first (as the history lists them): each one's
    change from the one before it, keyed by snapshot id. A fixed number of queries."""
    if len(snapshots) < 2:
        return {}
    model_versions_attach(snapshots)
    base = base_points_of(snapshots)
    pairs = list(zip(snapshots[1:], snapshots[:-1], strict=True))  # (before, after)
    windows = [(before.computed_at, after.computed_at) for before, after in pairs]
    events = events_in_windows(user=snapshots[0].user_id, windows=windows)
    explained = {}
    for (before, after), found in zip(pairs, events, strict=True):
        change = change_between(before, after, base_points=base)
        change.events = _cause_events(change) + found
        explained[after.pk] = change
    return explained


def _cause_events(change: ScoreChange) -> list[Event]:
    day = timezone.localdate(change.after.computed_at)
    events = [
        Event(day, _("Recomputed: %(cause)s.") % {"cause": trigger_text(change.after.trigger)})
    ]
    if change.model_changed:
        events.append(
            Event(
                day,
                _("A new model version was activated: %(version)s.")
                % {"version": change.after.model_version.version},
            )
        )
    return events

"""The score history, by month: what keeps a person's latest snapshot in the current
partition and lets the history grow by the month and age out whole.

On PostgreSQL the snapshot table is partitioned (migration 0013): `current` holds each
person's latest snapshot, the history one partition a month by computed_at, with a
default partition for months that have none. Reading a latest score probes one partition
whatever the length of the history; a month past the retention is dropped with its
partition, no DELETE of its rows. Elsewhere the same functions work on the one table.

Retention: settings.SCORE_HISTORY_MONTHS (36 by default; 0 keeps everything). A person's
current snapshot never ages out, however old: it is their score.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from scoring.models import ScoreSnapshot
from sesame_portal.bulk import ids_lookup

logger = logging.getLogger(__name__)

TABLE = ScoreSnapshot._meta.db_table
HISTORY = f"{TABLE}_history"
HISTORY_DEFAULT = f"{TABLE}_history_default"
MONTHS_AHEAD = 2
_MONTH_NAME = re.compile(rf"^{HISTORY}_y(\d{{4}})m(\d{{2}})$")


def snapshots_supersede(*, user_ids: Sequence[int]) -> int:
    """Mark as history every current snapshot of these users but their latest (by
    computed_at, then id): one UPDATE, which on PostgreSQL moves the rows to their
    month's partition. Returns how many moved."""
    if not user_ids:
        return 0
    newer = ScoreSnapshot.objects.filter(current=True, user_id=OuterRef("user_id")).filter(
        Q(computed_at__gt=OuterRef("computed_at"))
        | Q(computed_at=OuterRef("computed_at"), id__gt=OuterRef("id"))
    )
    return (
        ScoreSnapshot.objects.filter(current=True, **ids_lookup(list(user_ids)))
        .filter(Exists(newer))
        .update(current=False)
    )


def _month_start(day: datetime.date, *, shift: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 + shift
    return datetime.date(index // 12, index % 12 + 1, 1)


def _moment(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


def _month_partitions(cursor) -> dict[datetime.date, str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [HISTORY],
    )
    months = {}
    for (name,) in cursor.fetchall():
        if found := _MONTH_NAME.match(name):
            months[datetime.date(int(found[1]), int(found[2]), 1)] = name
    return months


def _checks_now(cursor) -> None:
    # ALTER and DROP refuse a table with deferred foreign-key checks pending, which a
    # caller's transaction may hold: they run now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [HISTORY])
        return cursor.fetchone()[0]


def snapshot_months_ensure(*, today: datetime.date | None = None) -> list[str]:
    """Give this month and the next MONTHS_AHEAD their history partitions (PostgreSQL);
    returns the partitions made. Rows the default partition already holds for such a
    month (no partition when they were superseded) move into it."""
    if not _partitioned():
        return []
    today = today or timezone.now().astimezone(datetime.UTC).date()
    made = []
    with transaction.atomic(), connection.cursor() as cursor:
        _checks_now(cursor)
        existing = _month_partitions(cursor)
        for shift in range(MONTHS_AHEAD + 1):
            month = _month_start(today, shift=shift)
            if month in existing:
                continue
            name = f"{HISTORY}_y{month:%Y}m{month:%m}"
            bounds = [_moment(month), _moment(_month_start(month, shift=1))]
            # The names are the table's own, never input.
            cursor.execute(
                f"CREATE TABLE {name} (LIKE {HISTORY} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            cursor.execute(
                f"WITH moved AS (DELETE FROM {HISTORY_DEFAULT} "  # noqa: S608
                "WHERE computed_at >= %s AND computed_at < %s RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved",
                bounds,
            )
            cursor.execute(
                f"ALTER TABLE {HISTORY} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                bounds,
            )
            made.append(name)
    if made:
        logger.info("score history: partitions %s made", ", ".join(made))
    return made


def snapshot_history_prune(*, today: datetime.date | None = None) -> int:
    """Drop the history older than SCORE_HISTORY_MONTHS whole months: on PostgreSQL
    each such month's partition is detached and dropped (and the default partition's
    rows of those months deleted). Current snapshots are never touched. Returns how many
    snapshots went."""
    months = settings.SCORE_HISTORY_MONTHS
    if not months:
        return 0
    today = today or timezone.now().astimezone(datetime.UTC).date()
    cutoff = _month_start(today, shift=-months)
    if not _partitioned():
        deleted, _ = ScoreSnapshot.objects.filter(
            current=False, computed_at__lt=_moment(cutoff)
        ).delete()
        return deleted
    gone = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _checks_now(cursor)
        for month, name in sorted(_month_partitions(cursor).items()):
            if _month_start(month, shift=1) > cutoff:
                continue
            cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608
            gone += cursor.fetchone()[0]
            cursor.execute(f"ALTER TABLE {HISTORY} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
        cursor.execute(
            f"DELETE FROM {HISTORY_DEFAULT} WHERE computed_at < %s",  # noqa: S608
            [_moment(cutoff)],
        )
        gone += cursor.rowcount
    if gone:
        logger.info("score history: %d snapshots before %s dropped", gone, cutoff)
    return gone


def snapshot_history_maintain(*, today: datetime.date | None = None) -> tuple[list[str], int]:
    """The nightly upkeep: the months ahead made, the months past the retention gone."""
    return snapshot_months_ensure(today=today), snapshot_history_prune(today=today)

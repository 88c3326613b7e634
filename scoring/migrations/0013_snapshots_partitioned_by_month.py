"""Snapshots split into the current one of each person and the history, by month.

On PostgreSQL the table becomes partitioned by LIST (current): one partition holds each
person's current snapshot, the other the history, itself partitioned by RANGE
(computed_at) a month at a time with a default for months without their own partition
(see scoring.services.snapshot_history, which adds the months ahead and drops those past
the retention). Primary key and indexes must hold the partition keys, so the key is
(id, current, computed_at); nothing refers to a snapshot by foreign key. The unique
(user, run) index goes: a run's chunk is claimed and written in one transaction instead.
Elsewhere the table stays as it is, with the new column.
"""

import datetime
import re

from django.db import migrations, models

TABLE = "scoring_scoresnapshot"


def _months(first: datetime.date, last: datetime.date):
    month = first.replace(day=1)
    while month <= last:
        following = (month + datetime.timedelta(days=32)).replace(day=1)
        yield month, following
        month = following


def _definitions(cursor, table: str) -> tuple[list[str], list[str]]:
    """The table's indexes (but its key) and foreign keys, as statements for TABLE."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    indexes = [
        re.sub(r" ON (ONLY )?\S+ ", f" ON {TABLE} ", definition)
        for name, definition in cursor.fetchall()
        if name != f"{TABLE}_pkey"
    ]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
        [table],
    )
    foreign = [
        f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in cursor.fetchall()
    ]
    return indexes, foreign


def _rebuild(cursor, *, partitioned: bool) -> None:
    """Move the rows into a new TABLE, partitioned or plain, with the same columns,
    identity, indexes and foreign keys (under their names)."""
    old = f"{TABLE}_old"
    indexes, foreign = _definitions(cursor, TABLE)
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    like = (
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)"
    )
    if partitioned:
        cursor.execute(f"{like} PARTITION BY LIST (current)")
        cursor.execute(f"CREATE TABLE {TABLE}_current PARTITION OF {TABLE} FOR VALUES IN (true)")
        cursor.execute(
            f"CREATE TABLE {TABLE}_history PARTITION OF {TABLE} FOR VALUES IN (false) "
            "PARTITION BY RANGE (computed_at)"
        )
        cursor.execute(f"CREATE TABLE {TABLE}_history_default PARTITION OF {TABLE}_history DEFAULT")
        cursor.execute(f"SELECT min(computed_at) FROM {old} WHERE NOT current")
        first = cursor.fetchone()[0]
        today = datetime.datetime.now(datetime.UTC).date()
        first = min(first.astimezone(datetime.UTC).date(), today) if first else today
        for month, following in _months(first, today + datetime.timedelta(days=62)):
            cursor.execute(
                f"CREATE TABLE {TABLE}_history_y{month:%Y}m{month:%m} PARTITION OF "
                f"{TABLE}_history FOR VALUES FROM (%s) TO (%s)",
                [
                    datetime.datetime.combine(month, datetime.time(), datetime.UTC),
                    datetime.datetime.combine(following, datetime.time(), datetime.UTC),
                ],
            )
        key = "id, current, computed_at"
    else:
        cursor.execute(like)
        key = "id"
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
    cursor.execute(f"DROP TABLE {old} CASCADE")
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({key})")
    for statement in indexes + foreign:
        cursor.execute(statement)
    # The identity's new sequence takes the usual name back, and goes on from the rows.
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    sequence = cursor.fetchone()[0]
    if sequence.split(".")[-1] != f"{TABLE}_id_seq":
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 0) + 1, false) "
        f"FROM {TABLE}",
        [TABLE],
    )


def partition(apps, schema_editor):
    # Each person's latest snapshot stays current; the others are history.
    snapshots = apps.get_model("scoring", "ScoreSnapshot").objects
    newer = snapshots.filter(user_id=models.OuterRef("user_id")).filter(
        models.Q(computed_at__gt=models.OuterRef("computed_at"))
        | models.Q(computed_at=models.OuterRef("computed_at"), id__gt=models.OuterRef("id"))
    )
    snapshots.filter(models.Exists(newer)).update(current=False)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            _rebuild(cursor, partitioned=True)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            _rebuild(cursor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0012_run_counts_changed_scores"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="scoresnapshot",
            name="one_snapshot_per_user_per_run",
        ),
        migrations.AddField(
            model_name="scoresnapshot",
            name="current",
            field=models.BooleanField(db_default=True, default=True, verbose_name="current"),
        ),
        migrations.RunPython(partition, unpartition),
    ]

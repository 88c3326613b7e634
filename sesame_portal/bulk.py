"""Bulk writes and reads for chunks of users: the nightly run writes thousands of rows at
a time, where the ORM's per-row work (JSON escaping, model instances) costs more than the
database does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson
from django.db import connection, transaction
from django.db.models import Model

# Whether the server can compress with lz4 (PostgreSQL 14+ built with it): asked once.
_lz4: bool | None = None

# Above this many ids, read an id range (one index range scan) and trim in Python rather
# than send a long IN list.
IN_LIST_MAX = 500


def ids_lookup(ids: Sequence[int], field: str = "user_id") -> dict:
    """Filter arguments for rows of these ids: an IN list for a few, else their range
    (the caller keeps only the ids it asked for)."""
    if len(ids) <= IN_LIST_MAX:
        return {f"{field}__in": list(ids)}
    return {f"{field}__gte": min(ids), f"{field}__lte": max(ids)}


def _fast_compression(cursor) -> None:
    """Compress this transaction's large values (rows over 2 KB are TOASTed) with lz4
    rather than the default pglz: the same size here, and about a third less time for
    the COPY of a chunk's snapshots. Values keep their method when moved between tables."""
    global _lz4
    if _lz4 is None:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        found = cursor.fetchone()
        _lz4 = bool(found and found[0])
    if _lz4:
        cursor.execute("SET LOCAL default_toast_compression = 'lz4'")


def copy_insert(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    json_columns: frozenset[str] = frozenset(),
    ignore_conflicts: bool = False,
) -> None:
    """Insert rows (tuples in the order of `columns`, which are the model's column names).

    On PostgreSQL the rows are streamed with COPY: straight into the table, or, when
    conflicts are to be ignored, into a temporary table moved with one
    INSERT … SELECT … ON CONFLICT DO NOTHING. JSON columns are encoded with orjson.
    Elsewhere, bulk_create.
    """
    rows = list(rows)
    if not rows:
        return
    json_at = [i for i, name in enumerate(columns) if name in json_columns]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=2000,
            ignore_conflicts=ignore_conflicts,
        )
        return
    table = model._meta.db_table
    names = ", ".join(columns)
    # The names are the model's own table and columns, never input.
    with transaction.atomic(), connection.cursor() as cursor:
        _fast_compression(cursor)
        target = table
        if ignore_conflicts:
            target = f"copy_{table}"
            create = f"CREATE TEMP TABLE {target} AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608
            cursor.execute(create)
        with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = orjson.dumps(row[i]).decode()
                copy.write_row(row)
        if ignore_conflicts:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} "  # noqa: S608
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"DROP TABLE {target}")

"""The score history by month against one plain snapshot table (issue 19, storage).

Needs a database with people and their snapshots (benchmarks/nights.py --keep-db left
one). Gives every person --months of history (copies of their current snapshot, one a
month before it, in the history's month partitions), then copies every snapshot into a
plain table laid out as before migration scoring 0013 (primary key on id, the (user,
computed_at) index). In interleaved rounds it runs, on both, with EXPLAIN (ANALYZE,
BUFFERS): a chunk's latest snapshots (the nightly run's comparison), one person's latest
(the score home's and the partner query's read) for --people people, and the retention
of one month (detach and drop its partition, against deleting its rows that are not a
person's latest), each rolled back. Buffers touched do not move with the machine's load;
times do.

    .venv/bin/python benchmarks/snapshot_history.py --database sesame_bench_nights20 \
        [--months 24] [--rounds 5] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys

import recompute as bench
from _environment import command, commit, log, machine, results_write

SECTION = "## Score history by month against one plain table (benchmarks/snapshot_history.py)"
TABLE = "scoring_scoresnapshot"
PLAIN = "bench_snapshots_plain"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--write", action="store_true")
    return parser.parse_args(argv)


def _month_start(day: datetime.date, shift: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + shift
    return datetime.date(index // 12, index % 12 + 1, 1)


def history_make(months: int) -> dict:
    """Each person's current snapshot copied into the months before it, as history."""
    from django.db import connection, transaction

    from scoring.services.snapshot_history import snapshot_months_ensure

    today = datetime.datetime.now(datetime.UTC).date()
    for shift in range(-(months + 1), 1, 3):
        snapshot_months_ensure(today=_month_start(today, shift))
    columns = (
        "user_id, score, band, dimensions, feature_points, feature_values, model_version_id, "
        "trigger, run_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE NOT current), count(*) FILTER (WHERE current) "  # noqa: S608
            f"FROM {TABLE}"
        )
        history, current = cursor.fetchone()
        if history >= current * months:  # made by an earlier run
            log("history already there")
        else:
            cursor.execute(
                f"INSERT INTO {TABLE} ({columns}, computed_at, current) "  # noqa: S608
                f"SELECT {columns}, computed_at - make_interval(months => m) "
                "- make_interval(days => (user_id %% 20)::int), false "
                f"FROM {TABLE} CROSS JOIN generate_series(1, %s) AS m WHERE current",
                [months],
            )
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        cursor.execute(f"CREATE TABLE {PLAIN} AS SELECT * FROM {TABLE}")  # noqa: S608
        cursor.execute(f"ALTER TABLE {PLAIN} ADD PRIMARY KEY (id)")
        cursor.execute(f"CREATE INDEX ON {PLAIN} (user_id, computed_at DESC)")
        cursor.execute(f"CREATE INDEX ON {PLAIN} (user_id)")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {PLAIN}")
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE current) FROM {TABLE}"  # noqa: S608
        )
        rows, current = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_partition_tree(%s) WHERE isleaf", [TABLE])
        leaves = cursor.fetchone()[0]
    return {"rows": rows, "current": current, "partitions": leaves}


def _explain(cursor, sql: str, params: list) -> tuple[float, int]:
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
    plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    top = plan["Plan"]
    return plan["Execution Time"], top.get("Shared Hit Blocks", 0) + top.get(
        "Shared Read Blocks", 0
    )


def _latest_chunk_sql(table: str, current: bool) -> str:
    # What scoring.services.scores._latest_snapshots runs, on either table.
    return (
        "SELECT s.user_id, s.id, s.score FROM unnest(%s::bigint[]) AS u(id) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT id, user_id, score FROM {table} WHERE user_id = u.id"
        f"{' AND current' if current else ''} ORDER BY computed_at DESC, id DESC LIMIT 1) s"
    )


def _latest_one_sql(table: str, current: bool) -> str:
    return (
        f"SELECT id, score FROM {table} WHERE user_id = %s"  # noqa: S608
        f"{' AND current' if current else ''} ORDER BY computed_at DESC, id DESC LIMIT 1"
    )


def rounds(args) -> dict:
    from django.db import connection, transaction

    from scoring.services.snapshot_history import HISTORY

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT user_id FROM {TABLE} ORDER BY 1")  # noqa: S608
        users = [row[0] for row in cursor.fetchall()]
    middle = len(users) // 2
    chunk = users[middle : middle + args.chunk]
    step = max(len(users) // args.people, 1)
    people = users[::step][: args.people]
    today = datetime.datetime.now(datetime.UTC).date()
    month = _month_start(today, -(args.months // 2))
    bounds = [
        datetime.datetime.combine(month, datetime.time(), datetime.UTC),
        datetime.datetime.combine(_month_start(month, 1), datetime.time(), datetime.UTC),
    ]
    partition = f"{HISTORY}_y{month:%Y}m{month:%m}"
    found: dict[str, list] = {}

    def add(name: str, value) -> None:
        found.setdefault(name, []).append(value)

    for number in range(args.rounds):
        log(f"round {number + 1}")
        with connection.cursor() as cursor:
            for label, table, current in (("plain", PLAIN, False), ("months", TABLE, True)):
                ms, blocks = _explain(cursor, _latest_chunk_sql(table, current), [chunk])
                add(f"chunk {label} ms", ms)
                add(f"chunk {label} blocks", blocks)
                times, touched = [], []
                for person in people:
                    ms, blocks = _explain(cursor, _latest_one_sql(table, current), [person])
                    times.append(ms)
                    touched.append(blocks)
                add(f"one {label} ms", statistics.mean(times))
                add(f"one {label} blocks", statistics.mean(touched))
        # Retention of one month, rolled back: the rows that are not a person's latest
        # deleted from the plain table, against the month's partition dropped.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                ms, _blocks = _explain(
                    cursor,
                    f"DELETE FROM {PLAIN} p WHERE computed_at >= %s AND computed_at < %s "  # noqa: S608
                    f"AND EXISTS (SELECT 1 FROM {PLAIN} n WHERE n.user_id = p.user_id "
                    "AND n.computed_at > p.computed_at)",
                    bounds,
                )
                add("retention plain ms", ms)
                cursor.execute(f"SELECT count(*) FROM {partition}")  # noqa: S608
                add("retention rows", cursor.fetchone()[0])
                started = datetime.datetime.now()
                cursor.execute(f"ALTER TABLE {HISTORY} DETACH PARTITION {partition}")
                cursor.execute(f"DROP TABLE {partition}")
                add(
                    "retention months ms",
                    (datetime.datetime.now() - started).total_seconds() * 1000,
                )
            transaction.set_rollback(True)
    return {name: statistics.median(values) for name, values in found.items()} | {
        "chunk_size": len(chunk),
        "people": len(people),
        "month": month,
    }


def section(args, context: dict, made: dict, medians: dict) -> str:
    def row(label: str, key: str, unit: str, digits: int = 2) -> str:
        old, new = medians[f"{key} plain {unit}"], medians[f"{key} months {unit}"]
        return (
            f"| {label} | {old:,.{digits}f} | {new:,.{digits}f} | "
            f"{old / new if new else float('inf'):,.1f}x |"
        )

    return "\n".join(
        [
            SECTION,
            "",
            f"Command: `{context['command']}`  ",
            f"Date: {context['started_at']:%Y-%m-%d %H:%M} UTC  ",
            f"Machine: {machine()}; load average (1 min) {context['load_start']:.2f} at the "
            f"start, {context['load_end']:.2f} at the end  ",
            f"Code: {context['commit']}",
            "",
            f"The database of `nights.py` (its people and their snapshots), each person given "
            f"{args.months} months of history: {made['rows']:,} snapshots, "
            f"{made['current']:,} of them current, in {made['partitions']} partitions. The "
            f"plain table holds the same rows, with the keys and index the table had before "
            f"migration scoring 0013. Medians of {args.rounds} interleaved rounds; "
            "PostgreSQL's own execution times (EXPLAIN ANALYZE) and the shared buffers each "
            "statement touched (hit or read), which do not move with the machine's load.",
            "",
            "| Read | Plain table | By month | Plain / by month |",
            "|---|---:|---:|---:|",
            row(
                f"a chunk's latest snapshots ({medians['chunk_size']:,} people, one "
                "LATERAL probe each): ms",
                "chunk",
                "ms",
            ),
            row("… buffers touched", "chunk", "blocks", 0),
            row(
                f"one person's latest snapshot (mean of {medians['people']} people): ms",
                "one",
                "ms",
                3,
            ),
            row("… buffers touched", "one", "blocks", 1),
            "",
            f"Retention of one month ({medians['month']:%Y-%m}, "
            f"{medians['retention rows']:,.0f} snapshots): deleting its rows that are not "
            f"a person's latest from the plain table took {medians['retention plain ms']:,.0f} "
            f"ms (and leaves dead rows for VACUUM); detaching and dropping its partition "
            f"took {medians['retention months ms']:,.1f} ms.",
            "",
        ]
    )


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    context = {
        "started_at": datetime.datetime.now(datetime.UTC),
        "load_start": os.getloadavg()[0],
        "commit": commit(),
        "command": command("snapshot_history.py", argv),
    }
    bench._django_setup(args.database)
    log(f"history of {args.months} months…")
    made = history_make(args.months)
    log(f"{made}")
    medians = rounds(args)
    context["load_end"] = os.getloadavg()[0]
    text = section(args, context, made, medians)
    print(text)
    if args.write:
        results_write(text, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Thirty nights of nightly runs on one population: how the snapshot table grows when a run
writes only the scores that changed.

Draws and saves --users synthetic people as of today, scores them once (the first night,
which writes everyone), then runs --nights more nightly runs in this process, each dated one
day later than the one before (a run reads its records as of its own day, so windows slide
and records age as they would). After each night it records the run's time, how many people
it gave a new snapshot, the WAL PostgreSQL wrote during the run, and the snapshot table's
size (heap and TOAST, indexes).

Usage: .venv/bin/python benchmarks/nights.py [--users 100000] [--nights 30]
[--database sesame_bench_nights] [--keep-db] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import recompute as bench
from _environment import command, commit, log, machine, results_write

SECTION = "## Thirty nights of change-only runs (benchmarks/nights.py)"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--slice", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--database", default="sesame_bench_nights")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the section to RESULTS.md")
    return parser.parse_args(argv)


def _sizes() -> dict:
    """Rows and bytes of the snapshot table, its partitions summed (the partitioned
    table itself holds none), and the current scores among the rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)),"
            " sum(pg_total_relation_size(relid))"
            " FROM pg_partition_tree('scoring_scoresnapshot')"
        )
        table, indexes, total = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE current) FROM scoring_scoresnapshot"
        )
        rows, current = cursor.fetchone()
    return {"rows": rows, "current": current, "table": table, "indexes": indexes, "total": total}


def _partitions() -> list[tuple[str, int, int]]:
    """Each partition holding rows (of the current scores, a month of history, or the
    history's default): its name, rows and bytes with its indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relid::regclass::text, pg_total_relation_size(relid)"
            " FROM pg_partition_tree('scoring_scoresnapshot') WHERE isleaf ORDER BY 1"
        )
        found = []
        for name, size in cursor.fetchall():
            cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608
            found.append((name, cursor.fetchone()[0], size))
    return found


def _wal_lsn() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def _wal_bytes(since: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [since])
        return int(cursor.fetchone()[0])


def night(day: datetime.datetime, chunk_size: int) -> dict:
    """One nightly run dated `day`, every chunk processed here, as one worker would."""
    from scoring.models import RecomputeRun
    from scoring.services.recompute import recompute_chunk_process
    from scoring.services.snapshot_history import snapshot_history_maintain
    from scoring.tasks import recompute_run_start

    lsn = _wal_lsn()
    t0 = time.perf_counter()
    # As the nightly task begins: the history's months ahead made, those past kept time gone.
    snapshot_history_maintain(today=day.date())
    run = recompute_run_start(chunk_size=chunk_size)
    RecomputeRun.objects.filter(pk=run.pk).update(started_at=day)
    scored = 0
    for chunk_id in run.chunks.order_by("pk").values_list("pk", flat=True):
        scored += recompute_chunk_process(chunk_id=chunk_id)
    seconds = time.perf_counter() - t0
    wal = _wal_bytes(lsn)
    run.refresh_from_db()
    analyze = bench.tables_analyze()
    return {
        "day": day.date(),
        "users": scored,
        "changed": run.users_changed,
        "seconds": seconds,
        "rate": scored / seconds,
        "wal": wal,
        "analyze": analyze,
        **_sizes(),
    }


def section(args, context: dict, nights: list[dict]) -> str:
    mb = 1024 * 1024
    first, rest = nights[0], nights[1:]
    lines = [
        SECTION,
        "",
        f"Command: `{context['command']}`  ",
        f"Date: {context['started_at']:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; load average (1 min) {context['load_start']:.2f} at the "
        f"start, {context['load_end']:.2f} at the end  ",
        f"Code: {context['commit']}",
        "",
        f"Population: {args.users:,} synthetic people drawn as of {context['as_of']} "
        f"({context['generation']['seconds']:.0f} s), all consenting; the model trained on "
        f"20,000 synthetic people. Night 0 is the first run, dated the next day, which "
        f"writes a snapshot for everyone; nights 1 to {args.nights} follow one a day, "
        f"each processed chunk by chunk in this process (one worker), with `VACUUM "
        f"ANALYZE` of the written tables after each, outside its time. The synthetic "
        f"people get no new records: what changes from night to night is what moves with "
        f"the day (windows sliding, records ageing) and the friends' scores.",
        "",
        "| Night | Day | People | Changed | Seconds | People/s | WAL written | Snapshot rows "
        "| Table | Indexes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, row in enumerate(nights):
        lines.append(
            f"| {number} | {row['day']} | {row['users']:,} | {row['changed']:,} "
            f"({100 * row['changed'] / max(row['users'], 1):.1f} %) | {row['seconds']:.1f} "
            f"| {row['rate']:,.0f} | {row['wal'] / mb:,.1f} MB | {row['rows']:,} "
            f"| {row['table'] / mb:,.1f} MB | {row['indexes'] / mb:,.1f} MB |"
        )
    last = nights[-1]
    growth = (last["total"] - first["total"]) / max(len(rest), 1)
    lines += [
        "",
        f"After night 0: {first['rows']:,} snapshots, {first['total'] / mb:,.1f} MB in all "
        f"(table {first['table'] / mb:,.1f} MB, indexes {first['indexes'] / mb:,.1f} MB); "
        f"night 0 wrote {first['wal'] / mb:,.1f} MB of WAL.",
        f"After night {len(rest)}: {last['rows']:,} snapshots, {last['total'] / mb:,.1f} MB in "
        f"all (table {last['table'] / mb:,.1f} MB, indexes {last['indexes'] / mb:,.1f} MB): "
        f"{growth / mb:,.2f} MB a night on average after the first.",
        f"Median of nights 1 to {len(rest)}: "
        f"{statistics.median(r['changed'] for r in rest):,.0f} people changed, "
        f"{statistics.median(r['rate'] for r in rest):,.0f} people/s, "
        f"{statistics.median(r['wal'] for r in rest) / mb:,.1f} MB of WAL a night "
        f"(per 1,000,000 people: "
        f"{statistics.median(r['wal'] for r in rest) / args.users * 1_000_000 / mb:,.0f} MB).",
        f"Current scores after night {len(rest)}: {last['current']:,}; history: "
        f"{last['rows'] - last['current']:,} snapshots.",
        "",
        "Partitions holding rows after the last night (rows; bytes with indexes):",
        "",
        "| Partition | Rows | Size |",
        "|---|---:|---:|",
        *(
            f"| `{name}` | {rows:,} | {size / mb:,.1f} MB |"
            for name, rows, size in context["partitions"]
            if rows
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import os

    args = _arguments(argv)
    bench.database_create(args.database)
    bench._django_setup(args.database)
    from django.core.management import call_command
    from django.utils import timezone

    import scoring.tasks

    context: dict = {
        "started_at": datetime.datetime.now(datetime.UTC),
        "load_start": os.getloadavg()[0],
        "commit": commit(),
        "command": command("nights.py", argv),
    }
    try:
        call_command("migrate", verbosity=0)
        # Nothing reaches the broker: this process consumes every chunk itself.
        scoring.tasks.recompute_chunk.delay = lambda *a, **k: None
        scoring.tasks.score_recompute_user.apply_async = lambda *a, **k: None
        log("training and activating the model…")
        bench.model_setup()
        today = timezone.localdate()
        context["as_of"] = today
        log(f"generating {args.users:,} people…")
        args.as_of = today
        context["generation"] = bench.population_generate(args)
        bench.tables_analyze()
        nights = []
        start = timezone.now().replace(hour=2, minute=0, second=0, microsecond=0)
        for number in range(args.nights + 1):
            row = night(start + datetime.timedelta(days=number + 1), args.chunk_size)
            nights.append(row)
            log(
                f"  night {number}: {row['users']:,} people, {row['changed']:,} changed, "
                f"{row['seconds']:.1f} s, {row['rows']:,} snapshots, "
                f"{row['total'] / 1024 / 1024:,.1f} MB"
            )
        context["load_end"] = os.getloadavg()[0]
        context["partitions"] = _partitions()
        text = section(args, context, nights)
        print(text)
        if args.write:
            results_write(text, SECTION)
    finally:
        if not args.keep_db:
            bench.database_drop(args.database)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Peak memory of a fresh worker process that runs one whole nightly recompute.

benchmarks/recompute.py measures memory inside the process that also trained the model
and generated the population, so its figures start from whatever that left behind. This
script measures a process that does only what a worker does:

1. (unless --reuse) creates the PostgreSQL database --database, migrates it, trains and
   activates the same small model as recompute.py and saves --users generated people
   (population_draw + population_save in slices), then VACUUM ANALYZE;
2. starts a fresh Python process (this script with --loop) that sets Django up, runs
   recompute_run_start and then recompute_chunk_process for every chunk, with no benefit
   on offer and nothing queued, and reports its RSS after set-up, after the run start
   and after every chunk, and its peak (VmHWM) before and after the chunks;
3. drops the database unless --keep-db.

    .venv/bin/python benchmarks/worker_memory.py --users 1000000 [--database NAME]
        [--chunk-size 2000] [--reuse] [--keep-db]

Prints one Markdown paragraph with the figures and the command.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import recompute
from _environment import ROOT, command, commit, log, machine


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loop(database: str, chunk_size: int) -> dict:
    """What one worker process does for a whole run, with its memory."""
    recompute._django_setup(database)
    import scoring.tasks
    from scoring.services.recompute import recompute_chunk_process
    from scoring.tasks import recompute_run_start

    scoring.tasks.recompute_chunk.delay = lambda *a, **k: None
    figures = {"rss_setup": recompute._rss_mb(), "hwm_setup": _status_mb("VmHWM")}
    t0 = time.perf_counter()
    run = recompute_run_start(chunk_size=chunk_size)
    chunk_ids = list(run.chunks.order_by("pk").values_list("pk", flat=True))
    figures |= {"rss_start": recompute._rss_mb(), "hwm_start": _status_mb("VmHWM")}
    samples, scored = [], 0
    for chunk_id in chunk_ids:
        scored += recompute_chunk_process(chunk_id=chunk_id)
        samples.append(recompute._rss_mb())
    figures |= {
        "seconds": time.perf_counter() - t0,
        "users": scored,
        "chunks": len(chunk_ids),
        "rss_first": samples[0],
        "rss_middle": samples[len(samples) // 2],
        "rss_last": samples[-1],
        "rss_min": min(samples),
        "rss_median": statistics.median(samples),
        "rss_max": max(samples),
        "hwm_end": _status_mb("VmHWM"),
    }
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--database", default="sesame_bench_memory")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--slice", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="the database is populated")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--loop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database: lower-case letters, digits and underscores")
    if args.loop:
        print(json.dumps(loop(args.database, args.chunk_size)))
        return 0

    started = datetime.datetime.now(datetime.UTC)
    load_start = os.getloadavg()[0]
    code = commit()
    generation = None
    if not args.reuse:
        log(f"creating database {args.database}…")
        recompute.database_create(args.database)
    recompute._django_setup(args.database)
    from django.core.management import call_command
    from django.db import connection, connections

    try:
        if not args.reuse:
            call_command("migrate", verbosity=0)
            recompute.model_setup()
            log(f"generating {args.users:,} users…")
            generation = recompute.population_generate(
                argparse.Namespace(
                    users=args.users,
                    slice=args.slice,
                    seed=args.seed,
                    as_of=datetime.date(2026, 1, 1),
                )
            )
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        connections.close_all()
        log("a fresh worker process runs every chunk…")
        done = subprocess.run(  # noqa: S603 - this interpreter and this script
            [
                sys.executable,
                __file__,
                "--loop",
                *("--database", args.database, "--chunk-size", str(args.chunk_size)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep_db and not args.reuse:
            log(f"dropping database {args.database}…")
            recompute.database_drop(args.database)
    f = figures
    text = (
        f"Command: `{command('worker_memory.py', argv)}`; {started:%Y-%m-%d %H:%M} UTC; "
        f"{machine()}; load average (1 min) {load_start:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end; {code}. "
        + (
            f"Generation: {args.users:,} users in {generation['seconds']:.0f} s "
            f"({args.users / generation['seconds']:,.0f} users/s). "
            if generation
            else ""
        )
        + f"A fresh worker process ran one nightly run of {f['users']:,} users in "
        f"{f['chunks']:,} chunks of {args.chunk_size:,} ({f['seconds']:.0f} s, "
        f"{f['users'] / f['seconds']:,.0f} users/s, no benefit on offer). RSS after Django "
        f"set-up {f['rss_setup']:,.0f} MB; after `recompute_run_start` {f['rss_start']:,.0f} "
        f"MB (peak so far {f['hwm_start']:,.0f} MB); after the first, middle and last chunk "
        f"{f['rss_first']:,.0f}, {f['rss_middle']:,.0f}, {f['rss_last']:,.0f} MB (min "
        f"{f['rss_min']:,.0f}, max {f['rss_max']:,.0f}); **peak RSS of the process "
        f"{f['hwm_end']:,.0f} MB**."
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""One worker process against two on the same nightly run (issue 19, scale-out).

Needs a database that benchmarks/recompute.py left populated (--keep-db). Each round
starts a run (recompute_run_start with queueing switched off, as recompute.py does) and
has N worker processes (fresh interpreters, Django set up before the clock starts) score
its chunks, chunk i going to process i mod N, through the real recompute_chunk_process;
users/s = users scored / seconds from the run's start until the last process is done.
Rounds alternate 1 and 2 processes, --repeat times each.

    .venv/bin/python benchmarks/recompute_workers.py --database sesame_bench [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time

from _environment import ROOT, log

PG = "postgres://postgres@127.0.0.1:5432"


def _django_setup(database: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/{database}"
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
    os.environ["DJANGO_SETTINGS_MODULE"] = "sesame_portal.settings"
    import django

    django.setup()
    import scoring.tasks

    scoring.tasks.recompute_chunk.delay = lambda *args, **kwargs: None


def _worker(database: str, ready, go, chunk_ids: list[int], done) -> None:
    _django_setup(database)
    from scoring.services.recompute import recompute_chunk_process

    ready.wait()
    go.wait()
    scored = sum(recompute_chunk_process(chunk_id=chunk_id) for chunk_id in chunk_ids)
    done.put((scored, time.perf_counter()))


def round_once(database: str, workers: int, chunk_size: int) -> dict:
    from scoring.tasks import recompute_run_start

    context = multiprocessing.get_context("spawn")
    ready, go, done = context.Barrier(workers + 1), context.Event(), context.Queue()
    # The run is created first (ids of its chunks needed), then the clock starts with the
    # workers already up: what is timed is the run start plus the chunks.
    processes = []
    t0 = time.perf_counter()
    run = recompute_run_start(chunk_size=chunk_size)
    start_seconds = time.perf_counter() - t0
    chunk_ids = list(run.chunks.order_by("pk").values_list("pk", flat=True))
    for i in range(workers):
        process = context.Process(
            target=_worker, args=(database, ready, go, chunk_ids[i::workers], done)
        )
        process.start()
        processes.append(process)
    ready.wait()
    t1 = time.perf_counter()
    go.set()
    results = [done.get() for _ in processes]
    for process in processes:
        process.join()
    seconds = max(end for _, end in results) - t1 + start_seconds
    users = sum(scored for scored, _ in results)
    run.refresh_from_db()
    assert run.finished_at is not None
    assert run.users_done == users
    return {"workers": workers, "users": users, "seconds": seconds, "rate": users / seconds}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sesame_bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args(argv)
    _django_setup(args.database)
    load_start = os.getloadavg()[0]
    rates: dict[int, list[float]] = {1: [], 2: []}
    for round_ in range(args.repeat):
        for workers in (1, 2):
            result = round_once(args.database, workers, args.chunk_size)
            rates[workers].append(result["rate"])
            log(
                f"round {round_ + 1}, {workers} worker(s): {result['users']:,} users in "
                f"{result['seconds']:.2f} s = {result['rate']:,.0f} users/s"
            )
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(
        f"load {load_start:.1f} -> {os.getloadavg()[0]:.1f}; medians: 1 worker {one:,.0f} "
        f"users/s, 2 workers {two:,.0f} users/s, ratio {two / one:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

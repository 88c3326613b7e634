"""Benchmark of the nightly recompute on PostgreSQL (issue 5, "Measured").

Creates a dedicated PostgreSQL database (dropped at the end unless --keep-db), migrates it,
trains a small model (model_train on dataset_synthetic(users=20000, seed=2026), no
challenger) and activates it, then saves --users generated people as portal users
(population_draw + population_save in slices of --slice people, so memory stays bounded).

It then measures, in this one process (what one worker process does), --repeat times and
interleaved:

- the chunked path end to end: recompute_run_start(chunk_size=...) and then
  recompute_chunk_process for every chunk of the run, in a loop; users/s = users scored /
  seconds for the whole loop (run start included). Queueing is switched off for the
  measurement (scoring.tasks.recompute_chunk.delay is a no-op), so nothing reaches the
  broker and the loop here is the only consumer;
- the naive path: score_recompute(user=..., trigger="bench") one user at a time (what the
  one-task-per-user job does: fetch the user, then the ORM per user) for --naive users
  spread over the population; users/s.

Memory: RSS before and after each chunked loop, the peak during the loops (VmHWM, reset
before the first loop through /proc/self/clear_refs), and RSS sampled after every chunk.
One chunk is profiled with cProfile (top 15 by cumulative time) and split into phases.

Run from the project root (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379):

    .venv/bin/python benchmarks/recompute.py [--users 100000] [--seed 2026]
        [--chunk-size 2000] [--repeat 3] [--naive 1000] [--write]

With --write the Markdown section replaces (or is appended as) the section
"## Recompute pipeline (benchmarks/recompute.py)" of benchmarks/RESULTS.md. Exits 1 when
the chunked rate is below 10,000 users/s or below 20x the naive rate (after writing).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import io
import os
import platform
import pstats
import re
import resource
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

from _environment import RESULTS, ROOT, command, commit, machine, results_write

SECTION = "## Recompute pipeline (benchmarks/recompute.py)"
RATE_BAR = 10_000
RATIO_BAR = 20
PG = "postgres://postgres@127.0.0.1:5432"
BROKER = "redis://127.0.0.1:6379/5"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026, help="population seed (first slice)")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--slice", type=int, default=20_000, help="people drawn+saved at once")
    parser.add_argument("--repeat", type=int, default=3, help="chunked runs and naive samples")
    parser.add_argument("--naive", type=int, default=1_000, help="users in each naive sample")
    parser.add_argument("--database", default="sesame_bench")
    parser.add_argument(
        "--as-of",
        type=datetime.date.fromisoformat,
        default=datetime.date(2026, 1, 1),
        help="the population's reference date",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--write", action="store_true", help=f"write the section to {RESULTS}")
    args = parser.parse_args(argv)
    if args.users < 1_000 or args.chunk_size < 1 or args.repeat < 1 or args.naive < 1:
        parser.error("--users must be at least 1,000; --chunk-size, --repeat, --naive >= 1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database: lower-case letters, digits and underscores")
    return args


def log(text: str) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {text}", file=sys.stderr, flush=True)


# --- the database --------------------------------------------------------------------


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def database_create(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')


def database_drop(name: str) -> None:
    from django.db import connections

    connections.close_all()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _django_setup(database: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/{database}"
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ["DJANGO_SETTINGS_MODULE"] = "sesame_portal.settings"
    import django

    django.setup()


# --- the machine ---------------------------------------------------------------------


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _hwm_mb() -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _hwm_reset() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _versions() -> str:
    from django.db import connection

    parts = [f"Python {platform.python_version()}"]
    for name in ("Django", "numpy", "pandas", "psycopg", "celery", "redis"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            parts.append(f"{name} {metadata.version(name)}")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        parts.append(f"PostgreSQL {cursor.fetchone()[0].split()[0]}")
    with contextlib.suppress(Exception):
        import redis

        info = redis.Redis.from_url(BROKER).info("server")
        parts.append(f"Redis {info['redis_version']}")
    return ", ".join(parts)


# --- the steps -----------------------------------------------------------------------


def model_setup() -> dict:
    from scoring.models import ModelVersion
    from scoring.services import model_version_create
    from scoring.training import dataset_synthetic, model_train

    t0 = time.perf_counter()
    result = model_train(dataset_synthetic(users=20_000, seed=2026), challenger=False)
    version = model_version_create(
        result=result,
        kind=ModelVersion.Kind.PORTAL,
        inputs={"columns": result.scorecard.feature_names, "id_column": "id"},
        activate=True,
    )
    return {"version": version.version, "seconds": time.perf_counter() - t0}


def population_generate(args: argparse.Namespace) -> dict:
    """Draw and save args.users people in slices; seeds and prefixes differ per slice."""
    import gc

    from scoring.population import population_draw
    from scoring.population_store import population_save

    slices, done, draw_s, save_s = [], 0, 0.0, 0.0
    index = 0
    while done < args.users:
        size = min(args.slice, args.users - done)
        seed = args.seed + index
        t0 = time.perf_counter()
        population = population_draw(users=size, seed=seed, as_of=args.as_of)
        t1 = time.perf_counter()
        population_save(population, prefix=f"bench{index:04d}")
        t2 = time.perf_counter()
        del population
        gc.collect()
        done += size
        draw_s += t1 - t0
        save_s += t2 - t1
        slices.append({"users": size, "draw": t1 - t0, "save": t2 - t1, "rss": _rss_mb()})
        log(
            f"  slice {index}: {size:,} people drawn in {t1 - t0:.1f} s, saved in "
            f"{t2 - t1:.1f} s; {done:,}/{args.users:,}; RSS {_rss_mb():,.0f} MB"
        )
        index += 1
    return {
        "slices": slices,
        "draw_seconds": draw_s,
        "save_seconds": save_s,
        "seconds": draw_s + save_s,
        "rss_first": slices[0]["rss"],
        "rss_last": slices[-1]["rss"],
        "maxrss": _maxrss_mb(),
    }


def chunked_once(chunk_size: int) -> dict:
    """One run, start to finish, in this process: what one worker does for all chunks."""
    import gc

    from scoring.models import RecomputeRun
    from scoring.recompute import recompute_chunk_process, recompute_run_start

    gc.collect()
    rss_before = _rss_mb()
    samples = []
    t0 = time.perf_counter()
    run = recompute_run_start(chunk_size=chunk_size)
    started = time.perf_counter()
    chunk_ids = list(run.chunks.order_by("pk").values_list("pk", flat=True))
    scored, per_chunk = 0, []
    for chunk_id in chunk_ids:
        c0 = time.perf_counter()
        scored += recompute_chunk_process(chunk_id=chunk_id)
        per_chunk.append(time.perf_counter() - c0)
        samples.append(_rss_mb())
    seconds = time.perf_counter() - t0
    run.refresh_from_db()
    assert run.finished_at is not None, "the run did not finish"
    assert run.users_done == scored, (run.users_done, scored)
    return {
        "run": run.pk,
        "users": scored,
        "chunks": len(chunk_ids),
        "seconds": seconds,
        "start_seconds": started - t0,
        "rate": scored / seconds,
        "chunk_median": statistics.median(per_chunk),
        "rss_before": rss_before,
        "rss_after": _rss_mb(),
        "rss_samples": samples,
        "finished": RecomputeRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists(),
    }


def naive_once(user_ids: list[int]) -> dict:
    """score_recompute per user, as the one-task-per-user job does (fetch, then ORM)."""
    from accounts.models import User
    from scoring.services import score_recompute

    per_user = []
    stored = 0
    t0 = time.perf_counter()
    for user_id in user_ids:
        u0 = time.perf_counter()
        user = User.objects.get(pk=user_id)
        stored += score_recompute(user=user, trigger="bench") is not None
        per_user.append(time.perf_counter() - u0)
    seconds = time.perf_counter() - t0
    return {
        "users": len(user_ids),
        "stored": stored,
        "seconds": seconds,
        "rate": len(user_ids) / seconds,
        "median_ms": statistics.median(per_user) * 1000,
    }


def chunk_phases(chunk_size: int, repeat: int) -> tuple[dict, str]:
    """One middle chunk of a fresh run, split into the steps recompute_chunk_process takes
    (each timed, medians of `repeat`, the insert rolled back), and a cProfile of the real
    recompute_chunk_process on it."""
    from django.db import transaction
    from django.utils import timezone

    from scoring.features import features_compute
    from scoring.models import ScoreSnapshot
    from scoring.recompute import (
        _consenting_user_ids,
        recompute_chunk_process,
        recompute_run_start,
        run_snapshots_build,
    )
    from scoring.selectors import model_load, tables_load
    from scoring.services import scores_compute

    run = recompute_run_start(chunk_size=chunk_size)
    chunks = list(run.chunks.order_by("pk"))
    chunk = chunks[len(chunks) // 2]
    model = model_load(run.model_version)
    day = timezone.localdate(run.started_at)
    phases: dict[str, list[float]] = {}

    def timed(name, function):
        t0 = time.perf_counter()
        value = function()
        phases.setdefault(name, []).append(time.perf_counter() - t0)
        return value

    for _ in range(repeat):
        ids = timed(
            "consenting user ids (1 query)",
            lambda: _consenting_user_ids(chunk.first_user_id, chunk.last_user_id),
        )
        tables = timed(
            "`tables_load` (queries + rows to frames)",
            lambda ids=ids: tables_load(user_ids=ids, as_of=day, previous_before=run.started_at),
        )
        features = timed(
            "`features_compute`", lambda tables=tables: features_compute(tables, as_of=day)
        )
        results = timed(
            "`scores_compute` (points + per-row dicts)",
            lambda features=features: scores_compute(model=model, features=features),
        )

        def insert(results=results):
            with transaction.atomic():
                ScoreSnapshot.objects.bulk_create(
                    run_snapshots_build(run=run, model=model, results=results),
                    batch_size=2000,
                    ignore_conflicts=True,
                )
                transaction.set_rollback(True)

        timed("snapshots: build + `bulk_create` (JSON encoding, insert)", insert)
    medians = {name: statistics.median(values) for name, values in phases.items()}

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    scored = recompute_chunk_process(chunk_id=chunk.pk)
    profiler.disable()
    profiled_seconds = time.perf_counter() - t0
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
    text = out.getvalue()
    own = io.StringIO()
    pstats.Stats(profiler, stream=own).sort_stats("tottime").print_stats(10)
    own_text = own.getvalue()
    own_text = own_text[own_text.find("   ncalls") :] if "   ncalls" in own_text else own_text
    text = text.rstrip() + "\n\nTop 10 by own time (tottime):\n\n" + own_text
    # Keep the table; paths shortened to the project or the package.
    text = text[text.find("   ncalls") :] if "   ncalls" in text else text
    text = text.replace(str(ROOT) + "/", "")
    text = re.sub(r"\S*/site-packages/", "", text)
    text = re.sub(r"\S*/lib/python3\.\d+/", "", text)
    return {
        "users": len(ids),
        "phases": medians,
        "scored": scored,
        "profiled_seconds": profiled_seconds,
    }, text.rstrip()


# --- the section ---------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[str, dict]:
    from django.core.management import call_command

    import scoring.tasks
    from accounts.models import ConsentGrant, ConsentPurpose, User

    started_at = datetime.datetime.now(datetime.UTC)
    load_start = os.getloadavg()[0]

    log("migrate…")
    call_command("migrate", verbosity=0)

    # Nothing reaches the broker: this process is the only consumer of the chunks.
    scoring.tasks.recompute_chunk.delay = lambda *a, **k: None
    scoring.tasks.score_recompute_user.apply_async = lambda *a, **k: None

    log("training and activating the model…")
    model = model_setup()
    log(f"  {model['version']} in {model['seconds']:.1f} s")

    log(f"generating {args.users:,} users in slices of {args.slice:,}…")
    generation = population_generate(args)
    log("VACUUM ANALYZE…")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    users = User.objects.count()
    consenting = (
        ConsentGrant.objects.current()
        .filter(purpose=ConsentPurpose.SCORING)
        .values("user_id")
        .distinct()
        .count()
    )
    all_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(all_ids) // args.naive)

    maxrss_before_loops = _maxrss_mb()  # the reset below also clears ru_maxrss
    hwm_reset = _hwm_reset()
    chunked, naive = [], []
    for i in range(args.repeat):
        log(f"chunked run {i + 1}/{args.repeat}…")
        chunked.append(chunked_once(args.chunk_size))
        c = chunked[-1]
        log(
            f"  {c['users']:,} users in {c['seconds']:.2f} s = {c['rate']:,.0f} users/s "
            f"({c['chunks']} chunks, median chunk {c['chunk_median'] * 1000:.0f} ms); "
            f"RSS {c['rss_before']:,.0f} -> {c['rss_after']:,.0f} MB"
        )
        sample = all_ids[i % step :: step][: args.naive]
        log(f"naive sample {i + 1}/{args.repeat} ({len(sample):,} users)…")
        naive.append(naive_once(sample))
        n = naive[-1]
        log(
            f"  {n['users']:,} users in {n['seconds']:.2f} s = {n['rate']:,.1f} users/s "
            f"(median {n['median_ms']:.2f} ms a user)"
        )
    peak_loops = _hwm_mb() if hwm_reset else None

    log("profiling one chunk…")
    phases, profile = chunk_phases(args.chunk_size, args.repeat)
    print(profile, file=sys.stderr)

    chunk_rate = statistics.median(c["rate"] for c in chunked)
    naive_rate = statistics.median(n["rate"] for n in naive)
    ratio = chunk_rate / naive_rate
    rate_ok, ratio_ok = chunk_rate >= RATE_BAR, ratio >= RATIO_BAR
    figures = {"chunk_rate": chunk_rate, "naive_rate": naive_rate, "ratio": ratio}
    verdict = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731

    gen_rate = args.users / generation["seconds"]
    slices = generation["slices"]
    samples = [s for c in chunked for s in c["rss_samples"]]
    first = chunked[0]["rss_samples"]
    lines = [
        SECTION,
        "",
        f"Command: `{command('recompute.py', sys.argv[1:])}`  ",
        f"Date: {started_at:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; load average (1 min) {load_start:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end (other work on the machine slows timings)  ",
        f"Code: {commit()}  ",
        f"Versions: {_versions()}",
        "",
        f"Database: a fresh PostgreSQL database `{args.database}` (created, migrated and "
        f"{'kept' if args.keep_db else 'dropped'} by the script); broker `{BROKER}`, but "
        "the in-process measurement queues nothing (`recompute_chunk.delay` is a no-op): "
        "this process consumes every chunk itself, as one worker process would.",
        "",
        f"Model: `model_train(dataset_synthetic(users=20000, seed=2026), challenger=False)`, "
        f"stored and activated with `model_version_create` in {model['seconds']:.1f} s.",
        "",
        f"Population: {users:,} users ({consenting:,} with a current scoring consent), "
        f"generated with `population_draw` + `population_save` in {len(slices)} slices of "
        f"{args.slice:,} (seeds {args.seed}..{args.seed + len(slices) - 1}, as of "
        f"{args.as_of}): {generation['seconds']:.1f} s in all = {gen_rate:,.0f} users/s "
        f"(draw {generation['draw_seconds']:.1f} s, save {generation['save_seconds']:.1f} s); "
        f"RSS after the first slice {generation['rss_first']:,.0f} MB, after the last "
        f"{generation['rss_last']:,.0f} MB, peak of the process so far "
        f"{generation['maxrss']:,.0f} MB. At this rate 1,000,000 users would take "
        f"{1_000_000 / gen_rate / 60:.0f} min to generate.",
        "",
        f"### Throughput (chunk size {args.chunk_size:,}; {args.repeat} runs, interleaved)",
        "",
        "| Path | Run | Users | Seconds | Users/s | Median per unit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for i, c in enumerate(chunked, 1):
        lines.append(
            f"| chunked: `recompute_run_start` + `recompute_chunk_process` per chunk | {i} "
            f"| {c['users']:,} | {c['seconds']:.2f} | {c['rate']:,.0f} "
            f"| {c['chunk_median'] * 1000:,.0f} ms a chunk |"
        )
    for i, n in enumerate(naive, 1):
        lines.append(
            f"| naive: `score_recompute` per user (one task per user) | {i} | {n['users']:,} "
            f"| {n['seconds']:.2f} | {n['rate']:,.1f} | {n['median_ms']:.2f} ms a user |"
        )
    lines += [
        "",
        f"Medians: chunked **{chunk_rate:,.0f} users/s** per worker process end to end (bar "
        f"{RATE_BAR:,}: **{verdict(rate_ok)}**); naive {naive_rate:,.1f} users/s; chunked / "
        f"naive **{ratio:.1f}x** (bar {RATIO_BAR}x: **{verdict(ratio_ok)}**). Run start "
        f"(consent query, chunk rows) took "
        f"{statistics.median(c['start_seconds'] for c in chunked):.2f} s of each chunked run. "
        f"Every chunked run finished (`finished_at` set, `users_done` = users scored): "
        f"{'yes' if all(c['finished'] for c in chunked) else 'NO'}.",
        "",
        "### Memory of the worker process",
        "",
        "RSS before / after each chunked loop: "
        + "; ".join(f"{c['rss_before']:,.0f} / {c['rss_after']:,.0f} MB" for c in chunked)
        + f". RSS after chunk 1, the middle chunk and the last chunk of run 1: "
        f"{first[0]:,.0f}, {first[len(first) // 2]:,.0f}, {first[-1]:,.0f} MB; over all "
        f"runs min {min(samples):,.0f}, max {max(samples):,.0f} MB. "
        + (
            f"Peak RSS during the loops (VmHWM reset before the first): {peak_loops:,.0f} MB. "
            if peak_loops is not None
            else ""
        )
        + f"Peak RSS of the whole process (generation and training included): "
        f"{max(maxrss_before_loops, _maxrss_mb()):,.0f} MB.",
        "",
        f"### Where the time goes: one chunk of {phases['users']:,} users",
        "",
        f"Steps of `recompute_chunk_process`, replayed on a middle chunk (medians of "
        f"{args.repeat}, the insert rolled back):",
        "",
        "| Step | Median | Share | Per user |",
        "|---|---:|---:|---:|",
    ]
    total = sum(phases["phases"].values())
    for name, seconds in phases["phases"].items():
        lines.append(
            f"| {name} | {seconds * 1000:,.0f} ms | {100 * seconds / total:.0f} % "
            f"| {seconds / max(phases['users'], 1) * 1e6:,.0f} µs |"
        )
    lines += [
        f"| total | {total * 1000:,.0f} ms | 100 % "
        f"| {total / max(phases['users'], 1) * 1e6:,.0f} µs |",
        "",
        f"cProfile of `recompute_chunk_process` on that chunk (a fresh run; "
        f"{phases['scored']:,} users scored in {phases['profiled_seconds']:.2f} s under the "
        "profiler), top 15 by cumulative time:",
        "",
        "```",
        profile,
        "```",
        "",
    ]
    figures["phases"] = phases["phases"]
    figures["ok"] = rate_ok and ratio_ok
    return "\n".join(lines), figures


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    log(f"creating database {args.database}…")
    database_create(args.database)
    _django_setup(args.database)
    try:
        section, figures = run(args)
    finally:
        if not args.keep_db:
            log(f"dropping database {args.database}…")
            database_drop(args.database)
    print(section)
    if args.write:
        results_write(section, SECTION)
        print(f"Written to {RESULTS}.", file=sys.stderr)
    if not figures["ok"]:
        print(
            f"FAIL: chunked {figures['chunk_rate']:,.0f} users/s (bar {RATE_BAR:,}), "
            f"{figures['ratio']:.1f}x naive (bar {RATIO_BAR}x).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

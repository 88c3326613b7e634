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
  broker and the loop here is the only consumer. This is measured three ways on the same
  population, each --repeat times:
  - without unlocks: no published benefit (the demo catalogue loaded, its benefits in
    draft) and no unlock rows, so unlocks_apply finds nothing to write;
  - first run with the catalogue: the demo catalogue published (benefits.demo:
    demo_partners_load + demo_benefits_load, 8 benefits at 600/650/700) and no unlock rows
    (benefit unlocks and notifications truncated), so everyone above a threshold gets an
    unlock and a notification;
  - steady state: the next run, catalogue unchanged, on the unlocks the first one wrote;
  unlocks_apply as recompute_chunk_process calls it is wrapped to count what it opens and
  closes and to time it (two clock reads a chunk);
- the naive path: score_recompute(user=..., trigger="bench") one user at a time (what the
  one-task-per-user job does: fetch the user, then the ORM per user) for --naive users
  spread over the population, with no published benefit; users/s.

Memory: RSS before and after each chunked loop, the peak during the loops (VmHWM, reset
before the first loop through /proc/self/clear_refs), and RSS sampled after every chunk.
One chunk is profiled with cProfile (top 15 by cumulative time) and split into phases
(without unlocks): the real recompute_chunk_process, the functions it calls timed as it
calls them (calls_timed); unlocks_apply on one chunk is split the same way into its steps
in three states (no unlocks held, all held, catalogue withdrawn so all close; each rolled
back) and profiled. Nothing is re-implemented here: every figure times the real code.

Run from the project root (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379):

    .venv/bin/python benchmarks/recompute.py [--users 100000] [--seed 2026]
        [--chunk-size 2000] [--repeat 3] [--naive 1000]
        [--cases without,naive,first,steady] [--write [all|pipeline|unlocks|scale]]

With --write (or --write all) both Markdown sections replace (or are appended as) the
sections "## Recompute pipeline (benchmarks/recompute.py)" and "## Recompute with benefit
unlocks (benchmarks/recompute.py)" of benchmarks/RESULTS.md; --write pipeline or --write
unlocks writes only that one. Those need every case. --cases keeps only some of them in
each round (for a large population: e.g. --users 1000000 --repeat 1 --cases
without,naive,first,steady), and --write scale writes the cases measured, the memory and
the one-chunk breakdowns as "## Recompute at scale (benchmarks/recompute.py)". Exits 1
when a chunked rate measured is below 10,000 users/s or below 20x the naive rate (after
writing).
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

from _environment import RESULTS, ROOT, command, commit, log, machine, results_write

SECTION = "## Recompute pipeline (benchmarks/recompute.py)"
UNLOCKS_SECTION = "## Recompute with benefit unlocks (benchmarks/recompute.py)"
SCALE_SECTION = "## Recompute at scale (benchmarks/recompute.py)"
# What a round measures, in this order.
CASES = ("without", "naive", "first", "steady")
CASE_LABELS = {
    "without": "without unlocks (no benefit on offer)",
    "first": "first run with the catalogue",
    "steady": "steady state (next run, catalogue unchanged)",
}
RATE_BAR = 10_000
RATIO_BAR = 20
PG = "postgres://postgres@127.0.0.1:5432"
# A broker nobody consumes from (queueing is switched off); BENCH_BROKER_URL picks another.
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")


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
    parser.add_argument(
        "--write",
        nargs="?",
        const="all",
        choices=("all", "pipeline", "unlocks", "scale"),
        help=f"write the sections (all), or only one of them, to {RESULTS}",
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="what each round measures, comma-separated, of: " + ", ".join(CASES),
    )
    args = parser.parse_args(argv)
    args.cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    if not args.cases or set(args.cases) - set(CASES):
        parser.error(f"--cases: one or more of {', '.join(CASES)}")
    if "steady" in args.cases and "first" not in args.cases:
        parser.error("--cases: steady is the run after first; give both")
    if args.write in ("all", "pipeline", "unlocks") and set(args.cases) != set(CASES):
        parser.error("--write all, pipeline or unlocks needs every case; use --write scale")
    if args.users < 1_000 or args.chunk_size < 1 or args.repeat < 1 or args.naive < 1:
        parser.error("--users must be at least 1,000; --chunk-size, --repeat, --naive >= 1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database: lower-case letters, digits and underscores")
    return args


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
    from scoring.ml.training import dataset_synthetic, model_train
    from scoring.models import ModelVersion
    from scoring.services.scores import model_version_create

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

    from scoring.population.generate import population_draw
    from scoring.population.store import population_save

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


# --- the catalogue -------------------------------------------------------------------

# What unlocks_apply wrote and how long it took, as recompute_chunk_process calls it.
_UNLOCKS = {"calls": 0, "unlocked": 0, "locked": 0, "seconds": 0.0}


def unlocks_count_install() -> None:
    """Wrap the unlocks_apply that the write pipeline reaches (benefits' receiver of
    scoring.signals.scores_written looks it up in its module when called) to count what it
    opens and closes and time it: two clock reads a chunk."""
    import benefits.services.unlocks

    original = benefits.services.unlocks.unlocks_apply

    def counted(**kwargs):
        t0 = time.perf_counter()
        unlocked, locked = original(**kwargs)
        _UNLOCKS["seconds"] += time.perf_counter() - t0
        _UNLOCKS["calls"] += 1
        _UNLOCKS["unlocked"] += unlocked
        _UNLOCKS["locked"] += locked
        return unlocked, locked

    benefits.services.unlocks.unlocks_apply = counted


@contextlib.contextmanager
def calls_timed(targets: list[tuple]):
    """Time the real code by the functions it calls: while open, each (module, name,
    label) of `targets` is wrapped, so every call the code makes through that module's
    name adds its seconds to the label in the dict yielded (label may be a function of
    the call's arguments). Nothing is replayed: the code measured runs as it is."""
    seconds = {label: 0.0 for *_, label in targets if isinstance(label, str)}
    originals = [(module, name, getattr(module, name)) for module, name, _label in targets]

    def wrap(function, label):
        def timed(*args, **kwargs):
            step = label if isinstance(label, str) else label(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - t0

        return timed

    for (module, name, label), (_module, _name, function) in zip(targets, originals, strict=True):
        setattr(module, name, wrap(function, label))
    try:
        yield seconds
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


def _steps_add(steps: dict[str, list[float]], seconds: dict[str, float], round_: int) -> None:
    """One round's seconds a step into the lists of every round (0 where not called)."""
    for step in [*seconds, *(step for step in steps if step not in seconds)]:
        steps.setdefault(step, [0.0] * round_).append(seconds.get(step, 0.0))


def catalogue_load() -> dict:
    """The demo catalogue (benefits.demo), as a local run loads it; returns the ids of
    the benefits it publishes and a summary."""
    from benefits.demo import demo_benefits_load, demo_partners_load
    from benefits.models import Benefit
    from benefits.selectors import benefits_offered

    partners = demo_partners_load()
    benefits = demo_benefits_load()
    offered = list(benefits_offered())
    return {
        "partners": len(partners),
        "benefits": len(benefits),
        "published": [b.pk for b in benefits if b.status == Benefit.Status.PUBLISHED],
        "offered": [(b.min_score, b.min_age, b.title_en) for b in offered],
    }


def catalogue_set(published: list[int], *, on: bool) -> int:
    """Publish the demo benefits again, or put them back in draft (an empty catalogue);
    returns how many benefits are on offer now."""
    from benefits.models import Benefit
    from benefits.selectors import benefits_offered

    status = Benefit.Status.PUBLISHED if on else Benefit.Status.DRAFT
    Benefit.objects.filter(pk__in=published).update(status=status)
    return benefits_offered().count()


def unlocks_clear() -> None:
    """No unlock and no notification anywhere: the state before a catalogue's first run."""
    from django.db import connection

    from accounts.models import Notification
    from benefits.models import BenefitUnlock

    tables = ", ".join(m._meta.db_table for m in (BenefitUnlock, Notification))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")


def unlock_rows() -> dict:
    from accounts.models import Notification
    from benefits.models import BenefitUnlock

    return {
        "open": BenefitUnlock.objects.filter(locked_at__isnull=True).count(),
        "closed": BenefitUnlock.objects.filter(locked_at__isnull=False).count(),
        "notifications": Notification.objects.count(),
    }


def tables_analyze() -> float:
    """VACUUM ANALYZE the tables a run writes, as autovacuum does between two nightly runs
    (it is off on some servers; the planner would then keep the statistics taken when the
    snapshot table was empty). Returns the seconds it took."""
    from django.db import connection

    from accounts.models import Notification
    from benefits.models import BenefitUnlock
    from scoring.models import RecomputeChunk, RecomputeRun, ScoreSnapshot

    tables = ", ".join(
        m._meta.db_table
        for m in (ScoreSnapshot, RecomputeRun, RecomputeChunk, BenefitUnlock, Notification)
    )
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {tables}")
    return time.perf_counter() - t0


def chunked_once(chunk_size: int) -> dict:
    """One run, start to finish, in this process: what one worker does for all chunks."""
    import gc

    from scoring.models import RecomputeRun
    from scoring.services.recompute import recompute_chunk_process
    from scoring.tasks import recompute_run_start

    gc.collect()
    rss_before = _rss_mb()
    samples = []
    unlocks_before = dict(_UNLOCKS)
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
    unlocks = {key: _UNLOCKS[key] - unlocks_before[key] for key in _UNLOCKS}
    run.refresh_from_db()
    assert run.finished_at is not None, "the run did not finish"
    assert unlocks["calls"] == len(chunk_ids), (unlocks["calls"], len(chunk_ids))
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
        "unlocked": unlocks["unlocked"],
        "locked": unlocks["locked"],
        "unlock_seconds": unlocks["seconds"],
    }


def naive_once(user_ids: list[int]) -> dict:
    """score_recompute per user, as the one-task-per-user job does (fetch, then ORM)."""
    from accounts.models import User
    from scoring.services.scores import score_recompute

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
    """One middle chunk of a fresh run, scored `repeat` times by the real
    recompute_chunk_process (each time rolled back, the deferred foreign-key checks of
    the commit run first) with the functions it calls timed as it calls them (medians),
    and a cProfile of it on the same chunk, committed."""
    from django.db import connection, transaction

    import benefits.services.unlocks
    import scoring.services.recompute
    import scoring.services.scores
    from scoring.services.recompute import recompute_chunk_process
    from scoring.tasks import recompute_run_start

    run = recompute_run_start(chunk_size=chunk_size)
    chunks = list(run.chunks.order_by("pk"))
    chunk = chunks[len(chunks) // 2]
    targets = [
        (scoring.services.recompute, "_consenting_user_ids", "consenting user ids (1 query)"),
        # The chunk's inputs: aggregated per user by the database (feature_inputs_load),
        # or, before that, its records read row by row (tables_load).
        (
            (scoring.services.recompute, "feature_inputs_load", "`feature_inputs_load`")
            if hasattr(scoring.services.recompute, "feature_inputs_load")
            else (scoring.services.recompute, "tables_load", "`tables_load`")
        ),
        (scoring.services.recompute, "features_compute", "`features_compute`"),
        (scoring.services.recompute, "scores_compute", "`scores_compute` (points, kept as arrays)"),
        (
            scoring.services.scores,
            "snapshots_insert",
            "`snapshots_insert` (COPY of the arrays straight into the table)",
        ),
        (
            scoring.services.scores,
            "snapshots_supersede",
            "`snapshots_supersede` (the earlier snapshots to the history: 1 UPDATE)",
        ),
        (
            scoring.services.scores,
            "_latest_snapshots",
            "the users' latest snapshots, to compare (1 query)",
        ),
        (scoring.services.scores, "scores_unchanged", "`scores_unchanged` (arrays compared)"),
        (
            scoring.services.scores,
            "_snapshots_written",
            "the snapshots written, with previous score, email wish and newer (1 query)",
        ),
        (scoring.services.scores, "score_changes_notify", "`score_changes_notify`"),
        (benefits.services.unlocks, "unlocks_apply", "`unlocks_apply` (no benefit on offer)"),
    ]
    constraints_step = "deferred foreign-key checks (what the commit runs; 3 a snapshot)"
    steps: dict[str, list[float]] = {}
    real, users = [], 0
    for round_ in range(repeat):
        with transaction.atomic(), calls_timed(targets) as seconds:
            t0 = time.perf_counter()
            users = recompute_chunk_process(chunk_id=chunk.pk)
            t1 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            t2 = time.perf_counter()
            seconds[constraints_step] = t2 - t1
            real.append(t2 - t0)
            transaction.set_rollback(True)
        _steps_add(steps, seconds, round_)
    medians = {name: statistics.median(values) for name, values in steps.items()}

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    scored = recompute_chunk_process(chunk_id=chunk.pk)
    profiler.disable()
    profiled_seconds = time.perf_counter() - t0
    return {
        "users": users,
        "phases": medians,
        "real": statistics.median(real),
        "real_count": len(real),
        "scored": scored,
        "profiled_seconds": profiled_seconds,
    }, _profile_text(profiler)


def _profile_text(profiler: cProfile.Profile) -> str:
    """Top 15 by cumulative time and top 10 by own time, paths shortened to the project
    or the package."""
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
    return text.rstrip()


UNLOCK_STATES = {
    "first": "first run with the catalogue (no unlock held)",
    "steady": "steady state (every unlock already held)",
    "withdrawn": "catalogue withdrawn (every held unlock closes)",
}


def _unlock_targets() -> list[tuple]:
    """What unlocks_apply calls, to time as it calls them (calls_timed)."""
    import benefits.services.unlocks as unlocks

    def copy_label(model, *args, **kwargs):
        if model.__name__ == "BenefitUnlock":
            return "unlocks: COPY into a temp table + `INSERT … ON CONFLICT DO NOTHING` (if any)"
        return "notifications: COPY (if any)"

    return [
        (unlocks, "benefits_offered", "`benefits_offered` (1 query)"),
        (
            unlocks,
            "people_for",
            "`people_for` (1 query: identities with the court list; skipped when nothing "
            "is on offer)",
        ),
        (unlocks, "unlocked_pairs", "`unlocked_pairs` (`blocked_by` for every pair)"),
        (unlocks, "copy_insert", copy_label),
        (unlocks, "_close", "close: one `UPDATE … FROM unnest` (if any)"),
    ]


UNLOCK_REST = (
    "the rest of `unlocks_apply`: open unlocks read, the ones written read back, titles of "
    "benefits no longer offered, sets and notification rows"
)


def unlock_phases(run_id: int, published: list[int], repeat: int) -> tuple[dict, str]:
    """unlocks_apply on the middle chunk of a finished run, with that run's scores, in
    three states: no unlock held (a catalogue's first run), all held (steady state), all
    held and the catalogue withdrawn (all close). Each state is set up and measured inside
    a transaction that is rolled back. Per state: the real unlocks_apply (timed, its
    queries counted, and the functions it calls timed as it calls them; medians of
    `repeat`). Then a cProfile of the real unlocks_apply in the first state."""
    from django.db import connection, transaction
    from django.utils import timezone

    from benefits.models import Benefit, BenefitUnlock
    from benefits.services.unlocks import unlocks_apply
    from scoring.models import RecomputeRun, ScoreSnapshot

    run = RecomputeRun.objects.get(pk=run_id)
    chunks = list(run.chunks.order_by("pk"))
    chunk = chunks[len(chunks) // 2]
    rows = list(
        ScoreSnapshot.objects.filter(
            run=run, user_id__gte=chunk.first_user_id, user_id__lte=chunk.last_user_id
        )
        .order_by("user_id")
        .values_list("user_id", "score", "dimensions")
    )
    user_ids = [row[0] for row in rows]

    @contextlib.contextmanager
    def state(name):
        with transaction.atomic():
            BenefitUnlock.objects.filter(user_id__in=user_ids).delete()
            Benefit.objects.filter(pk__in=published).update(status=Benefit.Status.PUBLISHED)
            if name in ("steady", "withdrawn"):
                unlocks_apply(scores=rows, now=timezone.now())
            if name == "withdrawn":
                Benefit.objects.filter(pk__in=published).update(status=Benefit.Status.DRAFT)
            yield
            transaction.set_rollback(True)

    queries = [0]

    def counter(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    result = {"users": len(rows), "states": {}}
    targets = _unlock_targets()
    for name in UNLOCK_STATES:
        real, steps, counts, written = [], {}, [], None
        for round_ in range(repeat):
            with state(name):
                queries[0] = 0
                with connection.execute_wrapper(counter), calls_timed(targets) as seconds:
                    t0 = time.perf_counter()
                    written = unlocks_apply(scores=rows, now=timezone.now())
                    real.append(time.perf_counter() - t0)
                counts.append(queries[0])
            seconds[UNLOCK_REST] = real[-1] - sum(seconds.values())
            _steps_add(steps, seconds, round_)
        result["states"][name] = {
            "real": statistics.median(real),
            "queries": max(counts),
            "opened": written[0],
            "closed": written[1],
            "steps": {step: statistics.median(values) for step, values in steps.items()},
        }
        log(
            f"  {UNLOCK_STATES[name]}: {written[0]:,} opened, {written[1]:,} closed in "
            f"{result['states'][name]['real'] * 1000:,.0f} ms, {max(counts)} queries"
        )

    profiler = cProfile.Profile()
    with state("first"):
        t0 = time.perf_counter()
        profiler.enable()
        unlocks_apply(scores=rows, now=timezone.now())
        profiler.disable()
        result["profiled_seconds"] = time.perf_counter() - t0
    return result, _profile_text(profiler)


# --- the sections --------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _header(args, context: dict) -> list[str]:
    """Command, machine, database, model and population: the same for both sections."""
    model, generation = context["model"], context["generation"]
    slices = generation["slices"]
    gen_rate = args.users / generation["seconds"]
    return [
        f"Command: `{command('recompute.py', sys.argv[1:])}`  ",
        f"Date: {context['started_at']:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; load average (1 min) {context['load_start']:.2f} at the start, "
        f"{context['load_end']:.2f} at the end (other work on the machine slows timings)  ",
        f"Code: {context['commit']} (at the start of the run)  ",
        f"Versions: {context['versions']}",
        "",
        f"Database: a fresh PostgreSQL database `{args.database}` (created, migrated and "
        f"{'kept' if args.keep_db else 'dropped'} by the script); broker `{BROKER}`, but "
        "the in-process measurement queues nothing (`recompute_chunk.delay` is a no-op): "
        "this process consumes every chunk itself, as one worker process would.",
        "",
        f"Statistics: autovacuum is {context['autovacuum']} on this server. After each "
        "chunked run, outside its timing, the script runs `VACUUM ANALYZE` on the tables a "
        "run writes (snapshots, runs, chunks, unlocks, notifications), as autovacuum would "
        "between two nightly runs. Without it the planner keeps the statistics taken when "
        "the snapshot table was empty, and the query for the snapshots written in "
        "`snapshots_write_and_follow_up` (previous and newer ones) can become a sequential "
        "scan of every snapshot.",
        "",
        f"Model: `model_train(dataset_synthetic(users=20000, seed=2026), challenger=False)`, "
        f"stored and activated with `model_version_create` in {model['seconds']:.1f} s.",
        "",
        f"Population: {context['users']:,} users ({context['consenting']:,} with a current "
        f"scoring consent), generated with `population_draw` + `population_save` in "
        f"{len(slices)} slices of {args.slice:,} (seeds {args.seed}.."
        f"{args.seed + len(slices) - 1}, as of {args.as_of}): {generation['seconds']:.1f} s "
        f"in all = {gen_rate:,.0f} users/s "
        f"(draw {generation['draw_seconds']:.1f} s, save {generation['save_seconds']:.1f} s); "
        f"RSS after the first slice {generation['rss_first']:,.0f} MB, after the last "
        f"{generation['rss_last']:,.0f} MB, peak of the process so far "
        f"{generation['maxrss']:,.0f} MB. At this rate 1,000,000 users would take "
        f"{1_000_000 / gen_rate / 60:.0f} min to generate.",
        "",
    ]


def _profile_lines(profile: str) -> list[str]:
    return ["```", profile, "```", ""]


def pipeline_section(args, context: dict, figures: dict) -> str:
    chunked, naive = context["without"], context["naive"]
    phases = context["phases"]
    chunk_rate, naive_rate = figures["without_rate"], figures["naive_rate"]
    ratio = chunk_rate / naive_rate
    samples = [s for c in chunked for s in c["rss_samples"]]
    first = chunked[0]["rss_samples"]
    peak_loops = context["peak_loops"]
    lines = [
        SECTION,
        "",
        *_header(args, context),
        f"### Throughput (chunk size {args.chunk_size:,}; {args.repeat} runs, interleaved)",
        "",
        "No benefit on offer in these runs (the unlocks comparison is in the next section).",
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
        f"{RATE_BAR:,}: **{_verdict(chunk_rate >= RATE_BAR)}**); naive {naive_rate:,.1f} "
        f"users/s; chunked / naive **{ratio:.1f}x** (bar {RATIO_BAR}x: "
        f"**{_verdict(ratio >= RATIO_BAR)}**). Run start (consent query, chunk rows) took "
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
            f"Peak RSS during the loops (VmHWM reset before the first; the runs with "
            f"unlocks included): {peak_loops:,.0f} MB. "
            if peak_loops is not None
            else ""
        )
        + f"Peak RSS of the whole process (generation and training included): "
        f"{context['maxrss']:,.0f} MB.",
        "",
        f"### Where the time goes: one chunk of {phases['users']:,} users",
        "",
        f"The real `recompute_chunk_process` on a middle chunk with no benefit on offer, "
        f"the functions it calls timed as it calls them (medians of {args.repeat}, each "
        "rolled back):",
        "",
        *_phase_lines(phases),
        "",
        f"cProfile of `recompute_chunk_process` on that chunk (a fresh run; "
        f"{phases['scored']:,} users scored in {phases['profiled_seconds']:.2f} s under the "
        "profiler), top 15 by cumulative time:",
        "",
        *_profile_lines(context["profile"]),
    ]
    return "\n".join(lines)


def unlocks_section(args, context: dict, figures: dict) -> str:
    catalogue, naive_rate = context["catalogue"], figures["naive_rate"]
    naive = context["naive"]
    kinds = [
        ("without", "without unlocks (no benefit on offer)"),
        ("first", "first run with the catalogue"),
        ("steady", "steady state (next run, catalogue unchanged)"),
    ]
    offered = ", ".join(
        f"{title} {score}" + (f" (age {age}+)" if age else "")
        for score, age, title in catalogue["offered"]
    )
    lines = [
        UNLOCKS_SECTION,
        "",
        *_header(args, context),
        f"Catalogue: `benefits.demo.demo_partners_load()` + `demo_benefits_load()`: "
        f"{catalogue['partners']} partners, {catalogue['benefits']} benefits, "
        f"{len(catalogue['published'])} published by approved partners: {offered}. "
        "Without unlocks = the same benefits put back in draft (`benefits_offered` is empty) "
        "and the unlock and notification tables truncated. First run with the catalogue = "
        "published again and the tables truncated, so everyone above a threshold gets an "
        "unlock and a notification. Steady state = the next run on the unlocks the first "
        "wrote. The three run one after the other in each round, the naive sample (no "
        "benefit on offer) after the run without unlocks; the same population throughout. "
        "Unlocks opened / closed are the counts `unlocks_apply` returned, summed over the "
        "chunks; its time is measured around each call inside `recompute_chunk_process`.",
        "",
        f"### Throughput (chunk size {args.chunk_size:,}; {args.repeat} rounds, interleaved)",
        "",
        "| Catalogue | Round | Users | Seconds | Users/s | Median a chunk | Unlocks opened "
        "| Closed | In `unlocks_apply` | Open unlocks / notifications after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, label in kinds:
        for i, c in enumerate(context[kind], 1):
            rows = c["rows_after"]
            lines.append(
                f"| {label} | {i} | {c['users']:,} | {c['seconds']:.2f} | {c['rate']:,.0f} "
                f"| {c['chunk_median'] * 1000:,.0f} ms | {c['unlocked']:,} | {c['locked']:,} "
                f"| {c['unlock_seconds']:.2f} s ({100 * c['unlock_seconds'] / c['seconds']:.0f} %) "
                f"| {rows['open']:,} / {rows['notifications']:,} |"
            )
    without = figures["without_rate"]
    lines += [""]
    parts = []
    for kind, label in kinds:
        rate = figures[f"{kind}_rate"]
        parts.append(
            f"{label}: **{rate:,.0f} users/s** (bar {RATE_BAR:,}: **{_verdict(rate >= RATE_BAR)}**"
            f"; {rate / without:.2f}x without unlocks; {rate / naive_rate:.1f}x naive, bar "
            f"{RATIO_BAR}x: **{_verdict(rate / naive_rate >= RATIO_BAR)}**)"
        )
    first_runs, without_runs = context["first"], context["without"]
    extra = statistics.median(
        (f["seconds"] - w["seconds"]) for f, w in zip(first_runs, without_runs, strict=True)
    )
    opened = statistics.median(f["unlocked"] for f in first_runs)
    notified = statistics.median(f["rows_after"]["notifications"] for f in first_runs)
    with_rss = [s for k in ("first", "steady") for c in context[k] for s in c["rss_samples"]]
    lines += [
        "Medians per worker process end to end: "
        + "; ".join(parts)
        + f". Naive path (`score_recompute` per user, no benefit on offer; {len(naive)} "
        f"samples of {naive[0]['users']:,} users, run after the run without unlocks in each "
        f"round): "
        + ", ".join(f"{n['rate']:,.1f}" for n in naive)
        + f" users/s, median {naive_rate:,.1f}.",
        "",
        f"A first run with the catalogue opened a median of {opened:,.0f} unlocks "
        f"({opened / max(first_runs[0]['users'], 1):.2f} a user) and wrote {notified:,.0f} "
        f"notifications (one a user with something unlocked); it took {extra:.2f} s more "
        f"than the run without unlocks in the same round "
        f"({extra / max(opened, 1) * 1e6:,.1f} µs an unlock, "
        f"{extra / max(first_runs[0]['users'], 1) * 1e6:,.1f} µs a user). Steady state opened "
        + ", ".join(f"{c['unlocked']:,}" for c in context["steady"])
        + " and closed "
        + ", ".join(f"{c['locked']:,}" for c in context["steady"])
        + " (rounds in order). Every run finished: "
        + ("yes" if all(c["finished"] for kind, _ in kinds for c in context[kind]) else "NO")
        + ". "
        + (
            f"Peak RSS during all the loops: {context['peak_loops']:,.0f} MB; "
            if context["peak_loops"] is not None
            else ""
        )
        + f"RSS over the runs with the catalogue: min {min(with_rss):,.0f}, max "
        f"{max(with_rss):,.0f} MB.",
        "",
    ]
    unlock = context["unlock_phases"]
    states = unlock["states"]
    lines += [
        f"### Where the time goes: `unlocks_apply` on one chunk of {unlock['users']:,} users",
        "",
        f"The middle chunk of the last steady-state run, with that run's scores. Per state, "
        f"the real `unlocks_apply` (median of {args.repeat}; queries counted with "
        "`connection.execute_wrapper`), the functions it calls timed as it calls them. Each "
        "state is set up and measured inside a transaction that is rolled back.",
        "",
        *_unlock_step_lines(unlock),
        "",
        f"cProfile of `unlocks_apply` on that chunk, first run with the catalogue "
        f"({states['first']['opened']:,} unlocks opened in "
        f"{unlock['profiled_seconds']:.2f} s under the profiler, rolled back), top 15 by "
        "cumulative time:",
        "",
        *_profile_lines(context["unlock_profile"]),
    ]
    return "\n".join(lines)


def _phase_lines(phases: dict) -> list[str]:
    lines = ["| Step | Median | Share | Per user |", "|---|---:|---:|---:|"]
    total = sum(phases["phases"].values())
    users = max(phases["users"], 1)
    for name, seconds in phases["phases"].items():
        lines.append(
            f"| {name} | {seconds * 1000:,.0f} ms | {100 * seconds / total:.0f} % "
            f"| {seconds / users * 1e6:,.0f} µs |"
        )
    lines.append(
        f"| sum of the steps | {total * 1000:,.0f} ms | 100 % | {total / users * 1e6:,.0f} µs |"
    )
    if phases.get("real") is not None:
        lines.append(
            f"| `recompute_chunk_process` itself (median of {phases['real_count']}, "
            "foreign-key checks included) "
            f"| {phases['real'] * 1000:,.0f} ms | "
            f"| {phases['real'] / users * 1e6:,.0f} µs |"
        )
    return lines


def _unlock_step_lines(unlock: dict) -> list[str]:
    users = max(unlock["users"], 1)
    states = unlock["states"]
    lines = [
        "| Step | " + " | ".join(UNLOCK_STATES[name] for name in states) + " |",
        "|---|" + "---:|" * len(states),
    ]
    # Every state's steps, in the order they first ran; 0 where a state never called one.
    for step in dict.fromkeys(step for name in states for step in states[name]["steps"]):
        lines.append(
            f"| {step} | "
            + " | ".join(
                f"{states[name]['steps'].get(step, 0.0) * 1000:,.1f} ms" for name in states
            )
            + " |"
        )
    lines += [
        "| `unlocks_apply` itself | "
        + " | ".join(
            f"**{states[name]['real'] * 1000:,.0f} ms** "
            f"({states[name]['real'] / users * 1e6:,.0f} µs a user)"
            for name in states
        )
        + " |",
        "| unlocks opened / closed | "
        + " | ".join(f"{states[name]['opened']:,} / {states[name]['closed']:,}" for name in states)
        + " |",
        "| queries | " + " | ".join(f"{states[name]['queries']}" for name in states) + " |",
    ]
    return lines


def scale_section(args, context: dict, figures: dict) -> str:
    """The cases measured (--cases), at any --users: throughput, memory, one chunk."""
    naive_rate = figures["naive_rate"]
    kinds = [kind for kind in ("without", "first", "steady") if context[kind]]
    lines = [
        SCALE_SECTION,
        "",
        *_header(args, context),
        f"Cases measured in each round, in this order: {', '.join(args.cases)} (the same "
        "cases as in the two sections above, where `first` is a first run with the demo "
        "catalogue published and the unlock and notification tables truncated, and "
        "`steady` the next run on the unlocks it wrote).",
        "",
        f"### Throughput (chunk size {args.chunk_size:,}; {args.repeat} round"
        f"{'s' if args.repeat > 1 else ''})",
        "",
        "| Case | Round | Users | Seconds | Users/s | Median a chunk | Unlocks opened | Closed "
        "| In `unlocks_apply` | Run start | RSS before / after the loop |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in kinds:
        for i, c in enumerate(context[kind], 1):
            lines.append(
                f"| {CASE_LABELS[kind]} | {i} | {c['users']:,} | {c['seconds']:.2f} "
                f"| {c['rate']:,.0f} | {c['chunk_median'] * 1000:,.0f} ms | {c['unlocked']:,} "
                f"| {c['locked']:,} | {c['unlock_seconds']:.2f} s "
                f"({100 * c['unlock_seconds'] / c['seconds']:.0f} %) "
                f"| {c['start_seconds']:.2f} s "
                f"| {c['rss_before']:,.0f} / {c['rss_after']:,.0f} MB |"
            )
    for i, n in enumerate(context["naive"], 1):
        lines.append(
            f"| naive: `score_recompute` per user | {i} | {n['users']:,} | {n['seconds']:.2f} "
            f"| {n['rate']:,.1f} | {n['median_ms']:.2f} ms a user | | | | | |"
        )
    parts = []
    for kind in kinds:
        rate = figures[f"{kind}_rate"]
        text = (
            f"{CASE_LABELS[kind]}: **{rate:,.0f} users/s** (bar {RATE_BAR:,}: "
            f"**{_verdict(rate >= RATE_BAR)}**"
        )
        if naive_rate:
            text += (
                f"; {rate / naive_rate:.1f}x naive, bar {RATIO_BAR}x: "
                f"**{_verdict(rate / naive_rate >= RATIO_BAR)}**"
            )
        parts.append(text + ")")
    samples = [s for kind in kinds for c in context[kind] for s in c["rss_samples"]]
    lines += [
        "",
        "Medians per worker process end to end: "
        + "; ".join(parts)
        + (f". Naive: median {naive_rate:,.1f} users/s." if naive_rate else ".")
        + " Every run finished: "
        + ("yes" if all(c["finished"] for kind in kinds for c in context[kind]) else "NO")
        + ".",
        "",
        "### Memory of the worker process",
        "",
        f"RSS when the loops began (after generation and training; the naive samples' ids "
        f"taken, the full id list freed): {context['rss_before_loops']:,.0f} MB. RSS sampled "
        f"after every chunk of every run: min {min(samples):,.0f}, max {max(samples):,.0f} MB. "
        + (
            f"Peak RSS during the loops (VmHWM reset before the first; run starts, which "
            f"read every consenting user id, included): **{context['peak_loops']:,.0f} MB**. "
            if context["peak_loops"] is not None
            else ""
        )
        + f"Peak RSS of the whole process (generation and training included): "
        f"{context['maxrss']:,.0f} MB.",
        "",
        f"### Where the time goes: one chunk of {context['phases']['users']:,} users",
        "",
        f"The real `recompute_chunk_process` on a middle chunk with no benefit on offer, "
        f"the functions it calls timed as it calls them (medians of {args.repeat}, each "
        "rolled back):",
        "",
        *_phase_lines(context["phases"]),
        "",
    ]
    if context["unlock_phases"] is not None:
        unlock = context["unlock_phases"]
        lines += [
            f"`unlocks_apply` on the middle chunk of the last steady-state run "
            f"({unlock['users']:,} users), the functions it calls timed as it calls them "
            f"(medians of {args.repeat}, each state rolled back):",
            "",
            *_unlock_step_lines(unlock),
            "",
        ]
    return "\n".join(lines)


# --- the run -------------------------------------------------------------------------


def _chunked_logged(label: str, chunk_size: int) -> dict:
    log(f"chunked run, {label}…")
    c = chunked_once(chunk_size)
    c["rows_after"] = unlock_rows()
    c["analyze_seconds"] = tables_analyze()
    log(
        f"  {c['users']:,} users in {c['seconds']:.2f} s = {c['rate']:,.0f} users/s "
        f"({c['chunks']} chunks, median chunk {c['chunk_median'] * 1000:.0f} ms); unlocks "
        f"opened {c['unlocked']:,}, closed {c['locked']:,}, {c['unlock_seconds']:.2f} s in "
        f"unlocks_apply; RSS {c['rss_before']:,.0f} -> {c['rss_after']:,.0f} MB"
    )
    return c


def run(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    from django.core.management import call_command
    from django.db import connection

    import scoring.tasks
    from accounts.models import User
    from accounts.selectors import users_consenting_to_scoring

    context: dict = {
        "started_at": datetime.datetime.now(datetime.UTC),
        "load_start": os.getloadavg()[0],
        "commit": commit(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        context["autovacuum"] = cursor.fetchone()[0]

    log("migrate…")
    call_command("migrate", verbosity=0)

    # Nothing reaches the broker: this process is the only consumer of the chunks.
    scoring.tasks.recompute_chunk.delay = lambda *a, **k: None
    scoring.tasks.score_recompute_user.apply_async = lambda *a, **k: None
    unlocks_count_install()

    log("training and activating the model…")
    context["model"] = model_setup()
    log(f"  {context['model']['version']} in {context['model']['seconds']:.1f} s")

    log("loading the demo catalogue…")
    catalogue = context["catalogue"] = catalogue_load()
    published = catalogue["published"]
    log(f"  {len(published)} benefits published: {catalogue['offered']}")
    if catalogue_set(published, on=False) != 0:
        raise RuntimeError("benefits other than the demo catalogue's are on offer")

    log(f"generating {args.users:,} users in slices of {args.slice:,}…")
    context["generation"] = population_generate(args)
    log("VACUUM ANALYZE…")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    context["users"] = User.objects.count()
    context["consenting"] = users_consenting_to_scoring().distinct().count()
    all_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(all_ids) // args.naive)
    # The samples are taken now, so the process does not hold every id during the loops.
    samples = [all_ids[i % step :: step][: args.naive] for i in range(args.repeat)]
    del all_ids

    maxrss_before_loops = _maxrss_mb()  # the reset below also clears ru_maxrss
    context["rss_before_loops"] = _rss_mb()
    hwm_reset = _hwm_reset()
    without, naive, first, steady = [], [], [], []
    for i in range(args.repeat):
        log(f"round {i + 1}/{args.repeat}")
        if "without" in args.cases:
            catalogue_set(published, on=False)
            unlocks_clear()
            without.append(_chunked_logged("without unlocks", args.chunk_size))
        if "naive" in args.cases:
            catalogue_set(published, on=False)
            sample = samples[i]
            log(f"naive sample {i + 1}/{args.repeat} ({len(sample):,} users)…")
            naive.append(naive_once(sample))
            n = naive[-1]
            log(
                f"  {n['users']:,} users in {n['seconds']:.2f} s = {n['rate']:,.1f} users/s "
                f"(median {n['median_ms']:.2f} ms a user)"
            )
        if "first" in args.cases:
            unlocks_clear()
            if catalogue_set(published, on=True) != len(published):
                raise RuntimeError("the demo catalogue is not on offer")
            first.append(_chunked_logged("first run with the catalogue", args.chunk_size))
        if "steady" in args.cases:
            steady.append(_chunked_logged("steady state", args.chunk_size))
    context["peak_loops"] = _hwm_mb() if hwm_reset else None
    context.update(without=without, naive=naive, first=first, steady=steady)

    log("profiling one chunk (no benefit on offer)…")
    catalogue_set(published, on=False)
    unlocks_clear()
    context["phases"], context["profile"] = chunk_phases(args.chunk_size, args.repeat)
    print(context["profile"], file=sys.stderr)

    context["unlock_phases"] = context["unlock_profile"] = None
    if steady:
        log("unlocks_apply on one chunk, three states…")
        context["unlock_phases"], context["unlock_profile"] = unlock_phases(
            steady[-1]["run"], published, args.repeat
        )
        print(context["unlock_profile"], file=sys.stderr)

    context["maxrss"] = max(maxrss_before_loops, _maxrss_mb())
    context["load_end"] = os.getloadavg()[0]
    context["versions"] = _versions()

    kinds = [kind for kind in ("without", "first", "steady") if context[kind]]
    figures = {
        f"{kind}_rate": statistics.median(c["rate"] for c in context[kind]) for kind in kinds
    }
    figures["naive_rate"] = statistics.median(n["rate"] for n in naive) if naive else None
    rates = [figures[f"{kind}_rate"] for kind in kinds]
    figures["ok"] = all(
        r >= RATE_BAR and bool(naive) and r / figures["naive_rate"] >= RATIO_BAR for r in rates
    )
    sections = {"scale": scale_section(args, context, figures)}
    if set(args.cases) == set(CASES):
        sections["pipeline"] = pipeline_section(args, context, figures)
        sections["unlocks"] = unlocks_section(args, context, figures)
    return sections, figures


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    log(f"creating database {args.database}…")
    database_create(args.database)
    _django_setup(args.database)
    try:
        sections, figures = run(args)
    finally:
        if not args.keep_db:
            log(f"dropping database {args.database}…")
            database_drop(args.database)
    headings = {"pipeline": SECTION, "unlocks": UNLOCKS_SECTION, "scale": SCALE_SECTION}
    shown = [n for n in ("pipeline", "unlocks") if n in sections] or ["scale"]
    print("\n\n".join(sections[name] for name in shown))
    if args.write:
        for name, heading in headings.items():
            if (
                args.write in (name, "all")
                and name in sections
                and not (args.write == "all" and name == "scale")
            ):
                results_write(sections[name], heading)
                print(f"{heading[3:]}: written to {RESULTS}.", file=sys.stderr)
    if not figures["ok"]:
        rates = ", ".join(
            f"{CASE_LABELS[kind]} {figures[f'{kind}_rate']:,.0f}"
            for kind in ("without", "first", "steady")
            if f"{kind}_rate" in figures
        )
        naive = figures["naive_rate"]
        print(
            f"FAIL: chunked users/s: {rates} (bar {RATE_BAR:,}); naive "
            + (f"{naive:,.1f} users/s (bar {RATIO_BAR}x)." if naive else "not measured."),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

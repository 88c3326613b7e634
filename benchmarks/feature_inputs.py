"""A chunk's inputs, read and turned into features, step by step (issue 19).

Needs a database that benchmarks/recompute.py left populated (--keep-db). Each round
takes the next chunk of --chunk-size consenting users and reads it with
`feature_inputs_load` (its queries timed one by one, and its two halves: the people rows
and the per-user facts), then computes the features. With --before PATH (a `git archive`
copy of an earlier commit), the same round first reads the chunk with that copy's
`tables_load` and computes its features, so the two are interleaved in one process and
their features compared (largest difference). Medians over --rounds.

    .venv/bin/python benchmarks/feature_inputs.py --database sesame_bench [--rounds 10]
        [--before /tmp/old-copy]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import statistics
import sys
import time

import numpy as np
from _environment import ROOT

PG = "postgres://postgres@127.0.0.1:5432"
QUERIES = (
    "BEGIN",
    "SET LOCAL jit = off",
    "people rows",
    "consents",
    "instalments (GROUP BY)",
    "accounts (GROUP BY)",
    "activity (GROUP BY)",
    "bills (GROUP BY)",
    "wealth (GROUP BY, latest per product)",
    "friends (GROUP BY, 2 index probes a friend)",
    "COMMIT",
)


def _ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sesame_bench")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default="2026-01-01")
    parser.add_argument("--before", help="a copy of an earlier commit, to interleave")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/{args.database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "sesame_portal.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    import scoring.selectors as selectors
    from accounts.selectors import users_consenting_to_scoring
    from scoring.ml.features import features_compute

    before = None
    if args.before:
        path = os.path.join(args.before, "scoring", "selectors.py")
        spec = importlib.util.spec_from_file_location("before_selectors", path)
        before = importlib.util.module_from_spec(spec)
        sys.modules["before_selectors"] = before
        spec.loader.exec_module(before)

    halves: dict[str, list[float]] = {"people": [], "facts": []}
    for name, key in (("_people_load", "people"), ("_facts_load", "facts")):
        function = getattr(selectors, name)

        def timed(*a, _function=function, _key=key, **k):
            t0 = time.perf_counter()
            try:
                return _function(*a, **k)
            finally:
                halves[_key].append(time.perf_counter() - t0)

        setattr(selectors, name, timed)

    ids = sorted(set(users_consenting_to_scoring().values_list("user_id", flat=True)))
    chunks = [ids[i : i + args.chunk_size] for i in range(0, len(ids), args.chunk_size)]
    queries = {name: [] for name in QUERIES}
    steps: dict[str, list[float]] = {"load": [], "features": [], "old load": [], "old features": []}
    largest = 0.0
    for round_ in range(args.rounds):
        chunk = chunks[round_ % len(chunks)]
        now = timezone.now()
        if before is not None:
            t0 = time.perf_counter()
            tables = before.tables_load(user_ids=chunk, as_of=args.as_of, previous_before=now)
            t1 = time.perf_counter()
            old = features_compute(tables, as_of=args.as_of)
            steps["old load"].append(t1 - t0)
            steps["old features"].append(time.perf_counter() - t1)
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            inputs = selectors.feature_inputs_load(
                user_ids=chunk, as_of=args.as_of, previous_before=now
            )
            t1 = time.perf_counter()
        new = features_compute(inputs, as_of=args.as_of)
        steps["load"].append(t1 - t0)
        steps["features"].append(time.perf_counter() - t1)
        for name, query in zip(QUERIES, captured.captured_queries, strict=True):
            queries[name].append(float(query["time"]))
        if before is not None:
            a, b = old.to_numpy(), new.to_numpy()
            assert (np.isnan(a) == np.isnan(b)).all()
            largest = max(largest, float(np.nanmax(np.abs(a - b))))

    size = len(chunks[0])
    print(f"{args.rounds} rounds of {size:,} users; load average {os.getloadavg()[0]:.1f}")
    print("| Step | Median | Per user |\n|---|---:|---:|")
    for name, values in queries.items():
        print(f"| query: {name} | {_ms(values):.1f} ms | {_ms(values) * 1000 / size:.0f} µs |")
    in_queries = sum(_ms(values) for values in queries.values())
    for label, value in (
        ("all queries (database and fetching)", in_queries),
        ("people rows, built (queries included)", _ms(halves["people"])),
        ("facts, built (queries included)", _ms(halves["facts"])),
        ("`feature_inputs_load`", _ms(steps["load"])),
        ("`features_compute`", _ms(steps["features"])),
    ):
        print(f"| {label} | {value:.0f} ms | {value * 1000 / size:.0f} µs |")
    if before is not None:
        for label in ("old load", "old features"):
            value = _ms(steps[label])
            print(f"| before: {label} | {value:.0f} ms | {value * 1000 / size:.0f} µs |")
        ratio = (_ms(steps["old load"]) + _ms(steps["old features"])) / (
            _ms(steps["load"]) + _ms(steps["features"])
        )
        print(f"\nread + features, before / after: {ratio:.2f}x; largest difference {largest:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where the time of one partner score query goes: the request served in-process by
Django's WSGI handler (every middleware, as under gunicorn, without the HTTP server), on
PostgreSQL and Redis, with the same data as benchmarks/load.py (an approved partner, an
authorisation for score and sub-scores, the latest of 60 snapshots).

It prints the mean time per request of the whole request, of each SQL statement (with
the number of round trips) and of the Redis round trips, and the inclusive time of the
named steps that exist in the code being measured; then the top of a cProfile of the
same requests. Nothing is written to RESULTS.md: the figures are copied by hand.

Usage: .venv/bin/python benchmarks/partner_profile.py [--requests 2000]
[--database sesame_bench_partner] [--redis-db 14]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load
from _environment import log

# (label, dotted path): the steps timed when the code has them (inclusive times).
CALLS = "benefits.services.partner_calls"
STEPS = [
    ("DRF dispatch (all of the DRF view)", "rest_framework.views.APIView.dispatch"),
    ("key: authentication", "benefits.api.partner.PartnerKeyAuthentication.authenticate"),
    ("rate limits (Redis)", f"{CALLS}.partner_rate_check"),
    ("the call: authorisation, consent, score, use, log", f"{CALLS}.partner_score"),
    ("fast view (all of it)", "benefits.api.partner._partner_score_fast"),
    ("key, partner and limits (one Redis round trip)", f"{CALLS}.partner_admit"),
    ("the call: one read, the rules, one write", f"{CALLS}.partner_score_fast"),
    ("the read (one SQL statement)", f"{CALLS}.authorisation_with_score"),
    ("sub-scores (score_latest_summary)", f"{CALLS}.score_latest_summary"),
    ("the log row (`_log`; with the use, on the fast path)", f"{CALLS}._log"),
    ("JSON rendering", "rest_framework.renderers.JSONRenderer.render"),
]


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] += seconds
        self.calls[label] += 1


def _wrap(timers: Timers, label: str, dotted: str) -> bool:
    module_path, _dot, name = dotted.rpartition(".")
    owner = None
    try:
        owner = importlib.import_module(module_path)
    except ImportError:
        module_path, _dot, class_name = module_path.rpartition(".")
        try:
            owner = getattr(importlib.import_module(module_path), class_name)
        except (ImportError, AttributeError):
            return False
    original = getattr(owner, name, None)
    if original is None:
        return False

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timers.add(label, time.perf_counter() - start)

    setattr(owner, name, timed)
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", default="sesame_bench_partner")
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args(argv)
    load.DATABASE = args.database
    load.REDIS_DB = load.BROKER_DB = args.redis_db
    log("setting up…")
    _sessions, (key, token, _score_key, _score_token) = load.setup(1)

    import redis
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    handler = WSGIHandler()
    path = f"/api/v1/partner/authorizations/{token}/score/"
    environ_base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }

    def request() -> bytes:
        status = []
        body = b"".join(
            handler({**environ_base, "wsgi.input": io.BytesIO(b"")}, lambda s, h: status.append(s))
        )
        if not status[0].startswith("200"):
            raise SystemExit(f"the query answered {status[0]}: {body[:200]!r}")
        return body

    log(f"answer: {request().decode()}")
    for _ in range(200):  # warm up
        request()

    def trivial() -> None:
        status = []
        environ = {**environ_base, "PATH_INFO": "/healthz", "wsgi.input": io.BytesIO(b"")}
        b"".join(handler(environ, lambda s, h: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"/healthz answered {status[0]}")

    # 1. Whole requests, nothing wrapped, interleaved with the trivial view's.
    wholes, trivials, cpus, trivial_cpus = [], [], [], []
    each = args.requests // 5
    for _ in range(5):
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(each):
            request()
        wholes.append((time.perf_counter() - start) / each)
        cpus.append((time.process_time() - cpu) / each)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(each):
            trivial()
        trivials.append((time.perf_counter() - start) / each)
        trivial_cpus.append((time.process_time() - cpu) / each)
    whole, trivial_time = statistics.median(wholes), statistics.median(trivials)
    cpu, trivial_cpu = statistics.median(cpus), statistics.median(trivial_cpus)

    # 2. The same requests with SQL, Redis and the named steps timed.
    timers = Timers()
    statements: dict[str, list[float]] = defaultdict(list)

    def sql_timer(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements[" ".join(sql.split())[:90]].append(time.perf_counter() - start)

    steps = [label for label, dotted in STEPS if _wrap(timers, label, dotted)]
    _wrap(timers, "Redis: commands", "redis.client.Redis.execute_command")
    _wrap(timers, "Redis: pipelines", "redis.client.Pipeline.execute")
    assert redis  # imported for the wrapping above
    with connection.execute_wrapper(sql_timer):
        start = time.perf_counter()
        for _ in range(args.requests):
            request()
        timed_whole = (time.perf_counter() - start) / args.requests
    n = args.requests
    print(f"\nRequests: {n} in-process (WSGIHandler), after 200 to warm up.\n")
    print("| Step (mean per request, inclusive) | ms | Calls per request |")
    print("|---|---:|---:|")
    print(f"| the trivial view (`/healthz`), median of 5 | {trivial_time * 1000:.3f} | 1 |")
    print(f"| whole request, nothing timed, median of 5 | {whole * 1000:.3f} | 1 |")
    print(f"| the trivial view: CPU of this process | {trivial_cpu * 1000:.3f} | 1 |")
    print(f"| whole request: CPU of this process | {cpu * 1000:.3f} | 1 |")
    print(f"| whole request, steps timed | {timed_whole * 1000:.3f} | 1 |")
    for label in [*steps, "Redis: commands", "Redis: pipelines"]:
        if timers.calls[label]:
            print(
                f"| {label} | {timers.seconds[label] / n * 1000:.3f} | "
                f"{timers.calls[label] / n:.2f} |"
            )
    total_sql = sum(sum(times) for times in statements.values())
    count_sql = sum(len(times) for times in statements.values())
    print(f"| SQL: all statements | {total_sql / n * 1000:.3f} | {count_sql / n:.2f} |")
    for sql, times in sorted(statements.items(), key=lambda item: -sum(item[1])):
        print(f"| SQL: `{sql}…` | {sum(times) / n * 1000:.3f} | {len(times) / n:.2f} |")

    # 3. A cProfile of the same requests (slower: the shares matter, not the times).
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(min(n, 1000)):
        request()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(40)
    print("\n" + out.getvalue())
    from django.db import connections

    connections.close_all()
    load._admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

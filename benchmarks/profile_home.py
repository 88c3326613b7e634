"""Where a warm request of the score home spends its time: the load test's data (a
database set up as benchmarks/load.py does, with fewer people), one logged-in person,
the page asked many times through Django's WSGI handler in this process (no server, no
network, no wrk), beside the trivial view, then once more under cProfile.

Prints the median time of each (and their ratio), the queries a warm request makes
with the median time each takes from sending to answer (`--explain`: and PostgreSQL's
own plan and timing of each), and the functions with the most cumulative time under the
profiler (which slows everything it sees, so read its shares, not its times). Needs
PostgreSQL and Redis on 127.0.0.1.

Usage: .venv/bin/python benchmarks/profile_home.py [--requests 300] [--top 40]
[--people 3] [--database sesame_bench_profile] [--redis-db 7] [--explain]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path
from wsgiref.util import setup_testing_defaults

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load
from _environment import commit, log


def _call(app, path: str, cookie: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_COOKIE": cookie,
        "wsgi.input": io.BytesIO(),
    }
    setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda answer, _headers, _exc=None: status.append(answer)))
    return status[0], body


def _median_ms(app, path: str, cookie: str, requests: int) -> float:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        _call(app, path, cookie)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--people", type=int, default=3)
    parser.add_argument("--database", default="sesame_bench_profile")
    parser.add_argument("--redis-db", type=int, default=load.REDIS_DB)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    load.DATABASE = args.database
    load.REDIS_DB = load.BROKER_DB = args.redis_db
    log("setting up the database, the demo catalogue and the people…")
    sessions, _partner = load.setup(args.people)
    try:
        from django.conf import settings
        from django.core.wsgi import get_wsgi_application
        from django.db import connection

        app = get_wsgi_application()
        cookie = f"{settings.SESSION_COOKIE_NAME}={sessions[0]}"
        status, body = _call(app, "/", cookie)
        if not status.startswith("200") or b'class="gauge"' not in body:
            raise SystemExit(f"/ did not answer as a logged-in score page: {status}")
        for path in ("/healthz", "/"):  # warm: templates, translations, caches
            _median_ms(app, path, cookie, 20)
        timings: dict[str, list[float]] = {}
        sent: dict[str, tuple] = {}

        def record(execute, sql, params, many, context):
            sent[sql] = params
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.setdefault(sql, []).append(time.perf_counter() - start)

        # Django empties its own query log as each request starts: record them here.
        with connection.execute_wrapper(record):
            for _ in range(args.requests // 4):
                _call(app, "/", cookie)
        queries = {sql: statistics.median(times) * 1000 for sql, times in timings.items()}
        plans = {}
        if args.explain:
            with connection.cursor() as cursor:
                for sql, params in sent.items():
                    cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
                    plans[sql] = "\n".join(f"      {line}" for (line,) in cursor.fetchall())
        trivial, home = (_median_ms(app, path, cookie, args.requests) for path in ("/healthz", "/"))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            _call(app, "/", cookie)
        profiler.disable()
    finally:
        from django.db import connections

        connections.close_all()
        load._admin(f'DROP DATABASE IF EXISTS "{load.DATABASE}" WITH (FORCE)')

    print(f"Code: {commit()}; {args.requests} requests each, in process, medians")
    print(f"trivial view /healthz: {trivial:.2f} ms; score home /: {home:.2f} ms ", end="")
    print(f"({home / trivial:.1f} times the trivial view); {len(body):,} bytes of HTML")
    print(f"queries of a warm score home ({len(queries)}), median ms each, sent to answered:")
    for query, ms in queries.items():
        print(f"  {ms:.2f} ms  {query[:150]}")
        if query in plans:
            print(plans[query])
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The partner score query under gunicorn on PostgreSQL and Redis, against a trivial view.

Both are served by the same gunicorn in the same run and loaded with wrk over loopback,
interleaved, several rounds; medians of requests/s, p50 and p99 are compared as a ratio
(QUALITY.md: the partner score query at least half the trivial view's throughput).
The score query is the real thing: the key checked, the authorisation and its consent
read, the latest snapshot of a person with a long history, the rate limit counted in
Redis and the call logged.

Needs PostgreSQL and Redis on 127.0.0.1 and `wrk` on the PATH (Debian: apt-get install
wrk). Usage: .venv/bin/python benchmarks/partner_api.py [--seconds 15] [--rounds 3]
[--workers 2] [--connections 8] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _environment import ROOT, command, commit, log, machine, results_write

PG = "postgres://postgres@127.0.0.1:5432"
REDIS_CACHE = "redis://127.0.0.1:6379/7"
DATABASE = "sesame_bench_api"
PORT = 8799
HISTORY = 60  # snapshots of the person queried
SECTION = "## Partner score query under gunicorn (benchmarks/partner_api.py)"
RATIO_BAR = 0.5


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "CACHE_URL": REDIS_CACHE,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/6",
        "DJANGO_SETTINGS_MODULE": "sesame_portal.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
    }


def setup() -> str:
    """A migrated database with one partner, its key, and a person with a long score
    history who authorised it; returns (key, token) joined by a space."""
    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DATABASE}"')
    environment = _environment()
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=environment, cwd=ROOT, check=True)  # noqa: S603
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from accounts.clients import Client
    from accounts.models import ConsentPurpose, ConsentScope, User
    from accounts.services import consent_grant
    from benefits.models import Partner
    from benefits.services.partner_access import api_key_create, partner_authorize
    from scoring.models import ModelVersion, ScoreSnapshot

    partner = Partner.objects.create(
        name="Bench Partner",
        category="car_rental",
        status=Partner.Status.APPROVED,
        rate_limit_per_minute=10**9,
        daily_quota=10**9,
    )
    _key, key = api_key_create(partner=partner, label="bench")
    user = User.objects.create_user(username="bench", password="bench-password-123")  # noqa: S106
    web = Client(channel="web")
    consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=web)
    version = ModelVersion.objects.create(
        version="bench", kind="portal", artifact=b"{}", sha256="0" * 64, is_active=True
    )
    now = timezone.now()
    ScoreSnapshot.objects.bulk_create(
        ScoreSnapshot(
            user=user,
            score=600 + i,
            band="good",
            dimensions={"credit_history": 60, "behaviour": 55},
            contributions={},
            reasons=[],
            features={},
            model_version=version,
            trigger="bench",
            computed_at=now - datetime.timedelta(days=HISTORY - i),
        )
        for i in range(HISTORY)
    )
    _grant, token = partner_authorize(
        user=user,
        partner=partner,
        scope=ConsentScope.SCORE_AND_SUBSCORES,
        stated_purpose="benchmark",
        expires_at=now + datetime.timedelta(days=30),
        client=web,
    )
    from django.db import connections

    connections.close_all()
    return f"{key} {token}"


def gunicorn_start(workers: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed arguments
        [
            gunicorn,
            "sesame_portal.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=_environment(),
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = found.groups()
    return float(value) * _UNITS[unit]


def wrk(path: str, seconds: int, connections: int, headers: list[str]) -> dict:
    arguments = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for header in headers:
        arguments += ["-H", header]
    done = subprocess.run(  # noqa: S603 - wrk with fixed arguments
        [*arguments, f"http://127.0.0.1:{PORT}{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*?(\d+) timeout"):
        found = re.search(pattern, out)
        if found:
            errors += int(found.group(1))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+)", out)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": errors,
    }


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    log("setting up the database…")
    key, token = setup().split(" ")
    from benefits.models import PartnerQuery

    score_path = f"/api/v1/partner/authorizations/{token}/score/"
    cases = {
        "trivial view (`/healthz`)": ("/healthz", []),
        "partner score query": (score_path, [f"Authorization: Api-Key {key}"]),
    }
    load_before = _load()
    server = gunicorn_start(args.workers)
    results: dict[str, list[dict]] = {name: [] for name in cases}
    try:
        for path, headers in cases.values():  # warm up each worker
            wrk(path, 2, args.connections, headers)
        for round_number in range(1, args.rounds + 1):
            for name, (path, headers) in cases.items():
                log(f"round {round_number}: {name}…")
                results[name].append(wrk(path, args.seconds, args.connections, headers))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    load_after = _load()
    logged = PartnerQuery.objects.count()
    from django.db import connections

    connections.close_all()
    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')

    medians = {
        name: {field: statistics.median(r[field] for r in runs) for field in ("rps", "p50", "p99")}
        for name, runs in results.items()
    }
    trivial, score = (medians[name] for name in cases)
    ratio = score["rps"] / trivial["rps"]
    errors = sum(r["errors"] for runs in results.values() for r in runs)
    lines = [
        SECTION,
        "",
        f"Command: `{command('partner_api.py', argv)}`  ",
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; load average (1/5/15 min) {load_before} before, "
        f"{load_after} after  ",
        f"Code: {commit()}",
        "",
        f"Server: gunicorn, {args.workers} sync workers, on 127.0.0.1:{PORT}, PostgreSQL "
        f"(database `{DATABASE}`, created and dropped by the script) and the Redis cache "
        f"`{REDIS_CACHE}` for the rate limits. Load: wrk, 2 threads, {args.connections} "
        f"connections, {args.seconds} s a case, {args.rounds} rounds interleaved after a "
        f"2 s warm-up of each; wrk runs on the same 2 cores. The person queried has "
        f"{HISTORY} snapshots; the authorisation's scope is score and sub-scores; every "
        f"call is checked against the rate limit in Redis and logged "
        f"({logged:,} query-log rows written).",
        "",
        "| Case | Round | Requests/s | p50 | p99 | Requests | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        for number, run in enumerate(runs, start=1):
            lines.append(
                f"| {name} | {number} | {run['rps']:,.0f} | {run['p50']:.1f} ms | "
                f"{run['p99']:.1f} ms | {run['requests']:,} | {run['errors']} |"
            )
    verdict = "PASS" if ratio >= RATIO_BAR and errors == 0 else "FAIL"
    lines += [
        "",
        f"Medians: trivial view **{trivial['rps']:,.0f} requests/s** (p50 "
        f"{trivial['p50']:.1f} ms, p99 {trivial['p99']:.1f} ms); partner score query "
        f"**{score['rps']:,.0f} requests/s** (p50 {score['p50']:.1f} ms, p99 "
        f"{score['p99']:.1f} ms). Ratio **{ratio:.2f}** (bar {RATIO_BAR}: **{verdict}**); "
        f"errors (non-2xx, socket): {errors}.",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results_write(section, SECTION)
        log("written to benchmarks/RESULTS.md")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

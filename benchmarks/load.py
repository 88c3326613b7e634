"""Load test: the pages people use and the partner score query under gunicorn on
PostgreSQL and Redis, against a trivial view served by the same gunicorn in the same run.

Cases, each loaded with wrk over loopback, interleaved, several rounds (medians compared
as ratios, QUALITY.md: the partner query at least half the trivial view's throughput,
the score home at least a quarter, zero errors):

- the trivial view: `/healthz` (every middleware, no database);
- the score home `/` for logged-in people: wrk cycles through the sessions of many
  verified, consenting people with a score, records and benefits (the demo catalogue);
- the benefits catalogue `/benefits/` for the same people;
- the partner score query: key checked, authorisation and consent read, the latest of 60
  snapshots, the rate limit counted in Redis and the call logged; once with score and
  sub-scores, once (another partner) with the score only.

Before the run every session is checked to get its own score page (a redirect to the
login page would look like success to wrk). Needs PostgreSQL and Redis on 127.0.0.1 and
`wrk` on the PATH (Debian: apt-get install wrk).

Usage: .venv/bin/python benchmarks/load.py [--seconds 15] [--rounds 3] [--workers 2]
[--connections 8] [--people 40] [--cases trivial,home,catalogue,partner,partner-score]
[--database sesame_bench_load] [--redis-db 7] [--port 8799] [--baseline DIR] [--write]

`--cases` runs some of the cases only (the trivial view always runs: the ratios are to
it; `--write` needs them all). `--baseline DIR` also serves every case but the trivial
view from the checkout at DIR (another commit: `git worktree add DIR COMMIT`, or `git
archive COMMIT | tar -x -C DIR` with a COMMIT file naming it) with its own gunicorn on
the next port, each as a case of its own just before this checkout's, in each round:
before and after in one run. With the same migrations it shares the run's database;
when this checkout has migrations the baseline lacks, the baseline gets a copy of the
database (same people, sessions, keys and tokens) migrated back to its own last
migrations by this checkout's `migrate` (the reverse of each migration; a baseline with
migrations this checkout lacks is refused). `--database`, `--redis-db` (one Redis db for
the cache and the broker, whose keys do not meet) and `--port` let two runs share a
machine.
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
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _environment import ROOT, command, commit, log, machine, results_write

PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
# Where the run lives: the defaults, or --database, --redis-db and --port (see main).
DATABASE = "sesame_bench_load"
REDIS_DB = 7  # the cache
BROKER_DB = 6
PORT = 8799
HISTORY = 60  # snapshots of the person the partner queries
SECTION = "## Load test under gunicorn (benchmarks/load.py)"
TRIVIAL = "trivial view (`/healthz`)"
# --cases names: the case as the tables name it.
CASES = {
    "trivial": TRIVIAL,
    "home": "score home `/` (logged in)",
    "catalogue": "benefits catalogue `/benefits/` (logged in)",
    "partner": "partner score query",
    "partner-score": "partner score query, scope score only",
}
# The least share of the trivial view's throughput each case must reach (QUALITY.md).
RATIO_BARS = {CASES["home"]: 0.25, CASES["partner"]: 0.5, CASES["partner-score"]: 0.5}


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _environment(database: str | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{database or DATABASE}",
        "CACHE_URL": f"{REDIS}/{REDIS_DB}",
        "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
        "DJANGO_SETTINGS_MODULE": "sesame_portal.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
    }


def _people_create(count: int) -> list:
    """Verified people who consented to scoring, with the demo person's records and a
    score computed by the real model."""
    from stdnum.cn import ric

    from accounts import services
    from accounts.clients import Client
    from accounts.models import ConsentPurpose, User
    from scoring.population.demo import demo_records_load
    from scoring.services.scores import score_recompute

    web = Client(channel="web")
    people = []
    for number in range(count):
        user = User.objects.create_user(username=f"load{number}", password=None)
        body = f"110105{1970 + number % 30}0{1 + number % 9}1{number % 10}{number % 1000:03d}"
        services.identity_verify(
            user=user, full_name="张伟", id_number=body + ric.calc_check_digit(body + "0")
        )
        services.consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=web)
        demo_records_load(user=user)
        if score_recompute(user=user, trigger="bench") is None:
            raise SystemExit(f"no score for {user.username}")
        people.append(user)
    return people


def _session_for(user) -> str:
    """The session key of a login, as Django's own login leaves it."""
    from django.conf import settings
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def _partner_create() -> tuple[str, str, str, str]:
    """An approved partner (limits out of reach) and its authorisation to read the score
    and sub-scores of a person with a long history, and another partner's authorisation
    to read the score alone: (key, token, the other's key, its token)."""
    from django.utils import timezone

    from accounts.clients import Client
    from accounts.models import ConsentPurpose, User
    from accounts.services import consent_grant
    from benefits.models import ConsentScope, Partner
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
    user = User.objects.create_user(username="queried", password=None)
    web = Client(channel="web")
    consent_grant(user=user, purpose=ConsentPurpose.SCORING, client=web)
    version = ModelVersion.objects.filter(is_active=True).first()
    now = timezone.now()
    ScoreSnapshot.objects.bulk_create(
        ScoreSnapshot(
            user=user,
            score=600 + i,
            band="good",
            dimensions={"credit_history": 60, "behaviour": 55},
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
    # The same person authorises a second partner for the score alone.
    other = Partner.objects.create(
        name="Bench Partner (score only)",
        category="car_rental",
        status=Partner.Status.APPROVED,
        rate_limit_per_minute=10**9,
        daily_quota=10**9,
    )
    _key, other_key = api_key_create(partner=other, label="bench")
    _grant, score_token = partner_authorize(
        user=user,
        partner=other,
        scope=ConsentScope.SCORE,
        stated_purpose="benchmark",
        expires_at=now + datetime.timedelta(days=30),
        client=web,
    )
    return key, token, other_key, score_token


def setup(people: int) -> tuple[list[str], tuple[str, str, str, str]]:
    """A migrated database with the demo catalogue and model, `people` logged-in people
    and two partners' authorisations: (session keys, (key, token, key, token))."""
    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DATABASE}"')
    import redis

    # A new database reuses the last run's ids: nothing cached under them may stay.
    redis.Redis.from_url(f"{REDIS}/{REDIS_DB}").flushdb()
    environment = _environment()
    manage = [sys.executable, str(ROOT / "manage.py")]
    for arguments in (["migrate", "-v0"], ["load_demo"]):
        subprocess.run([*manage, *arguments], env=environment, cwd=ROOT, check=True)  # noqa: S603
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    sessions = [_session_for(user) for user in _people_create(people)]
    partner = _partner_create()
    connections.close_all()
    return sessions, partner


def _last_migrations(root: Path) -> dict[str, set[str]]:
    """Each app's migrations in the checkout at `root`, by app label (the directory)."""
    return {
        folder.parent.name: {path.stem for path in folder.glob("0*.py")}
        for folder in root.glob("*/migrations")
    }


def baseline_database(root: Path) -> str:
    """The database the checkout at `root` can be served from: the run's own when the
    migrations are the same, else a copy migrated back to the baseline's migrations."""
    ours, theirs = _last_migrations(ROOT), _last_migrations(root)
    if any(theirs.get(app, set()) - names for app, names in ours.items()) or set(theirs) - set(
        ours
    ):
        raise SystemExit("the baseline has migrations this checkout lacks: it cannot be served")
    targets = {
        app: max(theirs[app]) if theirs.get(app) else "zero"
        for app, names in ours.items()
        if names != theirs.get(app, set())
    }
    if not targets:
        return DATABASE
    copy = f"{DATABASE}_baseline"
    _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{DATABASE}"')
    manage = [sys.executable, str(ROOT / "manage.py")]
    for app, target in sorted(targets.items()):
        log(f"the baseline's database: {app} back to {target}…")
        subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [*manage, "migrate", app, target, "-v0"],
            env=_environment(copy),
            cwd=ROOT,
            check=True,
        )
    return copy


def gunicorn_start(
    workers: int, root: Path = ROOT, port: int | None = None, database: str | None = None
) -> subprocess.Popen:
    """gunicorn serving the code at `root` (this checkout unless told) on `port`, from
    `database` (the run's unless told)."""
    port = port or PORT
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    arguments = ["--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed arguments
        [gunicorn, "sesame_portal.wsgi", *arguments],
        cwd=root,
        env=_environment(database),
        start_new_session=True,
        stderr=subprocess.DEVNULL,  # one JSON request line per request otherwise
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def _page_check(path: str, session: str, marker: str, port: int | None = None) -> None:
    """The session gets its own page, not a redirect to the login page."""
    from django.conf import settings

    port = port or PORT
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        body = answer.read().decode()
        if answer.geturl() != f"http://127.0.0.1:{port}{path}" or marker not in body:
            raise SystemExit(f"{path} did not answer as a logged-in page")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = found.groups()
    return float(value) * _UNITS[unit]


def _cookie_script(cookie_name: str, sessions: list[str]) -> str:
    """A wrk script that sends the next person's session cookie with every request."""
    listed = ", ".join(f'"{session}"' for session in sessions)
    path = Path(tempfile.mkstemp(suffix=".lua", prefix="sesame-load-")[1])
    path.write_text(
        f"local sessions = {{{listed}}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        f'  local cookie = "{cookie_name}=" .. sessions[n % #sessions + 1]\n'
        '  return wrk.format("GET", nil, {["Cookie"] = cookie})\n'
        "end\n"
    )
    return str(path)


def wrk(
    path: str,
    seconds: int,
    connections: int,
    headers: list[str],
    script: str | None,
    port: int | None = None,
):
    arguments = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for header in headers:
        arguments += ["-H", header]
    if script:
        arguments += ["-s", script]
    done = subprocess.run(  # noqa: S603 - wrk with fixed arguments
        [*arguments, f"http://127.0.0.1:{port or PORT}{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    errors = 0
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if found:
        errors += int(found.group(1))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": errors,
    }


def _baseline_label(root: Path) -> str:
    marker = root / "COMMIT"  # an export (git archive) names its commit so
    if marker.exists():
        return f"(commit {marker.read_text().strip()})"
    done = subprocess.run(  # noqa: S603 - git, fixed arguments
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return f"(commit {done.stdout.strip()})" if done.stdout.strip() else f"({root.name})"


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str]) -> int:
    global DATABASE, REDIS_DB, BROKER_DB, PORT  # the run's own, from the options below
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--redis-db", type=int)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--baseline")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    chosen = {"trivial", *args.cases.split(",")}
    if chosen - set(CASES):
        raise SystemExit(f"unknown cases: {', '.join(sorted(chosen - set(CASES)))}")
    if args.write and chosen != set(CASES):
        raise SystemExit("--write needs every case (the section holds them all)")
    DATABASE, PORT = args.database, args.port
    if args.redis_db is not None:
        REDIS_DB = BROKER_DB = args.redis_db
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    log("setting up the database, the demo catalogue and the people…")
    sessions, (key, token, score_key, score_token) = setup(args.people)
    from django.conf import settings

    from benefits.models import PartnerQuery

    cookies = _cookie_script(settings.SESSION_COOKIE_NAME, sessions)
    cases = {
        CASES[short]: (*target, PORT)
        for short, target in {
            "trivial": ("/healthz", [], None),
            "home": ("/", [], cookies),
            "catalogue": ("/benefits/", [], cookies),
            "partner": (
                f"/api/v1/partner/authorizations/{token}/score/",
                [f"Authorization: Api-Key {key}"],
                None,
            ),
            "partner-score": (
                f"/api/v1/partner/authorizations/{score_token}/score/",
                [f"Authorization: Api-Key {score_key}"],
                None,
            ),
        }.items()
        if short in chosen
    }
    baseline = baseline_db = None
    if args.baseline:
        baseline = Path(args.baseline).resolve()
        baseline_db = baseline_database(baseline)
        label = _baseline_label(baseline)
        # Each case just after its baseline, so that each round compares the two side by side.
        paired = {}
        for name, (path, headers, script, port) in cases.items():
            if name != TRIVIAL:
                paired[f"{name}, baseline {label}"] = (path, headers, script, PORT + 1)
            paired[name] = (path, headers, script, port)
        cases = paired
    load_before = _load()
    servers = [gunicorn_start(args.workers)]
    if baseline:
        servers.append(
            gunicorn_start(args.workers, root=baseline, port=PORT + 1, database=baseline_db)
        )
    results: dict[str, list[dict]] = {name: [] for name in cases}
    try:
        for session in sessions:
            for path, _headers, _script, port in cases.values():
                if path == "/":
                    _page_check("/", session, 'class="gauge"', port)
        for path, _headers, _script, port in cases.values():
            if path == "/benefits/":
                _page_check("/benefits/", sessions[0], "/claim/", port)
        for path, headers, script, port in cases.values():  # warm up each worker
            wrk(path, 2, args.connections, headers, script, port)
        for round_number in range(1, args.rounds + 1):
            for name, (path, headers, script, port) in cases.items():
                log(f"round {round_number}: {name}…")
                results[name].append(
                    wrk(path, args.seconds, args.connections, headers, script, port)
                )
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        Path(cookies).unlink(missing_ok=True)
    load_after = _load()
    logged = PartnerQuery.objects.count()
    from django.db import connections

    connections.close_all()
    for database in {DATABASE, baseline_db or DATABASE}:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    medians = {
        name: {field: statistics.median(r[field] for r in runs) for field in ("rps", "p50", "p99")}
        for name, runs in results.items()
    }
    errors = sum(r["errors"] for runs in results.values() for r in runs)
    lines = [
        SECTION,
        "",
        f"Command: `{command('load.py', argv)}`  ",
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; load average (1/5/15 min) {load_before} before, "
        f"{load_after} after  ",
        f"Code: {commit()}",
        *(
            [
                "",
                f"Baseline: {label} served from `{baseline}` by its own gunicorn on port "
                f"{PORT + 1}, database `{baseline_db}`"
                + (" (a copy migrated back to its migrations)" if baseline_db != DATABASE else ""),
            ]
            if baseline
            else []
        ),
        "",
        f"Server: gunicorn, {args.workers} sync workers, DEBUG off, on 127.0.0.1:{PORT}, "
        f"PostgreSQL (database `{DATABASE}`, created and dropped by the script) and the "
        f"Redis cache `{REDIS}/{REDIS_DB}` (sessions, written through to the database; the "
        f"rate limits; the score home's drawings). Data: `load_demo` (model, 9 partners, "
        f"9 benefits, 300 synthetic people) plus {args.people} verified people with the "
        f"demo records and a score, "
        f"each with a logged-in session that wrk cycles through. Load: wrk, 2 threads, "
        f"{args.connections} connections, {args.seconds} s a case, {args.rounds} rounds "
        f"interleaved after a 2 s warm-up of each; wrk and PostgreSQL share the same 2 "
        f"cores. The partner query reads the latest of {HISTORY} snapshots, counts the "
        f"call in Redis and logs it ({logged:,} query-log rows written).",
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
    trivial = medians[TRIVIAL]["rps"]
    lines += [
        "",
        "| Case (medians) | Requests/s | p50 | p99 | Ratio to the trivial view | Bar |",
        "|---|---:|---:|---:|---:|---|",
    ]
    passed = errors == 0
    for name, median in medians.items():
        ratio = median["rps"] / trivial
        least = RATIO_BARS.get(name)
        bar = "" if name == TRIVIAL else "none (reported)"
        if least is not None:
            bar = f"{least}: **{'PASS' if ratio >= least else 'FAIL'}**"
            passed = passed and ratio >= least
        lines.append(
            f"| {name} | {median['rps']:,.0f} | {median['p50']:.1f} ms | "
            f"{median['p99']:.1f} ms | {ratio:.2f} | {bar} |"
        )
    lines += ["", f"Errors (non-2xx/3xx, socket, timeouts) over every case: **{errors}**."]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results_write(section, SECTION)
        log("written to benchmarks/RESULTS.md")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

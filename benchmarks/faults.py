"""Fault scenarios against the portal under traffic, with their outcome recorded.

The portal runs as in production (gunicorn, PostgreSQL, Redis for the cache and the
broker) but on a private PostgreSQL cluster (port 5440, in a temporary directory) and a
private Redis (port 6390), so the faults hurt nothing else on the machine. A client
thread requests the score home of a logged-in user, the catalogue and /readyz in a loop;
every answer (or connection error) is timed. Then:

1. PostgreSQL restarts (`pg_ctl restart -m fast`) in the middle of the traffic. Expected:
   requests fail for the moment, then recover without restarting the portal (persistent
   connections with health checks).
2. Redis stops (`SHUTDOWN NOSAVE`) and comes back 8 seconds later. Expected: pages keep
   serving (sessions live in PostgreSQL; the cache is optional for pages); a profile
   change made meanwhile still saves, its recompute waits in PendingRecompute and is
   published again by the sweep once the broker is back; /readyz says 503 naming the
   cache and the broker, then 200.

Needs PostgreSQL 15's server binaries (/usr/lib/postgresql/15/bin), redis-server, and root
(to run the cluster as the postgres user). Usage: .venv/bin/python benchmarks/faults.py
[--write]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _environment import ROOT, command, commit, log, machine, results_write

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 5440
REDIS_PORT = 6390
WEB_PORT = 8797
SECTION = "## Fault scenarios (benchmarks/faults.py)"
PATHS = ("/", "/benefits/", "/readyz")


def _as_postgres(*args: str) -> None:
    subprocess.run(["su", "postgres", "-c", " ".join(args)], check=True, capture_output=True)


class Services:
    """A private PostgreSQL cluster and Redis server, created and removed here."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sesame-faults-"))
        os.chmod(self.root, 0o777)
        self.pgdata = self.root / "pg"

    def start(self) -> None:
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.pgdata), "-A", "trust", "-U", "postgres"
        )
        self.pg("start")
        self.redis_start()

    def pg(self, action: str) -> None:
        extra = ["-m", "fast"] if action in ("restart", "stop") else []
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-o",
            f"'-p {PG_PORT} -k {self.root}'",
            "-l",
            str(self.root / "pg.log"),
            "-w",
            action,
            *extra,
        )

    def redis_start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--daemonize",
                "yes",
                "--dir",
                str(self.root),
            ],
            check=True,
        )
        for _ in range(50):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def redis_stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True
        )

    def stop(self) -> None:
        self.redis_stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg("stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _environment(var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/sesame",
        "CACHE_URL": f"redis://127.0.0.1:{REDIS_PORT}/1",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "SESAME_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "sesame_portal.settings",
        "LOG_FORMAT": "plain",
    }


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


SESSION_SHELL = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import User
user = User.objects.get(username="demo")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
# A session is only honoured with its sign-in row (accounts.web_sessions).
from accounts.services import web_session_start
web_session_start(user=user, session_key=session.session_key, user_agent="faults")
print(session.session_key)
"""


class Traffic(threading.Thread):
    """Requests in a loop; each answer recorded as (seconds since start, path, outcome)."""

    def __init__(self, session_key: str) -> None:
        super().__init__(daemon=True)
        self.session_key = session_key
        self.started = time.monotonic()
        self.answers: list[tuple[float, str, str]] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            for path in PATHS:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{WEB_PORT}{path}",
                    headers={"Cookie": f"sessionid={self.session_key}"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        outcome = str(response.status)
                except urllib.error.HTTPError as error:
                    outcome = str(error.code)
                except OSError as error:
                    outcome = type(error).__name__
                self.answers.append((time.monotonic() - self.started, path, outcome))
            time.sleep(0.05)

    def mark(self) -> float:
        return time.monotonic() - self.started


def _summary(answers, start: float, fault_at: float, end: float) -> dict:
    window = [a for a in answers if start <= a[0] < end]
    before = [a for a in window if a[0] < fault_at]
    after = [a for a in window if a[0] >= fault_at]
    failures = [a for a in after if a[2] != "200"]
    last_failure = max((a[0] for a in failures), default=None)
    return {
        "requests": len(window),
        "before": collections.Counter(a[2] for a in before),
        "after": collections.Counter((a[1], a[2]) for a in after),
        "failed": len(failures),
        "recovered_after": None if last_failure is None else last_failure - fault_at,
        "ok_at_end": all(a[2] == "200" for a in window if a[0] >= end - 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="record in RESULTS.md")
    args = parser.parse_args(argv)
    started_at = datetime.datetime.now(datetime.UTC)
    services = Services()
    var_dir = Path(tempfile.mkdtemp(prefix="sesame-faults-var-"))
    env = _environment(var_dir)
    web = None
    traffic = None
    try:
        log("starting a private PostgreSQL and Redis…")
        services.start()
        subprocess.run(
            [
                str(PG_BIN.parent / "bin" / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(PG_PORT),
                "-U",
                "postgres",
                "sesame",
            ],
            check=True,
        )
        log("migrating, training, loading the demo…")
        _manage(env, "migrate", "--noinput")
        _manage(env, "train_model", "--activate")
        _manage(env, "load_demo")
        session_key = _manage(env, "shell", "-c", SESSION_SHELL).strip().splitlines()[-1]
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "sesame_portal.wsgi",
                "--bind",
                f"127.0.0.1:{WEB_PORT}",
                "--workers",
                "2",
                "--error-logfile",
                str(var_dir / "web.log"),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        time.sleep(3)
        traffic = Traffic(session_key)
        traffic.start()

        time.sleep(4)
        log("scenario 1: PostgreSQL restarts under traffic")
        pg_start = traffic.mark()
        services.pg("restart")
        pg_restarted = traffic.mark()
        time.sleep(10)
        pg_end = traffic.mark()
        pg = _summary(traffic.answers, pg_start - 4, pg_start, pg_end)

        log("scenario 2: Redis stops for 8 s under traffic, and a profile change is made")
        redis_start = traffic.mark()
        services.redis_stop()
        time.sleep(2)
        change = _manage(env, "shell", "-c", PROFILE_CHANGE_SHELL).strip().splitlines()[-1]
        time.sleep(6)
        redis_back = traffic.mark()
        services.redis_start()
        time.sleep(6)
        redis_end = traffic.mark()
        redis = _summary(traffic.answers, pg_end, redis_start, redis_end)
        down = [a for a in traffic.answers if redis_start <= a[0] < redis_back]
        sweep = _manage(env, "shell", "-c", SWEEP_SHELL).strip().splitlines()[-1]
    finally:
        if traffic is not None:
            traffic.running = False
            traffic.join(timeout=15)
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=20)
        services.stop()
        shutil.rmtree(var_dir, ignore_errors=True)

    def counts(counter) -> str:
        return ", ".join(
            f"{k if isinstance(k, str) else ' '.join(k)}: {v}" for k, v in sorted(counter.items())
        )

    down_counts = collections.Counter((a[1], a[2]) for a in down)
    text = (
        f"Command: `{command('faults.py', argv)}`; {started_at:%Y-%m-%d %H:%M} UTC; "
        f"{machine()}; {commit()}. Gunicorn with 2 workers on a private PostgreSQL 15 and "
        f"Redis; one client thread requesting {', '.join(PATHS)} in turn (the first two "
        "as the logged-in demo user).\n\n"
        f"1. PostgreSQL restarted under traffic (`pg_ctl restart -m fast` took "
        f"{pg_restarted - pg_start:.1f} s). Before: {counts(pg['before'])}. From the "
        f"restart on: {counts(pg['after'])}; {pg['failed']} failed answers, the last "
        + (
            f"{pg['recovered_after']:.1f} s after the restart began"
            if pg["recovered_after"] is not None
            else "none"
        )
        + f"; all answers of the last 2 s were 200: {pg['ok_at_end']}. The portal was not "
        "restarted.\n\n"
        f"2. Redis stopped for {redis_back - redis_start:.1f} s under traffic. While it was "
        f"down: {counts(down_counts)}. A profile change saved meanwhile: {change}. Once "
        f"Redis was back: all answers of the last 2 s were 200: {redis['ok_at_end']}; "
        f"the recompute sweep then published: {sweep}.\n"
    )
    print(text)
    if args.write:
        results_write(f"{SECTION}\n\n{text}", SECTION)
    return 0


PROFILE_CHANGE_SHELL = """
from accounts.models import User
from accounts.services import profile_update
from scoring.models import PendingRecompute
user = User.objects.get(username="demo")
try:
    profile_update(user=user, sections={"provident_fund": {"provident_fund_months": 61}})
    saved = "saved"
except Exception as error:
    saved = "failed with " + type(error).__name__
pending = PendingRecompute.objects.filter(user=user).exists()
print(f"{saved}, recompute waiting in PendingRecompute: {pending}")
"""

SWEEP_SHELL = """
import datetime
from django.utils import timezone
from scoring.models import PendingRecompute
from scoring.tasks import recompute_stale_requeue
PendingRecompute.objects.update(queued_at=timezone.now() - datetime.timedelta(hours=1))
print(f"{recompute_stale_requeue()} re-queued, broker reachable again")
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

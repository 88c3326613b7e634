"""A real Celery worker process for tests, on the configured broker and the test database.

The worker is a subprocess (`python -m celery -A sesame_portal worker`) in its own session,
so that stopping it stops its pool children too. It reads the test database through
DATABASE_URL (SQLite's test database is a file, see settings.DATABASES["default"]["TEST"]),
and the broker from the environment it inherits (CELERY_BROKER_URL, or the filesystem
broker under SESAME_VAR_DIR). Its output goes to a log file, whose tail belongs in the
message of any assertion that waited on it.

    worker = Worker(tmp_path / "worker.log")
    worker.start()
    try:
        assert wait_for(lambda: done(), timeout=60), worker.log_tail()
    finally:
        worker.stop()
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
READY = "ready."
_names = itertools.count(1)


def database_url() -> str:
    """The URL of the database this process uses now: the test database inside a test."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings.get("USER") or "postgres", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{settings.get('HOST') or '127.0.0.1'}:"
        f"{settings.get('PORT') or 5432}/{settings['NAME']}"
    )


def worker_start(
    log: Path, *, concurrency: int = 1, pool: str = "prefork", loglevel: str = "INFO"
) -> subprocess.Popen:
    """Start a worker on the test database; its output is appended to `log`."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    # The browser fixture allows async-unsafe ORM calls in this process only.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - this interpreter, celery, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "sesame_portal",
                "worker",
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"test{os.getpid()}-{next(_names)}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                loglevel,
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_kill(
    worker: subprocess.Popen, sig: int = signal.SIGKILL, *, timeout: float = 30
) -> None:
    """Send `sig` to the worker's whole process group and wait for it to end."""
    if worker.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, sig)
        worker.wait(timeout=timeout)


def worker_stop(worker: subprocess.Popen, *, grace: float = 15) -> None:
    """A warm shutdown: SIGTERM to the main process, which finishes the task in hand and
    stops its pool; SIGKILL to the whole group if it has not ended after `grace` seconds."""
    if worker.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        worker_kill(worker, signal.SIGKILL)  # the whole group: pool children included


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    step: float = 0.25,
    between: Callable[[], object] | None = None,
) -> bool:
    """Poll `condition` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if between:
            between()
        time.sleep(step)
    return bool(condition())


def log_tail(log: Path, chars: int = 3000) -> str:
    if not log.exists():
        return f"(no worker log at {log})"
    return log.read_text(errors="replace")[-chars:]


def broker_purge() -> int:
    """Drop messages left on the default queue by earlier tests; returns how many."""
    from sesame_portal.celery import app

    return app.control.purge()


class Worker:
    """One worker process at a time, started when the test says so, stopped at the end."""

    def __init__(self, log: Path, **options) -> None:
        self.log = log
        self.options = options
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, wait_ready: float | None = None) -> Worker:
        """Start the worker; with `wait_ready`, wait up to that many seconds until it
        consumes (it logs "ready.") and fail with the log's tail otherwise."""
        if self.running:
            raise RuntimeError("the worker is already running")
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.process = worker_start(self.log, **self.options)
        if wait_ready is not None:
            ready = wait_for(
                lambda: not self.running or READY in self._log_since(offset),
                timeout=wait_ready,
            )
            if not (ready and self.running):
                raise AssertionError(f"the worker did not start:\n{self.log_tail()}")
        return self

    def _log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def stop(self, *, grace: float = 15) -> None:
        if self.process is not None:
            worker_stop(self.process, grace=grace)

    def log_tail(self, chars: int = 3000) -> str:
        state = "running" if self.running else f"exited ({self.returncode})"
        return f"--- worker {state}, log {self.log} ---\n{log_tail(self.log, chars)}"

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

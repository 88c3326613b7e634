"""Operations: liveness and readiness, the request id, and logs without personal data."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from sesame_portal import health
from sesame_portal.request_log import RedactRequestPaths
from tests.worker import wait_for

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz_when_everything_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
    }


@pytest.mark.parametrize("failing", ["database", "broker", "cache"])
def test_readyz_names_what_is_down_and_says_nothing_else(client, monkeypatch, failing):
    def down():
        raise ConnectionError("redis://:secret-password@10.0.0.5:6379/0 refused")

    monkeypatch.setitem(health.CHECKS, failing, down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][failing] == "error"
    assert "secret-password" not in response.content.decode()


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32
    assert client.get("/healthz")["X-Request-ID"] != first
    given = "0f1e2d3c4b5a49788796a5b4c3d2e1f0"  # a uuid4, as a proxy would send it
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert forged["X-Request-ID"] != "<script>alert(1)</script>"


def test_the_request_line_logs_the_route_not_the_path(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/proof/eyJwIjoxfQ:abc:secret-token-part/")
    client.get("/benefits/partners/1/authorize/?purpose=%E7%A7%9F%E8%BD%A6&scope=score")
    lines = [r for r in caplog.records if r.name == "sesame_portal.requests"]
    assert [r.route for r in lines] == [
        "/proof/<str:token>/",
        "/benefits/partners/<int:partner_id>/authorize/",
    ]
    text = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "secret-token-part" not in text
    assert "租车" not in text


def test_djangos_not_found_warning_is_redacted():
    client = Client()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactRequestPaths())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/proof/eyJwIjoxfQ:abc:another-secret/")
    finally:
        logger.removeHandler(handler)
    assert records
    assert all("another-secret" not in r.getMessage() for r in records)
    assert all(r.request == "/proof/<str:token>/" for r in records)


def test_log_lines_are_json_with_the_request_id(settings):
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(
        settings.LOGGING["formatters"]["json"]["fmt"],
        rename_fields=settings.LOGGING["formatters"]["json"]["rename_fields"],
    )
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.correlation_id = "abc"
    line = json.loads(formatter.format(record))
    assert line["message"] == "hello"
    assert line["request_id"] == "abc"
    assert line["level"] == "INFO"


@pytest.mark.parametrize(
    "line",
    [
        '{"message": "verify 11010519900307123X"}',
        '{"message": "name 李小龙"}',
        '{"message": "key sk_0123456789ab_xyz"}',
        '{"message": "GET /proof/eyJwIjoxfQ:abc/"}',
        '{"message": "voucher 7K3M-Q9XW-2B4N-HT6P"}',
    ],
)
def test_the_log_check_of_the_browser_journeys_finds_secrets(line):
    from tests.browser.helpers import LOG_SECRETS

    assert LOG_SECRETS.search(line)
    assert not LOG_SECRETS.search('{"route": "/proof/<str:token>/", "request_id": "' + "a" * 32)


def test_a_database_outage_is_a_503_with_retry_after_not_a_500(client, monkeypatch):
    from django.db import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(importlib.import_module("sesame_portal.pages.home"), "portal_home", down)
    client.raise_request_exception = False
    user = User.objects.create_user("u1", "x")
    client.force_login(user)
    page = client.get("/")
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert "One moment" in page.content.decode()

    monkeypatch.setattr("scoring.api.scores.selectors.score_latest", down)
    monkeypatch.setattr("scoring.api.scores._require_scoring_consent", lambda user: None)
    api = client.get("/api/v1/me/score/")
    assert api.status_code == 503
    assert api.json()["code"] == "unavailable"


def test_any_other_failure_is_still_a_500(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(importlib.import_module("sesame_portal.pages.home"), "portal_home", broken)
    client.raise_request_exception = False
    user = User.objects.create_user("u2", "x")
    client.force_login(user)
    assert client.get("/").status_code == 500


def test_a_change_saves_when_the_broker_is_down_and_the_sweep_publishes_it_later(
    monkeypatch, django_capture_on_commit_callbacks, consent_texts
):
    from kombu.exceptions import OperationalError as BrokerDown

    from accounts.clients import Client as WebClient
    from accounts.services import consent_grant, profile_update
    from scoring.models import PendingRecompute
    from scoring.services.recompute import PENDING_STALE_AFTER
    from scoring.tasks import recompute_stale_requeue

    user = User.objects.create_user("offline", "x")
    consent_grant(user=user, purpose="scoring", client=WebClient(channel="web"))
    PendingRecompute.objects.all().delete()

    def broker_down(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("scoring.tasks.score_recompute_user.apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        profile_update(user=user, sections={"provident_fund": {"provident_fund_months": 24}})
    assert user.profile.provident_fund_months == 24
    pending = PendingRecompute.objects.get(user=user)

    published = []
    monkeypatch.setattr(
        "scoring.tasks.score_recompute_user.delay", lambda *args: published.append(args)
    )
    PendingRecompute.objects.filter(pk=pending.pk).update(
        queued_at=pending.queued_at - PENDING_STALE_AFTER * 2
    )
    recompute_stale_requeue()
    assert published == [(user.pk, "requeued")]


@pytest.mark.django_db(transaction=True)
def test_a_real_workers_log_lines_are_json(tmp_path, monkeypatch):
    """Celery keeps the portal's logging (CELERY_WORKER_HIJACK_ROOT_LOGGER off): the
    worker's own lines and its task lines are JSON objects, like the web's."""
    from scoring.tasks import score_recompute_user
    from tests.worker import Worker, broker_purge

    monkeypatch.setenv("LOG_FORMAT", "json")
    broker_purge()
    user = User.objects.create_user("logged", "x")
    worker = Worker(tmp_path / "worker.log").start(wait_ready=60)
    try:
        score_recompute_user.delay(user.pk, "log-test")
        done = wait_for(lambda: "succeeded" in worker.log.read_text(), timeout=60)
    finally:
        worker.stop()
    assert done, worker.log_tail()
    lines = [line for line in worker.log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    messages = {record["message"].split(" ")[-1] for record in records}
    assert "ready." in messages, worker.log_tail()
    assert any("succeeded" in record["message"] for record in records), worker.log_tail()
    assert all({"asctime", "level", "name", "message"} <= set(record) for record in records)


def _run_script_web_command() -> str:
    """The gunicorn command of scripts/run, as written there (continuation lines joined)."""
    script = (Path(__file__).resolve().parent.parent / "scripts" / "run").read_text()
    lines = script.replace("\\\n", " ").splitlines()
    [command] = [line.strip() for line in lines if line.strip().startswith("gunicorn ")]
    return command.removesuffix("&").strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_web_server_of_scripts_run_logs_no_token_from_a_url(tmp_path):
    """gunicorn started as scripts/run starts it, asked for a proof link and a voucher
    code in the query string: its log files and output hold the route pattern, never the
    secret (gunicorn's own access log would write the requested line as it came)."""
    secret = "eyJwIjoxfQ:leak:secret-token-in-the-url"
    code = "7K3M-Q9XW-2B4N-HT6P"
    port = _free_port()
    var_dir = tmp_path / "var"
    (var_dir / "log").mkdir(parents=True)
    env = {
        **os.environ,
        "PORT": str(port),
        "VAR_DIR": str(var_dir),
        "SESAME_VAR_DIR": str(var_dir),
        "WEB_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    output = tmp_path / "output.log"
    route_line = '"route": "/proof/<str:token>/"'  # the portal's own request line

    def logged() -> str:
        logs = [output, *sorted((var_dir / "log").iterdir())]
        return "\n".join(path.read_text(errors="replace") for path in logs)

    with output.open("wb") as sink:
        server = subprocess.Popen(  # noqa: S603 - the repository's own command
            ["/bin/bash", "-c", f"exec {_run_script_web_command()}"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            status = None

            def answered() -> bool:
                nonlocal status
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/proof/{secret}/?code={code}", timeout=5
                    ) as response:
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                except OSError:
                    return False  # not listening yet
                return True

            wait_for(answered, timeout=60, step=0.3)
            # The request is logged once answered: stop the server when its line is written.
            wait_for(lambda: route_line in logged(), timeout=10, step=0.1)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    assert status is not None, output.read_text()
    text = logged()
    assert route_line in text
    assert "secret-token-in-the-url" not in text
    assert code not in text


@contextlib.contextmanager
def console_output():
    """What the configured console handler writes meanwhile, as parsed JSON lines."""
    [console] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = console.setStream(stream)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        console.setStream(previous)
    lines.extend(json.loads(line) for line in stream.getvalue().splitlines() if line)


def test_junk_from_the_internet_is_a_warning_never_an_error_or_an_email(settings, mailoutbox):
    """A bad Host header or an oversized body is noise from the internet: logged at
    WARNING (so an alert on ERROR stays quiet) and never mailed to ADMINS."""
    settings.ADMINS = [("", "ops@example.com")]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    with console_output() as lines:
        assert Client(HTTP_HOST="evil.example").get("/accounts/login/").status_code == 400
        big = Client().post("/accounts/login/", {"username": "x" * 5000, "password": "y"})
        assert big.status_code == 400

    levels = {line["name"]: line["level"] for line in lines if line["name"].startswith("django.")}
    assert levels["django.security.DisallowedHost"] == "WARNING"
    assert levels["django.security.RequestDataTooBig"] == "WARNING"
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    assert mailoutbox == []


def test_an_upload_the_client_broke_off_is_a_warning_and_a_real_fault_stays_an_error(
    settings, mailoutbox
):
    from django.http import UnreadablePostError

    settings.ADMINS = [("", "ops@example.com")]
    logger = logging.getLogger("django.request")
    with console_output() as lines:
        try:
            raise UnreadablePostError("client went away")
        except UnreadablePostError:
            logger.exception("Internal Server Error: %s", "/score/disputes/new/")
        try:
            raise KeyError("a bug of ours")
        except KeyError:
            logger.exception("Internal Server Error: %s", "/score/")

    assert [line["level"] for line in lines if line["name"] == "django.request"] == [
        "WARNING",
        "ERROR",
    ]
    assert [m.subject for m in mailoutbox] == ["[Django] ERROR: Internal Server Error: /score/"]

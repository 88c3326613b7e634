"""The platform: settings from the environment, security headers, the schema, and a
real Celery worker consuming from the configured broker."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import IdentityAttempt
from accounts.tasks import housekeeping
from sesame_portal import celery_app
from sesame_portal.env import env_bool, env_int, env_list
from tests.worker import wait_for

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "PRODUCTION": "1",
    "SECRET_KEY": "x7" * 30 + "-production-secret-for-the-check-only",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ID_HASH_KEY": "c" * 64,
    "ALLOWED_HOSTS": "portal.example.cn",
}


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "PRODUCTION",
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "ID_HASH_KEY",
            "ALLOWED_HOSTS",
            "DEBUG",
            "DATABASE_URL",
            # The browser tests set this for their own process only; a deployment never
            # has it, and check --deploy rightly refuses it.
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    clean.update({"SESAME_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db"})
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ID_HASH_KEY", "ALLOWED_HOSTS"]
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_malformed_environment_values_fail_loudly(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    monkeypatch.setenv("SOME_NUMBER", "ten")
    monkeypatch.setenv("SOME_LIST", " a, b ,,c ")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG", False)
    with pytest.raises(ImproperlyConfigured):
        env_int("SOME_NUMBER", 1)
    assert env_list("SOME_LIST", []) == ["a", "b", "c"]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_pages_default_to_simplified_chinese_and_switch_to_english(client):
    assert 'lang="zh-hans"' in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert 'lang="en"' in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_htmx_is_served_by_the_portal_itself(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js"' in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page


@pytest.mark.django_db
def test_openapi_schema_documents_the_public_contract(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/me/identity/",
        "/api/v1/me/consents/",
        "/api/v1/me/consents/{grant_id}/",
    ]:
        assert path in paths
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_nightly_housekeeping(owner):
    """The task travels through the configured broker (Redis in CI, the filesystem
    transport on a bare machine) to a worker that runs it against the database."""
    now = timezone.now()
    expired, _ = AuthToken.objects.create(owner, expiry=datetime.timedelta(seconds=-1))
    live, _ = AuthToken.objects.create(owner)
    IdentityAttempt.objects.create(
        user=owner, outcome="checksum", created_at=now - datetime.timedelta(days=31)
    )
    IdentityAttempt.objects.create(user=owner, outcome="checksum", created_at=now)

    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=10):
        housekeeping.delay()
        wait_for(lambda: not AuthToken.objects.filter(pk=expired.pk).exists(), timeout=30, step=0.2)

    assert not AuthToken.objects.filter(pk=expired.pk).exists()
    assert AuthToken.objects.filter(pk=live.pk).exists()
    assert list(IdentityAttempt.objects.values_list("created_at", flat=True)) == [now]


@pytest.mark.django_db
def test_an_oversized_api_body_is_a_json_400_not_an_html_page(owner_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = owner_api.patch("/api/v1/me/profile/", {"school": "x" * 20_000}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.django_db
def test_unknown_api_paths_answer_json_404(owner_api):
    response = owner_api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/export/",
        "/api/v1/me/profile/",
        "/api/v1/me/consents/",
        "/api/v1/me/vouchers/",
        "/api/v1/me/queries/",
    ],
)
def test_personal_api_answers_are_never_cached(owner_api, path):
    response = owner_api.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_errors_are_never_cached_either(owner_api, api_client):
    assert "no-store" in owner_api.get("/api/v1/me/nothing-here/")["Cache-Control"]
    assert "no-store" in api_client.get("/api/v1/me/score/")["Cache-Control"]

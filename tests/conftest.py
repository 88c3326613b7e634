"""Shared fixtures: a small base of named users and API clients for them."""

from __future__ import annotations

import datetime
import importlib
import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from stdnum.cn import ric

from accounts.models import User

PASSWORD = "correct-horse-battery-42"


def make_id_number(region: str = "110105", birth: str = "19900307", sequence: str = "123") -> str:
    """A resident ID number with the right check character (for tests only)."""
    body = f"{region}{birth}{sequence}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Every test counts its per-address limits (and anything else it caches) in a
    namespace of its own, in whichever cache is configured (per-process memory, or Redis
    with CACHE_URL): counts never leak from one test into the next, and nothing is
    flushed under a test running beside it on the same Redis."""
    namespace = f"test-{uuid.uuid4().hex}"
    default = dict(settings.CACHES["default"])
    if default["BACKEND"].endswith("LocMemCache"):
        default["LOCATION"] = namespace
    default["KEY_PREFIX"] = namespace
    settings.CACHES = {**settings.CACHES, "default": default}
    yield
    if default["BACKEND"].endswith("LocMemCache"):
        cache.clear()  # this test's own store only


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user(username="owner", password=PASSWORD)


@pytest.fixture
def other_user(db) -> User:
    return User.objects.create_user(username="other", password=PASSWORD)


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser(username="admin", password=PASSWORD)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_api(owner) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner)
    return client


@pytest.fixture
def other_api(other_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def today() -> datetime.date:
    return datetime.date(2026, 11, 21)


@pytest.fixture
def recompute_calls(monkeypatch) -> list[tuple[int, str]]:
    """Each per-user recompute published to the broker, as (user_id, trigger); publishing
    is the only thing replaced. The recorder claims the pending row at once, as a worker
    that starts the task promptly would, so later changes queue again."""
    from scoring.models import PendingRecompute

    calls: list[tuple[int, str]] = []

    def record(args=(), kwargs=None, **options):
        user_id, trigger = args
        calls.append((user_id, trigger))
        PendingRecompute.objects.filter(user_id=user_id).delete()

    monkeypatch.setattr("scoring.tasks.score_recompute_user.apply_async", record)
    return calls


@pytest.fixture
def consent_texts(transactional_db):
    """The published consent texts. A transactional test flushes the tables after it,
    data-migration rows included, so republish them with the migration's own function."""
    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0003_consent_texts_v1")
    migration.publish(apps, None)

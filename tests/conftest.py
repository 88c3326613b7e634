"""Fixtures every test package may use (pytest offers them everywhere; never import them):
named users and API clients for them, the session's trained scorecard, and the per-test
cache namespace. The data itself comes from tests.factories."""

from __future__ import annotations

import datetime
import importlib
import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from benefits.models import Benefit, Partner
from scoring import selectors
from scoring.ml.training import TrainingResult, dataset_synthetic, model_train
from scoring.models import ModelVersion
from tests.dates import FIXED_TODAY
from tests.factories import (
    PASSWORD,
    AdminFactory,
    ModelVersionFactory,
    UserFactory,
    make_benefit,
    make_partner,
    store_model,
)


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """Transactional tests (live server, browser, real workers) empty every table after
    they run. PostgreSQL's TRUNCATE of all 66 tables costs about a second each time, as it
    swaps every table's files; DELETE of the few rows such a test leaves costs milliseconds.
    The foreign keys are deferred, so the order of the tables does not matter."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED"] + [
            f"DELETE FROM {self.quote_name(table)}"  # noqa: S608 - table names from Django
            for table in tables
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


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
    return UserFactory(username="owner", password=PASSWORD)


@pytest.fixture
def other_user(db) -> User:
    return UserFactory(username="other", password=PASSWORD)


@pytest.fixture
def admin_user(db) -> User:
    return AdminFactory(username="admin", password=PASSWORD)


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
    """A fixed day, for code that takes `today=` (tests.dates.today() is the real one)."""
    return FIXED_TODAY


@pytest.fixture
def model_version(db) -> ModelVersion:
    """A stored (inactive) version for snapshots to point at; nothing loads it."""
    return ModelVersionFactory(version="benefits-test-1")


@pytest.fixture
def partner(db) -> Partner:
    return make_partner()


@pytest.fixture
def benefit(partner) -> Benefit:
    return make_benefit(partner, 600)


@pytest.fixture
def partner_cache(_own_cache_namespace):
    """The cache the partner rate limits count in: this test's own namespace (see
    _own_cache_namespace), so no count of another test or xdist worker leaks in."""
    return cache


# --- Scoring models ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def trained() -> TrainingResult:
    """A champion scorecard trained once per session (about two seconds): large enough
    that every documented effect, even the weak identity ones, earns points."""
    return model_train(dataset_synthetic(users=20000, seed=2026), challenger=False)


@pytest.fixture
def active_model(db, trained) -> ModelVersion:
    return store_model(trained)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Each test starts like a fresh process: no scorecard loaded yet (ids repeat across
    tests, so a version cached by an earlier test could stand in for another)."""
    selectors._cache.clear()
    yield
    selectors._cache.clear()


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

"""Liveness (/healthz): the process answers. Touches nothing else (no database, no
cache), so it also serves as the trivial view the benchmarks compare the real pages
against. Readiness (/readyz): what the portal needs to serve answers."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from sesame_portal.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


def _cache() -> None:
    cache.set("readyz", "ok", timeout=5)
    if cache.get("readyz") != "ok":
        raise RuntimeError("the cache did not keep a value")


CHECKS = {"database": _database, "broker": _broker, "cache": _cache}


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, the Celery broker and the cache answer. Failures are
    named, not described (an error text could carry a connection string)."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure means not ready
            logger.warning(
                "readiness check failed", extra={"check": name, "error": type(error).__name__}
            )
            results[name] = "error"
        else:
            results[name] = "ok"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )

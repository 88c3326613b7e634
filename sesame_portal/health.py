"""Liveness: the process answers. Touches nothing else (no database, no cache), so it
also serves as the trivial view the benchmarks compare the real pages against."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})

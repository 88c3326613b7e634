"""Request hygiene applied before any view runs."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


def null_character_middleware(get_response):
    """Refuse a query string carrying a NUL character (`%00`) with a 400, answered like any
    malformed request (JSON `{code, message}` on the API). No page or API reads one, and
    PostgreSQL refuses to compare text with it: an admin list filtered on `?status=%00`
    was a server error. Form bodies are left to the forms, which refuse NUL field by
    field and show what was typed."""

    def middleware(request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise BadRequest("NUL character in the query string")
        return get_response(request)

    return middleware


API_PREFIX = "/api/v1/"


def api_no_store_middleware(get_response):
    """Every API answer (a person's data, a partner's view of a person, a token, or an
    error about one) is `Cache-Control: no-store`: no shared cache, proxy or client
    HTTP stack may keep it. One place for the whole API; the schema and docs are not
    under /api/v1/ and stay cacheable."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.path_info.startswith(API_PREFIX):
            patch_cache_control(response, no_store=True)
        return response

    return middleware

"""Request hygiene applied before any view runs."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


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

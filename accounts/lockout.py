"""What a locked-out login sees (django-axes calls this): JSON for the API, a page
for people. Both say when to try again. Also the username a failure is counted under."""

from __future__ import annotations

from axes.conf import settings
from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else 15
    message = _("Too many failed logins for this account. Try again in %(minutes)d minutes.") % {
        "minutes": minutes
    }
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "message": message}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


# The length of django-axes' username column.
AXES_USERNAME_MAX = 255


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username django-axes records a failed login under: as typed, cut to the 255
    characters its table holds. Django's login forms pass a name of any length on to
    authentication, and PostgreSQL refuses to store a longer one: a server error. No
    account has a name that long, so cutting it merges nothing that matters."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return username[:AXES_USERNAME_MAX] if isinstance(username, str) else username

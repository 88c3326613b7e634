"""Error pages that Django itself raises (before or outside DRF): the API answers them
with `{code, message}` JSON like every other API error, people get a page."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {
                "code": "bad_request",
                "message": _("The request could not be read: it is malformed or too large."),
            },
            status=400,
        )
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "permission_denied", "message": _("Not allowed.")}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "not_found", "message": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


# The database restarting or unreachable: a short outage, not a bug. Persistent
# connections are health-checked, so the next request reconnects by itself.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return _unavailable(request)
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "message": _("Something went wrong on our side.")},
            status=500,
        )
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def _unavailable(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        response = JsonResponse(
            {"code": "unavailable", "message": _("The service is briefly unavailable.")},
            status=503,
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

"""One log line per request, with no personal data in it.

The path is logged as its route pattern ("proof/<str:token>/"), never as requested: paths
and query strings can carry tokens, codes and names. The request id comes from
django-guid, which also returns it as X-Request-ID."""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, HttpResponse, UnreadablePostError

logger = logging.getLogger("sesame_portal.requests")


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "(unmatched)"
    return "/" + match.route if match.route else match.view_name or "(unnamed)"


def request_log_middleware(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        # Only a user the request already loaded: loading one here could hit a database
        # that is down, after the response was made.
        user = getattr(request, "_cached_user", None)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "route": _route(request),
                "status": response.status_code,
                "duration_ms": round(1000 * (time.perf_counter() - started), 1),
                "authenticated": bool(user and user.is_authenticated),
            },
        )
        return response

    return middleware


class RedactRequestPaths(logging.Filter):
    """Django's own request loggers name the requested path ("Not Found: /proof/<the
    token>/"): log the route pattern instead, and not the request object."""

    LOGGERS = ("django.request", "django.security")

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.LOGGERS):
            return True
        request = getattr(record, "request", None)
        if hasattr(request, "path"):  # not yet redacted by another handler's filter
            path = request.path
            route = _route(request)
            if isinstance(record.args, tuple):
                record.args = tuple(route if arg == path else arg for arg in record.args)
            record.request = route
        return True


class DemoteClientJunk(logging.Filter):
    """What strangers send is not our fault: a forged Host header, an oversized or
    malformed body (Django's SuspiciousOperation, logged at ERROR under django.security.*)
    or an upload the client broke off (UnreadablePostError, a 500 under django.request).
    Logged as WARNING, without the traceback, so an alert on ERROR stays for our faults.
    A handler filter (it sees every django.security.* logger) and a filter on the
    django.request logger (so the record is demoted before Django's mail to ADMINS)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING and self._is_junk(record):
            record.levelno, record.levelname = (
                logging.WARNING,
                logging.getLevelName(logging.WARNING),
            )
            record.exc_info, record.exc_text = None, None
        return True

    @staticmethod
    def _is_junk(record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security."):
            return True
        error = record.exc_info[1] if record.exc_info else None
        return record.name == "django.request" and isinstance(error, UnreadablePostError)

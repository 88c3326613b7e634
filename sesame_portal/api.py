"""The API's single exception handler: every error is `{code, message}` (plus `fields`
for field-level validation), never an HTML page or a bare string."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sesame_portal.errors import ServiceError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, which lets a document nested deeper than Python's recursion
    limit (`[[[[...]]]]`, a few hundred kilobytes) escape as a RecursionError: a server
    error. Such a body is malformed like any other."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError() from None


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        response = Response(
            {**exc.extra, "code": exc.code, "message": str(exc.message)}, status=exc.status_code
        )
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        problems = next(iter(fields.values()), [])
        response.data = {
            "code": "invalid",
            "message": _first_message(problems) or _("The request is not valid."),
            "fields": fields,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    response.data = {
        "code": codes if isinstance(codes, str) else "error",
        "message": _first_message(getattr(exc, "detail", str(exc))),
    }
    return response

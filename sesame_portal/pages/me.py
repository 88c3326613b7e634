""" "Me" (the list of everything about me, across the apps) and the data export, as a
page download and through the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from accounts.api.common import error_responses
from sesame_portal.export import account_export


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html")


def export_response(request: HttpRequest) -> JsonResponse:
    """The export as a JSON file download (shared by the page and the API)."""
    response = JsonResponse(
        account_export(user=request.user),
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="sesame-portal-my-data-{stamp}.json"'
    return response


my_data_export = login_required(export_response)


class ExportApi(APIView):
    @extend_schema(
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="A JSON file"),
            **error_responses(401),
        },
        summary="Everything held about me, as a JSON file (ID number masked)",
    )
    def get(self, request):
        return export_response(request)

"""Who checked my score, as the API lists it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import error_responses
from benefits import selectors


class QuerySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = serializers.CharField(source="partner.name")
    call = serializers.CharField(source="kind")
    call_label = serializers.CharField(source="get_kind_display")
    purpose = serializers.CharField()
    fields_disclosed = serializers.ListField(child=serializers.CharField())
    outcome = serializers.CharField(help_text='"ok", or the code the call was refused with.')
    detail = serializers.DictField(
        help_text='An identity check: {"match": true|false}. A decision the partner reported: '
        "{decision, reason_code, limit?}. Otherwise empty."
    )
    at = serializers.DateTimeField(source="created_at")


class QueryListApi(APIView):
    @extend_schema(
        responses={200: QuerySerializer(many=True), **error_responses(401)},
        summary="Who checked my score: every partner call about me, newest first",
    )
    def get(self, request):
        return Response(
            QuerySerializer(selectors.queries_for_user(user=request.user), many=True).data
        )

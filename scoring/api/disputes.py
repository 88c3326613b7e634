"""My disputes: each with its status, its deadline and whether it passed it unanswered
(then its repayment or bill does not count in the score until it is answered)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import error_responses
from scoring.services import disputes as services


class DisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    record = serializers.CharField(source="record_summary", help_text="The record as it stood.")
    status = serializers.CharField()
    status_text = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="The answer is due by then (20 days).")
    overdue = serializers.BooleanField(
        source="is_overdue", help_text="Past its deadline and still unanswered."
    )
    counts_in_score = serializers.BooleanField(
        source="record_counts",
        help_text="False while an overdue dispute's repayment or bill is left out of the score.",
    )
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField(help_text="The answer (a rejection's reason).")


class DisputeListApi(APIView):
    @extend_schema(
        responses={200: DisputeSerializer(many=True), **error_responses(401)},
        summary="My disputes, newest first, with their deadline and whether it passed",
    )
    def get(self, request):
        mine = services.disputes_for_user(user=request.user)
        return Response(DisputeSerializer(mine, many=True).data)

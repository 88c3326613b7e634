"""Decision receipts and honour reports in the person's API, and partners' public cards
(no authentication: they say nothing about any person)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import ErrorSerializer, error_responses
from benefits import selectors_receipts as selectors
from benefits.models import ConsentScope, HonourReport, PartnerDecision
from benefits.services import receipts as services
from benefits.services.receipts import WHAT_HAPPENED_MAX


class DecisionReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = serializers.IntegerField(source="partner_id")
    partner_name = serializers.CharField(source="partner.display_name")
    query = serializers.IntegerField(
        source="query_id", help_text="The id of the query in GET /api/v1/me/queries/."
    )
    query_call = serializers.CharField(source="query.kind")
    query_at = serializers.DateTimeField(source="query.created_at")
    decision = serializers.ChoiceField(source="outcome", choices=PartnerDecision.choices)
    decision_label = serializers.CharField(source="get_outcome_display")
    limit = serializers.IntegerField(allow_null=True, help_text="Yuan; a limit decision only.")
    reason_code = serializers.CharField()
    reason = serializers.CharField(source="get_reason_code_display")
    reported_at = serializers.DateTimeField()
    dispute = serializers.IntegerField(
        source="dispute_id", allow_null=True, help_text="The dispute you added it to, if any."
    )


class MyDecisionListApi(APIView):
    @extend_schema(
        responses={200: DecisionReceiptSerializer(many=True), **error_responses(401)},
        summary="The decisions partners reported after checking my score, newest first",
    )
    def get(self, request):
        return Response(
            DecisionReceiptSerializer(
                selectors.receipts_for_user(user=request.user), many=True
            ).data
        )


class DecisionDisputeInputSerializer(serializers.Serializer):
    dispute = serializers.IntegerField(help_text="One of your disputes still open.")


class MyDecisionDisputeApi(APIView):
    @extend_schema(
        request=DecisionDisputeInputSerializer,
        responses={
            200: DecisionReceiptSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid"),
            401: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(
                ErrorSerializer,
                description="not_found: not a decision about you, or not a dispute of yours",
            ),
            409: OpenApiResponse(
                ErrorSerializer, description="dispute_closed; decision_already_disputed"
            ),
        },
        summary="Add a decision about me to one of my open disputes",
        description="The reviewer of the dispute sees the decision on its timeline. It does "
        "not change the partner's decision.",
    )
    def post(self, request, receipt_id: int):
        if selectors.receipt_for_user(user=request.user, receipt_id=receipt_id) is None:
            raise Http404  # before the body: another person's decision is not found
        data = DecisionDisputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.decision_dispute_add(
            user=request.user, receipt_id=receipt_id, dispute_id=data.validated_data["dispute"]
        )
        return Response(DecisionReceiptSerializer(receipt).data)


class HonourReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = serializers.IntegerField(source="partner_id")
    partner_name = serializers.CharField(source="partner.display_name")
    benefit = serializers.IntegerField(source="benefit_id")
    benefit_title = serializers.CharField(source="benefit.title")
    what_happened = serializers.CharField()
    status = serializers.ChoiceField(choices=HonourReport.Status.choices)
    answer = serializers.CharField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


class HonourReportInputSerializer(serializers.Serializer):
    benefit = serializers.IntegerField(help_text="A benefit you have unlocked.")
    what_happened = serializers.CharField(max_length=WHAT_HAPPENED_MAX)


class HonourReportListApi(APIView):
    @extend_schema(
        responses={200: HonourReportSerializer(many=True), **error_responses(401)},
        summary="My reports of partners that did not honour a benefit",
    )
    def get(self, request):
        return Response(
            HonourReportSerializer(
                selectors.honour_reports_for_user(user=request.user), many=True
            ).data
        )

    @extend_schema(
        request=HonourReportInputSerializer,
        responses={
            201: HonourReportSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid; what_happened"),
            401: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer, description="benefit_not_unlocked"),
            409: OpenApiResponse(
                ErrorSerializer, description="honour_report_open (one open report per benefit)"
            ),
        },
        summary="Report a partner that did not honour a benefit I unlocked",
    )
    def post(self, request):
        data = HonourReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.honour_report_file(
            user=request.user,
            benefit_id=data.validated_data["benefit"],
            what_happened=data.validated_data["what_happened"],
        )
        return Response(HonourReportSerializer(report).data, status=status.HTTP_201_CREATED)


class PartnerCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="partner.pk")
    name = serializers.CharField(source="partner.name")
    name_en = serializers.CharField(source="partner.name_en")
    category = serializers.CharField(source="partner.category")
    status = serializers.CharField(source="partner.status")
    approved_at = serializers.DateTimeField(source="partner.approved_at", allow_null=True)
    licence_number = serializers.CharField(source="partner.licence_number")
    licence_authority = serializers.CharField(source="partner.licence_authority")
    may_ask = serializers.SerializerMethodField(
        help_text="The scopes a person may authorise it for (identity checks besides, only "
        "when the person ticks them)."
    )
    benefits_on_offer = serializers.IntegerField()
    decisions_reported = serializers.IntegerField(source="decisions")
    declined = serializers.IntegerField()
    refusal_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        allow_null=True,
        help_text="Percent of the decisions it reported that were declines; null without any.",
    )
    answered_queries = serializers.IntegerField(
        help_text="Score and eligibility queries it made that were answered."
    )
    complaints_upheld = serializers.IntegerField(
        help_text="Reports of a benefit not honoured that staff upheld."
    )
    complaint_rate = serializers.DecimalField(
        max_digits=9,
        decimal_places=1,
        allow_null=True,
        help_text=f"complaints_upheld per {selectors.COMPLAINTS_PER} answered_queries; "
        "null without any query.",
    )
    anomalies_open = serializers.IntegerField(help_text="Flagged anomalies not yet resolved.")

    def get_may_ask(self, card) -> list[str]:
        return list(ConsentScope.values)


class PartnerCardApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["partners"],
        auth=[],
        responses={
            200: PartnerCardSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="not_found: no approved partner with this id"
            ),
        },
        summary="The public card of an approved partner (no authentication)",
    )
    def get(self, request, partner_id: int):
        card = selectors.partner_card(partner_id=partner_id)
        if card is None:
            raise Http404
        return Response(PartnerCardSerializer(card).data)

"""The printed credit statement through the API: the PDF itself, or a {code, message}."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.api.common import error_responses
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import ScoreProof
from scoring.services.credit_statements import credit_statement_create
from scoring.services.proofs import LIFETIMES
from scoring.views.proofs import statement_response


class CreditStatementInputSerializer(serializers.Serializer):
    shows = serializers.ChoiceField(choices=ScoreProof.Shows.choices)
    threshold = serializers.IntegerField(
        default=None,
        allow_null=True,
        min_value=SCORE_MIN,
        max_value=SCORE_MAX,
        help_text="Required when shows is at_least: the reader sees only yes or no.",
    )
    lifetime = serializers.ChoiceField(
        choices=list(LIFETIMES),
        default="30d",
        help_text="How long the QR code's proof link verifies the statement.",
    )
    show_name = serializers.BooleanField(default=False, help_text="The masked name, like 李*龙.")
    show_statement = serializers.BooleanField(
        default=False, help_text="The personal statement (you must have written one)."
    )


class CreditStatementApi(APIView):
    @extend_schema(
        request=CreditStatementInputSerializer,
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The statement, one A4 page in Chinese and English",
            ),
            400: OpenApiResponse(
                description="invalid, threshold, lifetime or no_statement (a choice not allowed)"
            ),
            **error_responses(401),
            403: OpenApiResponse(description="consent_required"),
            409: OpenApiResponse(description="no_score, too_many or score_unavailable"),
            503: OpenApiResponse(description="font_missing"),
        },
        summary="A printable statement of my score, with only what I choose and a QR code "
        "that verifies it",
    )
    def post(self, request):
        data = CreditStatementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        statement = credit_statement_create(
            user=request.user,
            **data.validated_data,
            link_for=lambda token: request.build_absolute_uri(
                reverse("proof_public", args=[token])
            ),
        )
        return statement_response(statement)

    def perform_content_negotiation(self, request, force=False):
        # Asked for application/pdf: refusals still come as JSON {code, message}.
        return super().perform_content_negotiation(request, force=True)

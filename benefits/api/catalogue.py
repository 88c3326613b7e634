"""The catalogue as the person sees it, claiming a benefit, and their vouchers."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import error_responses
from benefits import selectors, services
from benefits.models import (
    BenefitCategory,
)
from scoring.ml.scorecard import SCORE_MIN
from sesame_portal.errors import ServiceError
from sesame_portal.qr import qr_svg


class VoucherSerializer(serializers.Serializer):
    code = serializers.CharField()
    benefit = serializers.IntegerField(source="benefit_id")
    benefit_title = serializers.CharField(source="benefit.title")
    partner = serializers.CharField(source="benefit.partner.name")
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField(allow_null=True)
    valid = serializers.SerializerMethodField()

    def get_valid(self, voucher) -> bool:
        return voucher.is_valid()


class ClaimedVoucherSerializer(VoucherSerializer):
    qr_svg = serializers.SerializerMethodField(help_text="The code as a QR code (SVG markup).")

    def get_qr_svg(self, voucher) -> str:
        return qr_svg(voucher.code, title=voucher.code)


class CatalogueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="benefit.pk")
    title = serializers.CharField(source="benefit.title")
    terms = serializers.CharField(source="benefit.terms")
    category = serializers.CharField(source="benefit.category")
    category_label = serializers.CharField(source="benefit.get_category_display")
    partner = serializers.CharField(source="benefit.partner.name")
    min_score = serializers.IntegerField(source="benefit.min_score")
    min_subscores = serializers.DictField(
        source="benefit.min_subscores", child=serializers.IntegerField()
    )
    min_age = serializers.IntegerField(source="benefit.min_age", allow_null=True)
    regions = serializers.ListField(source="benefit.regions", child=serializers.CharField())
    active_to = serializers.DateTimeField(source="benefit.active_to", allow_null=True)
    unlocked = serializers.BooleanField(source="eligibility.unlocked")
    points_away = serializers.IntegerField(
        source="eligibility.points_away",
        allow_null=True,
        help_text="Score points still needed (0 once the score is enough); null without a score.",
    )
    progress = serializers.IntegerField(
        source="eligibility.progress",
        help_text=f"0-100: the score's way from {SCORE_MIN} to the minimum.",
    )
    blocked_by = serializers.ListField(
        source="eligibility.blocked_by",
        child=serializers.CharField(),
        help_text="What stands in the way: court_list, no_score, score, subscore, age, region.",
    )
    subscores_short = serializers.ListField(
        source="eligibility.subscores_short", child=serializers.CharField()
    )
    claimed_out = serializers.BooleanField(help_text="Every voucher within the quota is out.")
    voucher = VoucherSerializer(allow_null=True, help_text="My valid voucher for it, if any.")


class BenefitListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "category", OpenApiTypes.STR, enum=BenefitCategory.values, required=False
            )
        ],
        responses={200: CatalogueItemSerializer(many=True), **error_responses(400, 401)},
        summary="The benefits catalogue as I see it: unlocked first, then the nearest",
        description="Every published benefit of an approved partner on offer now. Without a "
        "score (no consent, not computed yet) everything is locked with points_away null; "
        "on the court list, blocked_by holds court_list.",
    )
    def get(self, request):
        category = request.query_params.get("category") or None
        if category is not None and category not in BenefitCategory.values:
            raise ServiceError("invalid", _("Unknown category."))
        _person, entries = selectors.catalogue_for_user(user=request.user, category=category)
        return Response(CatalogueItemSerializer(entries, many=True).data)


class BenefitClaimApi(APIView):
    @extend_schema(
        request=None,
        responses={
            201: ClaimedVoucherSerializer,
            401: OpenApiResponse(description="not authenticated"),
            403: OpenApiResponse(description="consent_required, court_list or not_eligible"),
            404: OpenApiResponse(description="not_found: no such benefit on offer"),
            409: OpenApiResponse(description="already_claimed, quota_exhausted or not_started"),
            410: OpenApiResponse(description="ended: the benefit's active window is over"),
        },
        summary="Claim an unlocked benefit: a voucher with an unguessable code and an expiry",
    )
    def post(self, request, benefit_id: int):
        voucher = services.voucher_claim(user=request.user, benefit_id=benefit_id)
        voucher = selectors.voucher_for_user(user=request.user, code=voucher.code)
        return Response(ClaimedVoucherSerializer(voucher).data, status=201)


class VoucherListApi(APIView):
    @extend_schema(
        responses={200: VoucherSerializer(many=True), **error_responses(401)},
        summary="My vouchers, newest first",
    )
    def get(self, request):
        vouchers = selectors.vouchers_for_user(user=request.user)
        return Response(VoucherSerializer(vouchers, many=True).data)

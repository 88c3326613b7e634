"""What each partner knows about me, as the person's API gives it: the partners, one
partner's disclosures, authorisations and erasure requests, and asking it to erase."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import ErrorSerializer, error_responses
from benefits import selectors
from benefits.api.consents import ConsentOutputSerializer
from benefits.services.erasure import erasure_request_create


class PartnerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class ErasureRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="When the partner must have erased by.")
    done_at = serializers.DateTimeField(
        allow_null=True, help_text="When the partner said it had erased; null while open."
    )
    partner_note = serializers.CharField(help_text="What the partner said when it was done.")
    overdue = serializers.SerializerMethodField(help_text="Open past its due time.")

    def get_overdue(self, request) -> bool:
        return request.is_overdue()


class MyPartnerSerializer(serializers.Serializer):
    partner = PartnerRefSerializer()
    disclosures = serializers.IntegerField(help_text="Calls that showed it something of mine.")
    last_disclosed_at = serializers.DateTimeField(allow_null=True)
    authorised = serializers.BooleanField(help_text="An authorisation of mine is current.")
    erasure_open = ErasureRequestSerializer(allow_null=True)


class DisclosureSerializer(serializers.Serializer):
    call = serializers.CharField(source="kind")
    call_label = serializers.CharField(source="get_kind_display")
    fields_disclosed = serializers.ListField(
        child=serializers.CharField(), help_text="What it was shown."
    )
    purpose = serializers.CharField()
    benefit = serializers.IntegerField(source="authorization.benefit_id", allow_null=True)
    at = serializers.DateTimeField(source="created_at")


class PartnerKnowledgeSerializer(serializers.Serializer):
    partner = PartnerRefSerializer()
    disclosures_total = serializers.IntegerField()
    disclosures = DisclosureSerializer(
        many=True, help_text=f"Newest first, at most {selectors.DISCLOSURES_SHOWN}."
    )
    authorisations = ConsentOutputSerializer(
        source="grants", many=True, help_text="Past and present, newest first."
    )
    erasure_requests = ErasureRequestSerializer(many=True)
    erasure_overdue = serializers.BooleanField()


NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="not_found: no such partner, or one that has received nothing of yours",
)


def _known_partner(request, partner_id: int):
    partner = selectors.partner_known_to_user(user=request.user, partner_id=partner_id)
    if partner is None:
        raise Http404
    return partner


class MyPartnerListApi(APIView):
    @extend_schema(
        responses={200: MyPartnerSerializer(many=True), **error_responses(401)},
        summary="The partners that know something about me (authorised or shown), by name",
    )
    def get(self, request):
        return Response(
            MyPartnerSerializer(selectors.partners_for_user(user=request.user), many=True).data
        )


class MyPartnerDetailApi(APIView):
    @extend_schema(
        responses={200: PartnerKnowledgeSerializer, **error_responses(401), 404: NOT_FOUND},
        summary="What this partner knows about me: disclosures, authorisations, erasure",
    )
    def get(self, request, partner_id: int):
        knowledge = selectors.partner_knowledge(
            user=request.user, partner=_known_partner(request, partner_id)
        )
        return Response(PartnerKnowledgeSerializer(knowledge).data)


class MyPartnerErasureApi(APIView):
    @extend_schema(
        request=None,
        responses={
            201: ErasureRequestSerializer,
            200: OpenApiResponse(
                ErasureRequestSerializer, description="Asked already: the open request."
            ),
            **error_responses(401),
            404: OpenApiResponse(
                ErrorSerializer,
                description="not_found: no such partner, or one that has received nothing of yours",
            ),
        },
        summary="Ask this partner to erase what it received about me (PIPL)",
        description="One open request per partner: asking again while it is open answers "
        "200 with the same request.",
    )
    def post(self, request, partner_id: int):
        erasure, created = erasure_request_create(user=request.user, partner_id=partner_id)
        return Response(ErasureRequestSerializer(erasure).data, status=201 if created else 200)

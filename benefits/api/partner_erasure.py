"""The partner's side of erasure requests (`Authorization: Api-Key <key>`): its open
requests, each naming the person only by the authorisation token ids the partner holds,
and marking one done."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api.common import ErrorSerializer
from benefits.api.partner import ERRORS, PartnerApiView
from benefits.models import PartnerQuery
from benefits.selectors import erasure_requests_open_for_partner
from benefits.services.erasure import erasure_request_done


class PartnerErasureRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    token_ids = serializers.ListField(
        child=serializers.CharField(),
        help_text="The person, as you know them: the start (`au_<id>`) of each authorisation "
        "token of theirs you were given. Erase everything you received with them.",
    )
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="Mark it done by then.")
    done_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(source="partner_note")


class ErasureDoneSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Shown to the person, e.g. what you erased and what the law makes you keep.",
    )


class PartnerErasureRequestListApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.ERASURE

    @extend_schema(
        tags=["partner"],
        responses={200: PartnerErasureRequestSerializer(many=True), **ERRORS},
        summary="Your open erasure requests, oldest first",
        description="People who asked you to erase what you received about them (PIPL art. "
        "47). Erase it, then mark the request done before `due_at`.",
        examples=[
            OpenApiExample(
                "one request",
                value=[
                    {
                        "id": 7,
                        "token_ids": ["au_0123456789ab"],
                        "created_at": "2026-12-01T09:00:00Z",
                        "due_at": "2026-12-16T09:00:00Z",
                        "done_at": None,
                        "note": "",
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        requests = erasure_requests_open_for_partner(partner=self.partner)
        return Response(PartnerErasureRequestSerializer(requests, many=True).data)


class PartnerErasureRequestDoneApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.ERASURE

    @extend_schema(
        tags=["partner"],
        request=ErasureDoneSerializer,
        responses={
            200: PartnerErasureRequestSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid"),
            **ERRORS,
            403: OpenApiResponse(ErrorSerializer, description="partner_not_approved"),
            404: OpenApiResponse(
                ErrorSerializer,
                description="erasure_request_not_found: an unknown request and another "
                "partner's are refused alike",
            ),
            409: OpenApiResponse(ErrorSerializer, description="erasure_request_done"),
        },
        summary="Say you have erased the person's data: the request is done",
    )
    def post(self, request, request_id: int):
        data = ErasureDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = erasure_request_done(
            partner=self.partner, request_id=request_id, note=data.validated_data.get("note", "")
        )
        return Response(PartnerErasureRequestSerializer(done).data)

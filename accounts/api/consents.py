"""The consent ledger: revoking a consent, and the consent texts. (The list of consents
and giving one are composed above accounts, with the partner and terms of sharing.)"""

from __future__ import annotations

from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.common import error_responses
from accounts.clients import client_from_request
from accounts.models import ConsentGrant


class ConsentDetailApi(APIView):
    @extend_schema(
        responses={204: None, **error_responses(401, 404, 409)}, summary="Revoke a consent"
    )
    def delete(self, request, grant_id: int):
        services.consent_revoke(
            user=request.user,
            grant_id=grant_id,
            client=client_from_request(request, channel=ConsentGrant.Channel.API),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConsentTextApi(APIView):
    permission_classes = [AllowAny]

    class ConsentTextOutputSerializer(serializers.Serializer):
        purpose = serializers.CharField()
        version = serializers.IntegerField()
        title = serializers.CharField()
        body = serializers.CharField()
        published_at = serializers.DateTimeField()

    @extend_schema(
        responses={200: ConsentTextOutputSerializer(many=True)},
        summary="The current consent texts, one per purpose",
    )
    def get(self, request):
        language = get_language() or "zh-hans"
        texts = [
            {
                "purpose": text.purpose,
                "version": text.version,
                "title": text.title(language),
                "body": text.body(language),
                "published_at": text.published_at,
            }
            for text in selectors.consent_texts_current().values()
        ]
        return Response(self.ConsentTextOutputSerializer(texts, many=True).data)

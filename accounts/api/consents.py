"""The consent ledger."""

from __future__ import annotations

import datetime

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.common import error_responses
from accounts.clients import client_from_request
from accounts.models import ConsentGrant, ConsentPurpose, ConsentScope, UseLimitChoice
from benefits.models import Benefit, Partner
from benefits.services.partner_access import partner_authorize
from sesame_portal.errors import ServiceError


class ConsentOutputSerializer(serializers.ModelSerializer):
    partner = serializers.SerializerMethodField()
    text_version = serializers.IntegerField(source="text.version")
    title = serializers.SerializerMethodField()
    revoked_at = serializers.SerializerMethodField()
    revocation_reason = serializers.SerializerMethodField(
        help_text="Why it ended early: `user` (you revoked it), `superseded` (a newer grant "
        "replaced it), `used_up` (its limit in use was reached), `partner_suspended` (the "
        "partner was suspended), `account_deleted`; null while it has not been revoked."
    )
    is_current = serializers.SerializerMethodField()
    queries_used = serializers.SerializerMethodField(
        help_text="Partner sharing: the queries the partner has made with it so far."
    )

    class Meta:
        model = ConsentGrant
        fields = [
            "id",
            "purpose",
            "title",
            "partner",
            "scope",
            "stated_purpose",
            "identity_check",
            "use_limit",
            "max_queries",
            "queries_used",
            "text_version",
            "granted_at",
            "expires_at",
            "revoked_at",
            "revocation_reason",
            "is_current",
            "channel",
        ]

    def get_partner(self, grant) -> dict | None:
        if grant.partner is None:
            return None
        return {"id": grant.partner.pk, "name": grant.partner.name}

    def get_title(self, grant) -> str:
        return grant.text.title(get_language() or "zh-hans")

    def get_revoked_at(self, grant) -> datetime.datetime | None:
        revocation = getattr(grant, "revocation", None)
        return revocation.revoked_at if revocation else None

    def get_revocation_reason(self, grant) -> str | None:
        revocation = getattr(grant, "revocation", None)
        return revocation.reason if revocation else None

    def get_is_current(self, grant) -> bool:
        return grant.is_current()

    def get_queries_used(self, grant) -> int | None:
        authorization = getattr(grant, "authorization", None)
        return authorization.queries_used if authorization else None


class ConsentListApi(APIView):
    class ConsentListInputSerializer(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
        partner = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        scope = serializers.ChoiceField(
            choices=ConsentScope.choices, required=False, allow_blank=True
        )
        stated_purpose = serializers.CharField(max_length=200, required=False, allow_blank=True)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)
        benefit = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            help_text="For partner sharing with scope eligibility: the partner's benefit.",
        )
        identity_check = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Partner sharing: the partner may ask whether a name and ID number it "
            "already holds are mine (yes/no only).",
        )
        use_limit = serializers.ChoiceField(
            choices=UseLimitChoice.choices,
            required=False,
            help_text="Partner sharing: how many times the partner may use it; left out, "
            "until one decision for a lending partner and no limit otherwise.",
        )
        max_queries = serializers.IntegerField(
            required=False, allow_null=True, help_text="With use_limit queries: how many."
        )

    @extend_schema(
        responses={200: ConsentOutputSerializer(many=True), **error_responses(401)},
        summary="Every consent I have given, current or not",
    )
    def get(self, request):
        grants = selectors.consent_grants_for_user(user=request.user)
        return Response(ConsentOutputSerializer(grants, many=True).data)

    @extend_schema(
        request=ConsentListInputSerializer,
        responses={201: ConsentOutputSerializer, **error_responses(400, 401)},
        summary="Give a consent",
        description="Sharing with a partner also returns `authorization_token`, once: the "
        "token the partner uses on the partner API.",
    )
    def post(self, request):
        data = self.ConsentListInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        partner_id = values.pop("partner", None)
        partner = None
        if partner_id is not None:
            partner = Partner.objects.filter(pk=partner_id).first()
            if partner is None:
                raise ServiceError("partner", _("No such partner."))
        client = client_from_request(request, channel=ConsentGrant.Channel.API)
        if values["purpose"] == ConsentPurpose.PARTNER_SHARING and partner is not None:
            benefit_id = values.pop("benefit", None)
            benefit = Benefit.objects.filter(pk=benefit_id).first() if benefit_id else None
            if benefit_id and benefit is None:
                raise ServiceError("benefit", _("No such benefit."))
            values.pop("purpose")
            grant, token = partner_authorize(
                user=request.user,
                partner=partner,
                client=client,
                benefit=benefit,
                scope=values.get("scope", ""),
                stated_purpose=values.get("stated_purpose", ""),
                expires_at=values.get("expires_at"),
                identity_check=values.get("identity_check", False),
                use_limit=values.get("use_limit"),
                max_queries=values.get("max_queries"),
            )
            body = {**ConsentOutputSerializer(grant).data, "authorization_token": token}
            return Response(body, status=status.HTTP_201_CREATED)
        values.pop("benefit", None)
        if values.get("identity_check") is False:
            values.pop("identity_check")  # the default, said by a client that sends it
        grant = services.consent_grant(user=request.user, partner=partner, client=client, **values)
        return Response(ConsentOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


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

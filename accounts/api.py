"""User API for accounts: one view per endpoint, input and output serializers, the
work done by services and selectors."""

from __future__ import annotations

import datetime

from django.contrib.auth import authenticate
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.clients import client_from_request
from accounts.models import ConsentGrant, ConsentPurpose, ConsentScope
from benefits.models import Partner
from sesame_portal.errors import ServiceError


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer) for code in statuses}


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class RegisterOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()

    @extend_schema(
        request=CredentialsSerializer,
        responses={201: RegisterOutputSerializer, **_errors(400)},
        summary="Create an account",
    )
    def post(self, request):
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(self.RegisterOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    """Exchange a username and password for an API token (login lockout applies)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class TokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        request=CredentialsSerializer,
        responses={200: TokenOutputSerializer, **_errors(400, 429)},
        summary="Obtain an API token",
    )
    def post(self, request):
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes marks the plain HttpRequest; its middleware turns a lockout into a
        # 429 `locked_out` answer after this view returns.
        user = authenticate(request._request, **data.validated_data)
        if user is None:
            raise ServiceError("invalid_credentials", _("Wrong username or password."))
        instance, token = AuthToken.objects.create(user)
        return Response(
            self.TokenOutputSerializer({"token": token, "expires_at": instance.expiry}).data
        )


class IdentityApi(APIView):
    class IdentityInputSerializer(serializers.Serializer):
        full_name = serializers.CharField(max_length=100, trim_whitespace=True)
        id_number = serializers.CharField(max_length=40, trim_whitespace=True)

    class IdentityOutputSerializer(serializers.Serializer):
        masked_id_number = serializers.CharField(source="id_number_masked")
        birth_date = serializers.DateField()
        gender = serializers.CharField()
        region = serializers.CharField(source="region_name")
        region_code = serializers.CharField()
        verified_at = serializers.DateTimeField()

    @extend_schema(
        responses={200: IdentityOutputSerializer, **_errors(401, 404)},
        summary="My verified identity",
    )
    def get(self, request):
        identity = selectors.identity_for_user(user=request.user)
        if identity is None:
            raise ServiceError(
                "not_verified", _("Your identity is not verified yet."), status_code=404
            )
        return Response(self.IdentityOutputSerializer(identity).data)

    @extend_schema(
        request=IdentityInputSerializer,
        responses={201: IdentityOutputSerializer, **_errors(400, 401, 409, 429)},
        summary="Verify my real name and resident ID number",
        description="400 codes: format, checksum, birth_date, region, underage, duplicate, "
        "name, legacy_15_digit. 409 already_verified. 429 rate_limited with Retry-After.",
    )
    def post(self, request):
        data = self.IdentityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identity = services.identity_verify(user=request.user, **data.validated_data)
        return Response(
            self.IdentityOutputSerializer(identity).data, status=status.HTTP_201_CREATED
        )


class ConsentOutputSerializer(serializers.ModelSerializer):
    partner = serializers.SerializerMethodField()
    text_version = serializers.IntegerField(source="text.version")
    title = serializers.SerializerMethodField()
    revoked_at = serializers.SerializerMethodField()
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = ConsentGrant
        fields = [
            "id",
            "purpose",
            "title",
            "partner",
            "scope",
            "stated_purpose",
            "text_version",
            "granted_at",
            "expires_at",
            "revoked_at",
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

    def get_is_current(self, grant) -> bool:
        return grant.is_current()


class ConsentListApi(APIView):
    class ConsentListInputSerializer(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
        partner = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        scope = serializers.ChoiceField(
            choices=ConsentScope.choices, required=False, allow_blank=True
        )
        stated_purpose = serializers.CharField(max_length=200, required=False, allow_blank=True)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        responses={200: ConsentOutputSerializer(many=True), **_errors(401)},
        summary="Every consent I have given, current or not",
    )
    def get(self, request):
        grants = selectors.consent_grants_for_user(user=request.user)
        return Response(ConsentOutputSerializer(grants, many=True).data)

    @extend_schema(
        request=ConsentListInputSerializer,
        responses={201: ConsentOutputSerializer, **_errors(400, 401)},
        summary="Give a consent",
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
        grant = services.consent_grant(
            user=request.user,
            partner=partner,
            client=client_from_request(request, channel=ConsentGrant.Channel.API),
            **values,
        )
        return Response(ConsentOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class ConsentDetailApi(APIView):
    @extend_schema(responses={204: None, **_errors(401, 404, 409)}, summary="Revoke a consent")
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

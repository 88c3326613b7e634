"""Registration and API tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.common import error_responses
from accounts.clients import client_ip
from sesame_portal.errors import ServiceError


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
        responses={201: RegisterOutputSerializer, **error_responses(400, 429)},
        summary="Create an account",
        description="400 codes: username, username_taken, password, invalid. 429 "
        "rate_limited with Retry-After: too many sign-ups from this address this hour.",
    )
    def post(self, request):
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data, client_ip=client_ip(request))
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
        responses={200: TokenOutputSerializer, **error_responses(400, 429)},
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

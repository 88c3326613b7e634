"""Registration, API tokens, logging out, and changing the password."""

from __future__ import annotations

from django.contrib.auth import authenticate, logout
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from knox.views import LogoutAllView, LogoutView
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.common import error_responses
from accounts.authentication import TokenAuthentication
from accounts.clients import client_from_request, client_ip
from accounts.models import ConsentGrant
from accounts.web_sessions import session_keep
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
        instance, token = services.api_token_issue(
            user=user, client=client_from_request(request, channel=ConsentGrant.Channel.API)
        )
        return Response(
            self.TokenOutputSerializer({"token": token, "expires_at": instance.expiry}).data
        )


class LogoutApi(LogoutView):
    """knox's logout, recording nothing else: the token used for this call ends."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(
        request=None,
        responses={204: None, **error_responses(401)},
        summary="Log out this token",
        description="Ends the token used for this call (`Authorization: Token <token>`).",
    )
    def post(self, request, format=None):
        request.auth.delete()  # its sign-in row goes with it
        return self.get_post_response(request)


class LogoutAllApi(LogoutAllView):
    """knox's "log out everywhere", widened to web sessions: every token and every web
    session of the user ends, the one making this call included."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]

    @extend_schema(
        request=None,
        responses={204: None, **error_responses(401, 403)},
        summary="Log out everywhere",
        description="Ends every API token and every web session of the user, including "
        "the one making this call.",
    )
    def post(self, request, format=None):
        services.sign_out_everywhere(user=request.user)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            logout(request._request)
        return self.get_post_response(request)


class PasswordApi(APIView):
    class PasswordInputSerializer(serializers.Serializer):
        old_password = serializers.CharField(max_length=128, style={"input_type": "password"})
        new_password = serializers.CharField(max_length=128, style={"input_type": "password"})

    @extend_schema(
        request=PasswordInputSerializer,
        responses={204: None, **error_responses(400, 401, 403)},
        summary="Change my password",
        description="Ends every API token (the one used for this call included: obtain a "
        "new one with the new password) and every web session but the one making this "
        "call. 400 `{code, message}` with code `old_password` (the current password is "
        "not right) or `password` (the new one is too weak); nothing changes then.",
    )
    def post(self, request):
        data = self.PasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        by_session = isinstance(request.successful_authenticator, SessionAuthentication)
        session_key = request._request.session.session_key if by_session else None
        services.password_change(
            user=request.user,
            old_password=data.validated_data["old_password"],
            new_password=data.validated_data["new_password"],
            keep_session_key=session_key,
        )
        if by_session:
            session_keep(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Devices and sessions: where I am signed in, and ending one of them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.common import error_responses
from accounts.authentication import TokenAuthentication
from accounts.models import SignIn


def current_sign_in_keys(request) -> dict[str, str | None]:
    """Which token or session this request came with, to mark it in the list."""
    authenticator = request.successful_authenticator
    return {
        "current_token_digest": (
            request.auth.digest if isinstance(authenticator, TokenAuthentication) else None
        ),
        "current_session_key": (
            request._request.session.session_key
            if isinstance(authenticator, SessionAuthentication)
            else None
        ),
    }


class SignInOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SignIn.Kind.choices)
    device = serializers.CharField(help_text="e.g. `Chrome / Android`; empty when unknown")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        help_text="Updated at most every few minutes, not on every request"
    )
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Tokens only")
    current = serializers.BooleanField(help_text="The token or session making this call")


class SignInListApi(APIView):
    @extend_schema(
        responses={200: SignInOutputSerializer(many=True), **error_responses(401, 403)},
        summary="My devices and sessions",
        description="Every live API token and web session of mine, most recently used "
        "first. Never shows a token or a session key.",
    )
    def get(self, request):
        items = selectors.sign_ins_for_user(user=request.user, **current_sign_in_keys(request))
        return Response(SignInOutputSerializer(items, many=True).data)


class SignInDetailApi(APIView):
    @extend_schema(
        responses={204: None, **error_responses(401, 403, 404)},
        summary="End one of my devices or sessions",
        description="The token stops working at once; the web session is logged out at "
        "its next request. 404 `not_found` for an unknown id or another user's.",
    )
    def delete(self, request, sign_in_id: int):
        services.sign_in_revoke(user=request.user, sign_in_id=sign_in_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

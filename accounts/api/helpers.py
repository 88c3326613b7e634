"""Trusted helpers: my helpers and invitations, inviting one, revoking one, and what my
helpers did while acting for me. A helper acting for a person never reaches the API
(accounts.helper_access lists no API view)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.common import error_responses
from accounts.helper_access import action_label
from accounts.models import HelperGrant


class HelperOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    level = serializers.ChoiceField(choices=HelperGrant.Level.choices)
    status = serializers.ChoiceField(choices=["invited", "active", "expired", "revoked"])
    helper_username = serializers.CharField(
        allow_null=True, help_text="The helper's own account, once they accepted"
    )
    invited_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


def _helper_data(grant: HelperGrant) -> dict:
    return {
        "id": grant.pk,
        "name": grant.name,
        "email": grant.email,
        "level": grant.level,
        "status": grant.status(),
        "helper_username": grant.helper.username if grant.helper else None,
        "invited_at": grant.invited_at,
        "accepted_at": grant.accepted_at,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
    }


class HelperInviteInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    level = serializers.ChoiceField(choices=HelperGrant.Level.choices)
    expires_at = serializers.DateTimeField(help_text="At most one year from now")


class HelperInvitedSerializer(HelperOutputSerializer):
    invitation_code = serializers.CharField(help_text="Shown once; only its hash is kept")
    invitation_link = serializers.CharField(help_text="The page where the helper accepts")


class HelperListApi(APIView):
    @extend_schema(
        responses={200: HelperOutputSerializer(many=True), **error_responses(401, 403)},
        summary="My trusted helpers",
        description="Everyone I invited to help, newest first, with their level, expiry "
        "and status. Never shows an invitation code.",
    )
    def get(self, request):
        grants = selectors.helpers_for_owner(user=request.user)
        return Response(HelperOutputSerializer([_helper_data(g) for g in grants], many=True).data)

    @extend_schema(
        request=HelperInviteInputSerializer,
        responses={201: HelperInvitedSerializer, **error_responses(400, 401, 403, 409)},
        summary="Invite a trusted helper",
        description="`read_only` sees the score home, history, consents and partner "
        "queries; `revoke_only` may also withdraw consents and partner authorisations. "
        "The invitation code is in this answer only; the helper accepts it with their own "
        "account within 7 days.",
    )
    def post(self, request):
        data = HelperInviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant, code = services.helper_invite(owner=request.user, **data.validated_data)
        link = request.build_absolute_uri(reverse("accounts:helper_accept", args=[code]))
        body = {**_helper_data(grant), "invitation_code": code, "invitation_link": link}
        return Response(HelperInvitedSerializer(body).data, status=status.HTTP_201_CREATED)


class HelperDetailApi(APIView):
    @extend_schema(
        responses={204: None, **error_responses(401, 403, 404, 409)},
        summary="Revoke a trusted helper",
        description="Their access ends at their next request. 404 `not_found` for an "
        "unknown id or another person's helper; 409 `already_revoked`.",
    )
    def delete(self, request, helper_id: int):
        services.helper_revoke(owner=request.user, grant_id=helper_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HelperAuditOutputSerializer(serializers.Serializer):
    helper_id = serializers.IntegerField(source="grant_id")
    helper_name = serializers.CharField()
    at = serializers.DateTimeField()
    action = serializers.CharField(help_text="The page or action, by name")
    label = serializers.CharField(help_text="The action in words, in the request's language")
    method = serializers.CharField()
    allowed = serializers.BooleanField()
    status_code = serializers.IntegerField()


class HelperAuditApi(APIView):
    @extend_schema(
        responses={200: HelperAuditOutputSerializer(many=True), **error_responses(401, 403)},
        summary="What my helpers did",
        description="Every request my helpers made while acting for me, newest first "
        "(the latest 200).",
    )
    def get(self, request):
        entries = selectors.helper_audit_for_owner(user=request.user)
        for entry in entries:
            entry.label = action_label(action=entry.action, allowed=entry.allowed)
        return Response(HelperAuditOutputSerializer(entries, many=True).data)

"""My data: delete my account (the export, which gathers every app's part, is
sesame_portal/pages/me.py)."""

from __future__ import annotations

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.common import error_responses


class AccountApi(APIView):
    class AccountDeleteInputSerializer(serializers.Serializer):
        password = serializers.CharField(max_length=128)

    @extend_schema(
        request=AccountDeleteInputSerializer,
        responses={204: None, **error_responses(400, 401)},
        summary="Delete my account",
        description="Needs the password again. Consent records are kept, detached from the "
        "person under a random pseudonym; everything else about the person is deleted.",
    )
    def delete(self, request):
        data = self.AccountDeleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.account_delete(user=request.user, password=data.validated_data["password"])
        if request.user.is_authenticated and hasattr(request, "session"):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)

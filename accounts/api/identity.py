"""Real-name verification."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.common import error_responses
from accounts.clients import client_ip
from accounts.views.appeals import appeal_url
from sesame_portal.errors import ServiceError


class RuleCheckedText(serializers.CharField):
    """Text the identity rules judge themselves: missing, blank, over-long or not text at
    all reaches them as what it is (or as blank), so the answer carries the contract's
    code (`format`, `name`) rather than a generic `invalid`."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, default="", **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data) -> str:
        if isinstance(data, bool) or not isinstance(data, str | int):
            return ""
        return str(data)


class IdentityApi(APIView):
    class IdentityInputSerializer(serializers.Serializer):
        full_name = RuleCheckedText()
        id_number = RuleCheckedText()

    class IdentityOutputSerializer(serializers.Serializer):
        """What the person is shown: the age, never the birth date beside the mask."""

        masked_id_number = serializers.CharField()
        age = serializers.IntegerField()
        gender = serializers.CharField()
        region = serializers.CharField()
        verified_at = serializers.DateTimeField()

    @extend_schema(
        responses={200: IdentityOutputSerializer, **error_responses(401, 404)},
        summary="My verified identity",
    )
    def get(self, request):
        identity = selectors.identity_for_user(user=request.user)
        if identity is None:
            raise ServiceError(
                "not_verified", _("Your identity is not verified yet."), status_code=404
            )
        return Response(self.IdentityOutputSerializer(selectors.identity_summary(identity)).data)

    @extend_schema(
        request=IdentityInputSerializer,
        responses={201: IdentityOutputSerializer, **error_responses(400, 401, 409, 429)},
        summary="Verify my real name and resident ID number",
        description="400 codes: format, checksum, birth_date, region, underage, duplicate, "
        "name, legacy_15_digit. A `duplicate` answer also carries `appeal_url`: the page "
        "where this user (and only this user, for an hour) can appeal for that number with "
        "a photo of the ID card. 409 already_verified. 429 rate_limited with Retry-After "
        "(too many attempts by this account, or failed attempts from this address).",
    )
    def post(self, request):
        data = self.IdentityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            identity = services.identity_verify(
                user=request.user, client_ip=client_ip(request), **data.validated_data
            )
        except ServiceError as error:
            url = appeal_url(request, getattr(error, "appeal_token", None))
            if url:
                # The rightful owner's way back: offered to this user, for this number.
                error.message = "{} {}".format(
                    error.message,
                    _("If it is yours, you can appeal at %(url)s (valid for an hour).")
                    % {"url": url},
                )
                error.extra = {"appeal_url": url}
            raise
        return Response(
            self.IdentityOutputSerializer(selectors.identity_summary(identity)).data,
            status=status.HTTP_201_CREATED,
        )

"""The profile: read it with its completion, change any fields, verify a work email."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.common import error_responses
from accounts.models import EducationLevel, IncomeBand, Occupation, Profile, VehicleValue
from accounts.profile_sections import SECTIONS, completion_percent, section_for_field

PROFILE_FIELDS = [field for section in SECTIONS for field in section.fields]


class ProfileOutputSerializer(serializers.ModelSerializer):
    completion = serializers.SerializerMethodField()
    sections = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = [
            *PROFILE_FIELDS,
            "work_email_verified_at",
            "field_marks",
            "completion",
            "sections",
        ]

    def get_completion(self, profile) -> int:
        return completion_percent(profile)

    def get_sections(self, profile) -> list[dict]:
        return [
            {"key": s["key"], "complete": s["complete"], "used_by_score": s["used_by_score"]}
            for s in selectors.profile_sections_status(profile)
        ]


class StrictBooleanField(serializers.BooleanField):
    """JSON true, false or null only: "yes", "1" or 1 are refused, not guessed at."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ProfilePatchSerializer(serializers.Serializer):
    """Types only; the profile service checks the rules (ranges, webmail, plain text),
    the same the pages show."""

    education_level = serializers.ChoiceField(
        EducationLevel.choices, required=False, allow_blank=True, allow_null=True
    )
    school = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )
    graduation_year = serializers.IntegerField(required=False, allow_null=True)
    occupation = serializers.ChoiceField(
        Occupation.choices, required=False, allow_blank=True, allow_null=True
    )
    employer = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )
    work_email = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    vehicle_owned = StrictBooleanField(required=False, allow_null=True)
    vehicle_value = serializers.ChoiceField(
        VehicleValue.choices, required=False, allow_blank=True, allow_null=True
    )
    property_owned = StrictBooleanField(required=False, allow_null=True)
    property_mortgaged = StrictBooleanField(required=False, allow_null=True)
    provident_fund_months = serializers.IntegerField(required=False, allow_null=True)
    income_band = serializers.ChoiceField(
        IncomeBand.choices, required=False, allow_blank=True, allow_null=True
    )
    address = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )
    address_years = serializers.IntegerField(required=False, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class ProfileApi(APIView):
    @extend_schema(
        responses={200: ProfileOutputSerializer, **error_responses(401)},
        summary="My profile, its completion and each field's mark",
    )
    def get(self, request):
        return Response(ProfileOutputSerializer(selectors.profile_get(user=request.user)).data)

    @extend_schema(
        request=ProfilePatchSerializer,
        responses={200: ProfileOutputSerializer, **error_responses(400, 401)},
        summary="Change profile fields",
        description="Any subset of fields; each section touched is validated whole, with "
        "the same rules as the pages. Nothing is saved unless every section is valid. A "
        "new work email is sent a six-digit code.",
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        unknown = sorted(set(request.data) - set(PROFILE_FIELDS))
        if unknown:
            raise exceptions.ValidationError(
                {name: [_("Unknown profile field.")] for name in unknown}
            )
        typed = ProfilePatchSerializer(data=request.data)
        typed.is_valid(raise_exception=True)
        sections: dict[str, dict] = {}
        for field, value in typed.validated_data.items():
            sections.setdefault(section_for_field(field).key, {})[field] = value
        services.profile_update(user=request.user, sections=sections)
        return Response(ProfileOutputSerializer(selectors.profile_get(user=request.user)).data)


class WorkEmailCodeApi(APIView):
    class WorkEmailCodeInputSerializer(serializers.Serializer):
        code = serializers.RegexField(r"^\s*[0-9]{6}\s*$", max_length=20)

    @extend_schema(
        request=WorkEmailCodeInputSerializer,
        responses={200: ProfileOutputSerializer, **error_responses(400, 401, 429)},
        summary="Verify my work email with the mailed code",
        description="400 codes: no_code, code_expired, code_invalid; 429 too_many_attempts "
        "after five wrong codes (ask for a new one).",
    )
    def post(self, request):
        data = self.WorkEmailCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.work_email_verify(user=request.user, code=data.validated_data["code"])
        return Response(ProfileOutputSerializer(profile).data)


class WorkEmailResendApi(APIView):
    @extend_schema(
        request=None,
        responses={202: None, **error_responses(400, 401, 409, 429)},
        summary="Mail a new code to my work email",
    )
    def post(self, request):
        services.work_email_challenge_start(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)

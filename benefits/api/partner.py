"""The partner API (`Authorization: Api-Key <key>`): score, eligibility, vouchers, the
identity check and decisions. Only approved partners get through, within their rate
limit."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import ErrorSerializer
from benefits.models import (
    DecisionReason,
    Partner,
    PartnerApiKey,
    PartnerDecision,
    PartnerQuery,
)
from benefits.services import partner_calls
from sesame_portal.api import exception_handler
from sesame_portal.errors import ServiceError

KEYWORD = "Api-Key"


class PartnerPrincipal:
    """request.user for a partner call: the partner, never a portal user."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    pk = None

    def __init__(self, partner: Partner) -> None:
        self.partner = partner


def api_key_sent(request) -> str | None:
    """The key of an `Authorization: Api-Key <key>` header; None without one."""
    header = get_authorization_header(request).decode("latin-1", "replace")
    keyword, _space, value = header.partition(" ")
    if keyword.lower() != KEYWORD.lower():  # schemes are case-insensitive (RFC 9110)
        return None
    return value.strip()


class PartnerKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        value = api_key_sent(request)
        if value is None:
            return None
        key = partner_calls.api_key_find(value)
        if key is None:
            raise exceptions.AuthenticationFailed(
                _("This API key is not valid."), code="api_key_invalid"
            )
        partner_calls.api_key_used(key, timezone.now())
        return PartnerPrincipal(key.partner), key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = PartnerKeyAuthentication
    name = "partnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a key created for the partner in the admin.",
        }


class IsApprovedPartner(BasePermission):
    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, PartnerApiKey):
            raise exceptions.NotAuthenticated(
                _("Send your key as Authorization: Api-Key <key>."), code="api_key_missing"
            )
        if key.partner.status != Partner.Status.APPROVED:
            raise exceptions.PermissionDenied(
                _("This partner is not approved."), code="partner_not_approved"
            )
        return True


ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="api_key_missing or api_key_invalid"),
    429: OpenApiResponse(
        ErrorSerializer,
        description="rate_limited or quota_exhausted, with a Retry-After header (seconds)",
    ),
    503: OpenApiResponse(ErrorSerializer, description="rate_limit_unavailable"),
}
TOKEN_ERRORS = {
    403: OpenApiResponse(
        ErrorSerializer,
        description="partner_not_approved; authorization_revoked; authorization_replaced "
        "(the person authorised you again: use the newer token); authorization_expired; "
        "authorization_used (an authorisation limited in use — one query, N queries, "
        "until one decision — is past its limit); out_of_scope (the authorisation does not "
        "cover this call)",
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        description="authorization_not_found: an unknown token and another partner's token "
        "are refused alike",
    ),
}


class PartnerApiView(APIView):
    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [IsApprovedPartner]
    call_kind: str  # PartnerQuery.Kind of the view's call, for refusals logged here

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Counted after authentication: the limits are per partner.
        partner_calls.partner_rate_check(partner=request.auth.partner, now=timezone.now())

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        key = getattr(self.request, "_auth", None)
        if isinstance(key, PartnerApiKey) and not getattr(exc, "logged", False):
            partner_calls.refusal_log(
                partner=key.partner,
                api_key=key,
                kind=self.call_kind,
                code=str(response.data.get("code", "error")),
                status_code=response.status_code,
            )
        return response

    @property
    def partner(self) -> Partner:
        return self.request.auth.partner


class PartnerScoreSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    band = serializers.CharField()
    computed_at = serializers.DateTimeField()
    dimensions = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Only when the authorisation's scope is score_and_subscores.",
    )
    personal_statement = serializers.CharField(
        required=False,
        help_text="The person's own statement about their record (本人声明, at most 300 "
        "characters, not checked by the portal): only when they wrote one.",
    )


class PartnerScoreApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.SCORE

    @extend_schema(
        tags=["partner"],
        responses={
            200: PartnerScoreSerializer,
            **ERRORS,
            **TOKEN_ERRORS,
            404: OpenApiResponse(
                ErrorSerializer,
                description="authorization_not_found; score_unavailable (no current score)",
            ),
        },
        summary="The score of a person who authorised you (scope score or score_and_subscores)",
        examples=[
            OpenApiExample(
                "score only",
                value={"score": 671, "band": "very_good", "computed_at": "2026-11-21T02:00:00Z"},
                response_only=True,
            )
        ],
    )
    def get(self, request, token: str):
        answer = partner_calls.partner_score(
            partner=self.partner, api_key=request.auth, token=token
        )
        # The answer as built: it holds only what the scope allows (no null placeholders).
        return Response(answer)


def _partner_score_fast(request, token: str) -> HttpResponse:
    """PartnerScoreApi's answers without DRF's machinery, for the score query alone (the
    partners' busiest call): the key and partner cached in the process and checked with
    the rate limits in one Redis round trip (partner_calls.partner_admit), the call in
    one read and one write (partner_calls.partner_score_fast). Anything else (another
    method, no key or a key not admitted this way) gets the DRF view, which answers it
    as before; the answers are the same bytes either way."""
    value = api_key_sent(request) if request.method == "GET" else None
    if value is None:
        return _partner_score_full(request, token=token)
    try:
        key = partner_calls.partner_admit(
            value=value, kind=PartnerQuery.Kind.SCORE, now=timezone.now()
        )
        if key is None:
            return _partner_score_full(request, token=token)
        answer = partner_calls.partner_score_fast(partner=key.partner, api_key=key, token=token)
        return _json_response(answer, 200)
    except ServiceError as exc:  # each one logged by the service that raised it
        error = exception_handler(exc, {})
        response = _json_response(error.data, error.status_code)
        if error.has_header("Retry-After"):  # the rate limits' refusals
            response["Retry-After"] = error["Retry-After"]
        return response


_json = JSONRenderer()


def _json_response(data: dict, status: int) -> HttpResponse:
    response = HttpResponse(_json.render(data), status=status, content_type=_json.media_type)
    # The headers DRF adds to every answer of the view (Allow; Vary with several renderers).
    view = PartnerScoreApi()
    view.setup(None)  # as as_view() does: HEAD answered as GET
    for name, value in view.default_response_headers.items():
        response[name] = value
    return response


_partner_score_full = PartnerScoreApi.as_view()
# The URL's view: DRF's class is kept on it, so the OpenAPI document describes it as before.
partner_score = csrf_exempt(_partner_score_fast)
partner_score.cls = PartnerScoreApi
partner_score.initkwargs = {}


class PartnerEligibilitySerializer(serializers.Serializer):
    benefit = serializers.IntegerField()
    eligible = serializers.BooleanField()
    points_away = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Only when the authorisation's scope includes the score.",
    )


class PartnerEligibilityApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.ELIGIBILITY

    @extend_schema(
        tags=["partner"],
        responses={
            200: PartnerEligibilitySerializer,
            **ERRORS,
            **TOKEN_ERRORS,
            404: OpenApiResponse(
                ErrorSerializer,
                description="authorization_not_found; benefit_not_found (not one of your "
                "benefits on offer)",
            ),
        },
        summary="Whether a person who authorised you qualifies for one of your benefits",
        examples=[
            OpenApiExample(
                "eligibility scope",
                value={"benefit": 5, "eligible": True},
                response_only=True,
            )
        ],
    )
    def get(self, request, token: str, benefit_id: int):
        answer = partner_calls.partner_eligibility(
            partner=self.partner, api_key=request.auth, token=token, benefit_id=benefit_id
        )
        return Response(answer)


class PartnerVoucherSerializer(serializers.Serializer):
    code = serializers.CharField()
    benefit = serializers.IntegerField()
    valid = serializers.BooleanField()
    expires_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField(allow_null=True)


VOUCHER_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="invalid_code"),
    403: OpenApiResponse(ErrorSerializer, description="partner_not_approved"),
    404: OpenApiResponse(ErrorSerializer, description="voucher_not_found"),
}


class PartnerVoucherApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.VOUCHER_VERIFY

    @extend_schema(
        tags=["partner"],
        responses={200: PartnerVoucherSerializer, **ERRORS, **VOUCHER_ERRORS},
        summary="Check a voucher of one of your benefits",
    )
    def get(self, request, code: str):
        answer = partner_calls.partner_voucher_verify(
            partner=self.partner, api_key=request.auth, code=code
        )
        return Response(PartnerVoucherSerializer(answer).data)


class PartnerVoucherRedeemApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.VOUCHER_REDEEM

    @extend_schema(
        tags=["partner"],
        request=None,
        responses={
            200: PartnerVoucherSerializer,
            **ERRORS,
            **VOUCHER_ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="already_redeemed"),
            410: OpenApiResponse(ErrorSerializer, description="voucher_expired"),
        },
        summary="Redeem a voucher of one of your benefits (once)",
    )
    def post(self, request, code: str):
        answer = partner_calls.partner_voucher_redeem(
            partner=self.partner, api_key=request.auth, code=code
        )
        return Response(PartnerVoucherSerializer(answer).data)


class IdentityCheckInputSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=200, help_text="The authorisation token the person gave you."
    )
    full_name = serializers.CharField(max_length=60)
    id_number = serializers.CharField(max_length=40)


class IdentityCheckOutputSerializer(serializers.Serializer):
    match = serializers.BooleanField()


class PartnerIdentityCheckApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.IDENTITY_CHECK

    @extend_schema(
        tags=["partner"],
        request=IdentityCheckInputSerializer,
        responses={
            200: IdentityCheckOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid"),
            **ERRORS,
            **TOKEN_ERRORS,
            403: OpenApiResponse(
                ErrorSerializer,
                description="out_of_scope (the person did not allow identity checks); "
                f"identity_check_stopped (after {partner_calls.IDENTITY_MISMATCHES_MAX} "
                "mismatches on this authorisation, for good); and the refusals of any "
                "authorisation: partner_not_approved, authorization_revoked, "
                "authorization_replaced, authorization_expired, authorization_used",
            ),
            429: OpenApiResponse(
                ErrorSerializer,
                description="identity_check_limit (more than "
                f"{partner_calls.IDENTITY_CHECKS_PER_DAY} checks today on this "
                "authorisation), rate_limited or quota_exhausted, with a Retry-After header",
            ),
        },
        summary="Do this name and ID number belong to the person of this authorisation?",
        description="Only with an authorisation whose person ticked identity checks, at most "
        f"{partner_calls.IDENTITY_CHECKS_PER_DAY} a day per authorisation, and none after "
        f"{partner_calls.IDENTITY_MISMATCHES_MAX} mismatches on it (which are flagged). Yes "
        "or no, nothing else: a wrong name, another person's number and a malformed number "
        "all give match: false. Every check, match or not, is shown to the person.",
        examples=[
            OpenApiExample(
                "request",
                value={
                    "token": "au_0123456789ab_…",
                    "full_name": "王晓明",
                    "id_number": "110105199003071234",
                },
                request_only=True,
            ),
            OpenApiExample("answer", value={"match": True}, response_only=True),
        ],
    )
    def post(self, request):
        data = IdentityCheckInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = partner_calls.partner_identity_check(
            partner=self.partner, api_key=request.auth, **data.validated_data
        )
        return Response(IdentityCheckOutputSerializer(answer).data)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=PartnerDecision.choices)
    reason_code = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,64}$",
        max_length=64,
        help_text="Your own code for the reason (letters, digits, _ . -), shown to the person; "
        "these read to them in words: "
        + "; ".join(f"`{value}`: {label}" for value, label in DecisionReason.choices),
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=100_000_000,
        help_text="With decision limit only: the limit granted, in yuan.",
    )

    def validate(self, attrs):
        if attrs["decision"] == PartnerDecision.LIMIT and "limit" not in attrs:
            raise serializers.ValidationError({"limit": _("A limit decision names the limit.")})
        if attrs["decision"] != PartnerDecision.LIMIT and "limit" in attrs:
            raise serializers.ValidationError({"limit": _("Only a limit decision has a limit.")})
        return attrs


class PartnerDecisionApi(PartnerApiView):
    call_kind = PartnerQuery.Kind.DECISION

    @extend_schema(
        tags=["partner"],
        request=DecisionSerializer,
        responses={
            201: DecisionSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid"),
            **ERRORS,
            **TOKEN_ERRORS,
        },
        summary="Report the decision you took with this authorisation",
        description="The decision is about your latest answered score or eligibility query "
        "on this authorisation and is shown to the person beside that query (they are "
        "notified); a decision reported again for the same query replaces it. It ends an "
        "authorisation "
        "limited until one decision (later calls: 403 authorization_used); on one limited "
        "to a number of queries it is still taken once the queries are used up.",
        examples=[
            OpenApiExample(
                "a credit limit",
                value={"decision": "limit", "reason_code": "limit_by_band", "limit": 5000},
            ),
            OpenApiExample(
                "deposit waived",
                value={"decision": "deposit_waived", "reason_code": "score_above_policy"},
            ),
        ],
    )
    def post(self, request, token: str):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = partner_calls.partner_decision(
            partner=self.partner, api_key=request.auth, token=token, **data.validated_data
        )
        return Response(answer, status=201)

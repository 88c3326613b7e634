"""The person's consents with their partner authorisations (`GET/POST /api/v1/me/consents/`),
composed here as the partner of a sharing grant and its terms are benefits' (accounts
keeps revoking one and the consent texts)."""

from __future__ import annotations

import datetime

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import error_responses
from accounts.clients import client_from_request
from accounts.models import ConsentGrant, ConsentPurpose
from accounts.services import consent_grant
from benefits import selectors
from benefits.models import (
    Benefit,
    ConsentScope,
    ConsentUseLimit,
    Partner,
    PartnerAuthorization,
    UseLimitChoice,
)
from benefits.selectors import NO_PARTNER_TERMS
from benefits.services import data_use, partner_access
from sesame_portal.errors import ServiceError

# --- Consents: the ledger with the partners' terms -------------------------------------------

# The partner terms a grant that shares with no partner shows blank.
TERMS_READ_BLANK = ("scope", "stated_purpose", "identity_check", "use_limit", "max_queries")


def _term(name: str) -> dict:
    """How an authorisation's term reads in the consents API, as it read on the grant:
    its label, optional in the schema."""
    return {
        "source": f"authorization.{name}",
        "label": PartnerAuthorization._meta.get_field(name).verbose_name,
        "required": False,
    }


# A grant of accounts' ledger; a sharing grant with its partner and terms (from its
# authorisation), blank for the rest.
class ConsentOutputSerializer(serializers.ModelSerializer):
    partner = serializers.SerializerMethodField()
    scope = serializers.ChoiceField(
        choices=ConsentScope.choices, allow_blank=True, **_term("scope")
    )
    stated_purpose = serializers.CharField(max_length=200, **_term("stated_purpose"))
    identity_check = serializers.BooleanField(**_term("identity_check"))
    use_limit = serializers.ChoiceField(choices=ConsentUseLimit.choices, **_term("use_limit"))
    max_queries = serializers.IntegerField(
        min_value=0, max_value=32767, allow_null=True, **_term("max_queries")
    )
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
    authorization_id = serializers.SerializerMethodField(
        help_text="Partner sharing: the authorisation's id (to renew it); null otherwise."
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
            "authorization_id",
            "text_version",
            "granted_at",
            "expires_at",
            "revoked_at",
            "revocation_reason",
            "is_current",
            "channel",
        ]

    def to_representation(self, grant):
        data = super().to_representation(grant)
        if not hasattr(grant, "authorization"):
            # Shares with no partner: the terms read blank, as they always have.
            data.update({key: NO_PARTNER_TERMS[key] for key in TERMS_READ_BLANK})
        return data

    def get_partner(self, grant) -> dict | None:
        authorization = getattr(grant, "authorization", None)
        if authorization is None:
            return None
        return {"id": authorization.partner.pk, "name": authorization.partner.name}

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

    def get_authorization_id(self, grant) -> int | None:
        authorization = getattr(grant, "authorization", None)
        return authorization.pk if authorization else None


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
        grants = selectors.consent_grants_with_partners(user=request.user)
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
            grant, token = partner_access.partner_authorize(
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

        def terms_check(now: datetime.datetime) -> None:
            # Only sharing takes a partner and terms; a stated purpose is checked as
            # ever, but only a partner's is kept.
            partner_access.partner_terms_validate(
                purpose=values["purpose"],
                partner=partner,
                scope=values.get("scope", ""),
                expires_at=values.get("expires_at"),
                now=now,
                identity_check=values.get("identity_check", False),
                use_limit=values.get("use_limit", ""),
                max_queries=values.get("max_queries"),
            )
            partner_access.stated_purpose_clean(values.get("stated_purpose", ""))

        grant = consent_grant(
            user=request.user,
            purpose=values["purpose"],
            client=client,
            expires_at=values.get("expires_at"),
            terms_check=terms_check,
        )
        return Response(ConsentOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class AuthorizationRenewApi(APIView):
    @extend_schema(
        request=None,
        responses={201: ConsentOutputSerializer, **error_responses(401, 404, 409)},
        summary="Renew my authorisation of a partner",
        description="A new authorisation of the same partner on the same terms, ending as "
        "long from now as the original lasted; it replaces the current one (whose token "
        "stops). Returns the new consent with `authorization_token`, once. `{id}` is the "
        "`authorization_id` of a consent; another person's is not found (404), one that "
        "has ended is refused (409, `authorization_not_current`).",
    )
    def post(self, request, authorization_id: int):
        grant, token = data_use.authorization_renew(
            user=request.user,
            authorization_id=authorization_id,
            client=client_from_request(request, channel=ConsentGrant.Channel.API),
        )
        grant = selectors.consent_grants_with_partners(user=request.user).get(pk=grant.pk)
        body = {**ConsentOutputSerializer(grant).data, "authorization_token": token}
        return Response(body, status=status.HTTP_201_CREATED)

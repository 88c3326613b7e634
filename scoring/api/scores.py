"""The score API: my score with its reasons, its history, and what-if."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import error_responses
from accounts.models import ConsentPurpose
from accounts.selectors import consent_allows
from scoring import selectors
from scoring.explain.breakdown import snapshot_breakdown
from scoring.explain.changes import changes_explain
from scoring.explain.reasons import reason_text, reasons_top
from scoring.ml.features import DIMENSIONS
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.services import scores as services
from sesame_portal.errors import ServiceError


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    impact = serializers.FloatField()


class DimensionsSerializer(serializers.Serializer):
    credit_history = serializers.IntegerField(required=False)
    behaviour = serializers.IntegerField(required=False)
    capacity = serializers.IntegerField(required=False)
    identity = serializers.IntegerField(required=False)
    connections = serializers.IntegerField(required=False)


class ScoreOutputSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    band = serializers.CharField()
    band_label = serializers.CharField()
    computed_at = serializers.DateTimeField()
    model_version = serializers.CharField()
    trigger = serializers.CharField()
    dimensions = DimensionsSerializer()
    dimensions_without_data = serializers.ListField(
        child=serializers.ChoiceField(choices=list(DIMENSIONS)),
        help_text="Dimensions with no data of the person's behind them (no credit account "
        "or instalment for credit_history, for example): their sub-score is the model's "
        "typical value, not a measure of the person. Apps show them as no data yet.",
    )
    reasons = ReasonSerializer(many=True)


def _require_scoring_consent(user) -> None:
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        raise ServiceError(
            "consent_required",
            _("Your score is shown only while you consent to scoring."),
            status_code=403,
        )


def snapshot_payload(snapshot) -> dict:
    helped, hurt = reasons_top(snapshot_breakdown(snapshot).reasons)
    return {
        "score": snapshot.score,
        "band": snapshot.band,
        "band_label": str(snapshot.get_band_display()),
        "computed_at": snapshot.computed_at,
        "model_version": snapshot.model_version.version,
        "trigger": snapshot.trigger,
        "dimensions": snapshot.dimensions,
        "reasons": [
            {"code": r["code"], "text": reason_text(r["code"]), "impact": r["impact"]}
            for r in [*helped, *hurt]
        ],
    }


class ScoreApi(APIView):
    @extend_schema(
        responses={200: ScoreOutputSerializer, **error_responses(401, 403, 404)},
        summary="My current score, its band, the five sub-scores (0-100) and the reasons",
        description="403 consent_required without a current scoring consent; 404 "
        "not_computed before the first computation. Reasons: what helped most (positive "
        "impact, in points against a typical user) then what hurt most.",
    )
    def get(self, request):
        _require_scoring_consent(request.user)
        snapshot = selectors.score_latest(user=request.user)
        if snapshot is None:
            raise ServiceError(
                "not_computed", _("Your score has not been computed yet."), status_code=404
            )
        facts = selectors.record_facts(user=request.user, today=timezone.localdate())
        payload = snapshot_payload(snapshot) | {
            "dimensions_without_data": sorted(facts.dimensions_without_data)
        }
        return Response(ScoreOutputSerializer(payload).data)


class ChangePartSerializer(serializers.Serializer):
    item = serializers.CharField(
        source="key",
        help_text=f'A feature name, "model" (base points) or "limits" ({SCORE_MIN}-{SCORE_MAX}).',
    )
    dimension = serializers.CharField(allow_null=True)
    points = serializers.IntegerField()
    text = serializers.CharField()


class ChangeEventSerializer(serializers.Serializer):
    date = serializers.DateField()
    text = serializers.CharField()


class ScoreChangeSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="This score minus the one before it.")
    broken_down = serializers.BooleanField(
        help_text="False when the earlier score was stored without its points."
    )
    dimensions = DimensionsSerializer(help_text="Points of the change in each dimension.")
    parts = ChangePartSerializer(many=True, help_text="Non-zero parts; they add up to total.")
    events = ChangeEventSerializer(many=True)


class ScoreHistoryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.IntegerField()
    band = serializers.CharField()
    computed_at = serializers.DateTimeField()
    model_version = serializers.CharField(source="model_version.version")
    trigger = serializers.CharField()
    trigger_text = serializers.CharField(source="trigger_label")
    dimensions = DimensionsSerializer()
    change = serializers.SerializerMethodField()

    @extend_schema_field(ScoreChangeSerializer(allow_null=True))
    def get_change(self, snapshot):
        change = self.context["changes"].get(snapshot.pk)
        return None if change is None else ScoreChangeSerializer(change).data


class ScoreHistoryApi(APIView):
    @extend_schema(
        responses={200: ScoreHistoryItemSerializer(many=True), **error_responses(401, 403)},
        summary="My score history, newest first, each score with why it changed",
    )
    def get(self, request):
        _require_scoring_consent(request.user)
        history = list(selectors.score_history(user=request.user))
        context = {"changes": changes_explain(history)}
        return Response(ScoreHistoryItemSerializer(history, many=True, context=context).data)


class WhatIfInputSerializer(serializers.Serializer):
    changes = serializers.DictField(
        help_text="Any of: " + ", ".join(services.WHAT_IF_LEVERS) + ". For example "
        '{"repay_overdue": true, "provident_fund_months": 36, "work_email_verified": true}.'
    )


class WhatIfOutputSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    delta = serializers.IntegerField()
    current = serializers.IntegerField()


class WhatIfApi(APIView):
    @extend_schema(
        request=WhatIfInputSerializer,
        responses={
            200: WhatIfOutputSerializer,
            400: OpenApiResponse(description="invalid or unknown_change"),
            **error_responses(401, 403, 503),
        },
        summary="The score I would have with these changes (nothing is saved)",
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise ServiceError("invalid", _("Send a JSON object."))
        changes = body.get("changes", body) if "changes" in body else body
        result = services.score_what_if(user=request.user, changes=changes)
        return Response(WhatIfOutputSerializer(result).data)

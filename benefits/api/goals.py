"""My goal and its dated plan: a benefit of the catalogue or a score to reach."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import error_responses
from benefits import selectors
from benefits.services.goals import goal_delete, goal_set
from scoring.services.outlook import PLAN_LEVERS
from sesame_portal.errors import ServiceError


class GoalInputSerializer(serializers.Serializer):
    benefit = serializers.IntegerField(
        required=False, allow_null=True, help_text="A benefit on offer now (its minimum score)."
    )
    score = serializers.IntegerField(
        required=False, allow_null=True, help_text="Or a score from 350 to 950."
    )
    levers = serializers.ListField(
        child=serializers.ChoiceField(choices=list(PLAN_LEVERS)),
        required=False,
        help_text="The actions I commit to; the expected score counts them.",
    )


class LeverSerializer(serializers.Serializer):
    lever = serializers.CharField()
    points = serializers.IntegerField(help_text="What it adds alone, as what-if computes it.")
    committed = serializers.BooleanField()


class VerificationSerializer(serializers.Serializer):
    section = serializers.CharField()
    points = serializers.IntegerField(help_text="What verifying the section would add.")
    url = serializers.CharField()


class LateRecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["repayment", "bill", "microloan"])
    on = serializers.DateField(help_text="Due date (a microloan: the day it was opened).")
    days_overdue = serializers.IntegerField(allow_null=True)
    unpaid = serializers.BooleanField()
    window_months = serializers.IntegerField()
    stops_counting_on = serializers.DateField()


class MonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    score = serializers.IntegerField(
        help_text="Expected score: an estimate from the current model."
    )
    recovered = serializers.IntegerField(help_text="Points back from records that left windows.")
    from_levers = serializers.IntegerField(help_text="Points from the committed actions.")


class PlanSerializer(serializers.Serializer):
    available = serializers.BooleanField(help_text="False without a score, consent or model.")
    score = serializers.IntegerField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    model_version = serializers.CharField()
    levers = LeverSerializer(many=True)
    verifications = VerificationSerializer(many=True)
    late_records = LateRecordSerializer(many=True)
    months = MonthSerializer(many=True)
    estimate_note = serializers.SerializerMethodField()

    def get_estimate_note(self, outlook) -> str:
        return _(
            "An estimate from the current model: it assumes no new late payments and that "
            "everything else stays as it is today. A new model or new records change it."
        )


class GoalOutputSerializer(serializers.Serializer):
    benefit = serializers.IntegerField(source="goal.benefit_id", allow_null=True)
    benefit_title = serializers.SerializerMethodField()
    target_score = serializers.IntegerField(source="score_needed")
    levers = serializers.ListField(source="goal.levers", child=serializers.CharField())
    set_at = serializers.DateTimeField(source="goal.created_at")
    reached = serializers.BooleanField()
    reached_at = serializers.DateTimeField(source="goal.reached_at", allow_null=True)
    points_to_go = serializers.IntegerField(allow_null=True)
    expected_on = serializers.DateField(
        allow_null=True, help_text="The first month the estimate reaches the target."
    )
    benefit_on_offer = serializers.BooleanField()
    benefit_needs_more = serializers.BooleanField(
        help_text="The benefit also asks for sub-scores, an age or a region."
    )
    plan = PlanSerializer(source="outlook")

    def get_benefit_title(self, plan) -> str | None:
        return plan.goal.benefit.title if plan.goal.benefit_id else None


def _plan_or_404(user):
    plan = selectors.goal_plan(user=user)
    if plan is None:
        raise ServiceError("not_found", _("You have not set a goal."), status_code=404)
    return plan


def _goal_set_from(request):
    """Set the goal the request's body names; its plan."""
    if not isinstance(request.data, dict):
        raise ServiceError("invalid", _("Send an object with a benefit or a score."))
    data = GoalInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    goal_set(
        user=request.user,
        benefit_id=data.validated_data.get("benefit"),
        target_score=data.validated_data.get("score"),
        levers=data.validated_data.get("levers", []),
    )
    return _plan_or_404(request.user)


class GoalsApi(APIView):
    """The public contract's collection: a person has at most one goal."""

    @extend_schema(
        responses={200: GoalOutputSerializer(many=True), **error_responses(401)},
        summary="My goals (at most one), each with its dated plan",
    )
    def get(self, request):
        plan = selectors.goal_plan(user=request.user)
        return Response(GoalOutputSerializer([plan] if plan else [], many=True).data)

    @extend_schema(
        request=GoalInputSerializer,
        responses={201: GoalOutputSerializer, **error_responses(400, 401)},
        summary="Set my goal (replaces the one I had): a benefit or a score",
        description="400 codes: target_required (neither or both), unknown_benefit, "
        "invalid_score, unknown_lever, invalid.",
    )
    def post(self, request):
        return Response(GoalOutputSerializer(_goal_set_from(request)).data, status=201)


class GoalApi(APIView):
    @extend_schema(
        responses={200: GoalOutputSerializer, **error_responses(401, 404)},
        summary="My goal and its dated plan",
        description="The plan is computed from the latest score when read. Its expected "
        "score by month is an estimate from the current model.",
    )
    def get(self, request):
        return Response(GoalOutputSerializer(_plan_or_404(request.user)).data)

    @extend_schema(
        request=GoalInputSerializer,
        responses={200: GoalOutputSerializer, **error_responses(400, 401)},
        summary="Set my goal (replaces the one I had): a benefit or a score",
        description="400 codes: target_required (neither or both), unknown_benefit, "
        "invalid_score, unknown_lever, invalid.",
    )
    def put(self, request):
        return Response(GoalOutputSerializer(_goal_set_from(request)).data)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="removed"), **error_responses(401, 404)},
        summary="Remove my goal",
    )
    def delete(self, request):
        if not goal_delete(user=request.user):
            raise ServiceError("not_found", _("You have not set a goal."), status_code=404)
        return Response(status=204)

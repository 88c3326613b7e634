"""My goal: choose a benefit or a score, and read the dated plan towards it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import SectionVerification
from benefits import selectors
from benefits.forms import PLAN_LEVER_LABELS, GoalForm
from benefits.services.goals import goal_delete, goal_set
from sesame_portal.errors import ServiceError

LATE_KIND_LABELS = {
    "repayment": _("Late instalment"),
    "bill": _("Late utility bill"),
    "microloan": _("New online microloan"),
}


@login_required
@require_http_methods(["GET", "POST"])
def goal(request: HttpRequest) -> HttpResponse:
    offered = list(selectors.benefits_offered())
    current = selectors.goal_for_user(user=request.user)
    initial = (
        {
            "benefit": current.benefit_id,
            "target_score": current.target_score,
            "levers": current.levers,
        }
        if current
        else {}
    )
    form = GoalForm(
        request.POST if request.method == "POST" else None, initial=initial, benefits=offered
    )
    if request.method == "POST" and form.is_valid():
        try:
            goal_set(
                user=request.user,
                benefit_id=form.cleaned_data["benefit"],
                target_score=form.cleaned_data["target_score"],
                levers=form.cleaned_data["levers"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your goal is saved. Here is your plan."))
            return redirect("benefits:goal")
    plan = selectors.goal_plan(user=request.user)
    sections = dict(SectionVerification.Section.choices)
    context = {
        "form": form,
        "plan": plan,
        "lever_rows": [(PLAN_LEVER_LABELS[step.lever], step) for step in plan.outlook.levers]
        if plan
        else [],
        "verification_rows": [(sections[step.section], step) for step in plan.outlook.verifications]
        if plan
        else [],
        "late_rows": [(LATE_KIND_LABELS[row.kind], row) for row in plan.outlook.late_records]
        if plan
        else [],
    }
    return render(request, "benefits/goal.html", context)


@login_required
@require_POST
def goal_remove(request: HttpRequest) -> HttpResponse:
    if goal_delete(user=request.user):
        messages.success(request, _("Your goal is removed."))
    return redirect("benefits:goal")

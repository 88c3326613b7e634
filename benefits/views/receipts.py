"""Decision receipts (add one to a dispute), honour reports, and partners' public cards."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from benefits import selectors_receipts as selectors
from benefits.forms_receipts import DecisionDisputeForm, HonourReportForm
from benefits.models import HONOUR_ANSWER_WITHIN, ConsentScope
from benefits.services import receipts as services
from sesame_portal.errors import ServiceError


@login_required
@require_POST
def decision_dispute(request: HttpRequest, receipt_id: int) -> HttpResponse:
    """Add a decision about me to one of my open disputes."""
    if selectors.receipt_for_user(user=request.user, receipt_id=receipt_id) is None:
        raise Http404
    form = DecisionDisputeForm(
        request.POST, disputes=selectors.disputes_open_for_user(user=request.user)
    )
    if not form.is_valid():
        messages.error(request, _("Choose one of your open disputes."))
        return redirect("benefits:queries")
    try:
        services.decision_dispute_add(
            user=request.user, receipt_id=receipt_id, dispute_id=form.cleaned_data["dispute"]
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("benefits:queries")
    messages.success(request, _("The decision was added to your dispute."))
    return redirect("scoring:dispute", dispute_id=form.cleaned_data["dispute"])


@login_required
@require_http_methods(["GET", "POST"])
def honour_reports(request: HttpRequest) -> HttpResponse:
    """My honour reports and a form to file one about a benefit I unlocked."""
    benefits = selectors.benefits_unlocked_by_user(user=request.user)
    form = HonourReportForm(request.POST or None, benefits=benefits)
    if request.method == "POST" and form.is_valid():
        try:
            services.honour_report_file(
                user=request.user,
                benefit_id=form.cleaned_data["benefit"],
                what_happened=form.cleaned_data["what_happened"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Your report was sent. We answer within %(days)d days.")
                % {"days": HONOUR_ANSWER_WITHIN.days},
            )
            return redirect("benefits:honour_reports")
    return render(
        request,
        "benefits/honour_reports.html",
        {
            "form": form,
            "benefits": benefits,
            "reports": selectors.honour_reports_for_user(user=request.user),
            "answer_within_days": HONOUR_ANSWER_WITHIN.days,
        },
    )


@require_GET
def partner_card(request: HttpRequest, partner_id: int) -> HttpResponse:
    """An approved partner's public card: no login, nothing about any person."""
    card = selectors.partner_card(partner_id=partner_id)
    if card is None:
        raise Http404
    return render(
        request,
        "benefits/partner_card.html",
        {
            "card": card,
            "scopes": ConsentScope.choices,
            "complaints_per": selectors.COMPLAINTS_PER,
        },
    )

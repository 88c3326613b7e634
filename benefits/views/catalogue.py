"""The catalogue as the person sees it, claiming a benefit, and their vouchers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from benefits import selectors, services
from benefits.models import (
    BenefitCategory,
)
from scoring.services.disputes import ANSWER_WITHIN
from sesame_portal.errors import ServiceError
from sesame_portal.qr import qr_svg


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category") or None
    if category not in BenefitCategory.values:
        category = None
    person, entries = selectors.catalogue_for_user(user=request.user, category=category)
    unlocked = [e for e in entries if e.eligibility.unlocked]
    context = {
        "person": person,
        "unlocked": unlocked,
        "locked": [e for e in entries if not e.eligibility.unlocked],
        "categories": BenefitCategory.choices,
        "category": category,
        "answer_within_days": ANSWER_WITHIN.days,
    }
    return render(request, "benefits/catalogue.html", context)


@login_required
@require_POST
def claim(request: HttpRequest, benefit_id: int) -> HttpResponse:
    try:
        voucher = services.voucher_claim(user=request.user, benefit_id=benefit_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("benefits:catalogue")
    messages.success(request, _("Your voucher is ready. Show it to the partner."))
    return redirect("benefits:voucher", voucher_id=voucher.pk)


@login_required
@require_GET
def vouchers(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "benefits/vouchers.html",
        {"vouchers": selectors.vouchers_for_user(user=request.user)},
    )


@login_required
@require_GET
def voucher(request: HttpRequest, voucher_id: int) -> HttpResponse:
    # By id, not by code: a code in a URL would end up in access logs and histories.
    found = selectors.vouchers_for_user(user=request.user).filter(pk=voucher_id).first()
    if found is None:
        raise Http404
    return render(
        request,
        "benefits/voucher.html",
        {
            "voucher": found,
            "qr": qr_svg(found.code, title=found.code),
            "back": reverse("benefits:vouchers"),
        },
    )

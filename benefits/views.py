"""Benefit pages: the catalogue, claiming, and the user's vouchers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.clients import client_from_request
from accounts.models import ConsentGrant
from benefits import selectors, services
from benefits.forms import PartnerLinkForm
from benefits.models import BenefitCategory, Partner
from benefits.qr import voucher_qr_svg
from benefits.services import partner_access
from sesame_portal.errors import ServiceError


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
            "qr": voucher_qr_svg(found.code),
            "back": reverse("benefits:vouchers"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def partner_authorize(request: HttpRequest, partner_id: int) -> HttpResponse:
    """The consent screen a partner's link opens: who, for what, what they will and will
    not see, until when. Authorising shows the token for the partner, once."""
    partner = Partner.objects.filter(pk=partner_id, status=Partner.Status.APPROVED).first()
    if partner is None:
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    form = PartnerLinkForm(data, partner=partner)
    if not form.is_valid():
        return render(
            request, "benefits/authorize.html", {"partner": partner, "form": form}, status=400
        )
    if request.method == "POST":
        try:
            grant, token = partner_access.partner_authorize(
                user=request.user,
                partner=partner,
                scope=form.cleaned_data["scope"],
                stated_purpose=form.cleaned_data["purpose"],
                expires_at=form.expires_at(),
                benefit=form.cleaned_data["benefit"],
                client=client_from_request(request, channel=ConsentGrant.Channel.WEB),
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return render(
                request, "benefits/authorize.html", {"partner": partner, "form": form}, status=400
            )
        return render(
            request,
            "benefits/authorized.html",
            {"partner": partner, "grant": grant, "token": token},
        )
    return render(
        request,
        "benefits/authorize.html",
        {"partner": partner, "form": form, "expires_at": form.expires_at()},
    )


@login_required
@require_GET
def queries(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "benefits/queries.html",
        {"queries": selectors.queries_for_user(user=request.user)},
    )

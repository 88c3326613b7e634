"""Benefit pages: the catalogue, claiming, and the user's vouchers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.clients import client_from_request
from accounts.models import ConsentGrant
from benefits import selectors, services
from benefits.forms import PartnerLinkForm
from benefits.models import (
    BenefitCategory,
    ConsentUseLimit,
    Partner,
    PartnerAuthorization,
    PartnerDecision,
    PartnerQuery,
    UseLimitChoice,
)
from benefits.services import partner_access
from scoring.disputes import ANSWER_WITHIN
from scoring.proofs import proof_openings_for_user
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


@login_required
@require_http_methods(["GET", "POST"])
def partner_authorize(request: HttpRequest, partner_id: int) -> HttpResponse:
    """The consent screen a partner's link opens: who, for what, what they will and will
    not see, until when. Authorising shows the token for the partner, once."""
    partner = Partner.objects.filter(pk=partner_id, status=Partner.Status.APPROVED).first()
    if partner is None:
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    form = PartnerLinkForm(data, partner=partner, confirming=request.method == "POST")
    if not form.is_valid():
        if set(form.errors) <= {"show_score", "max_queries"}:
            # The link is fine; the person has not finished choosing on the screen yet.
            return render(
                request, "benefits/authorize.html", _screen(request, partner, form), status=400
            )
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
                identity_check=form.cleaned_data["identity_check"],
                use_limit=form.use_limit_chosen(),
                max_queries=form.max_queries_chosen(),
                client=client_from_request(request, channel=ConsentGrant.Channel.WEB),
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return render(
                request, "benefits/authorize.html", _screen(request, partner, form), status=400
            )
        return authorized_redirect(request, grant=grant, token=token)
    return render(request, "benefits/authorize.html", _screen(request, partner, form))


def _screen(request: HttpRequest, partner: Partner, form: PartnerLinkForm) -> dict:
    """The consent screen's context: the terms of the link and the person's choices,
    which start from the partner's usual limit and an unticked identity check."""
    cleaned = getattr(form, "cleaned_data", {})
    chosen = cleaned.get("use_limit") or (
        UseLimitChoice.DECISION
        if partner_access.use_limit_default(partner) == ConsentUseLimit.DECISION
        else UseLimitChoice.NONE
    )
    return {
        "partner": partner,
        "form": form,
        "expires_at": form.expires_at() if "days" in cleaned else None,
        "limit_choices": UseLimitChoice.choices,
        "chosen_limit": chosen,
        "max_queries": form.data.get("max_queries", ""),
        # A link cannot tick the box: only what the person posted is shown ticked.
        "identity_ticked": request.method == "POST" and bool(cleaned.get("identity_check")),
    }


TOKEN_SESSION_KEY = "partner_token_once"  # noqa: S105 - a session key name


def authorized_redirect(request: HttpRequest, *, grant, token: str) -> HttpResponse:
    """Show the partner's token after a redirect, so that reloading the page never
    authorises again (which would supersede the token just handed out)."""
    request.session[TOKEN_SESSION_KEY] = {"grant": grant.pk, "token": token}
    return redirect("benefits:authorized", grant_id=grant.pk)


@login_required
@require_GET
def authorized(request: HttpRequest, grant_id: int) -> HttpResponse:
    """The token, once: it is taken out of the session as it is shown."""
    authorization = (
        PartnerAuthorization.objects.select_related("grant", "partner", "benefit")
        .filter(grant_id=grant_id, grant__user=request.user)
        .first()
    )
    if authorization is None:
        raise Http404
    grant = authorization.grant
    pending = request.session.get(TOKEN_SESSION_KEY) or {}
    token = None
    if pending.get("grant") == grant.pk:
        token = pending["token"]
        del request.session[TOKEN_SESSION_KEY]
    return render(
        request,
        "benefits/authorized.html",
        {
            "partner": authorization.partner,
            "grant": grant,
            "authorization": authorization,
            "token": token,
        },
    )


@login_required
@require_GET
def queries(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "benefits/queries.html",
        {
            "queries": [
                {
                    "query": query,
                    "shown": [DISCLOSED_LABELS.get(name, name) for name in query.fields_disclosed],
                    "why": OUTCOME_LABELS.get(query.outcome, query.outcome),
                    "answered": _answered(query),
                    "decision": _decision(query),
                }
                for query in selectors.queries_for_user(user=request.user)
            ],
            # Openings of the person's shareable proofs are checks of their score too.
            "openings": proof_openings_for_user(user=request.user),
        },
    )


def _answered(query) -> str:
    """What an answered identity check said (a match or not), for the person."""
    if query.kind != PartnerQuery.Kind.IDENTITY_CHECK or query.outcome != "ok":
        return ""
    if query.detail.get("match"):
        return _("The name and ID number matched yours.")
    return _("The name and ID number did not match yours.")


def _decision(query) -> dict | None:
    """A decision the partner reported: its label, reason code and limit."""
    if query.kind != PartnerQuery.Kind.DECISION or query.outcome != "ok":
        return None
    value = query.detail.get("decision", "")
    label = PartnerDecision(value).label if value in PartnerDecision.values else value
    return {
        "label": label,
        "reason_code": query.detail.get("reason_code", ""),
        "limit": query.detail.get("limit"),
    }


DISCLOSED_LABELS = {
    "score": gettext_lazy("score"),
    "band": gettext_lazy("band"),
    "computed_at": gettext_lazy("when it was computed"),
    "dimensions": gettext_lazy("sub-scores"),
    "eligible": gettext_lazy("whether you qualify"),
    "points_away": gettext_lazy("points away"),
    "voucher_status": gettext_lazy("voucher status"),
    "match": gettext_lazy("whether the name and ID number are yours"),
}
OUTCOME_LABELS = {
    "ok": gettext_lazy("Answered"),
    "out_of_scope": gettext_lazy("Refused: outside what you allowed"),
    "authorization_revoked": gettext_lazy("Refused: you revoked the authorisation"),
    "authorization_replaced": gettext_lazy("Refused: replaced by a newer authorisation"),
    "authorization_used": gettext_lazy("Refused: the authorisation was used up"),
    "identity_check_limit": gettext_lazy("Refused: too many identity checks today"),
    "identity_check_stopped": gettext_lazy(
        "Refused: identity checks stopped after repeated mismatches"
    ),
    "authorization_expired": gettext_lazy("Refused: the authorisation had expired"),
    "score_unavailable": gettext_lazy("Refused: no score to share"),
    "benefit_not_found": gettext_lazy("Refused: no such benefit"),
    "rate_limited": gettext_lazy("Refused: too many calls"),
    "quota_exhausted": gettext_lazy("Refused: too many calls"),
}

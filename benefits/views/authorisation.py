"""A partner's authorisation screen (opened from the partner's link) and the page that hands
the token over once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.clients import client_from_request
from accounts.models import ConsentGrant
from benefits import selectors
from benefits.forms import PartnerLinkForm
from benefits.models import (
    ConsentUseLimit,
    Partner,
    PartnerAuthorization,
    UseLimitChoice,
)
from benefits.services import data_use, partner_access
from sesame_portal.errors import ServiceError


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
@require_http_methods(["GET", "POST"])
def authorization_expiring(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """An authorisation that ends soon (the reminder's link): renew it on the same terms
    (the new code is shown once, as after authorising) or let it end on its date. Only
    its owner sees it."""
    authorization = selectors.authorization_for_user(
        user=request.user, authorization_id=authorization_id
    )
    if authorization is None:
        raise Http404
    error = None
    if request.method == "POST":
        answer = request.POST.get("answer")
        try:
            if answer == "renew":
                grant, token = data_use.authorization_renew(
                    user=request.user,
                    authorization_id=authorization.pk,
                    client=client_from_request(request, channel=ConsentGrant.Channel.WEB),
                )
                return authorized_redirect(request, grant=grant, token=token)
            if answer == "lapse":
                data_use.authorization_lapse(user=request.user, authorization_id=authorization.pk)
                messages.success(request, _("Nothing changes: it ends on its date."))
                return redirect(
                    "benefits:authorization_expiring", authorization_id=authorization.pk
                )
            error = _("Choose to renew it or to let it lapse.")
        except ServiceError as exc:
            error = exc.message
    return render(
        request,
        "benefits/authorization_expiring.html",
        {
            "authorization": authorization,
            "grant": authorization.grant,
            "partner": authorization.partner,
            "current": authorization.grant.is_current(),
            "error": error,
        },
        status=400 if error else 200,
    )

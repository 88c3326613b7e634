"""Trusted helpers: the person's page to invite and revoke them and to read what they did,
the helper's pages to accept an invitation and to start and stop acting for the person.
What an acting helper may reach is checked in one place (accounts.web_sessions with
accounts.helper_access), not here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import HelperInviteForm
from accounts.helper_access import action_label
from accounts.web_sessions import ACTING_SESSION_KEY
from sesame_portal.errors import ServiceError

# The link of a new invitation, shown once after the redirect.
INVITATION_SESSION_KEY = "helper_invitation"
_INVITE_FIELDS = {"name": "name", "level": "level", "expires_at": "months"}


def invitation_link(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("accounts:helper_accept", args=[code]))


@login_required
@require_http_methods(["GET", "POST"])
def helpers(request: HttpRequest) -> HttpResponse:
    form = HelperInviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            grant, code = services.helper_invite(
                owner=request.user,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                level=form.cleaned_data["level"],
                expires_at=form.expires_at(),
            )
        except ServiceError as error:
            form.add_error(_INVITE_FIELDS.get(error.code), error.message)
        else:
            request.session[INVITATION_SESSION_KEY] = {"grant": grant.pk, "code": code}
            return redirect("accounts:helpers")
    shown = request.session.pop(INVITATION_SESSION_KEY, None) if request.method == "GET" else None
    return render(
        request,
        "accounts/helpers.html",
        {
            "form": form,
            "grants": selectors.helpers_for_owner(user=request.user),
            "new_link": invitation_link(request, shown["code"]) if shown else None,
            "new_grant_id": shown["grant"] if shown else None,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def helper_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    try:
        services.helper_revoke(owner=request.user, grant_id=grant_id)
    except ServiceError as error:
        if error.status_code == 404:
            raise Http404 from None
        messages.info(request, error.message)
    else:
        messages.success(request, _("Helper revoked. Their access ends now."))
    return redirect("accounts:helpers")


@login_required
def helper_audit(request: HttpRequest) -> HttpResponse:
    entries = [
        {"entry": entry, "label": action_label(action=entry.action, allowed=entry.allowed)}
        for entry in selectors.helper_audit_for_owner(user=request.user)
    ]
    return render(request, "accounts/helper_audit.html", {"entries": entries})


@require_http_methods(["GET", "POST"])
def helper_accept(request: HttpRequest, code: str) -> HttpResponse:
    """The invitation link: who invites and for what; accepting needs the helper's own
    account (signing in or creating one brings them back here)."""
    try:
        grant = services.helper_invitation(code=code)
    except ServiceError as error:
        return render(request, "accounts/helper_accept.html", {"error": error.message}, status=404)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            services.helper_accept(helper=request.user, code=code)
        except ServiceError as error:
            return render(
                request,
                "accounts/helper_accept.html",
                {"grant": grant, "error": error.message},
                status=error.status_code,
            )
        messages.success(request, _("Invitation accepted. You can now act for this person."))
        return redirect("accounts:helping")
    return render(
        request,
        "accounts/helper_accept.html",
        {"grant": grant, "here": request.get_full_path()},
        status=403 if request.method == "POST" else 200,
    )


@login_required
def helping(request: HttpRequest) -> HttpResponse:
    """Whom this account helps, each with a button to act for them."""
    return render(
        request,
        "accounts/helping.html",
        {"grants": selectors.helping_for_helper(user=request.user)},
    )


@login_required
@require_POST
def helper_start(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = next(
        (g for g in selectors.helping_for_helper(user=request.user) if g.pk == grant_id), None
    )
    if grant is None:
        raise Http404
    request.session[ACTING_SESSION_KEY] = grant.pk
    services.helper_audit_record(
        grant=grant, action="accounts:helper_start", method="POST", allowed=True, status_code=302
    )
    return redirect("home")


@require_POST
def helper_stop(request: HttpRequest) -> HttpResponse:
    request.session.pop(ACTING_SESSION_KEY, None)
    return redirect("accounts:helping" if request.user.is_authenticated else "accounts:login")

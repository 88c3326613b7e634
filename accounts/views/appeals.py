"""The identity appeal page, reached only from a `duplicate` refusal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.clients import client_ip
from accounts.forms import IdentityAppealForm
from sesame_portal.errors import ServiceError

_APPEAL_FIELDS = {
    "name": "full_name",
    "statement": "statement",
    "attachment": "evidence",
    "attachment_type": "evidence",
    "attachment_too_large": "evidence",
}
_APPEAL_GENERAL = {"rate_limited", "already_verified", "already_appealed"}


def appeal_url(request: HttpRequest, token: str | None) -> str | None:
    """The absolute address of the appeal a `duplicate` refusal offers, if it offers one."""
    if not token:
        return None
    return request.build_absolute_uri(reverse("accounts:identity_appeal", args=[token]))


@login_required
@require_http_methods(["GET", "POST"])
def identity_appeal(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.appeal_offer_identity_id(token=token, user=request.user)
    except ServiceError as error:
        raise Http404 from error
    posted = request.method == "POST"
    form = IdentityAppealForm(request.POST, request.FILES) if posted else IdentityAppealForm()
    if posted and form.is_valid():
        try:
            services.identity_appeal_file(
                user=request.user,
                token=token,
                full_name=form.cleaned_data["full_name"],
                id_number=form.cleaned_data["id_number"],
                statement=form.cleaned_data["statement"],
                evidence=form.cleaned_data["evidence"],
                client_ip=client_ip(request),
            )
        except ServiceError as error:
            field = (
                None
                if error.code in _APPEAL_GENERAL
                else _APPEAL_FIELDS.get(error.code, "id_number")
            )
            form.add_error(field, error.message)
        else:
            messages.success(request, _("Your appeal is filed. We will tell you the outcome here."))
            return redirect("accounts:identity")
    return render(
        request,
        "accounts/identity_appeal.html",
        {"form": form},
        status=400 if posted else 200,
    )

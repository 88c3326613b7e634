"""Pages for accounts. Views translate: validate a form, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.clients import client_from_request, client_ip
from accounts.forms import IdentityForm, PartnerConsentForm, SignupForm
from accounts.models import DATA_CATEGORY_PURPOSES, ConsentGrant, ConsentPurpose
from accounts.resident_id import MINIMUM_AGE
from accounts.views.appeals import appeal_url
from benefits.services.partner_access import partner_authorize
from benefits.views import authorized_redirect
from sesame_portal.errors import ServiceError

# Which form field a service error code belongs to; the rest are shown above the form.
_SIGNUP_FIELDS = {"username": "username", "username_taken": "username", "password": "password1"}
_IDENTITY_FIELDS = {"name": "full_name"}
_IDENTITY_GENERAL = {"rate_limited", "already_verified"}
_PARTNER_FIELDS = {
    "partner": "partner",
    "partner_not_approved": "partner",
    "scope": "scope",
    "expires_at": "expires_on",
    "use_limit": "use_limit",
    "max_queries": "max_queries",
}


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                client_ip=client_ip(request),
            )
        except ServiceError as error:
            form.add_error(_SIGNUP_FIELDS.get(error.code), error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Next, verify your real name."))
            return redirect("accounts:identity")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest) -> HttpResponse:
    current = selectors.identity_for_user(user=request.user)
    posted = request.POST if request.method == "POST" else None
    form = IdentityForm(posted) if current is None else None
    offered_appeal = None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.identity_verify(
                user=request.user, client_ip=client_ip(request), **form.cleaned_data
            )
        except ServiceError as error:
            field = (
                None
                if error.code in _IDENTITY_GENERAL
                else _IDENTITY_FIELDS.get(error.code, "id_number")
            )
            form.add_error(field, error.message)
            offered_appeal = appeal_url(request, getattr(error, "appeal_token", None))
        else:
            messages.success(request, _("Your identity is verified."))
            return redirect("accounts:consents")
    full_name = selectors.identity_full_name(current) if current else ""
    age = selectors.identity_age(current) if current else None
    return render(
        request,
        "accounts/identity.html",
        {
            "form": form,
            "identity": current,
            "full_name": full_name,
            "age": age,
            "appeal_url": offered_appeal,
            "appeals": selectors.identity_appeals_for_user(user=request.user),
            "minimum_age": MINIMUM_AGE,
        },
    )


def _consent_page_context(request: HttpRequest, partner_form: PartnerConsentForm | None = None):
    grants = list(selectors.consent_grants_for_user(user=request.user))
    current_purposes = {g.purpose for g in grants if g.is_current() and g.partner_id is None}
    texts = selectors.consent_texts_current()
    offers = [
        texts[purpose]
        for purpose in (ConsentPurpose.SCORING, *DATA_CATEGORY_PURPOSES)
        if purpose in texts and purpose not in current_purposes
    ]
    return {
        "current_grants": [g for g in grants if g.is_current()],
        "past_grants": [g for g in grants if not g.is_current()],
        "offers": offers,
        "partner_text": texts.get(ConsentPurpose.PARTNER_SHARING),
        "partner_form": partner_form or PartnerConsentForm(),
    }


@login_required
def consents(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/consents.html", _consent_page_context(request))


@login_required
@require_POST
def consent_grant(request: HttpRequest) -> HttpResponse:
    purpose = request.POST.get("purpose", "")
    client = client_from_request(request, channel=ConsentGrant.Channel.WEB)
    partner_form = None
    try:
        if purpose == ConsentPurpose.PARTNER_SHARING:
            partner_form = PartnerConsentForm(request.POST)
            if not partner_form.is_valid():
                return render(
                    request,
                    "accounts/consents.html",
                    _consent_page_context(request, partner_form),
                    status=400,
                )
            grant, token = partner_authorize(
                user=request.user,
                client=client,
                partner=partner_form.cleaned_data["partner"],
                scope=partner_form.cleaned_data["scope"],
                stated_purpose=partner_form.cleaned_data["stated_purpose"],
                expires_at=partner_form.expires_at(),
                identity_check=partner_form.cleaned_data["identity_check"],
                use_limit=partner_form.use_limit_chosen(),
                max_queries=partner_form.max_queries_chosen(),
            )
            # The partner's token is shown once, after a redirect.
            return authorized_redirect(request, grant=grant, token=token)
        else:
            services.consent_grant(user=request.user, purpose=purpose, client=client)
    except ServiceError as error:
        if partner_form is None:
            messages.error(request, error.message)
            return redirect("accounts:consents")
        partner_form.add_error(_PARTNER_FIELDS.get(error.code), error.message)
        return render(
            request,
            "accounts/consents.html",
            _consent_page_context(request, partner_form),
            status=400,
        )
    messages.success(request, _("Consent given. You can revoke it here at any time."))
    return redirect("accounts:consents")


@login_required
@require_POST
def consent_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    try:
        services.consent_revoke(
            user=request.user,
            grant_id=grant_id,
            client=client_from_request(request, channel=ConsentGrant.Channel.WEB),
        )
    except ServiceError as error:
        if error.status_code == 404:
            raise Http404 from None
        # Already revoked: say so, and show the row as it is.
        level, notice = messages.INFO, error.message
    else:
        level, notice = messages.SUCCESS, _("Consent revoked.")
    messages.add_message(request, level, notice)
    if request.htmx:
        # The row swaps in place; the notice replaces the message area out of band.
        grant = selectors.consent_grants_for_user(user=request.user).get(pk=grant_id)
        return render(request, "accounts/_consent_revoked.html", {"grant": grant})
    return redirect("accounts:consents")

"""Pages for accounts. Views translate: validate a form, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.clients import client_ip
from accounts.forms import IdentityForm, SignupForm
from accounts.resident_id import MINIMUM_AGE
from accounts.views.appeals import appeal_url
from sesame_portal.errors import ServiceError

# Which form field a service error code belongs to; the rest are shown above the form.
_SIGNUP_FIELDS = {"username": "username", "username_taken": "username", "password": "password1"}
_IDENTITY_FIELDS = {"name": "full_name"}
_IDENTITY_GENERAL = {"rate_limited", "already_verified"}


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    # Where to go on after sign-up instead of verifying (a helper's invitation link).
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
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
            if next_url:
                return redirect(next_url)
            messages.success(request, _("Welcome! Next, verify your real name."))
            return redirect("accounts:identity")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


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
            # Said before the lockout, not only once it is reached.
            "attempts_left": selectors.identity_attempts_left(user=request.user)
            if current is None
            else None,
            "attempts_per_hour": settings.IDENTITY_ATTEMPTS_PER_HOUR,
        },
    )

"""My data: delete my account (the download beside it, which gathers every app's part,
is sesame_portal/pages/me.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import PasswordConfirmForm
from sesame_portal.errors import ServiceError


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user, password=form.cleaned_data["password"])
        except ServiceError as error:
            form.add_error("password", error.message)
        else:
            logout(request)
            messages.success(request, _("Your account has been deleted."))
            return redirect("accounts:login")
    status = 400 if form.errors else 200
    return render(request, "accounts/my_data.html", {"form": form}, status=status)

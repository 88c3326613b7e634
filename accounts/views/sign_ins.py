"""Changing the password, and the devices and sessions page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import PasswordChangeForm
from accounts.models import session_key_hash
from accounts.web_sessions import session_keep
from sesame_portal.errors import ServiceError


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form (old password, new one twice); the change itself, which also ends
    every token and every other session, is the password_change service."""

    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        try:
            services.password_change(
                user=form.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                keep_session_key=self.request.session.session_key,
            )
        except ServiceError as error:
            field = "old_password" if error.code == "old_password" else "new_password2"
            form.add_error(field, error.message)
            return self.form_invalid(form)
        session_keep(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    items = selectors.sign_ins_for_user(
        user=request.user, current_session_key=request.session.session_key
    )
    return render(request, "accounts/devices.html", {"items": items})


@login_required
@require_POST
def device_revoke(request: HttpRequest, sign_in_id: int) -> HttpResponse:
    try:
        revoked = services.sign_in_revoke(user=request.user, sign_in_id=sign_in_id)
    except ServiceError as error:
        if error.status_code == 404:
            raise Http404 from None
        raise
    key = request.session.session_key
    if key and revoked.session_key_hash == session_key_hash(key):
        # Ending this very session is logging out.
        request.session.flush()
        return redirect("accounts:login")
    messages.success(request, _("Signed out of that device."))
    return redirect("accounts:devices")

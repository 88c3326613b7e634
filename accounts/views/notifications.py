from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import NotificationEmailForm
from accounts.notifications import (
    notification_email_preference,
    notification_email_set,
    notifications_mark_read,
    notifications_page,
)


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """The list, newest first; opening it marks everything read (shown as unread once).
    Its form turns notification emails on or off."""
    preference = notification_email_preference(user=request.user)
    form = NotificationEmailForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"by_email": preference.by_email, "data_use_alerts": preference.data_use_alerts},
    )
    if request.method == "POST" and form.is_valid():
        by_email = form.cleaned_data["by_email"]
        notification_email_set(
            user=request.user,
            by_email=by_email,
            email=form.cleaned_data.get("email", ""),
            language=request.LANGUAGE_CODE,
            data_use_alerts=form.cleaned_data["data_use_alerts"] or None,
        )
        if by_email:
            messages.success(request, _("We will email you when your score or benefits change."))
        else:
            messages.success(request, _("No more emails: you will find the news here."))
        return redirect("accounts:notifications")
    items = notifications_page(user=request.user)
    notifications_mark_read(user=request.user)
    return render(
        request,
        "accounts/notifications.html",
        {"items": items, "form": form, "email": request.user.email},
    )

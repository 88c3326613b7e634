from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.notifications import (
    notification_text,
    notifications_for_user,
    notifications_mark_read,
)


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The list, newest first; opening it marks everything read (shown as unread once)."""
    items = [
        {"text": notification_text(n), "created_at": n.created_at, "unread": n.read_at is None}
        for n in notifications_for_user(user=request.user)
    ]
    notifications_mark_read(user=request.user)
    return render(request, "accounts/notifications.html", {"items": items})

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from accounts.notifications import notifications_unread_count


def notifications(request) -> dict:
    """The unread count for the header, queried only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notifications_unread_count(user=user))}

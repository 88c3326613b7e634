"""Web sessions as sign-ins: a row for each login (by signal), a check on each request
that the row still exists (a middleware), and keeping the current session logged in
when the password changes."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY, update_session_auth_hash
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.http import HttpRequest, HttpResponse

from accounts import services
from accounts.models import User


def sign_in_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Log out a session whose sign-in was revoked (from the devices page or the API, by
    "log out everywhere" or by a password change elsewhere). Runs after the
    authentication middleware; a request without a logged-in session costs nothing."""

    def middleware(request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        logged_in = session is not None and session.session_key and SESSION_KEY in session
        if logged_in and not services.web_session_alive(
            user_id=session[SESSION_KEY], session_key=session.session_key
        ):
            session.flush()
            request.user = AnonymousUser()
        return get_response(request)

    return middleware


def _logged_in(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    # Only a real web login has a session to record (API tokens record themselves).
    if not isinstance(request, HttpRequest) or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    services.web_session_start(
        user=user,
        session_key=request.session.session_key,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _logged_out(sender, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    if not isinstance(request, HttpRequest) or not hasattr(request, "session"):
        return
    if request.session.session_key:
        services.web_session_end(session_key=request.session.session_key)


def connect_signals() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="accounts.web_sessions.logged_in")
    user_logged_out.connect(_logged_out, dispatch_uid="accounts.web_sessions.logged_out")


def session_keep(request: HttpRequest, user: User) -> None:
    """After a password change, keep this session logged in (Django gives it a new key
    and the new password's hash) and keep its sign-in row with it."""
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    if old_key and request.session.session_key:
        services.web_session_rekey(old_key=old_key, new_key=request.session.session_key)

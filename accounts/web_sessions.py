"""Web sessions as sign-ins: a row for each login (by signal), a check on each request
that the row still exists (the authentication middleware, with the user in the same
query), and keeping the current session logged in when the password changes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    load_backend,
    update_session_auth_hash,
)
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare

from accounts import selectors, services
from accounts.helper_access import helper_may
from accounts.models import HelperGrant, User

# The session of a trusted helper acting for a person names the grant it acts under.
ACTING_SESSION_KEY = "helper_acting_grant"


def session_user(request: HttpRequest) -> User | AnonymousUser:
    """The user of the request's session: Django's `get_user` (the login's backend still
    configured, the user still allowed to log in, the session's password hash still the
    user's), with the user read together with the session's sign-in in one query
    (`services.web_session_user`). A session whose sign-in has ended or whose password
    hash no longer matches is flushed."""
    session = request.session
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    user = services.web_session_user(user_id=user_id, session_key=session.session_key)
    if user is None:
        session.flush()
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    # ModelBackend's rule (an inactive user is out), as its get_user applies it; a
    # backend without one logs nobody in here.
    allowed = getattr(load_backend(backend_path), "user_can_authenticate", None)
    if allowed is None or not allowed(user):
        return AnonymousUser()
    session_hash = session.get(HASH_SESSION_KEY)
    auth_hash = user.get_session_auth_hash()
    if session_hash and constant_time_compare(session_hash, auth_hash):
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        # Signed with a retired SECRET_KEY: Django gives the session a new key and hash;
        # its sign-in follows the key.
        old_key = session.session_key
        session.cycle_key()
        session[HASH_SESSION_KEY] = auth_hash
        services.web_session_rekey(old_key=old_key, new_key=session.session_key)
        return user
    session.flush()
    return AnonymousUser()


def acting_grant(request: HttpRequest, user: User | AnonymousUser) -> HelperGrant | None:
    """The grant under which this session's user (a trusted helper) acts for a person,
    read again on every request: a grant revoked or expired since the last request ends
    the acting mode here (the session goes on as the helper's own)."""
    grant_id = request.session.get(ACTING_SESSION_KEY)
    if grant_id is None or not user.is_authenticated:
        return None
    grant = selectors.helper_grant_acting(helper_id=user.pk, grant_id=grant_id)
    if grant is None:
        del request.session[ACTING_SESSION_KEY]
    return grant


class SignInAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware, for a logged-in session eager and one query
    (`session_user`): the user comes with the check that the session's sign-in still
    stands, so a session ended elsewhere (the devices page or the API, "log out
    everywhere", a password change) is logged out before any view sees it. A request
    without a logged-in session costs nothing, as with Django's.

    A trusted helper's session acting for a person (`acting_grant`) has the person as
    `request.user` (so every page shows the person's data through its usual ownership
    checks), `request.helper_acting` the grant and `request.helper_user` the helper. Only
    the views `helper_may` lists for the grant's level run; any other request, the API
    included, is refused with a 403, and every request is written to the person's
    helper audit trail."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.helper_acting = None
        session = request.session
        if session.session_key and SESSION_KEY in session:
            user = session_user(request)
            grant = acting_grant(request, user)
            if grant is not None:
                request.helper_user = user
                request.helper_acting = grant
                user = grant.owner
            # Where Django's lazy user keeps what it loaded (the request log reads it).
            request.user = request._cached_user = user

            async def auser() -> User | AnonymousUser:
                return user

            request.auser = auser

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        grant = request.helper_acting
        if grant is None:
            return
        action = request.resolver_match.view_name if request.resolver_match else ""
        request.helper_action = action
        request.helper_allowed = helper_may(
            level=grant.level, url_name=action, method=request.method
        )
        if not request.helper_allowed:
            raise PermissionDenied("not allowed to a helper at this level")

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        grant = getattr(request, "helper_acting", None)
        if grant is not None:
            services.helper_audit_record(
                grant=grant,
                action=getattr(request, "helper_action", ""),
                method=request.method,
                allowed=getattr(request, "helper_allowed", False),
                status_code=response.status_code,
            )
        return response


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

"""Sign-ins: issuing API tokens, recording web sessions, ending them one by one or all
at once (on request, or because the password changed), and announcing a new device."""

from __future__ import annotations

import datetime
import functools

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.clients import Client, device_label
from accounts.models import KnownDevice, Notification, SignIn, User, session_key_hash
from sesame_portal.errors import ServiceError

# "Last used" is written at most this often, not on every request.
LAST_USED_INTERVAL = datetime.timedelta(minutes=5)


def _device_remember(*, user: User, device: str, at: datetime.datetime) -> None:
    """Note the device; announce it when the user has signed in before, from others only.
    The first sign-in of an account (right after sign-up) says nothing."""
    known = KnownDevice.objects.filter(user=user)
    if known.filter(device=device).exists():
        return
    first_ever = not known.exists()
    _known, created = KnownDevice.objects.get_or_create(
        user=user, device=device, defaults={"first_seen_at": at}
    )
    if created and not first_ever:
        Notification.objects.create(
            user=user, kind=Notification.Kind.NEW_SIGN_IN, params={"device": device}, created_at=at
        )


def api_token_issue(*, user: User, client: Client) -> tuple[AuthToken, str]:
    """A new API token for the user (after their password was checked), recorded as a
    sign-in from the client's device. Returns the token row and the token, shown once."""
    device = device_label(client.user_agent)
    with transaction.atomic():
        instance, token = AuthToken.objects.create(user)
        SignIn.objects.create(
            user=user,
            kind=SignIn.Kind.TOKEN,
            token=instance,
            device=device,
            created_at=instance.created,
            last_used_at=instance.created,
        )
        _device_remember(user=user, device=device, at=instance.created)
    return instance, token


def api_token_touch(*, token: AuthToken) -> None:
    """A request came with this token: move its "last used", at most every few minutes.
    A token issued before sign-ins were recorded gets its row now."""
    now = timezone.now()
    try:
        sign_in = token.sign_in
    except SignIn.DoesNotExist:
        SignIn.objects.get_or_create(
            token=token,
            defaults={
                "user_id": token.user_id,
                "kind": SignIn.Kind.TOKEN,
                "created_at": token.created,
                "last_used_at": now,
            },
        )
        return
    if sign_in.last_used_at < now - LAST_USED_INTERVAL:
        SignIn.objects.filter(pk=sign_in.pk).update(last_used_at=now)


def web_session_start(*, user: User, session_key: str, user_agent: str) -> SignIn:
    """Record a web login under the hash of its (already rotated) session key."""
    device = device_label(user_agent)
    now = timezone.now()
    with transaction.atomic():
        sign_in, _created = SignIn.objects.update_or_create(
            session_key_hash=session_key_hash(session_key),
            defaults={
                "user": user,
                "kind": SignIn.Kind.SESSION,
                "device": device,
                "created_at": now,
                "last_used_at": now,
            },
        )
        _device_remember(user=user, device=device, at=now)
    return sign_in


def _web_session_query(*, user_id: int, key_hash: str) -> QuerySet:
    return User.objects.filter(pk=user_id, sign_ins__session_key_hash=key_hash).annotate(
        sign_in_pk=F("sign_ins__pk"), sign_in_used_at=F("sign_ins__last_used_at")
    )[:1]


_STAND_INS = {"user_id": -1, "key_hash": "stand-in"}


@functools.cache
def _web_session_sql(vendor: str) -> str:
    """The SQL of `_web_session_query`, built by the ORM once per process: building and
    compiling it costs the ORM several times what the database takes to answer it, on
    every logged-in request. Its values must come out in the order it is run with."""
    sql, params = _web_session_query(**_STAND_INS).query.sql_with_params()
    if list(params) != list(_STAND_INS.values()):
        raise RuntimeError(f"unexpected parameters of the sign-in query: {params!r}")
    return sql


def web_session_user(*, user_id: int, session_key: str) -> User | None:
    """The user of a logged-in web session, or None when the session may not go on: its
    sign-in row is gone (ended from the devices page or the API, by "log out
    everywhere", by a password change elsewhere) or is another user's. The one check of
    a web session's sign-in, made on every request of a logged-in session
    (accounts.web_sessions): the sign-in and the user in one query, always from the
    database, so an ending is seen at the very next request in every process. Moves
    "last used" at most every few minutes (rarely a write)."""
    sql = _web_session_sql(connection.vendor)
    found = list(User.objects.raw(sql, [user_id, session_key_hash(session_key)]))
    if not found:
        return None
    user = found[0]
    used_at = user.sign_in_used_at  # not a field of the model: read as the database gives it
    if timezone.is_naive(used_at):  # SQLite: in the connection's time zone (UTC)
        used_at = timezone.make_aware(used_at, connection.timezone)
    now = timezone.now()
    if used_at < now - LAST_USED_INTERVAL:
        SignIn.objects.filter(pk=user.sign_in_pk).update(last_used_at=now)
    return user


def web_session_end(*, session_key: str) -> None:
    SignIn.objects.filter(session_key_hash=session_key_hash(session_key)).delete()


def web_session_rekey(*, old_key: str, new_key: str) -> None:
    """The session kept its login under a new key (Django rotates it when the password
    changes): its sign-in follows."""
    SignIn.objects.filter(session_key_hash=session_key_hash(old_key)).update(
        session_key_hash=session_key_hash(new_key)
    )


def sign_in_revoke(*, user: User, sign_in_id: int) -> SignIn:
    """End one of the user's own sign-ins and return it (gone from the database);
    another user's or an unknown id is a 404."""
    sign_in = SignIn.objects.filter(user=user, pk=sign_in_id).first()
    if sign_in is None:
        raise ServiceError("not_found", _("No such device or session."), status_code=404)
    with transaction.atomic():
        if sign_in.token_id is not None:
            AuthToken.objects.filter(pk=sign_in.token_id).delete()
        SignIn.objects.filter(pk=sign_in.pk).delete()
    return sign_in


def sign_out_everywhere(*, user: User, keep_session_key: str | None = None) -> None:
    """End every API token and every web session of the user, except the web session
    `keep_session_key` (the one that asked, when it should stay logged in)."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user).delete()
        sessions = SignIn.objects.filter(user=user, kind=SignIn.Kind.SESSION)
        if keep_session_key:
            sessions = sessions.exclude(session_key_hash=session_key_hash(keep_session_key))
        sessions.delete()


def password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    keep_session_key: str | None = None,
) -> None:
    """Change the password and end every token and every other web session: whoever
    knew the old password, or held a token made with it, is out. The session that
    changed it (if any) stays; its caller keeps it logged in (update_session_auth_hash)."""
    if not user.check_password(old_password or ""):
        raise ServiceError("old_password", _("The password is not right."))
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ServiceError("password", " ".join(exc.messages)) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sign_out_everywhere(user=user, keep_session_key=keep_session_key)


def sign_ins_housekeeping(*, now: datetime.datetime) -> int:
    """Forget web sessions unused for longer than a session can live (their sessions
    have expired); token rows go with their tokens."""
    cutoff = now - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    deleted, _rows = SignIn.objects.filter(
        kind=SignIn.Kind.SESSION, last_used_at__lt=cutoff
    ).delete()
    return deleted

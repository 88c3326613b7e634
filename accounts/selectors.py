"""Reads for accounts. `consent_refusal` (and `consent_allows`, its yes or no) is the one
answer to "may this be done with this user's data now?": every feature that computes,
shows or shares data asks it. Sharing with a partner is answered by the partners' app,
which asks it for the purpose part (the grant) and adds the partner's terms."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from knox.models import AuthToken

from accounts.crypto import birth_date_decrypt, decrypt_text
from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    ConsentRevocation,
    ConsentText,
    FieldMark,
    HelperAuditEntry,
    HelperGrant,
    Identity,
    IdentityAppeal,
    IdentityAttempt,
    NotificationPreference,
    Profile,
    SectionVerification,
    SignIn,
    User,
    session_key_hash,
)
from accounts.profile_sections import SECTIONS, completion_percent
from accounts.resident_id import age_on

# Why consent_refusal refuses, besides a revocation's reason (ConsentRevocation.Reason).
NO_GRANT = "no_grant"
EXPIRED = "expired"


def consent_refusal(
    *,
    purpose: str,
    user: User | None = None,
    grant: ConsentGrant | None = None,
    at: datetime.datetime | None = None,
    despite: Collection[str] = (),
) -> str | None:
    """Why this may not be done with this person's data now, or None when it may: the one
    answer for scoring, proofs and partners (`consent_allows` is its yes or no).

    Given a user: whether a current grant of theirs covers the purpose. Given a grant (a
    partner's call, with its revocation read under the call's lock): whether that grant
    does, and if not why: the revocation's reason or EXPIRED. `despite`: revocation
    reasons that do not stop this use (a partner's decision after its queries ran out).

    Partner sharing is granted per partner: asked with a user, it is refused here
    (NO_GRANT), and the partners' app answers for one partner, asking this for each of
    that partner's grants before it checks the partner and its terms."""
    at = at or timezone.now()
    if grant is not None:
        return _grant_refusal(grant, purpose, despite, at)
    if user is None or not user.pk or purpose == ConsentPurpose.PARTNER_SHARING:
        return NO_GRANT
    grants = ConsentGrant.objects.current(at).filter(user=user, purpose=purpose)
    refusals = [
        _grant_refusal(each, purpose, despite, at) for each in grants.select_related("revocation")
    ]
    return None if None in refusals else (refusals[0] if refusals else NO_GRANT)


def _grant_refusal(
    grant: ConsentGrant, purpose: str, despite: Collection[str], at: datetime.datetime
) -> str | None:
    if grant.purpose != purpose:
        return NO_GRANT
    if grant.user_id is None:
        return ConsentRevocation.Reason.ACCOUNT_DELETED
    revocation = getattr(grant, "revocation", None)
    if revocation is not None and revocation.reason not in despite:
        return revocation.reason
    if grant.has_expired(at):
        return EXPIRED
    return None


def consent_allows(**question) -> bool:
    """Yes or no to "may this be done with this person's data now?" (consent_refusal)."""
    return consent_refusal(**question) is None


def consent_allows_at(*, purpose: str, user: OuterRef, at: datetime.datetime) -> Exists:
    """consent_allows(purpose=..., user=...) for the user at `user` of an outer query, as
    an expression to annotate a row with (a page that reads everything in one query). A
    grant is current (not revoked, not expired) by the same rule as consent_refusal's;
    partner sharing is answered per partner (benefits), not here."""
    if purpose == ConsentPurpose.PARTNER_SHARING:
        raise ValueError("partner sharing is answered per partner")
    return Exists(ConsentGrant.objects.current(at).filter(user=user, purpose=purpose))


def users_consenting_to_scoring(*, at: datetime.datetime | None = None) -> QuerySet[ConsentGrant]:
    """The user ids with a current scoring consent (at `at`, by default now), as a
    `values_list` of `user_id`: narrow it with `.filter(user_id__...)`, use it as a
    subquery, or order and stream it. The bulk form of `consent_allows(purpose=SCORING)`
    for the sites that handle many users at once (the nightly run, imports, previews).
    Granting again supersedes the previous grant, but nothing in the database forbids
    two, so a caller that needs each id once asks for it (a set, `.distinct()`)."""
    return (
        ConsentGrant.objects.current(at)
        .filter(purpose=ConsentPurpose.SCORING)
        .values_list("user_id", flat=True)
    )


def consent_grants_for_user(*, user: User) -> QuerySet[ConsentGrant]:
    return (
        ConsentGrant.objects.filter(user=user)
        .select_related("text", "revocation")
        .order_by("-granted_at", "-id")
    )


def consent_text_current(*, purpose: str) -> ConsentText | None:
    return ConsentText.objects.filter(purpose=purpose).order_by("-version").first()


def consent_texts_current() -> dict[str, ConsentText]:
    """The newest text of every purpose, in one query."""
    texts: dict[str, ConsentText] = {}
    for text in ConsentText.objects.order_by("purpose", "-version"):
        texts.setdefault(text.purpose, text)
    return texts


def identity_for_user(*, user: User) -> Identity | None:
    return Identity.objects.filter(user=user).first()


def identity_full_name(identity: Identity) -> str:
    return decrypt_text(identity.full_name_encrypted)


def identity_birth_date(identity: Identity) -> datetime.date:
    """The birth date, decrypted: for the rules that need an age, never to be shown."""
    return birth_date_decrypt(identity.birth_date_encrypted)


def birth_date_for_user(*, user: User) -> datetime.date | None:
    """The verified birth date that bounds profile answers, or None before verification."""
    identity = identity_for_user(user=user)
    return identity_birth_date(identity) if identity else None


def identity_age(identity: Identity) -> int:
    """Whole years today: what pages, the API and the export show instead of the date."""
    return age_on(identity_birth_date(identity), timezone.localdate())


def identity_summary(identity: Identity) -> dict:
    """What a person is shown of their identity: nothing from which the number follows
    (the short mask, the age rather than the birth date, the region by name)."""
    return {
        "masked_id_number": identity.id_number_masked,
        "age": identity_age(identity),
        "gender": identity.gender,
        "region": identity.region_name,
        "verified_at": identity.verified_at,
    }


def identity_attempts_left(*, user: User, now: datetime.datetime | None = None) -> int:
    """Verification attempts left before the hourly lockout (the rule is in
    services/attempts.py), so the page can say so before it happens, not after."""
    now = now or timezone.now()
    used = IdentityAttempt.objects.filter(
        user=user, created_at__gt=now - datetime.timedelta(hours=1)
    ).count()
    return max(0, settings.IDENTITY_ATTEMPTS_PER_HOUR - used)


def identity_appeals_for_user(*, user: User) -> QuerySet[IdentityAppeal]:
    """The appeals this user filed, newest first."""
    return IdentityAppeal.objects.filter(appellant=user).order_by("-created_at", "-id")


def profile_get(*, user: User) -> Profile:
    """The user's profile, or an empty unsaved one before the first section is saved."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def profile_sections_status(profile: Profile) -> list[dict]:
    return [
        {
            "key": s.key,
            "title": s.title,
            "why": s.why,
            "complete": s.is_complete(profile),
            "used_by_score": s.used_by_score,
        }
        for s in SECTIONS
    ]


def profile_value_display(profile: Profile, name: str) -> str:
    """One profile answer as a person reads it ("" when unanswered): choices by their
    label, yes/no in words."""
    field = Profile._meta.get_field(name)
    value = getattr(profile, name)
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


# How a verified answer was verified, as field marks record it ("by"); a work email's
# mark predates "by" and is verified with a mailed code.
VERIFIED_HOW = {
    "document": gettext_lazy("verified by a document our staff checked"),
    "chsi_code": gettext_lazy("verified with a CHSI online verification code our staff checked"),
    "email_code": gettext_lazy("verified with a code sent to the address"),
}


def verified_how(field: str, mark: dict) -> str:
    """How a verified answer was verified, in words ("" when not verified)."""
    if mark.get("mark") != FieldMark.VERIFIED:
        return ""
    how = mark.get("by") or ("email_code" if field == "work_email" else "")
    return str(VERIFIED_HOW.get(how, ""))


def profile_field_marks(profile: Profile, fields: tuple[str, ...]) -> list[dict]:
    """Each filled field with its label, whether self-declared or verified (and how),
    and since when."""
    marks = []
    for field in fields:
        mark = profile.field_marks.get(field)
        if not mark:
            continue
        marks.append(
            {
                "field": field,
                "label": Profile._meta.get_field(field).verbose_name,
                "verified": mark["mark"] == FieldMark.VERIFIED,
                "how": verified_how(field, mark),
                "at": datetime.datetime.fromisoformat(mark["at"]),
            }
        )
    return marks


def section_verifications_for_user(*, user: User, section: str) -> QuerySet:
    """The person's requests to verify one section, newest first (their own only)."""
    return SectionVerification.objects.filter(user=user, section=section).order_by(
        "-created_at", "-id"
    )


def work_email_pending(*, profile: Profile) -> bool:
    """A work email is entered but not verified yet."""
    return bool(profile.pk and profile.work_email and profile.work_email_verified_at is None)


def sign_ins_for_user(
    *,
    user: User,
    current_token_digest: str | None = None,
    current_session_key: str | None = None,
    now: datetime.datetime | None = None,
) -> list[dict]:
    """The user's live sign-ins ("devices and sessions"), most recently used first, each
    with its device, times and whether it is the one asking. Expired tokens and sessions
    unused for longer than a session lives are left out. Never a token or session key."""
    now = now or timezone.now()
    current_hash = session_key_hash(current_session_key) if current_session_key else None
    rows = (
        SignIn.objects.filter(user=user)
        .filter(
            Q(kind=SignIn.Kind.TOKEN, token__expiry__isnull=True)
            | Q(kind=SignIn.Kind.TOKEN, token__expiry__gte=now)
            | Q(
                kind=SignIn.Kind.SESSION,
                last_used_at__gte=now - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE),
            )
        )
        .select_related("token")
        .order_by("-last_used_at", "-id")
    )
    return [
        {
            "id": row.pk,
            "kind": row.kind,
            "device": row.device,
            "created_at": row.created_at,
            "last_used_at": row.last_used_at,
            "expires_at": row.token.expiry if row.token_id else None,
            "current": (row.token_id is not None and row.token_id == current_token_digest)
            or (row.session_key_hash is not None and row.session_key_hash == current_hash),
        }
        for row in rows
    ]


def helpers_for_owner(*, user: User) -> QuerySet[HelperGrant]:
    """The person's helpers and invitations, newest first, with the helpers' accounts."""
    return HelperGrant.objects.filter(owner=user).select_related("helper")


def helping_for_helper(*, user: User) -> list[HelperGrant]:
    """Whom this account may act for now: the accepted, current grants it holds."""
    now = timezone.now()
    grants = HelperGrant.objects.filter(
        helper=user, revoked_at=None, accepted_at__isnull=False, expires_at__gt=now
    ).select_related("owner")
    return [grant for grant in grants if grant.is_active(now)]


def helper_grant_acting(*, helper_id: int, grant_id: int) -> HelperGrant | None:
    """The grant a session acting as `helper_id` names, with the person it is for, when it
    still stands (accepted, held by this helper, not revoked, not expired); else None.
    Read on every request of an acting session, so revocation and expiry are seen at the
    very next one."""
    grant = (
        HelperGrant.objects.select_related("owner").filter(pk=grant_id, helper_id=helper_id).first()
    )
    if grant is None or not grant.is_active() or not grant.owner.is_active:
        return None
    return grant


def helper_audit_for_owner(*, user: User, limit: int = 200) -> QuerySet[HelperAuditEntry]:
    return HelperAuditEntry.objects.filter(owner=user).order_by("-at", "-id")[:limit]


def accounts_export(*, user: User) -> dict:
    """accounts' part of "download my data" (sesame_portal.export.account_export merges
    the apps' parts). The ID number appears masked only: the full number is never sent
    anywhere, not even to its owner."""
    identity = identity_for_user(user=user)
    profile = profile_get(user=user)
    grants = consent_grants_for_user(user=user)
    return {
        "account": {
            "username": user.username,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "identity": identity
        and {"full_name": identity_full_name(identity), **identity_summary(identity)},
        "identity_appeals": list(
            user.identity_appeals.order_by("created_at", "id").values(
                "statement", "status", "reason", "created_at", "decided_at"
            )
        ),
        # Appeals others filed against the verification on this account: when and with
        # what outcome, never who filed them or why.
        "identity_appeals_against_me": list(
            user.identity_appeals_against.order_by("created_at", "id").values(
                "status", "created_at", "decided_at"
            )
        ),
        "identity_attempts": list(
            user.identity_attempts.order_by("created_at").values("created_at", "outcome")
        ),
        # Requests to verify profile sections; the documents themselves stay sealed.
        "profile_verifications": list(
            user.section_verifications.order_by("created_at", "id").values(
                "section", "method", "answers", "status", "reason", "created_at", "decided_at"
            )
        ),
        "consents": [
            {
                "id": grant.pk,
                "purpose": grant.purpose,
                "text_version": grant.text.version,
                "granted_at": grant.granted_at,
                "expires_at": grant.expires_at,
                "channel": grant.channel,
                "client_ip": grant.client_ip,
                "user_agent": grant.user_agent,
                "revoked_at": getattr(getattr(grant, "revocation", None), "revoked_at", None),
                "revocation_reason": getattr(getattr(grant, "revocation", None), "reason", None),
            }
            for grant in grants
        ],
        "profile": {
            **{field: getattr(profile, field) for section in SECTIONS for field in section.fields},
            "work_email_verified_at": profile.work_email_verified_at,
            "field_marks": profile.field_marks,
            "completion": completion_percent(profile),
        },
        "work_email_codes": list(
            user.work_email_challenges.order_by("created_at").values(
                "email", "created_at", "expires_at", "attempts", "verified_at"
            )
        ),
        "api_tokens": list(
            AuthToken.objects.filter(user=user).order_by("created").values("created", "expiry")
        ),
        # Labels and times only: never a token or a session key, nor their hashes.
        "devices_and_sessions": [
            {key: item[key] for key in ("kind", "device", "created_at", "last_used_at")}
            for item in sign_ins_for_user(user=user)
        ],
        "known_devices": list(
            user.known_devices.order_by("first_seen_at", "id").values("device", "first_seen_at")
        ),
        "notifications": list(
            user.notifications.order_by("created_at", "id").values(
                "kind", "params", "created_at", "read_at", "emailed_at"
            )
        ),
        "notification_preference": NotificationPreference.objects.filter(user=user)
        .values("by_email", "language", "data_use_alerts")
        .first(),
        # Whom the person let help, never the invitation code nor its hash.
        "helpers": list(
            user.helpers.order_by("invited_at", "id").values(
                "id",
                "name",
                "email",
                "level",
                "helper__username",
                "invited_at",
                "accepted_at",
                "expires_at",
                "revoked_at",
            )
        ),
        "helper_audit": list(
            user.helper_audit.order_by("at", "id").values(
                "grant_id", "helper_name", "at", "action", "method", "allowed", "status_code"
            )
        ),
    }

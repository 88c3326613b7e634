"""Reads for accounts. `consent_allows` is the one answer to "may this be done with
this user's data now?": every feature that computes, shows or shares data asks it."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from accounts.crypto import decrypt_text
from accounts.models import ConsentGrant, ConsentPurpose, ConsentScope, ConsentText, Identity, User
from benefits.models import Partner

# What each partner scope discloses; a request for a disclosure must be covered.
SCOPE_DISCLOSES = {
    ConsentScope.SCORE: {"score"},
    ConsentScope.SCORE_AND_SUBSCORES: {"score", "subscores"},
    ConsentScope.ELIGIBILITY: {"eligibility"},
}


def consent_allows(
    *,
    user: User,
    purpose: str,
    partner: Partner | None = None,
    disclosure: str | None = None,
    at: datetime.datetime | None = None,
) -> bool:
    """True when a current grant covers this purpose (and partner and disclosure)."""
    if user is None or not user.pk:
        return False
    grants = ConsentGrant.objects.current(at).filter(user=user, purpose=purpose)
    if purpose == ConsentPurpose.PARTNER_SHARING:
        if partner is None:
            return False
        # The partner's status is read from the database, not from the caller's object,
        # so a suspension takes effect at the very next check.
        grants = grants.filter(partner=partner, partner__status=Partner.Status.APPROVED)
        if disclosure is not None:
            scopes = [scope for scope, shown in SCOPE_DISCLOSES.items() if disclosure in shown]
            grants = grants.filter(scope__in=scopes)
    return grants.exists()


def consent_grants_for_user(*, user: User) -> QuerySet[ConsentGrant]:
    return (
        ConsentGrant.objects.filter(user=user)
        .select_related("text", "partner", "revocation")
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

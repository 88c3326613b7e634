"""Shareable score proofs: what a merchant opens instead of trusting a screenshot.

The link carries the proof's id and nonce signed with the portal's secret (Django's
signing), so a forged or altered link is refused before anything is looked up. What it
shows is judged on the person's current score at the moment it is opened, only while they
consent to scoring, until it expires or they revoke it; every opening is logged and shown
to them."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ConsentPurpose, User
from accounts.selectors import consent_allows, identity_for_user, identity_full_name
from scoring.ml.bands import BANDS
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import ScoreProof, ScoreProofOpening, ScoreSnapshot
from scoring.selectors import personal_statement_text, score_usable
from sesame_portal.errors import ServiceError

SALT = "scoring.proof"
LIFETIMES = {
    "1h": datetime.timedelta(hours=1),
    "1d": datetime.timedelta(days=1),
    "7d": datetime.timedelta(days=7),
    "30d": datetime.timedelta(days=30),
}
MAX_OPEN_PROOFS = 20


def proof_token(proof: ScoreProof) -> str:
    """The proof's link token: the same every time it is drawn (a QR code printed once
    stays the link shown later). The proof's own expiry and revocation decide whether it
    still answers, so the token carries no timestamp."""
    return signing.Signer(salt=SALT).sign_object({"p": proof.pk, "n": proof.nonce})


def _token_data(token: str) -> dict:
    if token.count(":") == 2:
        # A link given out before tokens were made stable: it carries a timestamp.
        return signing.loads(token, salt=SALT)
    return signing.Signer(salt=SALT).unsign_object(token)


def proof_create(
    *,
    user: User,
    shows: str,
    threshold: int | None,
    lifetime: str,
    show_name: bool,
    show_statement: bool = False,
    origin: str = ScoreProof.Origin.LINK,
) -> ScoreProof:
    """A proof that discloses only what the person chose (shows, threshold, show_name,
    show_statement): the one place those choices are judged, for links and printed
    statements alike."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        raise ServiceError(
            "consent_required", _("A proof needs your consent to scoring."), status_code=403
        )
    if not ScoreSnapshot.objects.filter(user=user).exists():
        raise ServiceError("no_score", _("You have no score to prove yet."), status_code=409)
    if shows not in ScoreProof.Shows.values:
        raise ServiceError("invalid", _("Choose what the proof shows."))
    if shows == ScoreProof.Shows.AT_LEAST:
        if threshold is None or not SCORE_MIN <= threshold <= SCORE_MAX:
            raise ServiceError(
                "threshold",
                _("Choose a number from %(min)d to %(max)d.")
                % {"min": SCORE_MIN, "max": SCORE_MAX},
            )
    else:
        threshold = None
    if lifetime not in LIFETIMES:
        raise ServiceError("lifetime", _("Choose how long the proof stays valid."))
    if show_statement and personal_statement_text(user=user) is None:
        raise ServiceError(
            "no_statement",
            _("Write your personal statement first, or leave it out."),
        )
    now = timezone.now()
    live = ScoreProof.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    if live.count() >= MAX_OPEN_PROOFS:
        raise ServiceError(
            "too_many", _("Revoke a proof you no longer need first."), status_code=409
        )
    return ScoreProof.objects.create(
        user=user,
        shows=shows,
        threshold=threshold,
        show_name=show_name,
        show_statement=show_statement,
        origin=origin,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + LIFETIMES[lifetime],
    )


def proof_revoke(*, user: User, proof_id: int) -> ScoreProof:
    with transaction.atomic():
        proof = ScoreProof.objects.select_for_update().filter(user=user, pk=proof_id).first()
        if proof is None:
            raise ServiceError("not_found", _("No such proof."), status_code=404)
        if proof.revoked_at is None:
            proof.revoked_at = timezone.now()
            proof.save(update_fields=["revoked_at"])
    return proof


def proofs_for_user(*, user: User):
    return ScoreProof.objects.filter(user=user).prefetch_related("openings")


def _masked(name: str) -> str:
    """李小龙 → 李*龙, 张伟 → 张*, 阿依古丽·买买提 → 阿*提."""
    if len(name) <= 2:
        return name[:1] + "*"
    return name[0] + "*" + name[-1]


def _band_range(band: str) -> tuple[int, int]:
    return next((low, high) for name, low, high in BANDS if name == band)


@dataclass(frozen=True)
class ProofAnswer:
    """What the merchant's page shows. status: shown, not_genuine, expired, revoked or
    unavailable (no consent or no score any more)."""

    status: str
    proof: ScoreProof | None = None
    band: str = ""  # the band's label
    band_code: str = ""
    band_low: int = 0
    band_high: int = 0
    meets: bool | None = None  # for "at least N"
    name: str = ""
    statement: str = ""  # the personal statement, when the person chose to show it
    checked_at: datetime.datetime | None = None

    @property
    def http_status(self) -> int:
        return {"shown": 200, "not_genuine": 404}.get(self.status, 410)


def proof_open(token: str) -> ProofAnswer:
    """Verify the link and answer it as of now; log the opening."""
    now = timezone.now()
    try:
        data = _token_data(token)
        proof_id, nonce = int(data["p"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return ProofAnswer("not_genuine")
    proof = ScoreProof.objects.select_related("user").filter(pk=proof_id, nonce=nonce).first()
    if proof is None:
        return ProofAnswer("not_genuine")
    answer = proof_answer(proof, now)
    ScoreProofOpening.objects.create(
        proof=proof, opened_at=now, outcome=answer.status, answer=_logged(answer)
    )
    return answer


def proof_answer(proof: ScoreProof, now: datetime.datetime) -> ProofAnswer:
    """What the proof discloses as of `now`: only what the person chose when creating it
    (the verification page and the printed statement both show this answer)."""
    if proof.revoked_at is not None:
        return ProofAnswer("revoked", proof)
    if proof.expires_at <= now:
        return ProofAnswer("expired", proof)
    user = proof.user
    snapshot = score_usable(user=user)
    if snapshot is None:
        return ProofAnswer("unavailable", proof)
    name = ""
    if proof.show_name:
        identity = identity_for_user(user=user)
        name = _masked(identity_full_name(identity)) if identity else ""
    statement = (personal_statement_text(user=user) or "") if proof.show_statement else ""
    if proof.shows == ScoreProof.Shows.BAND:
        low, high = _band_range(snapshot.band)
        return ProofAnswer(
            "shown",
            proof,
            band=str(ScoreSnapshot.Band(snapshot.band).label),
            band_code=snapshot.band,
            band_low=low,
            band_high=high,
            name=name,
            statement=statement,
            checked_at=now,
        )
    return ProofAnswer(
        "shown",
        proof,
        meets=snapshot.score >= proof.threshold,
        name=name,
        statement=statement,
        checked_at=now,
    )


def _logged(answer: ProofAnswer) -> str:
    """What the opening showed, for the person's log (never the exact score)."""
    if answer.status != "shown":
        return ""
    if answer.meets is not None:
        return "yes" if answer.meets else "no"
    return answer.band_code


def proof_openings_for_user(*, user: User, limit: int = 200):
    """Every opening of the person's proofs, newest first (for "who checked my score")."""
    return (
        ScoreProofOpening.objects.filter(proof__user=user)
        .select_related("proof")
        .order_by("-opened_at", "-id")[:limit]
    )

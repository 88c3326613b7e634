"""The printed credit statement (for an embassy or a landlord): a PDF carrying only what
the person chose, made from a proof created through proof_create (the same choices, judged
in the same place), whose QR code verifies it online."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from scoring.models import ScoreProof
from scoring.services.proofs import proof_answer, proof_create, proof_token
from scoring.statement_pdf import statement_font, statement_pdf
from sesame_portal.errors import ServiceError


@dataclass(frozen=True)
class CreditStatement:
    proof: ScoreProof
    pdf: bytes

    @property
    def filename(self) -> str:
        return f"sesame-statement-{self.proof.created_at:%Y%m%d}-{self.proof.pk}.pdf"


def credit_statement_create(
    *,
    user: User,
    shows: str,
    threshold: int | None,
    lifetime: str,
    show_name: bool,
    show_statement: bool,
    link_for: Callable[[str], str],
) -> CreditStatement:
    """Create the statement's proof (proof_create: consent, a score, valid choices) and
    draw the PDF from that proof's answer; `link_for` turns the proof's token into the
    absolute link its QR code carries. Nothing is kept when the PDF cannot be drawn."""
    statement_font()  # refused before anything is created
    with transaction.atomic():
        proof = proof_create(
            user=user,
            shows=shows,
            threshold=threshold,
            lifetime=lifetime,
            show_name=show_name,
            show_statement=show_statement,
            origin=ScoreProof.Origin.STATEMENT,
        )
        answer = proof_answer(proof, proof.created_at)
        if answer.status != "shown":
            raise ServiceError(
                "score_unavailable",
                _("Your score cannot be shown now, so no statement can be made."),
                status_code=409,
            )
        pdf = statement_pdf(answer, link=link_for(proof_token(proof)))
    return CreditStatement(proof=proof, pdf=pdf)

"""Download my data: everything held about the person, assembled at the top from each
app's part (accounts ← scoring ← benefits), so no app reads another's data for it."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from accounts.selectors import accounts_export
from benefits.selectors import NO_PARTNER_TERMS, benefits_export, partner_terms_by_grant
from benefits.selectors_receipts import receipts_export
from scoring.selectors import score_export


def account_export(*, user: User) -> dict:
    """Everything held about the user, for "download my data" (the page and the API)."""
    accounts_part = accounts_export(user=user)
    accounts_part["consents"] = _consents_with_partner_terms(
        accounts_part["consents"], partner_terms_by_grant(user=user)
    )
    return {
        "exported_at": timezone.now(),
        **accounts_part,
        **score_export(user=user),
        **benefits_export(user=user),
        **receipts_export(user=user),
    }


def _consents_with_partner_terms(consents: list[dict], terms: dict[int, dict]) -> list[dict]:
    """Each consent (accounts' ledger) with the partner and terms of its authorisation
    (benefits') after its text version, blank for a grant that shares with no partner."""
    rows = []
    for consent in consents:
        items = list(consent.items())
        after = [key for key, _value in items].index("text_version") + 1
        partner_terms = terms.get(consent["id"], NO_PARTNER_TERMS)
        rows.append(dict([*items[:after], *partner_terms.items(), *items[after:]]))
    return rows

"""Pages for benefits, one module per area: the catalogue and vouchers, a partner's
authorisation screen, and who checked my score; urls.py imports them from here."""

from __future__ import annotations

from benefits.views.authorisation import (
    TOKEN_SESSION_KEY,
    authorized,
    authorized_redirect,
    partner_authorize,
)
from benefits.views.catalogue import catalogue, claim, voucher, vouchers
from benefits.views.queries import DISCLOSED_LABELS, OUTCOME_LABELS, queries
from benefits.views.receipts import decision_dispute, honour_reports, partner_card

__all__ = [
    "DISCLOSED_LABELS",
    "OUTCOME_LABELS",
    "TOKEN_SESSION_KEY",
    "authorized",
    "authorized_redirect",
    "catalogue",
    "claim",
    "decision_dispute",
    "honour_reports",
    "partner_authorize",
    "partner_card",
    "queries",
    "voucher",
    "vouchers",
]

"""Pages for benefits, one module per area: the catalogue and vouchers, a partner's
authorisation screen, who checked my score and what each partner knows about me; urls.py
imports them from here."""

from __future__ import annotations

from benefits.views.authorisation import (
    TOKEN_SESSION_KEY,
    authorization_expiring,
    authorized,
    authorized_redirect,
    partner_authorize,
)
from benefits.views.catalogue import catalogue, claim, voucher, vouchers
from benefits.views.goals import goal, goal_remove
from benefits.views.partners import partner_erasure, partner_page
from benefits.views.queries import DISCLOSED_LABELS, OUTCOME_LABELS, queries
from benefits.views.receipts import decision_dispute, honour_reports, partner_card

__all__ = [
    "DISCLOSED_LABELS",
    "OUTCOME_LABELS",
    "TOKEN_SESSION_KEY",
    "authorization_expiring",
    "authorized",
    "authorized_redirect",
    "catalogue",
    "claim",
    "decision_dispute",
    "goal",
    "goal_remove",
    "honour_reports",
    "partner_authorize",
    "partner_card",
    "partner_erasure",
    "partner_page",
    "queries",
    "voucher",
    "vouchers",
]

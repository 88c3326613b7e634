"""Pages for benefits, one module per area: the catalogue and vouchers, a partner's
authorisation screen, and who checked my score; urls.py imports them from here."""

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
from benefits.views.queries import DISCLOSED_LABELS, OUTCOME_LABELS, queries

__all__ = [
    "DISCLOSED_LABELS",
    "OUTCOME_LABELS",
    "TOKEN_SESSION_KEY",
    "authorization_expiring",
    "authorized",
    "authorized_redirect",
    "catalogue",
    "claim",
    "goal",
    "goal_remove",
    "partner_authorize",
    "queries",
    "voucher",
    "vouchers",
]

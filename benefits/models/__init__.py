"""Benefits models, one module per concern; import them from here."""

from __future__ import annotations

from benefits.models.catalogue import Benefit, BenefitCategory, BenefitUnlock, Voucher
from benefits.models.goals import Goal
from benefits.models.partner_api import (
    DISCLOSED_LABELS,
    MAX_QUERIES_LIMIT,
    ConsentScope,
    ConsentUseLimit,
    ExpiryAnswer,
    PartnerAnomaly,
    PartnerApiKey,
    PartnerAuthorization,
    PartnerDecision,
    PartnerQuery,
    UseLimitChoice,
)
from benefits.models.partners import Partner, PartnerStatusChange

__all__ = [
    "DISCLOSED_LABELS",
    "MAX_QUERIES_LIMIT",
    "Benefit",
    "BenefitCategory",
    "BenefitUnlock",
    "ConsentScope",
    "ConsentUseLimit",
    "ExpiryAnswer",
    "Goal",
    "Partner",
    "PartnerAnomaly",
    "PartnerApiKey",
    "PartnerAuthorization",
    "PartnerDecision",
    "PartnerQuery",
    "PartnerStatusChange",
    "UseLimitChoice",
    "Voucher",
]

"""Benefits models, one module per concern; import them from here."""

from __future__ import annotations

from benefits.models.catalogue import Benefit, BenefitCategory, BenefitUnlock, Voucher
from benefits.models.erasure import ErasureRequest, erasure_due
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
from benefits.models.receipts import (
    HONOUR_ANSWER_WITHIN,
    DecisionReason,
    DecisionReceipt,
    HonourReport,
)

__all__ = [
    "DISCLOSED_LABELS",
    "HONOUR_ANSWER_WITHIN",
    "MAX_QUERIES_LIMIT",
    "Benefit",
    "BenefitCategory",
    "BenefitUnlock",
    "ConsentScope",
    "ConsentUseLimit",
    "DecisionReason",
    "DecisionReceipt",
    "ErasureRequest",
    "ExpiryAnswer",
    "Goal",
    "HonourReport",
    "Partner",
    "PartnerAnomaly",
    "PartnerApiKey",
    "PartnerAuthorization",
    "PartnerDecision",
    "PartnerQuery",
    "PartnerStatusChange",
    "UseLimitChoice",
    "Voucher",
    "erasure_due",
]

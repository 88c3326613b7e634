"""Benefits models, one module per concern; import them from here."""

from __future__ import annotations

from benefits.models.catalogue import Benefit, BenefitCategory, BenefitUnlock, Voucher
from benefits.models.partner_api import (
    PartnerAnomaly,
    PartnerApiKey,
    PartnerAuthorization,
    PartnerDecision,
    PartnerQuery,
)
from benefits.models.partners import Partner, PartnerStatusChange

__all__ = [
    "Benefit",
    "BenefitCategory",
    "BenefitUnlock",
    "Partner",
    "PartnerAnomaly",
    "PartnerApiKey",
    "PartnerAuthorization",
    "PartnerDecision",
    "PartnerQuery",
    "PartnerStatusChange",
    "Voucher",
]

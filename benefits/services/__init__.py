"""Writes for benefits; import them from here. (Partner access and partner calls are
imported from their own modules.)"""

from __future__ import annotations

from benefits.services.partners import benefit_publish, partner_status_set
from benefits.services.unlocks import unlocks_apply, unlocks_close_all
from benefits.services.vouchers import voucher_claim

__all__ = [
    "benefit_publish",
    "partner_status_set",
    "unlocks_apply",
    "unlocks_close_all",
    "voucher_claim",
]

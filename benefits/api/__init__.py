"""The person's API for benefits, one module per area: the catalogue, claims and vouchers,
who checked my score, the consents list composed with the partner authorisations, and
what each partner knows about me;
api_urls.py imports them from here. The partner API is in partner.py."""

from __future__ import annotations

from benefits.api.catalogue import (
    BenefitClaimApi,
    BenefitListApi,
    CatalogueItemSerializer,
    ClaimedVoucherSerializer,
    VoucherListApi,
    VoucherSerializer,
)
from benefits.api.consents import (
    TERMS_READ_BLANK,
    AuthorizationRenewApi,
    ConsentListApi,
    ConsentOutputSerializer,
)
from benefits.api.goals import GoalApi, GoalOutputSerializer, GoalsApi
from benefits.api.partners import MyPartnerDetailApi, MyPartnerErasureApi, MyPartnerListApi
from benefits.api.queries import QueryListApi, QuerySerializer

__all__ = [
    "TERMS_READ_BLANK",
    "AuthorizationRenewApi",
    "BenefitClaimApi",
    "BenefitListApi",
    "CatalogueItemSerializer",
    "ClaimedVoucherSerializer",
    "ConsentListApi",
    "ConsentOutputSerializer",
    "GoalApi",
    "GoalOutputSerializer",
    "GoalsApi",
    "MyPartnerDetailApi",
    "MyPartnerErasureApi",
    "MyPartnerListApi",
    "QueryListApi",
    "QuerySerializer",
    "VoucherListApi",
    "VoucherSerializer",
]

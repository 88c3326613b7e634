from __future__ import annotations

from django.urls import path

from benefits.api import partner as api
from benefits.api import partner_erasure

urlpatterns = [
    path(
        "authorizations/<str:token>/score/",
        api.partner_score,
        name="partner-score",
    ),
    path(
        "authorizations/<str:token>/benefits/<int:benefit_id>/eligibility/",
        api.PartnerEligibilityApi.as_view(),
        name="partner-eligibility",
    ),
    path(
        "authorizations/<str:token>/decisions/",
        api.PartnerDecisionApi.as_view(),
        name="partner-decisions",
    ),
    path("vouchers/<str:code>/", api.PartnerVoucherApi.as_view(), name="partner-voucher"),
    path(
        "vouchers/<str:code>/redeem/",
        api.PartnerVoucherRedeemApi.as_view(),
        name="partner-voucher-redeem",
    ),
    path("identity-check/", api.PartnerIdentityCheckApi.as_view(), name="partner-identity-check"),
    path(
        "erasure-requests/",
        partner_erasure.PartnerErasureRequestListApi.as_view(),
        name="partner-erasure-requests",
    ),
    path(
        "erasure-requests/<int:request_id>/done/",
        partner_erasure.PartnerErasureRequestDoneApi.as_view(),
        name="partner-erasure-request-done",
    ),
]

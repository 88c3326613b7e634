from __future__ import annotations

from django.urls import path

from benefits import api

urlpatterns = [
    path("me/benefits/", api.BenefitListApi.as_view(), name="api-benefits"),
    path(
        "me/benefits/<int:benefit_id>/claim/",
        api.BenefitClaimApi.as_view(),
        name="api-benefit-claim",
    ),
    path("me/vouchers/", api.VoucherListApi.as_view(), name="api-vouchers"),
    path("me/queries/", api.QueryListApi.as_view(), name="api-queries"),
    path("me/goals/", api.GoalsApi.as_view(), name="api-goals"),
    path("me/goal/", api.GoalApi.as_view(), name="api-goal"),
    path("me/consents/", api.ConsentListApi.as_view(), name="api-consents"),
    path("me/partners/", api.MyPartnerListApi.as_view(), name="api-partners"),
    path("me/partners/<int:partner_id>/", api.MyPartnerDetailApi.as_view(), name="api-partner"),
    path(
        "me/partners/<int:partner_id>/erasure/",
        api.MyPartnerErasureApi.as_view(),
        name="api-partner-erasure",
    ),
    path(
        "me/authorizations/<int:authorization_id>/renew/",
        api.AuthorizationRenewApi.as_view(),
        name="api-authorization-renew",
    ),
]

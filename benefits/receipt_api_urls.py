"""The API paths of decision receipts, honour reports and partners' public cards."""

from __future__ import annotations

from django.urls import path

from benefits.api import receipts as api

urlpatterns = [
    path("me/decisions/", api.MyDecisionListApi.as_view(), name="api-decisions"),
    path(
        "me/decisions/<int:receipt_id>/dispute/",
        api.MyDecisionDisputeApi.as_view(),
        name="api-decision-dispute",
    ),
    path("me/honour-reports/", api.HonourReportListApi.as_view(), name="api-honour-reports"),
    path("partners/<int:partner_id>/card/", api.PartnerCardApi.as_view(), name="api-partner-card"),
]

from __future__ import annotations

from django.urls import path

from benefits import views

app_name = "benefits"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<int:benefit_id>/claim/", views.claim, name="claim"),
    path("vouchers/", views.vouchers, name="vouchers"),
    path("vouchers/<int:voucher_id>/", views.voucher, name="voucher"),
    path("goal/", views.goal, name="goal"),
    path("goal/remove/", views.goal_remove, name="goal_remove"),
    path("queries/", views.queries, name="queries"),
    path("partners/<int:partner_id>/", views.partner_page, name="partner"),
    path("partners/<int:partner_id>/erasure/", views.partner_erasure, name="partner_erasure"),
    path("partners/<int:partner_id>/authorize/", views.partner_authorize, name="authorize"),
    path("authorized/<int:grant_id>/", views.authorized, name="authorized"),
    path("decisions/<int:receipt_id>/dispute/", views.decision_dispute, name="decision_dispute"),
    path("honour-reports/", views.honour_reports, name="honour_reports"),
    path("partners/<int:partner_id>/card/", views.partner_card, name="partner_card"),
    path(
        "authorizations/<int:authorization_id>/expiring/",
        views.authorization_expiring,
        name="authorization_expiring",
    ),
]

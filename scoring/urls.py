from __future__ import annotations

from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("history/", views.history, name="history"),
    path("what-if/", views.what_if, name="what_if"),
    path("how-it-works/", views.how_it_works, name="how_it_works"),
    path("records/", views.records, name="records"),
    path("statement/", views.statement, name="statement"),
    path("disputes/new/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:dispute_id>/", views.dispute_detail, name="dispute"),
    path(
        "disputes/<int:dispute_id>/attachment/",
        views.dispute_attachment,
        name="dispute_attachment",
    ),
    path("proofs/", views.proof_list, name="proofs"),
    path("proofs/statement/", views.credit_statement, name="credit_statement"),
    path("proofs/<int:proof_id>/", views.proof_detail, name="proof"),
    path("proofs/<int:proof_id>/revoke/", views.proof_revoke, name="proof_revoke"),
]

from __future__ import annotations

from django.urls import path

from scoring import proof_views, views

app_name = "scoring"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path("recompute/", views.recompute, name="recompute"),
    path("history/", views.history, name="history"),
    path("what-if/", views.what_if, name="what_if"),
    path("how-it-works/", views.how_it_works, name="how_it_works"),
    path("proofs/", proof_views.proof_list, name="proofs"),
    path("proofs/<int:proof_id>/", proof_views.proof_detail, name="proof"),
    path("proofs/<int:proof_id>/revoke/", proof_views.proof_revoke, name="proof_revoke"),
]

from __future__ import annotations

from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("what-if/", views.what_if, name="what_if"),
]

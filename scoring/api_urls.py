from __future__ import annotations

from django.urls import path

from scoring import api

urlpatterns = [
    path("me/score/", api.ScoreApi.as_view(), name="api-score"),
    path("me/score/history/", api.ScoreHistoryApi.as_view(), name="api-score-history"),
    path("me/score/what-if/", api.WhatIfApi.as_view(), name="api-score-what-if"),
    path("me/statement/", api.CreditStatementApi.as_view(), name="api-statement"),
    path("me/disputes/", api.DisputeListApi.as_view(), name="api-disputes"),
]

"""The user API for scoring: the score, its history and what-if (scores.py), my disputes
(disputes.py); api_urls.py imports the views from here."""

from __future__ import annotations

from scoring.api.disputes import DisputeListApi
from scoring.api.scores import ScoreApi, ScoreHistoryApi, WhatIfApi

__all__ = ["DisputeListApi", "ScoreApi", "ScoreHistoryApi", "WhatIfApi"]

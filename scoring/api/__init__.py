"""The user API for scoring: the score, its history and what-if (scores.py), my disputes
(disputes.py) and the printed statement (statements.py); api_urls.py imports the views
from here."""

from __future__ import annotations

from scoring.api.disputes import DisputeListApi
from scoring.api.scores import ScoreApi, ScoreHistoryApi, WhatIfApi
from scoring.api.statements import CreditStatementApi

__all__ = ["CreditStatementApi", "DisputeListApi", "ScoreApi", "ScoreHistoryApi", "WhatIfApi"]

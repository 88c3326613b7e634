"""Pages for scoring, one module per area: the score's history, what-if and how it works
(score.py), scoring's part of the score home (home.py), the records with disputes and the
personal statement (disputes.py), and proofs with the printed statement (proofs.py);
urls.py imports the views from here. The charts they draw are computed in scoring/charts.py."""

from __future__ import annotations

from scoring.views.disputes import (
    dispute_attachment,
    dispute_detail,
    dispute_new,
    records,
    statement,
)
from scoring.views.proofs import credit_statement, proof_detail, proof_list, proof_revoke
from scoring.views.score import history, how_it_works, what_if

__all__ = [
    "credit_statement",
    "dispute_attachment",
    "dispute_detail",
    "dispute_new",
    "history",
    "how_it_works",
    "proof_detail",
    "proof_list",
    "proof_revoke",
    "records",
    "statement",
    "what_if",
]

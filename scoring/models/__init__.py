"""The data scoring keeps, one module per concern: the records a score is built from,
model versions, score snapshots, recompute runs, proofs, disputes, personal statements and
the court list."""

from __future__ import annotations

from scoring.models.court_list import CourtListEntry, CourtListImport, CourtListOverride
from scoring.models.disputes import Dispute, DisputeAttachment, DisputeEvent, DisputeEvidenceAccess
from scoring.models.model_versions import ModelVersion
from scoring.models.proofs import ScoreProof, ScoreProofOpening
from scoring.models.recompute import PendingRecompute, RecomputeChunk, RecomputeRun
from scoring.models.records import (
    ActivityMonth,
    CreditAccount,
    Friendship,
    Repayment,
    SyntheticOutcome,
    UtilityBill,
    WealthHolding,
)
from scoring.models.snapshots import ScoreSnapshot
from scoring.models.statements import PersonalStatement

__all__ = [
    "ActivityMonth",
    "CourtListEntry",
    "CourtListImport",
    "CourtListOverride",
    "CreditAccount",
    "Dispute",
    "DisputeAttachment",
    "DisputeEvent",
    "DisputeEvidenceAccess",
    "Friendship",
    "ModelVersion",
    "PendingRecompute",
    "PersonalStatement",
    "RecomputeChunk",
    "RecomputeRun",
    "Repayment",
    "ScoreProof",
    "ScoreProofOpening",
    "ScoreSnapshot",
    "SyntheticOutcome",
    "UtilityBill",
    "WealthHolding",
]

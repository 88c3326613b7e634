"""Writes for scoring, one module per concern: scores and what-if, the recompute (per
user, per chunk, pending states), disputes, proofs, record imports, the court list."""

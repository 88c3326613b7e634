"""Self-declared answers may move the score by a small, fixed amount; verified data counts
fully. The one place this is written: every path that scores a person (their recompute,
the nightly chunk, what-if) takes its points from `points_capped`.

How it works: a person's points are computed twice, from all their answers and from the
verified ones alone (scoring.ml.features.features_verified_only). The difference, feature
by feature, is what the declared answers did. Their gains together may add at most
DECLARED_POINTS_CAP points and their losses take away at most as many: beyond that, each
feature's share is scaled down in proportion, in whole points, so that the capped points
still add up to the score and its reasons exactly.

Why 30: a band is 50 points wide (600-649 good, 650-699 very good), so declared answers
alone can never carry a person more than one band, while someone with a thin file still
sees that completing their profile counts. Before the cap, declaring the best answers moved
a new person from 532 to 727, four bands up; verified documents lift the cap for the
answers they prove.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accounts.profile_sections import DECLARED_POINTS_CAP

__all__ = ["DECLARED_POINTS_CAP", "declared_points", "points_capped"]


def _scaled_to(amounts: np.ndarray, limit: int) -> np.ndarray:
    """Non-negative whole-point amounts, each row scaled down to total `limit` when it
    totals more (largest remainders get the odd points, so the total is exactly `limit`)."""
    totals = amounts.sum(axis=1)
    over = totals > limit
    if not over.any():
        return amounts
    rows = amounts[over]
    exact = rows * (limit / totals[over])[:, None]
    whole = np.floor(exact)
    short = (limit - whole.sum(axis=1)).astype(int)
    order = np.argsort(-(exact - whole), axis=1, kind="stable")
    ranks = np.argsort(order, axis=1, kind="stable")
    whole += ranks < short[:, None]
    capped = amounts.copy()
    capped[over] = whole
    return capped


def points_capped(
    points: pd.DataFrame,
    verified_points: pd.DataFrame | None,
    *,
    cap: int = DECLARED_POINTS_CAP,
) -> pd.DataFrame:
    """Points per feature with what declared answers add, and what they take away, each
    held to `cap` in total. `verified_points`: the same people's points from verified
    data only (None: all of it is verified)."""
    if verified_points is None:
        return points
    full = points.to_numpy(dtype=float)
    verified = verified_points[list(points.columns)].to_numpy(dtype=float)
    declared = full - verified
    gains = _scaled_to(np.clip(declared, 0, None), cap)
    losses = _scaled_to(np.clip(-declared, 0, None), cap)
    return pd.DataFrame(verified + gains - losses, index=points.index, columns=points.columns)


def declared_points(points: pd.DataFrame, verified_points: pd.DataFrame | None) -> np.ndarray:
    """What declared answers add to each row's points (negative: take away), after the
    cap: `points` are the capped points."""
    if verified_points is None:
        return np.zeros(len(points))
    difference = points.to_numpy(dtype=float) - verified_points[list(points.columns)].to_numpy(
        dtype=float
    )
    return difference.sum(axis=1)

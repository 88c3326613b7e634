"""Chart geometry for the score pages, computed on the server and drawn by templates as
inline SVG: no chart library, no script, nothing fetched from elsewhere. Coordinates are
in each chart's own viewBox; the templates only place what is computed here."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.ml.bands import BANDS
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN

_SPAN = SCORE_MAX - SCORE_MIN


def _point(cx: float, cy: float, radius: float, angle: float) -> tuple[float, float]:
    """A point on a circle; angle in radians, 0 to the right, counter-clockwise, y down."""
    return round(cx + radius * math.cos(angle), 2), round(cy - radius * math.sin(angle), 2)


# --- Gauge ------------------------------------------------------------------------------

GAUGE_CX, GAUGE_CY, GAUGE_R = 120, 120, 100


def _gauge_angle(score: float) -> float:
    """350 at the left end of the half circle, 950 at the right end."""
    share = (min(max(score, SCORE_MIN), SCORE_MAX) - SCORE_MIN) / _SPAN
    return math.pi * (1 - share)


def _arc(start_score: float, end_score: float) -> str:
    x1, y1 = _point(GAUGE_CX, GAUGE_CY, GAUGE_R, _gauge_angle(start_score))
    x2, y2 = _point(GAUGE_CX, GAUGE_CY, GAUGE_R, _gauge_angle(end_score))
    # Never more than half a circle, always clockwise on screen.
    return f"M {x1} {y1} A {GAUGE_R} {GAUGE_R} 0 0 1 {x2} {y2}"


@dataclass(frozen=True)
class Gauge:
    bands: list[dict]  # {name, path}: one coloured arc per band
    value_path: str  # the arc from SCORE_MIN to the score
    marker: tuple[float, float]  # where the score sits on the arc
    low: int = SCORE_MIN  # the numbers at the two ends
    high: int = SCORE_MAX


def gauge(score: int) -> Gauge:
    bands = []
    for name, low, high in BANDS:
        # Bands meet at the boundary (549 | 550 drawn as one point) with no gap.
        start = SCORE_MIN if low == SCORE_MIN else low - 0.5
        end = SCORE_MAX if high == SCORE_MAX else high + 0.5
        bands.append({"name": name, "path": _arc(start, end)})
    return Gauge(
        bands=bands,
        value_path=_arc(SCORE_MIN, score),
        marker=_point(GAUGE_CX, GAUGE_CY, GAUGE_R, _gauge_angle(score)),
    )


# --- Radar ------------------------------------------------------------------------------

RADAR_CX, RADAR_CY, RADAR_R = 180, 122, 80
RADAR_RINGS = (25, 50, 75, 100)


@dataclass(frozen=True)
class RadarAxis:
    label: str
    value: int
    end: tuple[float, float]  # the axis end (100)
    label_at: tuple[float, float]
    anchor: str  # text-anchor for the label
    no_data: bool = False  # nothing of the person's behind it: greyed, no number


@dataclass(frozen=True)
class Radar:
    axes: list[RadarAxis]
    rings: list[str]  # polygon points for 25, 50, 75 and 100
    shape: str  # polygon points of the sub-scores
    dots: list[tuple[float, float]]


def _vertex(index: int, count: int, radius: float) -> tuple[float, float]:
    # The first axis points straight up; the rest follow clockwise.
    angle = math.pi / 2 - 2 * math.pi * index / count
    return _point(RADAR_CX, RADAR_CY, radius, angle)


def _points(coordinates: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in coordinates)


def radar(values: Sequence[tuple[str, int]], *, no_data: Sequence[bool] = ()) -> Radar:
    """values: (label, sub-score 0-100) per dimension, in display order; no_data: per
    dimension, whether nothing of the person's is behind it."""
    count = len(values)
    axes = []
    for index, (label, value) in enumerate(values):
        end = _vertex(index, count, RADAR_R)
        label_x, label_y = _vertex(index, count, RADAR_R + 14)
        if abs(label_x - RADAR_CX) < 1:  # the top axis: name and value on one line above
            anchor, label_y = "middle", label_y - 2
        else:  # the others: name, and the value under it, away from the shape
            anchor = "start" if label_x > RADAR_CX else "end"
            label_y += -2 if label_y < RADAR_CY else 10
        empty = index < len(no_data) and bool(no_data[index])
        axes.append(RadarAxis(str(label), int(value), end, (label_x, label_y), anchor, empty))
    dots = [
        _vertex(index, count, RADAR_R * max(0, min(100, value)) / 100)
        for index, (_label, value) in enumerate(values)
    ]
    rings = [
        _points([_vertex(index, count, RADAR_R * ring / 100) for index in range(count)])
        for ring in RADAR_RINGS
    ]
    return Radar(axes=axes, rings=rings, shape=_points(dots), dots=dots)


# --- History ----------------------------------------------------------------------------

HISTORY_W, HISTORY_H = 340, 170
HISTORY_LEFT, HISTORY_RIGHT, HISTORY_TOP, HISTORY_BOTTOM = 40, 12, 12, 28


@dataclass(frozen=True)
class HistoryPoint:
    x: float
    y: float
    score: int
    at: datetime.datetime
    key: object = None  # what the point stands for (a snapshot id), for links
    # The tap target of a linked point: a full-height strip up to halfway to each
    # neighbour, so targets never overlap and are as wide as the spacing allows.
    hit_left: float = 0
    hit_width: float = 0


@dataclass(frozen=True)
class History:
    points: list[HistoryPoint]
    line: str  # polyline points
    gridlines: list[dict]  # {y, label_y, score}: band boundaries and the range ends
    first: HistoryPoint
    last: HistoryPoint
    low: int
    high: int


def _score_range(scores: Sequence[int]) -> tuple[int, int]:
    """A y range around the scores, on 50-point steps, at least 100 points tall, inside
    350-950: a change of 10 points is visible, a flat history is not stretched."""
    low = max(SCORE_MIN, math.floor((min(scores) - 10) / 50) * 50)
    high = min(SCORE_MAX, math.ceil((max(scores) + 10) / 50) * 50)
    while high - low < 100:
        if low > SCORE_MIN:
            low = max(SCORE_MIN, low - 50)
        if high - low < 100 and high < SCORE_MAX:
            high = min(SCORE_MAX, high + 50)
    return low, high


def _with_hit_strips(points: list[HistoryPoint]) -> list[HistoryPoint]:
    edges = [
        0,
        *((left.x + right.x) / 2 for left, right in itertools.pairwise(points)),
        HISTORY_W,
    ]
    return [
        dataclasses.replace(
            point, hit_left=round(edges[i], 2), hit_width=round(edges[i + 1] - edges[i], 2)
        )
        for i, point in enumerate(points)
    ]


def history(snapshots: Sequence[tuple]) -> History | None:
    """snapshots: (computed_at, score) or (computed_at, score, key), any order. None when
    there is nothing to draw."""
    if not snapshots:
        return None
    ordered = sorted(snapshots, key=lambda row: row[:2])
    scores = [row[1] for row in ordered]
    low, high = _score_range(scores)
    plot_w = HISTORY_W - HISTORY_LEFT - HISTORY_RIGHT
    plot_h = HISTORY_H - HISTORY_TOP - HISTORY_BOTTOM
    start, end = ordered[0][0], ordered[-1][0]
    span = (end - start).total_seconds()

    def y_of(score: float) -> float:
        return round(HISTORY_TOP + plot_h * (high - score) / (high - low), 2)

    points = []
    for index, (at, score, *key) in enumerate(ordered):
        if span > 0:
            share = (at - start).total_seconds() / span
        else:
            share = 0.5 if len(ordered) == 1 else index / (len(ordered) - 1)
        x = round(HISTORY_LEFT + plot_w * share, 2)
        points.append(HistoryPoint(x, y_of(score), score, at, key[0] if key else None))
    points = _with_hit_strips(points)
    boundaries = sorted({low, high} | {b for _n, b, _h in BANDS if low < b < high})
    return History(
        points=points,
        line=_points([(p.x, p.y) for p in points]),
        gridlines=[
            {"y": y_of(value), "label_y": y_of(value) + 4, "score": value} for value in boundaries
        ],
        first=points[0],
        last=points[-1],
        low=low,
        high=high,
    )

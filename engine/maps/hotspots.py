"""
Geo-bias hotspots: per-centre unmarked / marked SSI at one scale, dataset-level scores, and the per-centre
scores averaged into H3 cells at the scale's fixed resolution (:data:`~engine.maps.scales.SCALE_H3_RES`).

Scales (docs/geobias.md): ``100km`` and ``1000km`` (fixed radius, K_p neighbours) and ``knn`` (the K nearest,
r = distance to the K-th). Marks: +1 correct / −1 wrong; for errors, +1 where |error| ≤ median |error|.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from engine.maps.compare import map_values
from engine.maps.h3grid import latlng_to_cells
from engine.maps.scales import scale_resolution

SCALE_KWARGS: dict[str, dict[str, int]] = {
    "100km": {"radius_km": 100},
    "1000km": {"radius_km": 1000},
    "knn": {"knn": 100},
}
"""Keyword arguments of :func:`engine.metrics.geobias.ssi_scores_multi` per scale (K_p / K = 100)."""


@dataclass(frozen=True, eq=False)
class Hotspots:
    """Geo-bias of one prediction table at one scale.

    Attributes:
        scale: ``100km``, ``1000km`` or ``knn``.
        res: H3 resolution of ``cells``.
        n_points: located points (= centres).
        scores: dataset-level scores: ``unmarked``, ``marked`` (means of per-centre SSI),
            ``unmarked_weighted``, ``marked_weighted`` (neighbour-count-weighted means) and
            ``marked_wrong`` (mean marked SSI over the centres marked −1; NaN if none).
        cells: one row per H3 cell: ``cell``, ``unmarked``, ``marked`` (mean SSI), ``count``.
        mark_rule: how the ±1 marks were made, in words.

    """

    scale: str
    res: int
    n_points: int
    scores: dict[str, float]
    cells: pd.DataFrame
    mark_rule: str


def geobias_hotspots(
    predictions: pd.DataFrame, scale: str, *, value_col: str | None = None, res: int | None = None
) -> Hotspots:
    """Unmarked and marked SSI hotspots of a prediction table at ``scale``.

    A thin view of :func:`engine.metrics.geobias.report` (one scale): the same marks (+1 correct / −1 wrong;
    regression +1 where |error| ≤ the median) and dataset scores, re-aggregated to ``res`` when asked.

    Args:
        predictions: a run's prediction table or an uploaded one (``lon, lat`` and ``correct`` or
            ``abs_error`` / ``error``).
        scale: ``100km``, ``1000km`` or ``knn``.
        value_col: the column that makes the marks (default: ``correct``, else ``abs_error``).
        res: H3 resolution of the hotspot cells (default: the scale's fixed one).

    Returns:
        The :class:`Hotspots`.

    Raises:
        ValueError: for an unknown scale or fewer located points than the neighbourhood size (100).

    """
    from engine.metrics.geobias import report  # lazy: the maps work without the GBS stack loaded

    if scale not in SCALE_KWARGS:
        raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALE_KWARGS)}")
    res = scale_resolution(scale) if res is None else res
    mv = map_values(predictions, value_col)
    column = "correct" if mv.column == "correct" else "error"
    values = mv.values > 0.5 if column == "correct" else mv.values
    frame = pd.DataFrame({"lon": mv.lonlat[:, 0], "lat": mv.lonlat[:, 1], column: values})
    rep = report(frame, scales=(scale,))
    sc = rep.scales[scale]
    marked = sc.marked if sc.marked is not None else sc.unmarked
    marked_scores = sc.marked_scores if sc.marked_scores is not None else sc.unmarked_scores
    scores = {
        "unmarked": sc.unmarked_scores.mean,
        "marked": marked_scores.mean,
        "unmarked_weighted": sc.unmarked_scores.weighted_mean,
        "marked_weighted": marked_scores.weighted_mean,
        "marked_wrong": float("nan") if marked_scores.wrong_mean is None else marked_scores.wrong_mean,
    }
    per_point = pd.DataFrame(
        {"cell": latlng_to_cells(mv.lonlat, res), "unmarked": sc.unmarked.ssi, "marked": marked.ssi}
    )
    cells = (
        per_point.groupby("cell", sort=True)
        .agg(unmarked=("unmarked", "mean"), marked=("marked", "mean"), count=("unmarked", "size"))
        .reset_index()
    )
    return Hotspots(scale, res, len(mv.values), scores, cells, rep.mark_rule)

"""The dataset-level Geo-Bias Scores of a run, from its per-sample test predictions.

Calls :func:`engine.metrics.geobias.report` on the located test rows (at most ``max_points`` of them, a fixed
random subset so that every model of a dataset is scored on the same points) and returns its flat
``summary()`` as metrics. Whatever prevents a score (the module is absent, too few located points, a
``ValueError`` from the report) is returned as a note, never raised: the run itself still counts.
"""

from __future__ import annotations

import importlib
import math
from numbers import Real
from typing import Any

import pandas as pd

GEOBIAS_MODULE = "engine.metrics.geobias"
GEOBIAS_SCALES: tuple[str, ...] = ("100km", "1000km", "knn")
"""The three scales of the dataset-level scores (see the Geo-Bias Score definition)."""
MIN_GEOBIAS_POINTS = 100
"""Fewer located test points than this give no score (the reference needs N ≥ its neighbour cap 100)."""
SUBSET_SEED = 0
"""Seed of the located-point subset, the same for every model and seed."""


def geobias_points(predictions: pd.DataFrame, max_points: int = 0) -> pd.DataFrame:
    """The located prediction rows to score: all, or a fixed random subset of ``max_points`` (0 = all)."""
    located = predictions[predictions["has_location"].astype(bool)]
    if max_points and len(located) > max_points:
        located = located.sample(n=max_points, random_state=SUBSET_SEED).sort_index()
    return located.reset_index(drop=True)


def geobias_metrics(
    predictions: pd.DataFrame, *, max_points: int = 0, scales: tuple[str, ...] = GEOBIAS_SCALES
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Geo-Bias Scores as metrics ``{name: {"value", "low", "high"}}`` and a note on how they were made.

    Args:
        predictions: the run's test predictions (``lon, lat, has_location, target, prediction`` and
            ``correct`` or ``error``).
        max_points: cap on the located rows scored (0 = all).
        scales: the report's scales.

    Returns:
        ``(metrics, note)``; ``note["status"]`` is ``"ok"``, ``"skipped"`` or ``"failed"`` with a ``reason``.
    """
    try:
        module = importlib.import_module(GEOBIAS_MODULE)
    except ModuleNotFoundError as err:
        if err.name != GEOBIAS_MODULE:
            raise
        return {}, {"status": "skipped", "reason": f"{GEOBIAS_MODULE} is not available"}
    report = getattr(module, "report", None)
    if report is None:
        return {}, {"status": "skipped", "reason": f"{GEOBIAS_MODULE} has no report()"}
    points = geobias_points(predictions, max_points)
    note: dict[str, Any] = {"points": len(points), "max_points": max_points, "scales": list(scales)}
    if len(points) < MIN_GEOBIAS_POINTS:
        reason = f"{len(points)} located test points (< {MIN_GEOBIAS_POINTS})"
        return {}, {**note, "status": "skipped", "reason": reason}
    try:
        summary = report(points, scales=scales).summary()
    except (ValueError, RuntimeError) as err:  # a scoring failure is noted; the run itself still counts
        return {}, {**note, "status": "failed", "reason": f"{type(err).__name__}: {err}"}
    nan = math.nan
    metrics = {
        str(k): {"value": float(v), "low": nan, "high": nan}
        for k, v in summary.items()
        if isinstance(v, Real) and not isinstance(v, bool)
    }
    return metrics, {**note, "status": "ok"}

"""A Geo-Bias report for a table of predictions: SSI at several scales, dataset scores and H3 hotspots.

Each scale scores every point as a centre, unmarked (where the points are) and marked (where the model is
right (+1) or wrong (−1)); both share one neighbour graph. Dataset scores are the mean per-centre SSI, the
neighbour-count-weighted mean and the mean over wrong centres only (the paper-era protocol). Hotspots average
the per-centre SSI into H3 cells at a resolution fixed per scale (:data:`H3_RESOLUTION`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import h3
import numpy as np
import pandas as pd

from engine.metrics.geobias.ssi import Density, Method, SSIScores, Ties, ssi_scores_multi

H3_RESOLUTION: dict[str, int] = {"100km": 3, "1000km": 1, "knn": 2}
"""H3 resolution of the hotspot table per scale: res 3 (mean edge ≈ 69 km) for 100 km, res 1 (≈ 483 km) for
1000 km, res 2 (≈ 183 km) for the adaptive kNN scale. Other "<x>km" scales take the resolution whose mean
edge is nearest (in log) to 0.69·x."""
H3_EDGE_KM = (1281.256, 483.057, 182.513, 68.979, 26.072, 9.854, 3.725, 1.406, 0.531, 0.201)
"""Mean H3 hexagon edge length (km) for resolutions 0 … 9."""
Task = Literal["auto", "classification", "regression", "unmarked"]


def parse_scale(name: str) -> tuple[float | None, int]:
    """(radius_km or None for "knn", H3 resolution) of a scale name: "knn" or "<x>km"."""
    if name == "knn":
        return None, H3_RESOLUTION["knn"]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)km", name)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"unknown scale {name!r}: use 'knn' or '<radius>km' such as 100km, 1000km")
    km = float(match.group(1))
    if name in H3_RESOLUTION:
        return km, H3_RESOLUTION[name]
    res = int(np.argmin(np.abs(np.log(np.array(H3_EDGE_KM)) - math.log(0.69 * km))))
    return km, res


@dataclass(frozen=True)
class DatasetScores:
    """Dataset-level SSI: mean, neighbour-count-weighted mean and mean over wrong centres (None: none)."""

    mean: float
    weighted_mean: float
    wrong_mean: float | None

    @staticmethod
    def of(scores: SSIScores, wrong: np.ndarray | None) -> DatasetScores:
        """Aggregate per-centre ``scores``."""
        w = scores.n_neighbors.astype(np.float64)
        wrong_mean = float(scores.ssi[wrong].mean()) if wrong is not None and wrong.any() else None
        return DatasetScores(float(scores.ssi.mean()), float((scores.ssi * w).sum() / w.sum()), wrong_mean)


@dataclass(frozen=True, eq=False)
class ScaleReport:
    """One scale: per-centre scores, dataset scores and the H3 hotspot table (cell, n_points, means)."""

    scale: str
    radius_km: float | None
    knn: int | None
    h3_resolution: int
    unmarked: SSIScores
    marked: SSIScores | None
    unmarked_scores: DatasetScores
    marked_scores: DatasetScores | None
    hotspots: pd.DataFrame


@dataclass(frozen=True, eq=False)
class GeoBiasReport:
    """Report over all scales; :meth:`summary` for metric tables, :meth:`to_dict` for JSON."""

    n_points: int
    task: str
    mark_rule: str
    scales: dict[str, ScaleReport]
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, float | None]:
        """Flat dataset scores: ``gbs_unmarked_<scale>``, ``gbs_marked_<scale>`` and the ``_weighted`` and
        ``_wrong`` (marked, wrong centres only) variants.
        """
        out: dict[str, float | None] = {}
        for name, sc in self.scales.items():
            out[f"gbs_unmarked_{name}"] = sc.unmarked_scores.mean
            out[f"gbs_unmarked_{name}_weighted"] = sc.unmarked_scores.weighted_mean
            if sc.marked_scores is not None:
                out[f"gbs_marked_{name}"] = sc.marked_scores.mean
                out[f"gbs_marked_{name}_weighted"] = sc.marked_scores.weighted_mean
                out[f"gbs_marked_{name}_wrong"] = sc.marked_scores.wrong_mean
        return out

    def to_dict(self, per_point: bool = True) -> dict[str, Any]:
        """JSON-serialisable dict (NaN → None); ``per_point`` includes the per-centre arrays."""
        scales = {}
        for name, sc in self.scales.items():
            entry: dict[str, Any] = {
                "radius_km": sc.radius_km,
                "knn": sc.knn,
                "h3_resolution": sc.h3_resolution,
                "unmarked": _clean(sc.unmarked_scores.__dict__),
                "marked": None if sc.marked_scores is None else _clean(sc.marked_scores.__dict__),
                "hotspots": {c: _clean(sc.hotspots[c].tolist()) for c in sc.hotspots.columns},
            }
            if per_point:
                entry["per_point"] = {
                    "n_neighbors": sc.unmarked.n_neighbors.tolist(),
                    "ssi_unmarked": _clean(sc.unmarked.ssi.tolist()),
                    "ssi_marked": None if sc.marked is None else _clean(sc.marked.ssi.tolist()),
                }
                if sc.radius_km is None:
                    entry["per_point"]["radius_km"] = _clean(sc.unmarked.radius_km.tolist())
            scales[name] = entry
        return {
            "n_points": self.n_points,
            "task": self.task,
            "mark_rule": self.mark_rule,
            "params": _clean(self.params),
            "summary": _clean(self.summary()),
            "scales": scales,
        }


def _clean(obj: Any) -> Any:
    """Replace non-finite floats by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def marks_from_predictions(
    predictions: pd.DataFrame, task: Task = "auto"
) -> tuple[np.ndarray | None, str, str]:
    """(marks, task, rule) from a ``correct`` (bool) or ``error`` (float) column.

    Classification: +1 correct / −1 wrong. Regression: +1 where |error| ≤ median |error|, −1 otherwise.
    """
    has_c, has_e = "correct" in predictions.columns, "error" in predictions.columns
    if task == "auto":
        if has_c and has_e:
            raise ValueError(
                "predictions has both 'correct' and 'error'; pass task='classification' or 'regression'"
            )
        task = "classification" if has_c else "regression" if has_e else "unmarked"
    if task == "unmarked":
        return None, task, "none"
    col = "correct" if task == "classification" else "error"
    if col not in predictions.columns:
        present = ", ".join(map(str, predictions.columns))
        raise ValueError(f"task={task!r} needs a {col!r} column; columns present: {present}")
    values = predictions[col]
    if task == "classification":
        if values.isna().any() or not (
            pd.api.types.is_bool_dtype(values) or set(pd.unique(values)) <= {0, 1}
        ):
            raise ValueError("'correct' must be boolean (True/False or 1/0) with no missing values")
        return np.where(values.to_numpy().astype(bool), 1.0, -1.0), task, "+1 correct / -1 wrong"
    err = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(err).all():
        raise ValueError(
            f"'error' has {int((~np.isfinite(err)).sum())} missing, non-numeric or infinite values"
        )
    absolute = np.abs(err)
    return (
        np.where(absolute <= np.median(absolute), 1.0, -1.0),
        task,
        "+1 where |error| <= median |error|, else -1",
    )


def report(
    predictions: pd.DataFrame,
    scales: Sequence[str] = ("100km", "1000km", "knn"),
    *,
    task: Task = "auto",
    max_neighbors: int = 100,
    knn: int | None = None,
    weight_k: int = 4,
    density: Density = "auto",
    method: Method = "pygbs",
    ties: Ties = "reference",
    lon_col: str = "lon",
    lat_col: str = "lat",
    progress: bool = False,
) -> GeoBiasReport:
    """Geo-Bias report of ``predictions`` (columns lon, lat and ``correct`` or ``error``, or neither).

    Args:
        predictions: one row per test point.
        scales: "100km", "1000km", "knn" or any "<x>km".
        task: "auto" picks classification (``correct``), regression (``error``) or unmarked (neither).
        max_neighbors: the neighbour cap K_p of the fixed scales (N ≥ K_p is required).
        knn: K of the kNN scale (default: ``max_neighbors``).
        weight_k: k of the k-NN weight graph (see :func:`~engine.metrics.geobias.ssi_scores`).
        density: background density, "auto" or points per square radian.
        method: "pygbs" (reference moments) or "exact" (Cliff–Ord moments).
        ties: "reference" (PyGBS's tie breaking) or "stable".
        lon_col: longitude column (degrees).
        lat_col: latitude column (degrees).
        progress: tqdm bars.

    Returns:
        :class:`GeoBiasReport`.
    """
    for col in (lon_col, lat_col):
        if col not in predictions.columns:
            raise ValueError(
                f"column {col!r} not found; columns present: {', '.join(map(str, predictions.columns))}"
            )
    lonlat = predictions[[lon_col, lat_col]].to_numpy(dtype=np.float64)
    marks, task_used, rule = marks_from_predictions(predictions, task)
    wrong = None if marks is None else marks < 0
    parsed = {name: parse_scale(name) for name in scales}
    out: dict[str, ScaleReport] = {}
    k_knn = int(knn if knn is not None else max_neighbors)
    cells_by_res: dict[int, np.ndarray] = {}
    for name, (km, res) in parsed.items():
        kw: dict[str, Any] = (
            {"knn": k_knn} if km is None else {"radius_km": km, "max_neighbors": max_neighbors}
        )
        res_list = ssi_scores_multi(
            lonlat,
            [None] if marks is None else [None, marks],
            weight_k=weight_k,
            density=density,
            method=method,
            ties=ties,
            progress=f"geo-bias {name}" if progress else False,
            **kw,
        )
        unmarked, marked = res_list[0], (res_list[1] if marks is not None else None)
        if res not in cells_by_res:
            cells_by_res[res] = np.array([h3.latlng_to_cell(lat, lon, res) for lon, lat in lonlat.tolist()])
        out[name] = ScaleReport(
            scale=name,
            radius_km=km,
            knn=k_knn if km is None else None,
            h3_resolution=res,
            unmarked=unmarked,
            marked=marked,
            unmarked_scores=DatasetScores.of(unmarked, wrong),
            marked_scores=None if marked is None else DatasetScores.of(marked, wrong),
            hotspots=_hotspots(cells_by_res[res], unmarked, marked),
        )
    params = {
        "max_neighbors": max_neighbors,
        "knn": k_knn,
        "weight_k": weight_k,
        "density": density,
        "method": method,
        "ties": ties,
        "h3_resolution": {n: r for n, (_, r) in parsed.items()},
    }
    return GeoBiasReport(n_points=lonlat.shape[0], task=task_used, mark_rule=rule, scales=out, params=params)


def _hotspots(cells: np.ndarray, unmarked: SSIScores, marked: SSIScores | None) -> pd.DataFrame:
    """Mean SSI and point count per H3 cell, sorted by count (descending)."""
    frame = pd.DataFrame({"cell": cells, "ssi_unmarked": unmarked.ssi})
    if marked is not None:
        frame["ssi_marked"] = marked.ssi
    agg = frame.groupby("cell", sort=False).agg(
        n_points=("ssi_unmarked", "size"),
        mean_unmarked=("ssi_unmarked", "mean"),
        **({"mean_marked": ("ssi_marked", "mean")} if marked is not None else {}),
    )
    return agg.reset_index().sort_values(["n_points", "cell"], ascending=[False, True], ignore_index=True)

"""
H3 cells of the whole globe and per-cell aggregation of per-point values (accuracy, error, SSI).

H3 average edge lengths: res 0 ≈ 1,282 km, res 1 ≈ 483 km, res 2 ≈ 182 km, res 3 ≈ 69 km; the globe holds
122, 842, 5,882 and 41,162 cells at res 0 … 3 (``2 + 120 · 7^res``).
"""

from __future__ import annotations

from functools import lru_cache

import h3
import numpy as np
import pandas as pd
import torch
from torch import Tensor

MAX_GLOBE_RES = 5
"""Largest resolution :func:`h3_cells` enumerates (res 5: 2,016,842 cells, ~11 s once, then cached)."""


def _check_res(res: int, max_res: int = 15) -> int:
    if isinstance(res, bool) or not isinstance(res, int | np.integer) or not 0 <= res <= max_res:
        raise ValueError(f"H3 resolution must be an integer in [0, {max_res}], got {res!r}")
    return int(res)


@lru_cache(maxsize=MAX_GLOBE_RES + 1)
def _globe_cells(res: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell ids (sorted) and float64 ``[N, 2]`` (lon, lat) centres; computed once per resolution."""
    cells = sorted(c for base in h3.get_res0_cells() for c in h3.cell_to_children(base, res))
    latlng = np.array([h3.cell_to_latlng(c) for c in cells], dtype=np.float64)  # [N, 2] (lat, lon)
    ids = np.array(cells, dtype=str)
    ids.flags.writeable = False
    lonlat = np.ascontiguousarray(latlng[:, ::-1])
    lonlat.flags.writeable = False
    return ids, lonlat


def h3_cells(res: int) -> tuple[np.ndarray, Tensor]:
    """Every H3 cell on the globe at resolution ``res`` and its centre.

    Args:
        res: H3 resolution in ``[0, MAX_GLOBE_RES]``.

    Returns:
        ``(cell_ids, lonlat)``: a read-only ``[N]`` array of cell id strings (sorted) and a float32 tensor
        ``[N, 2]`` of the cell centres as (lon, lat) degrees (a fresh copy per call).

    Raises:
        ValueError: for a resolution outside ``[0, MAX_GLOBE_RES]``.

    """
    ids, lonlat = _globe_cells(_check_res(res, MAX_GLOBE_RES))
    return ids, torch.tensor(lonlat, dtype=torch.float32)


def latlng_to_cells(lonlat: Tensor | np.ndarray, res: int) -> np.ndarray:
    """The H3 cell id string of each (lon, lat) degree point (``[N]`` array)."""
    res = _check_res(res)
    xy = np.asarray(lonlat.detach().cpu() if isinstance(lonlat, Tensor) else lonlat, dtype=np.float64)
    xy = xy.reshape(-1, 2)
    return np.array([h3.latlng_to_cell(lat, lon, res) for lon, lat in xy.tolist()], dtype=str)


def aggregate_h3(lonlat: Tensor | np.ndarray, values: Tensor | np.ndarray, res: int) -> pd.DataFrame:
    """Mean of ``values`` per H3 cell at ``res`` (e.g. ``correct`` -> accuracy per cell, or ``abs_error``).

    Points whose coordinates or value are not finite (e.g. rows without a location) are dropped.

    Args:
        lonlat: ``[N, 2]`` (lon, lat) degrees.
        values: ``[N]`` numbers or booleans.
        res: H3 resolution.

    Returns:
        A frame with columns ``cell`` (str), ``value_mean`` (float64) and ``count`` (int64), one row per
        non-empty cell, sorted by ``cell``.

    Raises:
        ValueError: when the lengths differ or ``lonlat`` is not ``[N, 2]``.

    """
    xy = np.asarray(lonlat.detach().cpu() if isinstance(lonlat, Tensor) else lonlat, dtype=np.float64)
    v = np.asarray(values.detach().cpu() if isinstance(values, Tensor) else values, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"lonlat must be [N, 2] (lon, lat), got shape {xy.shape}")
    v = v.reshape(-1)
    if v.shape[0] != xy.shape[0]:
        raise ValueError(f"{xy.shape[0]} points but {v.shape[0]} values")
    ok = np.isfinite(xy).all(axis=1) & np.isfinite(v)
    ok &= (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    frame = pd.DataFrame({"cell": latlng_to_cells(xy[ok], res), "value": v[ok]})
    out = frame.groupby("cell", sort=True)["value"].agg(value_mean="mean", count="count").reset_index()
    return out.astype({"cell": str, "value_mean": np.float64, "count": np.int64})

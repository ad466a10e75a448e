"""Spatial relative information (SRI): how much the mark histogram of a neighbourhood's parts differs from
the neighbourhood's own (PyGBS; Wang, Janowicz, Mai & Majic, COSIT 2024).

For a centre, the neighbourhood holds every point within ``radius_km``; it is split into partitions (square
lat/lon cells of side ``scale``, distance rings of width ``lag`` or ``n_sectors`` direction sectors).
With p the mark histogram of the neighbourhood and q_j that of partition j (``bins`` bins),

    KL_j = Σ_b p_b ln(p_b / (q_jb + 1e-8)),   w_j = n_j / n,   SRI = Σ_j KL_j w_j / Σ_j w_j,

over partitions with n_j ≥ ``threshold`` (SRI = 0 when there are none). Differences from the reference,
all deliberate: (1) local histograms use the neighbourhood's bin range (the reference bins each partition on
its own range, so an all-wrong partition scores like an all-correct one); (2) partitions are sets of true
point indices (the reference's latest partitioner returns row positions of the whole table); (3) direction
sectors are compass bearings from the centre (clockwise from north; the centre itself has none), where the
reference measures the angle in a rotated frame offset by the centre's longitude; (4) scale-grid longitudes
are wrapped across the antimeridian.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import rel_entr

from engine.geo import EARTH_RADIUS_KM
from engine.metrics.geobias._inputs import as_lonlat, check_radius, unit_vectors

Partition = Literal["scale_grid", "distance_lag", "direction_sector"]
SMOOTH = 1e-8
"""Added to the local probabilities (as the reference does) so that empty bins stay finite."""


@dataclass(frozen=True, eq=False)
class SRIScores:
    """Per-centre SRI in input order, the number of partitions that reached the threshold, and n."""

    sri: np.ndarray
    n_partitions: np.ndarray
    n_neighbors: np.ndarray
    partition: str


def histogram_bins(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int) -> np.ndarray:
    """Bin index of each value for ``bins`` equal bins over [lo, hi] (per value), exactly as ``np.histogram``.

    A constant range (lo == hi) becomes [lo − 0.5, hi + 0.5], the last bin is closed.
    """
    same = lo == hi
    lo, hi = np.where(same, lo - 0.5, lo), np.where(same, hi + 0.5, hi)
    idx = ((values - lo) * (bins / (hi - lo))).astype(np.int64)
    idx = np.clip(idx, 0, bins - 1)
    width = (hi - lo) / bins
    edge = lambda i: np.where(i == bins, hi, lo + i * width)  # noqa: E731
    idx = idx - (values < edge(idx))
    idx = idx + ((values >= edge(idx + 1)) & (idx != bins - 1))
    return idx


def kl_sri(
    local_values_list: Sequence[np.ndarray], global_values: np.ndarray, *, bins: int = 2, threshold: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """KL(global ‖ local) and weight n_j / n of each partition with at least ``threshold`` points.

    The histogram range is the global values' (min, max), shared by every partition.
    """
    glob = np.asarray(global_values, dtype=np.float64)
    edges = np.histogram_bin_edges(glob, bins=bins)
    p = np.histogram(glob, bins=edges)[0] / glob.shape[0]
    kls, weights = [], []
    for local in local_values_list:
        loc = np.asarray(local, dtype=np.float64)
        if loc.shape[0] < threshold:
            continue
        q = np.histogram(loc, bins=edges)[0] / loc.shape[0] + SMOOTH
        kls.append(float(rel_entr(p, q).sum()))
        weights.append(loc.shape[0] / glob.shape[0])
    return np.array(kls), np.array(weights)


def sri_scores(
    lonlat: torch.Tensor | np.ndarray,
    marks: torch.Tensor | np.ndarray,
    *,
    radius_km: float,
    partition: Partition,
    scale_km: float | None = None,
    lag_km: float | None = None,
    n_sectors: int = 8,
    bins: int = 2,
    threshold: int = 20,
) -> SRIScores:
    """SRI of every point's neighbourhood (all points within ``radius_km``, no neighbour cap).

    Args:
        lonlat: ``[N, 2]`` (lon, lat) degrees; every point is a centre.
        marks: one value per point (e.g. +1 correct / −1 wrong, or 1/0 hits; any finite values).
        radius_km: neighbourhood radius.
        partition: ``"scale_grid"``, ``"distance_lag"`` or ``"direction_sector"``.
        scale_km: side of the scale-grid cells, applied to latitude and longitude in radians (km / 6371),
            as the reference does; cells are anchored at the centre.
        lag_km: width of the distance rings around the centre.
        n_sectors: number of direction sectors (compass bearings, the first starting at north).
        bins: histogram bins over the neighbourhood's value range.
        threshold: minimum partition size; smaller partitions are ignored.

    Returns:
        :class:`SRIScores`.
    """
    arr = as_lonlat(lonlat)
    vals = np.asarray(marks.detach().cpu() if isinstance(marks, torch.Tensor) else marks, np.float64).ravel()
    if vals.shape[0] != arr.shape[0] or not np.isfinite(vals).all():
        raise ValueError(f"marks must hold {arr.shape[0]} finite values, got {vals.shape[0]} (or NaN/inf)")
    radius = check_radius(radius_km)
    step = {"scale_grid": scale_km, "distance_lag": lag_km, "direction_sector": 1.0}.get(partition)
    if partition not in ("scale_grid", "distance_lag", "direction_sector"):
        raise ValueError(f"partition must be scale_grid, distance_lag or direction_sector, got {partition!r}")
    if step is None or step <= 0:
        need = "scale_km" if partition == "scale_grid" else "lag_km"
        raise ValueError(f"partition {partition!r} needs a positive {need}")
    if bins < 1 or threshold < 1 or n_sectors < 1:
        raise ValueError("bins, threshold and n_sectors must be positive")
    latlon = np.radians(arr[:, ::-1])
    xyz = unit_vectors(latlon)
    lists = cKDTree(xyz).query_ball_point(xyz, r=2 * math.sin(radius / 2) * (1 + 1e-12), workers=-1)
    count = np.array([len(x) for x in lists], np.int64)
    cen = np.repeat(np.arange(arr.shape[0]), count)
    mem = np.concatenate([np.asarray(x, np.int64) for x in lists])
    d = 2 * np.arcsin(np.clip(np.linalg.norm(xyz[mem] - xyz[cen], axis=1) / 2, 0, 1))
    inside = d <= radius
    cen, mem, d = cen[inside], mem[inside], d[inside]
    n_c = np.bincount(cen, minlength=arr.shape[0])
    part, n_parts = _partition_ids(latlon, cen, mem, d, partition, radius, step / EARTH_RADIUS_KM, n_sectors)
    v = vals[mem]
    lo = np.full(arr.shape[0], np.inf)
    hi = np.full(arr.shape[0], -np.inf)
    np.minimum.at(lo, cen, v)
    np.maximum.at(hi, cen, v)
    b = histogram_bins(v, lo[cen], hi[cen], bins)
    p = (
        np.bincount(cen * bins + b, minlength=arr.shape[0] * bins).reshape(-1, bins)
        / np.maximum(n_c, 1)[:, None]
    )
    ok = part >= 0
    cp = cen[ok] * n_parts + part[ok]
    size = np.bincount(cp, minlength=arr.shape[0] * n_parts)
    local = np.bincount(cp * bins + b[ok], minlength=arr.shape[0] * n_parts * bins).reshape(-1, bins)
    keep = np.flatnonzero(size >= threshold)
    owner = keep // n_parts
    q = local[keep] / size[keep][:, None] + SMOOTH
    kl = rel_entr(p[owner], q).sum(1)
    w = size[keep] / n_c[owner]
    num = np.bincount(owner, kl * w, minlength=arr.shape[0])
    den = np.bincount(owner, w, minlength=arr.shape[0])
    sri = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    return SRIScores(
        sri=sri, n_partitions=np.bincount(owner, minlength=arr.shape[0]), n_neighbors=n_c, partition=partition
    )


def _partition_ids(
    latlon: np.ndarray,
    cen: np.ndarray,
    mem: np.ndarray,
    dist: np.ndarray,
    partition: str,
    radius: float,
    step: float,
    n_sectors: int,
) -> tuple[np.ndarray, int]:
    """Partition id of each (centre, member) pair (−1: in no partition) and the number of ids per centre."""
    lat_c, lon_c = latlon[cen, 0], latlon[cen, 1]
    lat, lon = latlon[mem, 0], latlon[mem, 1]
    if partition == "distance_lag":
        n_lag = math.ceil(radius / step)
        i = np.floor(dist / step).astype(np.int64)
        i -= dist < step * i
        i += dist >= step * (i + 1)
        return np.where(i < n_lag, i, -1), n_lag
    if partition == "scale_grid":
        half = math.ceil(radius / step)
        lon = lon + 2 * np.pi * np.rint((lon_c - lon) / (2 * np.pi))

        def cell(v: np.ndarray, c: np.ndarray) -> np.ndarray:
            i = np.floor((v - c) / step).astype(np.int64)
            i -= v < c + i * step
            i += v >= c + (i + 1) * step
            return i

        i, j = cell(lat, lat_c), cell(lon, lon_c)
        valid = (i >= -half) & (i < half) & (j >= -half) & (j < half)
        return np.where(valid, (i + half) * 2 * half + (j + half), -1), 4 * half * half
    dlon = lon - lon_c
    bearing = np.arctan2(
        np.sin(dlon) * np.cos(lat), np.cos(lat_c) * np.sin(lat) - np.sin(lat_c) * np.cos(lat) * np.cos(dlon)
    )
    sector = np.floor(np.mod(bearing, 2 * np.pi) / (2 * np.pi / n_sectors)).astype(np.int64) % n_sectors
    return np.where(dist > 0, sector, -1), n_sectors

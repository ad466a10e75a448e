"""Spatial self-information (SSI) scores: the Geo-Bias Score per centre (Wang, Janowicz, Mai & Majic 2024).

For every centre i: the neighbourhood is the points among the K_p nearest of i (haversine, i included) within
radius r (or, for the kNN scale, the K nearest with r = the distance to the K-th); a background grid of value
0 is added (:mod:`._grid`); values z are 1 (unmarked) or the mark v (marked, v ≠ 0); W is the directed k-NN
graph over the M = n + m points; Ī = xᵀWx with x = z − z̄; and SSI = −ln(2Φ(−|Ī − μ|/σ) + 1e-256) with the
null moments of :mod:`._moments`. One k-d tree on unit vectors finds all neighbourhoods (chord order equals
haversine order); Ī comes from the presence-touching edges only (:mod:`._graph`); nothing is O(M²) except
the optional exact moments.

Where we differ from PyGBS 0e202f6, deliberately:

* Marks must be non-zero (a 0 mark would merge with the background value); zero marks raise.
* The point itself always ranks first in its own k-NN list (with more than k + 1 coincident points the
  reference's BallTree may leave it out); with ``ties="reference"`` such rows are re-queried with the
  reference's own BallTree, so its numbers are kept.
* Exact distance ties (the centre and the grid point (2, 0) are both exactly δ from grid point (1, 0)) are
  decided by the reference's rounding with ``ties="reference"`` (default), by a fixed order with
  ``ties="stable"``. Where the reference's own rounding differs between machines, so do a few centres
  (case_random: 32 of 2,000 at 100 km; the in-process reference algorithm agrees with us on all of them).
* The kNN scale (K nearest, r = distance to the K-th, capped at a quarter circumference) and
  ``method="exact"`` (Cliff–Ord moments, no +1) are additions; the default is the reference's definition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree

from engine.geo import EARTH_RADIUS_KM
from engine.metrics.geobias._batches import Job, evaluate, grid_shape
from engine.metrics.geobias._inputs import (
    Density,
    Method,
    Ties,
    as_lonlat,
    as_marks,
    check_options,
    check_radius,
    unit_vectors,
)
from engine.metrics.geobias._moments import categories
from engine.metrics.geobias._reference import reference_background

MIN_RADIUS_RAD = 1e-6
"""Floor of the kNN-scale radius (≈ 6 m), for neighbourhoods of coincident points."""


@dataclass(frozen=True, eq=False)
class SSIScores:
    """Per-centre results (every point a centre, in input order, or the order of ``centres``).

    ``ssi`` the score, ``n_neighbors`` the presence count n (centre included), ``n_background`` m,
    ``moran_i`` Ī, ``expected``/``std`` the null μ and σ, ``z`` = (Ī − μ)/σ, ``radius_km`` the radius used.
    """

    ssi: np.ndarray
    n_neighbors: np.ndarray
    n_background: np.ndarray
    moran_i: np.ndarray
    expected: np.ndarray
    std: np.ndarray
    z: np.ndarray
    radius_km: np.ndarray
    method: str
    marked: bool


@dataclass(frozen=True, eq=False)
class NeighbourhoodSSI:
    """One explicit neighbourhood with every intermediate (see :func:`neighbourhood_ssi`)."""

    n_presence: int
    n_background: int
    density: float
    categories: np.ndarray
    counts: np.ndarray
    moran_i: float
    expected: float
    std: float
    z: float
    ssi: float
    background_lonlat: np.ndarray


def ssi_scores_multi(
    lonlat: torch.Tensor | np.ndarray,
    marks_list: Sequence[torch.Tensor | np.ndarray | None],
    *,
    radius_km: float | None = None,
    knn: int | None = None,
    max_neighbors: int = 100,
    weight_k: int = 4,
    density: Density = "auto",
    method: Method = "pygbs",
    ties: Ties = "reference",
    centres: np.ndarray | None = None,
    progress: bool | str = False,
    workers: int | None = None,
) -> list[SSIScores]:
    """:func:`ssi_scores` for several mark vectors (``None`` = unmarked) sharing one neighbour graph.

    ``workers`` threads process batches of centres (default: the CPUs available).
    """
    arr = as_lonlat(lonlat)
    n_pts = arr.shape[0]
    marks_np = [as_marks(mk, n_pts) for mk in marks_list]
    check_options(weight_k, density, method, ties)
    if (radius_km is None) == (knn is None):
        raise ValueError("give exactly one of radius_km (fixed scale) or knn (adaptive kNN scale)")
    name, size = ("knn", knn) if knn is not None else ("max_neighbors", max_neighbors)
    if int(size) != size or size < 1:
        raise ValueError(f"{name} must be a positive integer, got {size}")
    if n_pts < size:
        raise ValueError(f"{n_pts} points are fewer than {name}={size}; use at most {n_pts}")
    radius_rad = check_radius(radius_km) if radius_km is not None else None
    cen = np.arange(n_pts) if centres is None else np.asarray(centres).reshape(-1)
    if cen.size == 0 or not np.issubdtype(cen.dtype, np.integer) or cen.min() < 0 or cen.max() >= n_pts:
        raise ValueError(f"centres must be a non-empty array of point indices in [0, {n_pts})")
    latlon = np.radians(arr[:, ::-1])
    xyz = unit_vectors(latlon)
    chord, idx = cKDTree(xyz).query(xyz[cen], k=int(size), workers=-1)
    chord, idx = chord.reshape(cen.shape[0], -1), idx.reshape(cen.shape[0], -1)
    ang = 2 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))
    if radius_rad is not None:
        radius = np.full(cen.shape[0], radius_rad)
        counts = (ang <= radius_rad).sum(1)
    else:
        radius = np.clip(ang[:, -1], MIN_RADIUS_RAD, math.pi / 2)
        counts = np.full(cen.shape[0], int(size))
    rho, delta, rings = grid_shape(counts, radius, density)
    job = Job(
        xyz,
        latlon,
        cen,
        idx,
        counts,
        radius,
        rho,
        delta,
        rings,
        marks_np,
        int(weight_k),
        method,
        ties,
        idx if centres is None else None,
        {},
    )
    results = evaluate(job, progress, workers)
    return [
        SSIScores(
            ssi=r["ssi"],
            n_neighbors=counts.astype(np.int64),
            n_background=r["m"],
            moran_i=r["moran"],
            expected=r["mu"],
            std=r["sigma"],
            z=r["z"],
            radius_km=radius * EARTH_RADIUS_KM,
            method=method,
            marked=mk is not None,
        )
        for r, mk in zip(results, marks_np, strict=True)
    ]


def ssi_scores(
    lonlat: torch.Tensor | np.ndarray,
    marks: torch.Tensor | np.ndarray | None = None,
    *,
    radius_km: float | None = None,
    knn: int | None = None,
    max_neighbors: int = 100,
    weight_k: int = 4,
    density: Density = "auto",
    method: Method = "pygbs",
    ties: Ties = "reference",
    centres: np.ndarray | None = None,
    progress: bool | str = False,
) -> SSIScores:
    """Per-centre SSI for every point of ``lonlat`` ``[N, 2]`` (lon, lat) degrees, numpy or torch.

    Args:
        lonlat: point coordinates; every point is also a centre.
        marks: ``None`` for the unmarked score (z = 1 on points); else one non-zero value per point
            (+1 correct / −1 wrong for classification).
        radius_km: fixed scale (e.g. 100 or 1000): neighbours within this great-circle radius among the
            ``max_neighbors`` nearest (the reference's cap K_p, centre included).
        knn: adaptive scale instead: the ``knn`` nearest points, r = distance to the farthest of them
            (capped at a quarter circumference).
        max_neighbors: K_p for ``radius_km`` (needs N ≥ K_p, as the reference).
        weight_k: k of the directed k-NN weight graph (4 = rook-like, as the reference).
        density: background points per square radian, or "auto" = ⌈5n/(πr²)⌉.
        method: ``"pygbs"`` (closed-form moments, σ + 1; reference-compatible) or ``"exact"`` (Cliff–Ord
            randomisation moments of Ī for the actual W, no +1; builds each neighbourhood's full graph,
            O(M²) per centre, with the stable tie order).
        ties: ``"reference"`` breaks exact distance ties as PyGBS's rounding does (matches its numbers);
            ``"stable"`` breaks them by a fixed order (data points by input index, then the background),
            so the score is invariant to rotations about the polar axis.
        centres: indices of the points to use as centres (default: all; results follow this order).
        progress: show a tqdm bar (a string is used as its label).

    Returns:
        :class:`SSIScores`.
    """
    return ssi_scores_multi(
        lonlat,
        [marks],
        radius_km=radius_km,
        knn=knn,
        max_neighbors=max_neighbors,
        weight_k=weight_k,
        density=density,
        method=method,
        ties=ties,
        centres=centres,
        progress=progress,
    )[0]


def neighbourhood_ssi(
    presence_lonlat: torch.Tensor | np.ndarray,
    centre_lonlat: Sequence[float] | np.ndarray,
    *,
    radius_km: float,
    marks: torch.Tensor | np.ndarray | None = None,
    density: Density = "auto",
    weight_k: int = 4,
    method: Method = "pygbs",
    ties: Ties = "reference",
) -> NeighbourhoodSSI:
    """SSI of one explicit neighbourhood: the given presence points around ``centre_lonlat`` (lon, lat).

    This is PyGBS's ``compute_unmarked_ssi`` / ``compute_marked_ssi`` for one centre, with every
    intermediate returned (n, m, ρ, categories and counts, Ī, μ, σ, z, SSI, the background points).
    """
    pres = as_lonlat(presence_lonlat, "presence_lonlat")
    centre = as_lonlat(np.asarray(centre_lonlat, dtype=np.float64).reshape(1, 2), "centre_lonlat")
    mk = as_marks(marks, pres.shape[0])
    check_options(weight_k, density, method, ties)
    radius = np.array([check_radius(radius_km)])
    n = pres.shape[0]
    latlon = np.radians(np.concatenate([pres, centre])[:, ::-1])
    rho, delta, rings = grid_shape(np.array([n]), radius, density)
    marks_full = None if mk is None else np.append(mk, 1.0)  # the centre row is never a member
    job = Job(
        unit_vectors(latlon),
        latlon,
        np.array([n]),
        np.arange(n)[None, :],
        np.array([n]),
        radius,
        rho,
        delta,
        rings,
        [marks_full],
        int(weight_k),
        method,
        ties,
        None,
        {},
    )
    res = evaluate(job, workers=1)[0]
    z = np.ones(n) if mk is None else mk
    cats, counts = categories(z, np.zeros(n, np.int64), 1, res["m"])
    bg = reference_background(latlon[n], float(radius[0]), rho[0])
    return NeighbourhoodSSI(
        n_presence=n,
        n_background=int(res["m"][0]),
        density=float(rho[0]),
        categories=cats[0][counts[0] > 0],
        counts=counts[0][counts[0] > 0],
        moran_i=float(res["moran"][0]),
        expected=float(res["mu"][0]),
        std=float(res["sigma"][0]),
        z=float(res["z"][0]),
        ssi=float(res["ssi"][0]),
        background_lonlat=np.degrees(bg[:, ::-1]),
    )

"""Spatial self-information (SSI) scores: the Geo-Bias Score per centre (Wang, Janowicz, Mai & Majic 2024).

For every centre i: the neighbourhood is the points among the K_p nearest of i (haversine, i included) within
radius r (or, for the kNN scale, the K nearest with r = the distance to the K-th); a background grid of value
0 is added (:mod:`._grid`); values z are 1 (unmarked) or the mark v (marked, v ≠ 0); W is the directed k-NN
graph over the M = n + m points; Ī = xᵀWx with x = z − z̄; and SSI = −ln(2Φ(−|Ī − μ|/σ) + 1e-256) with the
null moments of :mod:`._moments`. One k-d tree on unit vectors finds all neighbourhoods (chord order equals
haversine order); Ī comes from the presence-touching edges only (:mod:`._graph`); nothing is O(M²) except
the optional exact moments.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from tqdm import tqdm

from engine.geo import EARTH_RADIUS_KM
from engine.metrics.geobias._graph import Batch, GridTables, dense_edges, fast_graph, grid_lookup, moran_fast
from engine.metrics.geobias._grid import grid_template, max_spacing
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
from engine.metrics.geobias._moments import categories, exact_moments, pygbs_moments, tail_ssi
from engine.metrics.geobias._reference import reference_background, reference_density

MIN_RADIUS_RAD = 1e-6
"""Floor of the kNN-scale radius (≈ 6 m), for neighbourhoods of coincident points."""
BATCH_POINTS = 12_000
"""Presence points per processing batch (small enough for the caches; bounds memory per thread)."""


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


def grid_shape(n: np.ndarray, radius: np.ndarray, density: Density) -> tuple[np.ndarray, ...]:
    """(ρ, δ, L) per centre, evaluated exactly as the reference does: ρ = ⌈5n/(πr²)⌉ ("auto"),
    δ = 1/√ρ, L = ⌈r/δ⌉.
    """
    rho = reference_density(n, radius) if density == "auto" else np.full(n.shape, float(density))
    delta = 1 / np.sqrt(rho)
    rings = np.ceil(radius / delta).astype(np.int64)
    uniq, inv = np.unique(rings, return_inverse=True)
    if (delta > np.array([max_spacing(int(L)) for L in uniq])[inv]).any():
        raise ValueError(f"density {density!r} is too low: the background rings would pass the antipode")
    return rho, delta, rings


@dataclass(frozen=True, eq=False)
class _Job:
    """Everything the batches share: points, neighbourhoods ``nbr[c, :n[c]]`` and per-centre grid shapes."""

    xyz: np.ndarray
    latlon: np.ndarray
    centres: np.ndarray
    nbr: np.ndarray
    n: np.ndarray
    radius: np.ndarray
    rho: np.ndarray
    delta: np.ndarray
    rings: np.ndarray
    marks_list: Sequence[np.ndarray | None]
    weight_k: int
    method: str
    ties: str
    knn_lists: np.ndarray | None
    tables: GridTables


def _batches(n: np.ndarray, rings: np.ndarray, delta: np.ndarray) -> list[np.ndarray]:
    """Centre groups sharing L, about :data:`BATCH_POINTS` presence points each (sorted by n, then δ)."""
    order = np.lexsort((delta, n, rings))
    ns, ls = n[order], rings[order]
    new_l = np.r_[True, ls[1:] != ls[:-1]]
    group = np.cumsum(new_l) - 1
    cum = np.cumsum(ns)
    within = cum - (cum - ns)[np.flatnonzero(new_l)][group]
    key = group * (len(order) + 1) + (within - 1) // BATCH_POINTS
    cuts = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    return [order[a:b] for a, b in itertools.pairwise(cuts)]


def _evaluate(job: _Job, progress: bool = False, workers: int | None = None) -> list[dict[str, np.ndarray]]:
    """Scores of every centre of ``job``, per mark set: ssi, moran, mu, sigma, z and m (background count).

    Batches run on ``workers`` threads (numpy releases the GIL in its array loops).
    """
    n_c = job.centres.shape[0]
    out = [{f: np.zeros(n_c) for f in ("ssi", "moran", "mu", "sigma", "z")} for _ in job.marks_list]
    m_bg = np.zeros(n_c, np.int64)
    batches = _batches(job.n, job.rings, job.delta)
    for rings in np.unique(job.rings).tolist():
        grid_template(int(rings), job.weight_k)  # build the templates before the threads start

    def run(sel: np.ndarray) -> int:
        for res, part in zip(out, _run_batch(job, sel), strict=True):
            for key, val in part.items():
                res[key][sel] = val
        m_bg[sel] = grid_template(int(job.rings[sel[0]]), job.weight_k).size
        return len(sel)

    n_workers = max(1, min(workers or len(os.sched_getaffinity(0)), len(batches)))
    with tqdm(total=n_c, disable=not progress, desc="geo-bias", unit="centre", leave=False) as bar:
        if n_workers == 1:
            for sel in batches:
                bar.update(run(sel))
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                for done in pool.map(run, batches):
                    bar.update(done)
    for res in out:
        res["m"] = m_bg
    return out


def _run_batch(job: _Job, sel: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Scores of the centres ``sel`` (one grid template), per mark set."""
    k = job.weight_k
    tmpl = grid_template(int(job.rings[sel[0]]), k)
    if tmpl.size + 1 <= k:
        raise ValueError(f"weight_k={k} needs more than {tmpl.size + 1} points per neighbourhood")
    n = job.n[sel]
    cols = np.arange(job.nbr.shape[1])[None, :] < n[:, None]
    owner, pos = np.nonzero(cols)
    batch = Batch(
        tmpl=tmpl,
        centre_xyz=job.xyz[job.centres[sel]],
        centre_latlon=job.latlon[job.centres[sel]],
        radius=job.radius[sel],
        delta=job.delta[sel],
        density=job.rho[sel],
        n=n,
        owner=owner,
        member=job.nbr[sel][cols],
        pos=pos,
    )
    look = grid_lookup(tmpl, batch.delta, job.tables)
    graph = fast_graph(batch, job.xyz, job.latlon, k, job.ties, look, job.knn_lists)
    big_m = n + tmpl.size
    if job.method == "exact":
        s1, s2 = np.zeros(len(sel)), np.zeros(len(sel))
        for b in range(len(sel)):
            rows, cols_b = dense_edges(batch, job.xyz, k, b)
            s1[b] = rows.shape[0] + np.isin(cols_b * big_m[b] + rows, rows * big_m[b] + cols_b).sum()
            s2[b] = ((k + np.bincount(cols_b, minlength=int(big_m[b]))) ** 2).sum()
    results = []
    for marks in job.marks_list:
        z_global = np.ones(job.xyz.shape[0]) if marks is None else marks
        moran, sum_x2, sum_x4 = moran_fast(graph, batch, z_global, k)
        if job.method == "exact":
            mu, sigma = exact_moments(big_m, k * big_m.astype(float), s1, s2, sum_x2, sum_x4)
        else:
            cats, counts = categories(z_global[batch.member], owner, len(sel), np.full(len(sel), tmpl.size))
            mu, sigma = pygbs_moments(cats, counts)
        z, ssi = tail_ssi(moran, mu, sigma)
        results.append({"ssi": ssi, "moran": moran, "mu": mu, "sigma": sigma, "z": z})
    return results


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
    progress: bool = False,
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
    job = _Job(
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
    results = _evaluate(job, progress, workers)
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
    progress: bool = False,
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
        progress: show a tqdm bar.

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
    job = _Job(
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
    res = _evaluate(job, workers=1)[0]
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

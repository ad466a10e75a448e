"""Spatial self-information (SSI) scores: the Geo-Bias Score per centre (Wang, Janowicz, Mai & Majic 2024).

For every centre i: the neighbourhood is the points among the K_p nearest of i (haversine, i included) within
radius r (or, for the kNN scale, the K nearest with r = the distance to the K-th); a background grid of value
0 is added (:mod:`._grid`); values z are 1 (unmarked) or the mark v (marked, v ≠ 0); W is the directed k-NN
graph over the M = n + m points; Ī = xᵀWx with x = z − z̄; and SSI = −ln(2Φ(−|Ī − μ|/σ) + 1e-256) with the
null moments of :mod:`._moments`. One k-d tree on unit vectors finds all neighbourhoods (chord order equals
haversine order); Ī comes from the presence-touching edges only (:mod:`._graph`); nothing is O(M²).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy.spatial import cKDTree
from tqdm import tqdm

from engine.geo import EARTH_RADIUS_KM, check_lonlat
from engine.metrics.geobias._graph import Batch, GridTables, dense_edges, fast_graph, grid_tables, moran_fast
from engine.metrics.geobias._grid import grid_template, max_spacing
from engine.metrics.geobias._moments import categories, exact_moments, pygbs_moments, tail_ssi
from engine.metrics.geobias._reference import reference_background, reference_density

Method = Literal["pygbs", "exact"]
Ties = Literal["reference", "stable"]
Density = Literal["auto"] | float
MIN_RADIUS_RAD = 1e-6
"""Floor of the kNN-scale radius (≈ 6 m), for neighbourhoods of coincident points."""
BATCH_POINTS = 12_000
"""Presence points per processing batch (small enough for the caches; bounds memory per thread)."""


@dataclass(frozen=True, eq=False)
class SSIScores:
    """Per-centre results in input order (every point is a centre); arrays of length N.

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


def _lonlat(lonlat: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    """Validated ``[N, 2]`` float64 numpy copy of (lon, lat) degrees."""
    if isinstance(lonlat, torch.Tensor):
        check_lonlat(lonlat if lonlat.is_floating_point() else lonlat.double(), name)
        arr = lonlat.detach().cpu().double().numpy()
    else:
        arr = np.asarray(lonlat, dtype=np.float64)
        check_lonlat(arr, name)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [N, 2] array of (lon, lat) degrees, got {arr.shape}")
    return arr


def _marks(marks: torch.Tensor | np.ndarray | None, n: int) -> np.ndarray | None:
    """Validated float64 marks (finite, non-zero, one per point) or None."""
    if marks is None:
        return None
    if isinstance(marks, torch.Tensor):
        marks = marks.detach().cpu().double().numpy()
    arr = np.asarray(marks, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"marks has {arr.shape[0]} values for {n} points")
    if not np.isfinite(arr).all():
        raise ValueError(f"marks contain {int((~np.isfinite(arr)).sum())} NaN or infinite values")
    if (arr == 0).any():
        raise ValueError(
            f"marks must be non-zero ({int((arr == 0).sum())} zeros): 0 is the background value; "
            "use +1 correct / -1 wrong"
        )
    return arr


def _check_options(weight_k: int, density: Density, method: str, ties: str) -> None:
    """Raise ``ValueError`` for an invalid option."""
    if int(weight_k) != weight_k or weight_k < 1:
        raise ValueError(f"weight_k must be a positive integer, got {weight_k}")
    if density != "auto" and not (isinstance(density, int | float) and math.isfinite(density) and density > 0):
        raise ValueError(f"density must be 'auto' or a positive number (points per square radian), got {density!r}")
    if method not in ("pygbs", "exact"):
        raise ValueError(f"method must be 'pygbs' or 'exact', got {method!r}")
    if ties not in ("reference", "stable"):
        raise ValueError(f"ties must be 'reference' or 'stable', got {ties!r}")


def _unit(latlon: np.ndarray) -> np.ndarray:
    """Unit vectors from (lat, lon) radians."""
    cl = np.cos(latlon[:, 0])
    return np.stack([cl * np.cos(latlon[:, 1]), cl * np.sin(latlon[:, 1]), np.sin(latlon[:, 0])], axis=-1)


def _grid_shape(n: np.ndarray, radius: np.ndarray, density: Density) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ρ, δ, L) per centre, evaluated exactly as the reference does."""
    rho = reference_density(n, radius) if density == "auto" else np.full(n.shape, float(density))
    delta = 1 / np.sqrt(rho)
    rings = np.ceil(radius / delta).astype(np.int64)
    too_sparse = delta > np.array([max_spacing(int(L)) for L in rings]) if rings.size < 64 else None
    if too_sparse is None:
        uniq = np.unique(rings)
        lim = dict(zip(uniq.tolist(), [max_spacing(int(L)) for L in uniq], strict=True))
        too_sparse = delta > np.vectorize(lim.get)(rings)
    if too_sparse.any():
        raise ValueError(f"density {density!r} is too low: the background ring spacing exceeds the radius range")
    return rho, delta, rings


def _batches(n: np.ndarray, rings: np.ndarray) -> list[np.ndarray]:
    """Centre index groups sharing L, about :data:`BATCH_POINTS` presence points each (sorted by n)."""
    order = np.lexsort((n, rings))
    cuts = [0]
    count = 0
    for pos in range(1, len(order)):
        count += n[order[pos - 1]]
        if rings[order[pos]] != rings[order[pos - 1]] or count + n[order[pos]] > BATCH_POINTS:
            cuts.append(pos)
            count = 0
    cuts.append(len(order))
    return [order[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _evaluate(
    xyz: np.ndarray, latlon: np.ndarray, centres: np.ndarray, members: list[np.ndarray], radius: np.ndarray,
    marks_list: Sequence[np.ndarray | None], weight_k: int, density: Density, method: str, ties: str,
    progress: bool = False, workers: int | None = None,
) -> list[dict[str, np.ndarray]]:
    """Scores for explicit neighbourhoods: centre ids into ``xyz`` and their member ids (sorted by distance).

    Batches run on ``workers`` threads (numpy releases the GIL in its array loops).
    """
    n = np.array([m.shape[0] for m in members], np.int64)
    rho, delta, rings = _grid_shape(n, radius, density)
    out = [{f: np.zeros(len(centres)) for f in ("ssi", "moran", "mu", "sigma", "z")} for _ in marks_list]
    m_bg = np.zeros(len(centres), np.int64)
    batches = _batches(n, rings)
    tables: GridTables = {}
    for L in np.unique(rings).tolist():
        grid_template(int(L), weight_k)  # build templates once, before the threads start

    def job(sel: np.ndarray) -> int:
        _run_batch(sel, xyz, latlon, centres, members, n, rho, delta, radius, int(rings[sel[0]]), marks_list,
                   weight_k, method, ties, out, m_bg, tables)
        return len(sel)

    n_workers = max(1, min(workers or len(os.sched_getaffinity(0)), len(batches)))
    with tqdm(total=len(centres), disable=not progress, desc="geo-bias", unit="centre", leave=False) as bar:
        if n_workers == 1:
            for sel in batches:
                bar.update(job(sel))
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                for done in as_completed([pool.submit(job, sel) for sel in batches]):
                    bar.update(done.result())
    for res in out:
        res["m"] = m_bg
    return out


def _run_batch(
    sel: np.ndarray, xyz: np.ndarray, latlon: np.ndarray, centres: np.ndarray, members: list[np.ndarray],
    n: np.ndarray, rho: np.ndarray, delta: np.ndarray, radius: np.ndarray, rings: int,
    marks_list: Sequence[np.ndarray | None], weight_k: int, method: str, ties: str,
    out: list[dict[str, np.ndarray]], m_bg: np.ndarray, tables: GridTables,
) -> None:
    """Score the centres ``sel`` (one grid template) into ``out``; ``tables`` caches grid-neighbour keys."""
    tmpl = grid_template(rings, weight_k)
    if tmpl.size + 1 <= weight_k:
        raise ValueError(f"weight_k={weight_k} needs more than {tmpl.size + 1} points per neighbourhood")
    mem = [members[i] for i in sel]
    batch = Batch(
        tmpl=tmpl, centre_xyz=xyz[centres[sel]], centre_latlon=latlon[centres[sel]], radius=radius[sel],
        delta=delta[sel], density=rho[sel], n=n[sel], owner=np.repeat(np.arange(len(sel)), n[sel]),
        member=np.concatenate(mem), pos=np.concatenate([np.arange(len(m)) for m in mem]),
    )
    table, uid = grid_tables(tmpl, batch.delta, tables)
    graph = fast_graph(batch, xyz, latlon, weight_k, ties, table, uid)
    big_m = batch.n + tmpl.size
    s1 = s2 = None
    if method == "exact":
        s1, s2 = np.zeros(len(sel)), np.zeros(len(sel))
        for b in range(len(sel)):
            rows, cols = dense_edges(batch, xyz, weight_k, b)
            indeg = np.bincount(cols, minlength=int(big_m[b]))
            fwd = rows * big_m[b] + cols
            s1[b] = rows.shape[0] + np.isin(cols * big_m[b] + rows, fwd).sum()
            s2[b] = ((weight_k + indeg) ** 2).sum()
    for marks, res in zip(marks_list, out, strict=True):
        z = np.ones(batch.member.shape[0]) if marks is None else marks[batch.member]
        moran, sum_x2, sum_x4 = moran_fast(graph, batch, z, weight_k)
        if method == "exact":
            mu, sigma = exact_moments(big_m, weight_k * big_m.astype(float), s1, s2, sum_x2, sum_x4)
        else:
            cats, counts = categories(z, batch.owner, len(sel), np.full(len(sel), tmpl.size))
            mu, sigma = pygbs_moments(cats, counts)
        zs, ssi = tail_ssi(moran, mu, sigma)
        for key, val in (("ssi", ssi), ("moran", moran), ("mu", mu), ("sigma", sigma), ("z", zs)):
            res[key][sel] = val
    m_bg[sel] = tmpl.size


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
    progress: bool = False,
) -> list[SSIScores]:
    """:func:`ssi_scores` for several mark vectors (``None`` = unmarked) sharing one neighbour graph."""
    arr = _lonlat(lonlat, "lonlat")
    n_pts = arr.shape[0]
    marks_np = [_marks(mk, n_pts) for mk in marks_list]
    _check_options(weight_k, density, method, ties)
    if (radius_km is None) == (knn is None):
        raise ValueError("give exactly one of radius_km (fixed scale) or knn (adaptive kNN scale)")
    size = int(knn if knn is not None else max_neighbors)
    if size < 1 or size != (knn if knn is not None else max_neighbors):
        raise ValueError(f"{'knn' if knn is not None else 'max_neighbors'} must be a positive integer")
    if n_pts < size:
        what = f"knn={size}" if knn is not None else f"max_neighbors={size}"
        raise ValueError(f"{n_pts} points are fewer than {what}; use at most {n_pts}")
    if radius_km is not None and not (0 < radius_km <= EARTH_RADIUS_KM * math.pi / 2):
        raise ValueError(f"radius_km must be in (0, {EARTH_RADIUS_KM * math.pi / 2:.0f}], got {radius_km}")
    latlon = np.radians(arr[:, ::-1])
    xyz = _unit(latlon)
    chord, idx = cKDTree(xyz).query(xyz, k=size, workers=-1)
    chord, idx = chord.reshape(n_pts, size), idx.reshape(n_pts, size)
    ang = 2 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))
    if radius_km is not None:
        radius = np.full(n_pts, radius_km / EARTH_RADIUS_KM)
        counts = (ang <= radius[:, None]).sum(1)
    else:
        radius = np.clip(ang[:, -1], MIN_RADIUS_RAD, math.pi / 2)
        counts = np.full(n_pts, size)
    members = [idx[i, : counts[i]] for i in range(n_pts)]
    results = _evaluate(xyz, latlon, np.arange(n_pts), members, radius, marks_np, int(weight_k), density,
                        method, ties, progress)
    return [
        SSIScores(ssi=r["ssi"], n_neighbors=counts.astype(np.int64), n_background=r["m"], moran_i=r["moran"],
                  expected=r["mu"], std=r["sigma"], z=r["z"], radius_km=radius * EARTH_RADIUS_KM,
                  method=method, marked=mk is not None)
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
    progress: bool = False,
) -> SSIScores:
    """Per-centre SSI for every point of ``lonlat`` ``[N, 2]`` (lon, lat) degrees, numpy or torch.

    Args:
        lonlat: point coordinates; every point is also a centre.
        marks: ``None`` for the unmarked score (z = 1 on points); else one non-zero value per point
            (+1 correct / −1 wrong for classification).
        radius_km: fixed scale (e.g. 100 or 1000): neighbours within this great-circle radius among the
            ``max_neighbors`` nearest (the reference's cap K_p, centre included).
        knn: adaptive scale instead: the ``knn`` nearest points, r = distance to the farthest of them.
        max_neighbors: K_p for ``radius_km`` (needs N ≥ K_p, as the reference).
        weight_k: k of the directed k-NN weight graph (4 = rook-like, as the reference).
        density: background points per square radian, or "auto" = ⌈5n/(πr²)⌉.
        method: ``"pygbs"`` (closed-form moments, σ + 1; reference-compatible) or ``"exact"`` (Cliff–Ord
            randomisation moments of Ī for the actual W, no +1; O(M²) per centre).
        ties: ``"reference"`` breaks exact distance ties as PyGBS's rounding does (matches its numbers);
            ``"stable"`` breaks them by a fixed order (presence first), so the score is invariant to
            rotations about the polar axis and to input order.
        progress: show a tqdm bar.

    Returns:
        :class:`SSIScores` in input order.
    """
    return ssi_scores_multi(lonlat, [marks], radius_km=radius_km, knn=knn, max_neighbors=max_neighbors,
                            weight_k=weight_k, density=density, method=method, ties=ties, progress=progress)[0]


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
    pres = _lonlat(presence_lonlat, "presence_lonlat")
    centre = _lonlat(np.asarray(centre_lonlat, dtype=np.float64).reshape(1, 2), "centre_lonlat")
    mk = _marks(marks, pres.shape[0])
    _check_options(weight_k, density, method, ties)
    if not 0 < radius_km <= EARTH_RADIUS_KM * math.pi / 2:
        raise ValueError(f"radius_km must be in (0, {EARTH_RADIUS_KM * math.pi / 2:.0f}], got {radius_km}")
    latlon = np.radians(np.concatenate([pres, centre])[:, ::-1])
    xyz = _unit(latlon)
    n = pres.shape[0]
    radius = np.array([radius_km / EARTH_RADIUS_KM])
    res = _evaluate(xyz, latlon, np.array([n]), [np.arange(n)], radius, [mk], int(weight_k), density,
                    method, ties)[0]
    rho = _grid_shape(np.array([n]), radius, density)[0][0]
    z = np.ones(n) if mk is None else mk
    cats, counts = categories(z, np.zeros(n, np.int64), 1, res["m"])
    bg = reference_background(latlon[n], float(radius[0]), rho)
    return NeighbourhoodSSI(
        n_presence=n, n_background=int(res["m"][0]), density=float(rho), categories=cats[0][counts[0] > 0],
        counts=counts[0][counts[0] > 0], moran_i=float(res["moran"][0]), expected=float(res["mu"][0]),
        std=float(res["sigma"][0]), z=float(res["z"][0]), ssi=float(res["ssi"][0]),
        background_lonlat=np.degrees(bg[:, ::-1]),
    )

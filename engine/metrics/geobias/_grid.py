"""The background grid of the Geo-Bias Score, in the *pole frame* of a centre.

PyGBS (Wang, Janowicz, Mai & Majic, COSIT 2024) puts value-0 "background" points around every centre: with
spacing δ = 1/√ρ (ρ points per square radian) and L = ⌈r/δ⌉ rings, ring t = 1 … L holds n_t = ⌈2πt⌉
points at colatitude tδ from the north pole and longitudes α_tj = −π + 2πj/n_t; the rotation
``Rotation.from_euler('yz', [π/2 − φ_c, λ_c])`` then carries the pole onto the centre.

Here nothing is rotated per grid point: the *presence* points are rotated into the frame where the centre is
the pole (:func:`pole_frame`), so the grid is a fixed pattern that depends only on L and is scaled by δ. A
point in that frame is stored as (x, y, w) with w = 1 − z, which keeps chord distances accurate for small
neighbourhoods: chord² = Δx² + Δy² + Δw². :class:`GridTemplate` holds the ring pattern for one L, with a
short list of candidate grid neighbours per grid point (checked at several δ), so the grid-only k-NN of any
grid point at any δ is a few dozen flops.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

WINDOWS = ((np.array([-1, 0, 1]), 3, "round"), (np.array([-1, 0, 1, 2]), 7, "floor"))
"""Candidate windows tried in turn for a presence point at colatitude θ: rings around round(θ/δ) (or ⌊θ/δ⌋)
and that many positions per ring nearest in longitude; points that fail the coverage check try the next."""
CANDIDATES = 12
"""Background candidates kept per presence point (the nearest of its window)."""
GRID_CODE_BITS = 23
QBITS = 24
"""Low mantissa bits of chord² replaced by a point code: distances within ~2⁻²⁸ relative count as ties,
broken by the code (data points by input index, then background points), which gives one total order."""


GRID_CODE = 1 << GRID_CODE_BITS
"""Tie code of grid point id h is GRID_CODE + h; data points use their input index (< GRID_CODE)."""


def sort_keys(d2: np.ndarray, code: np.ndarray | int) -> np.ndarray:
    """int64 keys ordering points by (quantised chord², code); ``code`` < 2**QBITS."""
    bits = np.ascontiguousarray(d2, dtype=np.float64).view(np.int64)
    return (((bits + (1 << (QBITS - 1))) >> QBITS) << QBITS) | code


def key_distance(keys: np.ndarray) -> np.ndarray:
    """The quantised-distance part of :func:`sort_keys` (equal values are ties)."""
    return keys >> QBITS


@dataclass(frozen=True, eq=False)
class GridTemplate:
    """Ring pattern for L rings (m = Σ n_t points, id = ring_start[t] + j) and grid-neighbour candidates.

    ``nbr`` lists, per grid point, every grid point that was among its ``weight_k + 2`` nearest (ties
    included) at any of several spacings δ; ``nbr_sa`` = sin²(Δα/2) for those pairs (inf for padding), so
    chord² = 4 sin²(Δt·δ/2) + 4 sin(t_g δ) sin(t_h δ) sin²(Δα/2). ``dk_ratio_each`` bounds
    d_k(g)² / (4 sin²(δ/2)) per grid point (5 % margin) for the k-th grid-only neighbour distance d_k,
    ``dk_ring`` ``[L + 2]`` its maximum per ring and ``dk_ratio`` over all.
    """

    n_rings: int
    weight_k: int
    ring_size: np.ndarray
    ring_start: np.ndarray
    ring: np.ndarray
    cos_a: np.ndarray
    sin_a: np.ndarray
    alpha: np.ndarray
    sa2: np.ndarray
    ca2: np.ndarray
    nbr: np.ndarray
    nbr_ring: np.ndarray
    nbr_sa: np.ndarray
    dk_ratio: float
    dk_ratio_each: np.ndarray
    dk_ring: np.ndarray

    @property
    def size(self) -> int:
        """Number of background points m."""
        return int(self.ring.shape[0])


def max_spacing(n_rings: int) -> float:
    """Largest δ supported for L rings (radius ≤ π/2 implies δ < (π/2)/(L − 1); L ≤ 2: Lδ < π)."""
    return math.pi / (n_rings + 1) if n_rings <= 2 else (math.pi / 2) / (n_rings - 1)


def grid_points(tmpl: GridTemplate, delta: float) -> np.ndarray:
    """Pole-frame (x, y, w) of the m grid points at spacing ``delta``: ``[m, 3]``."""
    theta = tmpl.ring * delta
    s = np.sin(theta)
    return np.stack([s * tmpl.cos_a, s * tmpl.sin_a, 2.0 * np.sin(theta / 2) ** 2], axis=-1)


@functools.lru_cache(maxsize=128)
def grid_template(n_rings: int, weight_k: int) -> GridTemplate:
    """Build (once per (L, k)) the ring pattern and grid-neighbour candidates; see :class:`GridTemplate`."""
    sizes = np.ceil(2 * np.pi * np.arange(1, n_rings + 1)).astype(np.int64)
    ring_size = np.concatenate([[0], sizes, [0]])
    ring_start = np.concatenate([[0], np.cumsum(sizes)])
    ring = np.repeat(np.arange(1, n_rings + 1), sizes)
    j = np.arange(ring.shape[0]) - ring_start[ring - 1]
    alpha = -np.pi + (2 * np.pi / ring_size[ring]) * j
    ring_start = np.concatenate([[0], ring_start])  # ring_start[t] = id of (t, 0)
    m = ring.shape[0]
    want = min(weight_k + 2, m - 1)  # other neighbours to keep per grid point (ties included)
    pairs: list[np.ndarray] = []
    ratio = np.zeros(m)
    hi = max_spacing(n_rings)
    base = GridTemplate(
        n_rings,
        weight_k,
        ring_size,
        ring_start,
        ring,
        np.cos(alpha),
        np.sin(alpha),
        alpha,
        np.sin(alpha / 2),
        np.cos(alpha / 2),
        np.zeros((m, 0), np.int64),
        np.zeros((m, 0), np.int64),
        np.zeros((m, 0)),
        0.0,
        ratio,
        ring_size * 0.0,
    )
    for delta in np.geomspace(hi * 1e-4, hi, 7):
        pts = grid_points(base, float(delta))
        kq = min(m, want + 12)
        d, i = cKDTree(pts).query(pts, k=kq)
        lim = d[:, want] * (1 + 1e-9)
        if kq < m and (d[:, -1] <= lim).any():
            raise RuntimeError(f"grid template L={n_rings}: neighbour ties exceed the search width")
        keep = (d <= lim[:, None]) & (i != np.arange(m)[:, None])
        pairs.append(np.arange(m)[:, None].repeat(kq, 1)[keep] * m + i[keep])
        dk = d[:, min(weight_k, m - 1)] ** 2
        ratio = np.maximum(ratio, dk / (4 * np.sin(delta / 2) ** 2))
    dk_ring = np.zeros(n_rings + 2)
    np.maximum.at(dk_ring, ring, ratio)
    uniq = np.unique(np.concatenate(pairs))
    g, h = uniq // m, uniq % m
    counts = np.bincount(g, minlength=m)
    width = int(counts.max())
    slot = np.arange(uniq.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    nbr = np.full((m, width), m, dtype=np.int64)
    nbr[g, slot] = h
    nbr_ring = np.concatenate([ring, [1]])[nbr]
    sa = np.full((m, width), np.inf)
    sa[g, slot] = np.sin((alpha[g] - alpha[h]) / 2) ** 2
    return GridTemplate(
        n_rings,
        weight_k,
        ring_size,
        ring_start,
        ring,
        base.cos_a,
        base.sin_a,
        alpha,
        base.sa2,
        base.ca2,
        nbr,
        nbr_ring,
        sa,
        float(ratio.max()) * 1.05,
        ratio * 1.05,
        dk_ring * 1.05,
    )


@dataclass(frozen=True, eq=False)
class RingTables:
    """Per centre ``[B, L + 2]`` (t = 0 … L + 1): sin(tδ/2), cos(tδ/2), sin(tδ) and 4 sin²(tδ/2)."""

    half_sin: np.ndarray
    half_cos: np.ndarray
    sin: np.ndarray
    hav: np.ndarray

    @staticmethod
    def build(delta: np.ndarray, n_rings: int) -> RingTables:
        """Tables for spacings ``delta`` ``[B]``."""
        t = delta[:, None] * np.arange(n_rings + 2)
        hs = np.sin(t / 2)
        return RingTables(hs, np.cos(t / 2), np.sin(t), 4 * hs**2)


def grid_neighbour_d2(tmpl: GridTemplate, gid: np.ndarray, owner: np.ndarray, rt: RingTables) -> np.ndarray:
    """chord² ``[Q, S]`` from grid points ``gid`` (of centres ``owner`` in ``rt``) to their candidate
    grid-only neighbours ``nbr``: 4 sin²(Δt δ/2) + 4 sin(t_g δ) sin(t_h δ) sin²(Δα/2) (inf: padding).
    """
    tg = tmpl.ring[gid][:, None]
    th = tmpl.nbr_ring[gid]
    rows = owner[:, None]
    return rt.hav[rows, np.abs(tg - th)] + 4 * rt.sin[rows, tg] * rt.sin[rows, th] * tmpl.nbr_sa[gid]


def grid_neighbour_keys(tmpl: GridTemplate, gid: np.ndarray, owner: np.ndarray, rt: RingTables) -> np.ndarray:
    """:func:`sort_keys` (code ``GRID_CODE + id``) of :func:`grid_neighbour_d2`, unsorted ``[Q, S]``.

    The candidates hold every grid point ranked among the first k + 2 (ties included), so "fewer than k
    of them are closer" is exact.
    """
    return sort_keys(grid_neighbour_d2(tmpl, gid, owner, rt), GRID_CODE + tmpl.nbr[gid])


def pole_frame(points: np.ndarray, centre: np.ndarray, centre_latlon: np.ndarray) -> np.ndarray:
    """Rotate unit vectors ``points`` ``[P, 3]`` into the frame where their ``centre`` ``[P, 3]`` is the pole.

    Inverse of R = R_z(λ_c) R_y(π/2 − φ_c) applied to d = p − c; returns (x, y, w = |d|²/2) ``[P, 3]``.
    """
    d = points - centre
    lat, lon = centre_latlon[:, 0], centre_latlon[:, 1]
    cl, sl, cp, sp = np.cos(lon), np.sin(lon), np.cos(lat), np.sin(lat)
    ux = cl * d[:, 0] + sl * d[:, 1]
    uy = cl * d[:, 1] - sl * d[:, 0]
    return np.stack([sp * ux - cp * d[:, 2], uy, 0.5 * (d[:, 0] ** 2 + d[:, 1] ** 2 + d[:, 2] ** 2)], axis=-1)


@dataclass(frozen=True, eq=False)
class Polar:
    """Presence points in polar form around their centre.

    Colatitude θ (also as sin/cos of θ/2), sin θ and longitude α (as sin/cos of α/2); the chord² to grid
    point (t, j) is then 4 sin²((θ − tδ)/2) + 4 sin θ sin(tδ) sin²((α − α_j)/2), with both half-angle sines
    expanded by the difference formula (no trigonometry per candidate).
    """

    theta: np.ndarray
    s2: np.ndarray
    c2: np.ndarray
    sin: np.ndarray
    alpha: np.ndarray
    sa2: np.ndarray
    ca2: np.ndarray

    @staticmethod
    def build(pf: np.ndarray) -> Polar:
        """From pole-frame (x, y, w) ``[P, 3]`` (w = chord²/2 to the centre)."""
        s2 = np.minimum(np.sqrt(pf[:, 2] / 2), 1.0)
        c2 = np.sqrt(1 - s2 * s2)
        alpha = np.arctan2(pf[:, 1], pf[:, 0])
        return Polar(2 * np.arcsin(s2), s2, c2, 2 * s2 * c2, alpha, np.sin(alpha / 2), np.cos(alpha / 2))


def presence_candidates(
    tmpl: GridTemplate, pol: Polar, owner: np.ndarray, delta: np.ndarray, rt: RingTables, kth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Nearby grid points of presence points: ids and chord² ``[P, C]`` (inf: padding).

    The result holds the ``kth`` nearest grid points and every grid point g with chord²(p, g) ≤ d_k(g)²
    (its k-th grid-only neighbour), certified by a lower bound on the distance to every grid point left
    out (:data:`WINDOWS` in turn, then all m grid points).
    """
    n_p = pol.theta.shape[0]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    todo = np.arange(n_p)
    for offsets, per_ring, base in WINDOWS:
        sub = Polar(*(getattr(pol, f)[todo] for f in Polar.__dataclass_fields__))
        wi, wd, ok = _window(tmpl, sub, owner[todo], delta[todo], rt, offsets, per_ring, base, kth)
        parts.append((todo[ok], wi[ok], wd[ok]))
        todo = todo[~ok]
        if todo.size == 0:
            break
    if todo.size:
        wi, wd = _brute_candidates(tmpl, pol, todo, owner[todo], rt, 4 * CANDIDATES)
        parts.append((todo, wi, wd))
    # Keep the nearest CANDIDATES per point, or more where that many background points lie within reach
    # of an intrusion (d² ≤ the largest d_k², large spacings on a curved grid).
    width = CANDIDATES
    for rows, wi, wd in parts:
        if rows.size and wi.shape[1] > width:
            reach = (wd <= (tmpl.dk_ratio * rt.hav[owner[rows], 1])[:, None]).sum(1).max()
            width = max(width, min(int(reach) + 1, wi.shape[1]))
    ids = np.zeros((n_p, width), np.int64)
    d2 = np.full((n_p, width), np.inf)
    for rows, wi, wd in parts:
        if wi.shape[1] > width:
            part = np.argpartition(wd, width - 1, axis=1)[:, :width]
            wi, wd = np.take_along_axis(wi, part, 1), np.take_along_axis(wd, part, 1)
        ids[rows, : wi.shape[1]] = wi
        d2[rows, : wi.shape[1]] = wd
    return ids, d2


def _chord2(
    pol: Polar,
    sel: np.ndarray | slice,
    hs: np.ndarray,
    hc: np.ndarray,
    sn: np.ndarray,
    saj: np.ndarray,
    caj: np.ndarray,
) -> np.ndarray:
    """chord² from rows ``sel`` of ``pol`` to grid points with ring values (hs, hc, sn) and (saj, caj);
    ring arrays broadcast against the grid-point arrays, which carry one more trailing axis.
    """
    s2, c2 = pol.s2[sel][:, None], pol.c2[sel][:, None]
    a = 4 * (s2 * hc - c2 * hs) ** 2
    b = 4 * pol.sin[sel][:, None] * sn
    ang = pol.sa2[sel][:, None, None] * caj - pol.ca2[sel][:, None, None] * saj
    return a[..., None] + b[..., None] * ang * ang


def _window(
    tmpl: GridTemplate,
    pol: Polar,
    owner: np.ndarray,
    delta: np.ndarray,
    rt: RingTables,
    offsets: np.ndarray,
    per_ring: int,
    base: str,
    kth: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of one window and whether they are certified complete (see :func:`presence_candidates`)."""
    big_l, n_p = tmpl.n_rings, pol.theta.shape[0]
    t0 = (np.rint if base == "round" else np.floor)(pol.theta / delta).astype(np.int64)
    t = t0[:, None] + offsets  # [P, R]
    valid = (t >= 1) & (t <= big_l)
    tc = np.clip(t, 0, big_l + 1)
    nt = np.maximum(tmpl.ring_size[tc], 1)
    jc = np.rint((pol.alpha[:, None] + np.pi) * nt / (2 * np.pi)).astype(np.int64)
    offs = np.arange(per_ring) - per_ring // 2
    ids = tmpl.ring_start[tc][..., None] + (jc[..., None] + offs) % nt[..., None]  # [P, R, W]
    ids = np.where(valid[..., None], ids, 0)
    rows = owner[:, None]
    hs, hc, sn = rt.half_sin[rows, tc], rt.half_cos[rows, tc], rt.sin[rows, tc]
    d2 = _chord2(pol, slice(None), hs, hc, sn, tmpl.sa2[ids], tmpl.ca2[ids])
    d2 = np.where(valid[..., None], d2, np.inf).reshape(n_p, -1)
    ids = ids.reshape(n_p, -1)
    # Lower bounds on chord² to the grid points left out, each checked against the k-th candidate and
    # against d_k² of the points it bounds (nearest excluded rings: their ring's bound; farther: the max).
    unit2 = rt.hav[owner, 1]
    kd = np.partition(d2, kth - 1, axis=1)[:, kth - 1]
    ok = np.ones(n_p, bool)
    for tt, far in ((t[:, 0] - 1, False), (t[:, -1] + 1, False), (t[:, 0] - 2, True), (t[:, -1] + 2, True)):
        exists = (tt >= 1) & (tt <= big_l)
        tcl = np.clip(tt, 0, big_l + 1)
        bound = 4 * (pol.s2 * rt.half_cos[owner, tcl] - pol.c2 * rt.half_sin[owner, tcl]) ** 2
        need = tmpl.dk_ratio if far else tmpl.dk_ring[tcl]
        ok &= ~exists | ((bound > kd) & (bound > need * unit2))
    smin = np.sin(np.minimum((2 * (per_ring // 2) + 1) * np.pi / (2 * nt), np.pi / 2)) ** 2
    part = 4 * (pol.s2[:, None] * hc - pol.c2[:, None] * hs) ** 2 + 4 * pol.sin[:, None] * sn * smin
    left_out = valid & (nt > per_ring)
    ok &= (~left_out | ((part > kd[:, None]) & (part > tmpl.dk_ring[tc] * unit2[:, None]))).all(1)
    return ids, d2, ok


def _brute_candidates(
    tmpl: GridTemplate, pol: Polar, sel: np.ndarray, owner: np.ndarray, rt: RingTables, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``width`` nearest grid points of presence rows ``sel``, by brute force over the template."""
    rows = owner[:, None]
    t = tmpl.ring[None, :]
    d2 = _chord2(
        pol,
        sel,
        rt.half_sin[rows, t],
        rt.half_cos[rows, t],
        rt.sin[rows, t],
        tmpl.sa2[None, :, None],
        tmpl.ca2[None, :, None],
    )[..., 0]
    width_eff = min(width, tmpl.size)
    ids = np.argpartition(d2, width_eff - 1, axis=1)[:, :width_eff]
    out_ids = np.zeros((sel.shape[0], width), np.int64)
    out_d2 = np.full((sel.shape[0], width), np.inf)
    out_ids[:, :width_eff] = ids
    out_d2[:, :width_eff] = np.take_along_axis(d2, ids, axis=1)
    return out_ids, out_d2

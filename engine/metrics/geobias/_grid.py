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
grid point at any δ is a few dozen flops. The grid points near a presence point are found in
:mod:`._candidates`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

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

"""Building blocks of the weight graph: a batch of neighbourhoods, grid-neighbour look-ups, and the rows
of presence points (their nearest fellow presence points) and of grid points (their intruders' ranks).

See :mod:`._graph` for how they combine; keys and tie codes are those of :func:`._grid.sort_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.metrics.geobias._grid import (
    GridTemplate,
    RingTables,
    grid_neighbour_d2,
    grid_neighbour_keys,
    key_distance,
    sort_keys,
)

GridTables = dict[tuple[int, float], np.ndarray]
NO_KEY = np.iinfo(np.int64).max
DIST_BITS = 40
"""Bits of :func:`key_distance` of a chord² ≤ 4 (a non-negative float64's bits shifted by QBITS = 24)."""


@dataclass(frozen=True, eq=False)
class Batch:
    """Centres sharing one grid template; ``owner``/``member``/``pos`` list their presence points.

    Per centre ``[B]``: unit vector, (lat, lon) radians, radius, spacing δ, density ρ (as the reference
    uses it) and presence count n. Per presence entry ``[E]``: centre (0 … B − 1), global point id and
    position in the neighbourhood (its rank by distance to the centre).
    """

    tmpl: GridTemplate
    centre_xyz: np.ndarray
    centre_latlon: np.ndarray
    radius: np.ndarray
    delta: np.ndarray
    density: np.ndarray
    n: np.ndarray
    owner: np.ndarray
    member: np.ndarray
    pos: np.ndarray


@dataclass(frozen=True, eq=False)
class Graph:
    """Presence-touching edges: presence→presence (entry ``pp_src`` → global point ``pp_dst``), grid→presence
    (entry ``gp_dst``, one per edge); ``out_extra`` ``[E]`` is a presence row's out-degree beyond k and
    ``s0_extra`` ``[B]`` the total (non-zero only where the reference's BallTree drops the point itself).
    """

    pp_src: np.ndarray
    pp_dst: np.ndarray
    gp_dst: np.ndarray
    out_extra: np.ndarray
    s0_extra: np.ndarray


@dataclass(frozen=True, eq=False)
class GridLookup:
    """The grid-only neighbours of a batch's grid points, for ranking a presence point in a grid row.

    Either exact keys ``table[uid[b]]`` ``[m, S]`` per distinct spacing (fixed radii: few spacings, cached),
    or, for many spacings (kNN scale), bounds ``lo``/``hi`` ``[m, S]`` on chord² / 4 sin²(δ/2) over the
    batch's spacing range: a comparison those bounds cannot settle is redone exactly.
    """

    table: np.ndarray | None
    uid: np.ndarray | None
    lo: np.ndarray | None
    hi: np.ndarray | None


def grid_lookup(tmpl: GridTemplate, delta: np.ndarray, cache: GridTables) -> GridLookup:
    """:class:`GridLookup` for a batch's spacings ``delta`` ``[B]``; exact tables are kept in ``cache``."""
    uniq, uid = np.unique(delta, return_inverse=True)
    gid = np.arange(tmpl.size)
    if uniq.shape[0] > 16:
        ends = np.array([uniq[0], np.sqrt(uniq[0] * uniq[-1]), uniq[-1]])
        rt = RingTables.build(ends, tmpl.n_rings)
        ratio = np.stack(
            [grid_neighbour_d2(tmpl, gid, np.full(tmpl.size, u), rt) / rt.hav[u, 1] for u in range(3)]
        )
        pad = ~np.isfinite(ratio[0])
        ratio[:, pad] = 0.0
        slack = ratio.max(0) - ratio.min(0) + 1e-9 * ratio.min(0)  # the ratio drifts slowly and smoothly
        lo, hi = ratio.min(0) - slack, ratio.max(0) + slack
        lo[pad], hi[pad] = np.inf, np.inf
        return GridLookup(None, None, lo, hi)
    key = [(tmpl.n_rings, d) for d in uniq.tolist()]
    missing = [u for u, kk in enumerate(key) if kk not in cache]
    if missing:
        rt = RingTables.build(uniq[missing], tmpl.n_rings)
        owner = np.repeat(np.arange(len(missing)), tmpl.size)
        fresh = grid_neighbour_keys(tmpl, np.tile(gid, len(missing)), owner, rt)
        cache.update(zip([key[u] for u in missing], fresh.reshape(len(missing), tmpl.size, -1), strict=True))
    return GridLookup(np.stack([cache[kk] for kk in key]), uid, None, None)


def grid_rank(
    look: GridLookup,
    tmpl: GridTemplate,
    gid: np.ndarray,
    owner: np.ndarray,
    d2: np.ndarray,
    keg: np.ndarray,
    rt: RingTables,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For presence keys ``keg`` in grid rows ``gid``: grid neighbours strictly before (by key), strictly
    closer and tied (by quantised distance), and the rows' exact grid keys ``[Q, S]`` (``NO_KEY`` rows
    where the bounds settled everything: no tie is possible there).
    """
    if look.table is not None:
        gk = look.table[look.uid[owner], gid]
        q, qg = key_distance(keg)[:, None], key_distance(gk)
        return (gk < keg[:, None]).sum(1), (qg < q).sum(1), (qg == q).sum(1), gk
    r = (d2 / rt.hav[owner, 1])[:, None]
    lo, hi = look.lo[gid], look.hi[gid]
    below = (hi < r).sum(1)
    lt_g, eq_g = below.copy(), np.zeros_like(below)
    gk = np.full(lo.shape, NO_KEY)
    unsure = np.flatnonzero(((lo <= r) & (hi >= r)).any(1))
    if unsure.size:
        gk[unsure] = grid_neighbour_keys(tmpl, gid[unsure], owner[unsure], rt)
        q, qg = key_distance(keg[unsure])[:, None], key_distance(gk[unsure])
        below[unsure] = (gk[unsure] < keg[unsure, None]).sum(1)
        lt_g[unsure], eq_g[unsure] = (qg < q).sum(1), (qg == q).sum(1)
    return below, lt_g, eq_g, gk


def runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted rows, (index of the first row with the same ``keys``, length of that run)."""
    new = np.zeros(keys[0].shape[0], bool)
    new[:1] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    start = np.flatnonzero(new)
    length = np.diff(np.append(start, keys[0].shape[0]))
    return np.repeat(start, length), np.repeat(length, length)


def entry_table(batch: Batch) -> np.ndarray:
    """Entry id at [centre, position] (−1 where the neighbourhood is smaller): ``[B, n_max]``."""
    table = np.full((batch.n.shape[0], int(batch.n.max())), -1, np.int64)
    table[batch.owner, batch.pos] = np.arange(batch.owner.shape[0])
    return table


def dense_rows(batch: Batch, xyz: np.ndarray, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and global ids of the ``width`` nearest fellow presence points of ``rows``, by brute force."""
    table = entry_table(batch)
    peers = table[batch.owner[rows]]  # [R, n_max] entry ids
    gids = np.where(peers >= 0, batch.member[np.maximum(peers, 0)], -1)
    g = np.maximum(gids, 0)
    m = batch.member[rows][:, None]
    d2 = sum((xyz[g, i] - xyz[m, i]) ** 2 for i in range(3))
    valid = (peers >= 0) & (peers != rows[:, None])
    keys = np.where(valid, sort_keys(d2, np.maximum(gids, 0)), NO_KEY)
    take = min(width, keys.shape[1])
    sel = np.argpartition(keys, take - 1, axis=1)[:, :take] if take < keys.shape[1] else np.argsort(keys, 1)
    sel = np.take_along_axis(sel, np.argsort(np.take_along_axis(keys, sel, 1), axis=1), 1)[:, :take]
    out_k = np.full((rows.shape[0], width), NO_KEY)
    out_i = np.full((rows.shape[0], width), -1, np.int64)
    out_k[:, :take] = np.take_along_axis(keys, sel, 1)
    out_i[:, :take] = np.where(out_k[:, :take] < NO_KEY, np.take_along_axis(gids, sel, 1), -1)
    return out_k, out_i


def group_order(
    group: np.ndarray, key: np.ndarray, n_groups: int, slack: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within groups (ids < ``n_groups``): each row's rank by ``key`` (distinct), the number of rows
    strictly closer in ``key_distance`` and of other rows tied with it in ``key_distance``.

    Only groups holding a row whose outcome can depend on the order (``slack + size − 1 ≥ 0``) are
    ranked; other rows get 0, 0, 0.
    """
    size = np.bincount(group, minlength=n_groups)
    rank = np.zeros(group.shape[0], np.int64)
    lt, eq = np.zeros_like(rank), np.zeros_like(rank)
    doubt = (size[group] > 1) & (slack + size[group] - 1 >= 0)
    if doubt.any():
        flagged = np.zeros(n_groups, bool)
        flagged[group[doubt]] = True
        sub = np.flatnonzero(flagged[group])
        order = sub[_order_by(group[sub], key[sub], n_groups)]
        first, _ = runs(group[order])
        start, length = runs(group[order], key_distance(key[order]))
        rank[order] = np.arange(order.shape[0]) - first
        lt[order], eq[order] = start - first, length - 1
    return rank, lt, eq


def _order_by(group: np.ndarray, key: np.ndarray, n_groups: int) -> np.ndarray:
    """The permutation sorting rows by (group, key) (keys distinct within a group).

    One argsort of (group, quantised distance) packed into an int64, then the rare runs tied in both are
    ordered by the full key; falls back to a lexsort when the packing would overflow.
    """
    dist = key_distance(key)
    if n_groups >= 1 << (63 - DIST_BITS) or key.size == 0 or dist.min() < 0 or dist.max() >= 1 << DIST_BITS:
        return np.lexsort((key, group))
    packed = (group << DIST_BITS) | dist
    order = np.argsort(packed)
    ps = packed[order]
    tied = np.zeros(ps.shape[0], bool)
    same = ps[1:] == ps[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        at = np.flatnonzero(tied)  # runs of equal packed values stay in place; order each run by key
        rows = order[at]
        order[at] = rows[np.lexsort((key[rows], ps[at]))]
    return order

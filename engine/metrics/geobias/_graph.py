"""The directed k-NN weight graph of a neighbourhood (presence + background) without M × M matrices.

W_ab = 1 when b is among the k + 1 nearest points of a and b ≠ a (the point itself ranks first). Only the
edges that touch a presence point matter for Ī: with z = 0 on the background, S = Σ z, z̄ = S/M,

    Ī = Σ_ab W_ab (z_a − z̄)(z_b − z̄) = A − z̄ (Σ_a z_a out_a + T) + z̄² S0,
    A = Σ_{a→b, both presence} z_a z_b,   T = Σ_{x→b, b presence} z_b,   S0 = Σ out = kM.

So the graph is reduced to presence→presence edges and the in-edges of presence points from the grid. A
presence row takes its k nearest among its candidate grid points (:func:`presence_candidates`) and the other
presence points closer than its k-th grid candidate; a grid row g takes a presence point p when fewer than k
points (grid neighbours of g from the template, or other presence points) are closer to g than p.

Ties: every distance is an int64 key (quantised chord², then a code: presence by position, then background),
which is one total order (``ties="stable"``). With ``ties="reference"`` a tie between a presence point and a
grid point in a grid row is decided by PyGBS's own rounding (:mod:`._reference`); a row whose edges still
depend on a tie is re-queried with the reference's own BallTree on the reference's coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import BallTree

from engine.metrics.geobias._grid import (
    GRID_CODE,
    grid_neighbour_keys,
    QBITS,
    GridTemplate,
    grid_points,
    key_distance,
    pole_frame,
    Polar,
    RingTables,
    presence_candidates,
    sort_keys,
)
from engine.metrics.geobias._reference import reference_background, reference_grid_latlon, reference_rdist

GridTables = dict[tuple[int, float], np.ndarray]


def grid_tables(tmpl: GridTemplate, delta: np.ndarray, cache: GridTables | None) -> tuple[np.ndarray, np.ndarray]:
    """Grid-neighbour key tables ``[U, m, S]`` for the distinct spacings of ``delta`` and each one's index.

    Tables of spacings shared by many centres (fixed radii) are kept in ``cache``.
    """
    uniq, uid = np.unique(delta, return_inverse=True)
    gid = np.arange(tmpl.size)
    out = []
    for u, d in enumerate(uniq.tolist()):
        key = (tmpl.n_rings, d)
        if cache is not None and key in cache:
            out.append(cache[key])
            continue
        tab = grid_neighbour_keys(tmpl, gid, np.zeros(tmpl.size, np.int64), RingTables.build(uniq[u : u + 1], tmpl.n_rings))
        if cache is not None and len(uniq) <= 16:
            cache[key] = tab
        out.append(tab)
    return np.stack(out), uid

_NO_KEY = np.iinfo(np.int64).max


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
    """Presence-touching edges: presence→presence (entry ids ``pp_src → pp_dst``), grid→presence
    (``gp_dst``, one per edge); ``out_extra`` ``[E]`` is a presence row's out-degree beyond k and
    ``s0_extra`` ``[B]`` the total (non-zero only where the reference's BallTree drops the point itself)."""

    pp_src: np.ndarray
    pp_dst: np.ndarray
    gp_dst: np.ndarray
    out_extra: np.ndarray
    s0_extra: np.ndarray


def _runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted rows, (index of the first row with the same ``keys``, length of that run)."""
    new = np.zeros(keys[0].shape[0], bool)
    new[:1] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    start = np.flatnonzero(new)
    length = np.diff(np.append(start, keys[0].shape[0]))
    return np.repeat(start, length), np.repeat(length, length)


def _presence_rows(batch: Batch, xyz: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per presence point, its ``width`` nearest other presence points of the same neighbourhood.

    Selection by a batched Gram matrix of centre-relative vectors (|a−b|² = |a|² + |b|² − 2a·b; the row's
    |a|² is constant so it is left out), then exact chord² from coordinate differences. Returns (entry ids
    ``[E, width]`` sorted by key, −1: none; chord², inf: none).
    """
    n_e = batch.owner.shape[0]
    n_max = int(batch.n.max())
    take = min(width, n_max - 1)
    out_e = np.full((n_e, width), -1, np.int64)
    out_d = np.full((n_e, width), np.inf)
    if take <= 0:
        return out_e, out_d
    table = np.full((batch.n.shape[0], n_max), -1, np.int64)
    table[batch.owner, batch.pos] = np.arange(n_e)
    ok = table >= 0
    safe = np.where(ok, table, 0)
    rel = np.where(ok[..., None], xyz[batch.member][safe] - batch.centre_xyz[:, None, :], 0.0)
    score = np.matmul(rel, rel.transpose(0, 2, 1))
    score *= -2.0
    score += np.where(ok, (rel * rel).sum(-1), np.inf)[:, None, :]
    score[:, np.arange(n_max), np.arange(n_max)] = -np.inf
    nearest = np.argpartition(score, take, axis=-1)[..., : take + 1]  # self (−inf) and the ``take`` nearest
    nearest = nearest[batch.owner, batch.pos]
    ents = table[batch.owner[:, None], nearest]
    ents = np.where(ents == np.arange(n_e)[:, None], -1, ents)
    d2 = np.where(ents >= 0, ((xyz[batch.member[np.maximum(ents, 0)]] - xyz[batch.member][:, None, :]) ** 2).sum(-1),
                  np.inf)
    keys = np.where(ents >= 0, sort_keys(d2, batch.pos[np.maximum(ents, 0)]), _NO_KEY)
    order = np.argsort(keys, axis=1)[:, :width]
    out_e[:, : order.shape[1]] = np.take_along_axis(ents, order, 1)
    out_d[:, : order.shape[1]] = np.take_along_axis(d2, order, 1)
    return out_e, out_d


def _group_order(group: np.ndarray, key: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """Within groups (ids < ``n_groups``): each row's rank by ``key`` (distinct), the number of rows
    strictly closer in ``key_distance`` and of other rows tied with it in ``key_distance``."""
    size = np.bincount(group, minlength=n_groups)[group]
    rank = np.zeros(group.shape[0], np.int64)
    lt, eq = np.zeros_like(rank), np.zeros_like(rank)
    multi = np.flatnonzero(size > 1)
    if multi.size:
        order = multi[np.lexsort((key[multi], group[multi]))]
        first, _ = _runs(group[order])
        start, length = _runs(group[order], key_distance(key[order]))
        rank[order] = np.arange(order.shape[0]) - first
        lt[order], eq[order] = start - first, length - 1
    return rank, lt, eq


def fast_graph(
    batch: Batch, xyz: np.ndarray, latlon: np.ndarray, weight_k: int, ties: str, table: np.ndarray,
    uid: np.ndarray,
) -> Graph:
    """Presence-touching edges of every centre in ``batch`` (see the module docstring).

    ``table[uid[b]]`` ``[m, S]`` holds the grid-neighbour keys (:func:`grid_neighbour_keys`) of every grid
    point at centre b's spacing.
    """
    k, tmpl, own = weight_k, batch.tmpl, batch.owner
    n_e = own.shape[0]
    pol = Polar.build(pole_frame(xyz[batch.member], batch.centre_xyz[own], batch.centre_latlon[own]))
    rt = RingTables.build(batch.delta, tmpl.n_rings)
    unit2 = rt.hav[own, 1]
    ids, d2 = presence_candidates(tmpl, pol, own, batch.delta[own], rt, k)
    gkey = sort_keys(d2, GRID_CODE + ids)
    reference = ties == "reference"

    # Presence rows: the k nearest of (the k + 2 nearest other presence points, grid candidates).
    pe, pd2 = _presence_rows(batch, xyz, k + 2)
    pkey = np.where(pe >= 0, sort_keys(pd2, batch.pos[np.maximum(pe, 0)]), _NO_KEY)
    part = np.partition(np.concatenate([pkey, gkey], axis=1), [k - 1, k], axis=1)
    kth, nxt = part[:, k - 1], part[:, k]
    crowded = (key_distance(pkey[:, -1]) <= key_distance(nxt)) & (pe[:, -1] >= 0)
    if crowded.any():  # ties may reach past the listed neighbours: rank those rows against all points
        pe, pkey, kth, nxt = _full_rows(batch, xyz, np.flatnonzero(crowded), pe, pkey, gkey, k)
    inrow = (pkey <= kth[:, None]) & (pe >= 0)
    src = np.broadcast_to(np.arange(n_e)[:, None], pe.shape)
    pp_src, pp_dst = src[inrow], pe[inrow]
    ref_p = np.zeros(n_e, bool)
    if reference:
        tie = key_distance(kth) == key_distance(nxt)
        ref_p = tie & (key_distance(pkey) == key_distance(kth)[:, None]).any(1)

    # Grid rows: presence points closer to a grid point than its k-th grid neighbour.
    e, c = np.nonzero(d2 <= tmpl.dk_ratio_each[ids] * unit2[:, None])
    gid = ids[e, c]
    keg = sort_keys(d2[e, c], batch.pos[e])
    gk = table[uid[own[e]], gid]
    below = (gk < keg[:, None]).sum(1)
    inside = below < k
    e, gid, keg, gk, below = e[inside], gid[inside], keg[inside], gk[inside], below[inside]
    rank_p, lt_p, eq_p = _group_order(own[e] * tmpl.size + gid, keg, batch.n.shape[0] * tmpl.size)
    member = below + rank_p < k
    rows_g = np.zeros((0, 2), np.int64)
    if reference and e.size:
        q = key_distance(keg)
        eq_g = (key_distance(gk) == q[:, None]).sum(1)
        lt = (key_distance(gk) < q[:, None]).sum(1) + lt_p
        tied = (lt < k) & (lt + eq_g + eq_p >= k) & (eq_g + eq_p > 0)
        emu = np.flatnonzero(tied & (eq_p == 0))
        unresolved = np.flatnonzero(tied & (eq_p > 0))
        if emu.size:
            pre, exact_tie = _reference_order(batch, latlon, e[emu], gid[emu], gk[emu], q[emu])
            member[emu] = lt[emu] + pre < k
            unresolved = np.concatenate([unresolved, emu[exact_tie]])
        rows_g = np.stack([e[unresolved], gid[unresolved]], axis=1)
    graph = Graph(pp_src, pp_dst, e[member], np.zeros(n_e, np.int64), np.zeros(batch.n.shape[0]))
    if ref_p.any() or rows_g.size:
        graph = _requery(batch, latlon, weight_k, graph, np.flatnonzero(ref_p), rows_g, e[member], gid[member])
    return graph


def _reference_order(
    batch: Batch, latlon: np.ndarray, e: np.ndarray, gid: np.ndarray, gk: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For presence ``e`` tied with grid neighbours of grid row ``gid``: how many of the tied grid points
    PyGBS ranks first, and whether PyGBS itself sees an exact tie (then its BallTree order decides)."""
    tmpl, own = batch.tmpl, batch.owner[e]
    tied = key_distance(gk) == q[:, None]
    hid = np.where(tied, (gk & ((1 << QBITS) - 1)) - GRID_CODE, 0)
    allg = np.concatenate([gid[:, None], hid], axis=1)
    t = tmpl.ring[allg]
    rep = np.repeat(own, allg.shape[1])
    ll = reference_grid_latlon(batch.centre_latlon[rep], batch.density[rep], t.ravel(),
                               (allg - tmpl.ring_start[t]).ravel(), tmpl.ring_size[t].ravel())
    ll = ll.reshape(*allg.shape, 2)
    rd_e = reference_rdist(ll[:, 0], latlon[batch.member[e]])
    rd_h = reference_rdist(ll[:, :1], ll[:, 1:])
    return (tied & (rd_h < rd_e[:, None])).sum(1), (tied & (rd_h == rd_e[:, None])).any(1)


def _requery(
    batch: Batch, latlon: np.ndarray, weight_k: int, graph: Graph, rows_p: np.ndarray, rows_g: np.ndarray,
    gp_dst: np.ndarray, gp_row: np.ndarray,
) -> Graph:
    """Replace the edges of tie-dependent rows by the reference's BallTree query on its own coordinates.

    ``rows_p``: presence entries; ``rows_g``: (an entry of the centre, grid id); ``gp_row`` the grid row
    of each grid→presence edge in ``graph``.
    """
    own = batch.owner
    n_entries = own.shape[0]
    drop_p = np.zeros(n_entries, bool)
    drop_p[rows_p] = True
    g_own = own[rows_g[:, 0]]
    drop_g = np.isin(own[gp_dst] * (1 << 32) + gp_row, g_own * (1 << 32) + rows_g[:, 1])
    pp_keep = ~drop_p[graph.pp_src]
    new_src, new_dst, new_gp = [graph.pp_src[pp_keep]], [graph.pp_dst[pp_keep]], [gp_dst[~drop_g]]
    out_extra, s0_extra = graph.out_extra.copy(), graph.s0_extra.copy()
    for b in np.unique(np.concatenate([own[rows_p], g_own])):
        ents = np.flatnonzero(own == b)
        ents = ents[np.argsort(batch.pos[ents])]
        n = ents.shape[0]
        points = np.concatenate([latlon[batch.member[ents]], reference_background(
            batch.centre_latlon[b], float(batch.radius[b]), batch.density[b])])
        rp = batch.pos[rows_p[own[rows_p] == b]]
        rg = n + np.unique(rows_g[g_own == b, 1])
        query = np.concatenate([rp, rg])
        nbrs = BallTree(points, leaf_size=30, metric="haversine").query(
            points[query], k=weight_k + 1, return_distance=False)
        is_self = nbrs == query[:, None]
        out = weight_k + 1 - is_self.sum(1)
        pres = (nbrs < n) & ~is_self
        r_idx, c_idx = np.nonzero(pres)
        from_p = r_idx < rp.shape[0]
        new_src.append(ents[query[r_idx[from_p]]])
        new_dst.append(ents[nbrs[r_idx[from_p], c_idx[from_p]]])
        new_gp.append(ents[nbrs[r_idx[~from_p], c_idx[~from_p]]])
        out_extra[ents[rp]] = out[: rp.shape[0]] - weight_k
        s0_extra[b] = (out - weight_k).sum()
    return Graph(np.concatenate(new_src), np.concatenate(new_dst), np.concatenate(new_gp), out_extra, s0_extra)


def moran_fast(
    graph: Graph, batch: Batch, z: np.ndarray, weight_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ī per centre from the presence-touching edges, for presence values ``z`` ``[E]`` (background 0).

    Returns (Ī, Σx², Σx⁴) ``[B]``, the latter two over all M points (for the exact moments).
    """
    n_c, own = batch.n.shape[0], batch.owner
    big_m = batch.n + batch.tmpl.size
    s = np.bincount(own, z, n_c)
    zbar = s / big_m
    a = np.bincount(own[graph.pp_src], z[graph.pp_src] * z[graph.pp_dst], n_c)
    t = np.bincount(own[graph.pp_dst], z[graph.pp_dst], n_c) + np.bincount(own[graph.gp_dst], z[graph.gp_dst], n_c)
    zout = weight_k * s + np.bincount(own, z * graph.out_extra, n_c)
    moran = a - zbar * (zout + t) + zbar**2 * (weight_k * big_m + graph.s0_extra)
    x = z - zbar[own]
    m = batch.tmpl.size
    sum_x2 = np.bincount(own, x**2, n_c) + m * zbar**2
    sum_x4 = np.bincount(own, x**4, n_c) + m * zbar**4
    return moran, sum_x2, sum_x4


def dense_edges(batch: Batch, xyz: np.ndarray, weight_k: int, centre: int) -> tuple[np.ndarray, np.ndarray]:
    """All directed edges (local rows, cols; presence first, then grid ids) of one centre, by brute force.

    Same keys and tie order as :func:`fast_graph` with ``ties="stable"``; O(M²) memory and time.
    """
    sel = np.flatnonzero(batch.owner == centre)
    sel = sel[np.argsort(batch.pos[sel])]
    n = sel.shape[0]
    rep = np.full(n, centre)
    pf = pole_frame(xyz[batch.member[sel]], batch.centre_xyz[rep], batch.centre_latlon[rep])
    pts = np.concatenate([pf, grid_points(batch.tmpl, float(batch.delta[centre]))])
    big_m = pts.shape[0]
    diff = pts[:, None, :] - pts[None, :, :]
    codes = np.concatenate([np.arange(n), GRID_CODE + np.arange(batch.tmpl.size)])
    keys = sort_keys((diff * diff).sum(-1), codes)
    keys[np.arange(big_m), np.arange(big_m)] = -1
    nbrs = np.argpartition(keys, weight_k, axis=1)[:, : weight_k + 1]
    rows = np.repeat(np.arange(big_m), weight_k + 1)
    cols = nbrs.ravel()
    keep = rows != cols
    return rows[keep], cols[keep]

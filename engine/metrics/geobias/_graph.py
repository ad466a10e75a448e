"""The directed k-NN weight graph of a neighbourhood (presence + background) without M × M matrices.

W_ab = 1 when b is among the k + 1 nearest points of a and b ≠ a (the point itself ranks first). Only the
edges that touch a presence point matter for Ī: with z = 0 on the background, S = Σ z, z̄ = S/M,

    Ī = Σ_ab W_ab (z_a − z̄)(z_b − z̄) = A − z̄ (Σ_a z_a out_a + T) + z̄² S0,
    A = Σ_{a→b, both presence} z_a z_b,   T = Σ_{x→b, b presence} z_b,   S0 = Σ out = kM.

So the graph is reduced to presence→presence edges and the in-edges of presence points from the grid. A
presence row takes its k nearest among its candidate grid points (:func:`presence_candidates`) and its
k + 2 nearest fellow presence points, found in the prefix of the point's global k-NN list (or, failing
that, against the whole neighbourhood); a grid row g takes a presence point p when fewer than k points
(grid neighbours of g from the template, or other presence points) are closer to g than p.

Ties: every distance is an int64 key (quantised chord², then a code: data points by input index, then the
background), which is one total order (``ties="stable"``). With ``ties="reference"`` a tie between a presence
point and a grid point in a grid row is decided by PyGBS's own rounding (:mod:`._reference`); a row whose
edges still depend on a tie is re-queried with the reference's BallTree on the reference's coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import BallTree

from engine.metrics.geobias._grid import (
    GRID_CODE,
    QBITS,
    GridTemplate,
    Polar,
    RingTables,
    grid_neighbour_d2,
    grid_neighbour_keys,
    grid_points,
    key_distance,
    pole_frame,
    presence_candidates,
    sort_keys,
)
from engine.metrics.geobias._reference import reference_background, reference_grid_latlon, reference_rdist

GridTables = dict[tuple[int, float], np.ndarray]
PREFIX = 12
"""Entries of a presence point's global k-NN list scanned for its nearest fellow presence points."""
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


def _grid_rank(
    look: GridLookup,
    tmpl: GridTemplate,
    gid: np.ndarray,
    owner: np.ndarray,
    d2: np.ndarray,
    keg: np.ndarray,
    rt: RingTables,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For presence keys ``keg`` in grid rows ``gid``: grid neighbours strictly before (by key), strictly
    closer and tied (by quantised distance), and the rows' exact grid keys ``[Q, S]`` (``_NO_KEY`` rows
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
    gk = np.full(lo.shape, _NO_KEY)
    unsure = np.flatnonzero(((lo <= r) & (hi >= r)).any(1))
    if unsure.size:
        gk[unsure] = grid_neighbour_keys(tmpl, gid[unsure], owner[unsure], rt)
        q, qg = key_distance(keg[unsure])[:, None], key_distance(gk[unsure])
        below[unsure] = (gk[unsure] < keg[unsure, None]).sum(1)
        lt_g[unsure], eq_g[unsure] = (qg < q).sum(1), (qg == q).sum(1)
    return below, lt_g, eq_g, gk


def _runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted rows, (index of the first row with the same ``keys``, length of that run)."""
    new = np.zeros(keys[0].shape[0], bool)
    new[:1] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    start = np.flatnonzero(new)
    length = np.diff(np.append(start, keys[0].shape[0]))
    return np.repeat(start, length), np.repeat(length, length)


def _prefix_rows(
    batch: Batch, xyz: np.ndarray, width: int, nbr_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fellow presence points of each presence point from the prefix of its global k-NN list.

    The first :data:`PREFIX` + 1 entries of the point's (distance-sorted) global list are scanned; a fellow
    member of the neighbourhood is recognised by its distance to the centre (inside the last member's), with
    an exact look-up in a narrow band around that distance. Returns (keys ``[E, width]`` sorted,
    ``_NO_KEY`` padding; global ids, −1 padding; rows with ``width + 1`` members found (then the ``width``
    listed are the nearest); chord² to the end of the scanned prefix (no fellow lies closer unscanned)).
    """
    own = batch.owner
    table = _entry_table(batch)
    last = table[np.arange(batch.n.shape[0]), batch.n - 1]
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    cx, cy, cz = batch.centre_xyz[:, 0], batch.centre_xyz[:, 1], batch.centre_xyz[:, 2]
    lm = batch.member[last]
    last2 = (x[lm] - cx) ** 2 + (y[lm] - cy) ** 2 + (z[lm] - cz) ** 2
    span = min(PREFIX + 1, nbr_idx.shape[1])
    cand = nbr_idx[batch.member, :span]
    qx, qy, qz = x[cand], y[cand], z[cand]
    mx, my, mz = x[batch.member][:, None], y[batch.member][:, None], z[batch.member][:, None]
    d2 = (qx - mx) ** 2 + (qy - my) ** 2 + (qz - mz) ** 2
    dc = (qx - cx[own][:, None]) ** 2 + (qy - cy[own][:, None]) ** 2 + (qz - cz[own][:, None]) ** 2
    lim = last2[own][:, None]
    inside = dc < lim * (1 - 1e-12)
    band = ~inside & (dc <= lim * (1 + 1e-12))
    if band.any():
        r, c = np.nonzero(band)
        sorted_keys = np.sort(own * xyz.shape[0] + batch.member)
        probe = own[r] * xyz.shape[0] + cand[r, c]
        at = np.minimum(np.searchsorted(sorted_keys, probe), sorted_keys.shape[0] - 1)
        inside[r, c] = sorted_keys[at] == probe
    inside &= cand != batch.member[:, None]
    ck = np.where(inside, sort_keys(d2, cand), _NO_KEY)
    order = np.argsort(ck, axis=1)[:, : width + 1]
    ck, cid = np.take_along_axis(ck, order, 1), np.take_along_axis(cand, order, 1)
    full = ck[:, -1] < _NO_KEY if ck.shape[1] > width else np.zeros(own.shape[0], bool)
    keys = ck[:, :width]
    ids = np.where(keys < _NO_KEY, cid[:, :width], -1)
    pad = width - keys.shape[1]
    if pad > 0:
        keys = np.concatenate([keys, np.full((own.shape[0], pad), _NO_KEY)], 1)
        ids = np.concatenate([ids, np.full((own.shape[0], pad), -1)], 1)
    return keys, ids, full, d2[:, -1]


def _entry_table(batch: Batch) -> np.ndarray:
    """Entry id at [centre, position] (−1 where the neighbourhood is smaller): ``[B, n_max]``."""
    table = np.full((batch.n.shape[0], int(batch.n.max())), -1, np.int64)
    table[batch.owner, batch.pos] = np.arange(batch.owner.shape[0])
    return table


def _dense_rows(batch: Batch, xyz: np.ndarray, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and global ids of the ``width`` nearest fellow presence points of ``rows``, by brute force."""
    table = _entry_table(batch)
    peers = table[batch.owner[rows]]  # [R, n_max] entry ids
    gids = np.where(peers >= 0, batch.member[np.maximum(peers, 0)], -1)
    g = np.maximum(gids, 0)
    m = batch.member[rows][:, None]
    d2 = sum((xyz[g, i] - xyz[m, i]) ** 2 for i in range(3))
    valid = (peers >= 0) & (peers != rows[:, None])
    keys = np.where(valid, sort_keys(d2, np.maximum(gids, 0)), _NO_KEY)
    take = min(width, keys.shape[1])
    sel = np.argpartition(keys, take - 1, axis=1)[:, :take] if take < keys.shape[1] else np.argsort(keys, 1)
    sel = np.take_along_axis(sel, np.argsort(np.take_along_axis(keys, sel, 1), axis=1), 1)[:, :take]
    out_k = np.full((rows.shape[0], width), _NO_KEY)
    out_i = np.full((rows.shape[0], width), -1, np.int64)
    out_k[:, :take] = np.take_along_axis(keys, sel, 1)
    out_i[:, :take] = np.where(out_k[:, :take] < _NO_KEY, np.take_along_axis(gids, sel, 1), -1)
    return out_k, out_i


def _group_order(
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
        order = sub[np.lexsort((key[sub], group[sub]))]
        first, _ = _runs(group[order])
        start, length = _runs(group[order], key_distance(key[order]))
        rank[order] = np.arange(order.shape[0]) - first
        lt[order], eq[order] = start - first, length - 1
    return rank, lt, eq


def fast_graph(
    batch: Batch,
    xyz: np.ndarray,
    latlon: np.ndarray,
    weight_k: int,
    ties: str,
    look: GridLookup,
    nbr_idx: np.ndarray | None = None,
) -> Graph:
    """Presence-touching edges of every centre in ``batch`` (see the module docstring).

    ``look`` gives the grid-only neighbours of the grid points (:func:`grid_lookup`); ``nbr_idx`` the
    global k-NN lists (rows sorted by distance), if known.
    """
    k, tmpl, own = weight_k, batch.tmpl, batch.owner
    n_e = own.shape[0]
    pol = Polar.build(pole_frame(xyz[batch.member], batch.centre_xyz[own], batch.centre_latlon[own]))
    rt = RingTables.build(batch.delta, tmpl.n_rings)
    unit2 = rt.hav[own, 1]
    gids, d2 = presence_candidates(tmpl, pol, own, batch.delta[own], rt, k)
    gkey = sort_keys(d2, GRID_CODE + gids)
    reference = ties == "reference"

    # Presence rows: the k nearest of (the k + 2 nearest fellow presence points, grid candidates).
    width = k + 2
    if nbr_idx is not None:
        pkey, pid, full, reach = _prefix_rows(batch, xyz, width, nbr_idx)
        # A prefix short of width + 1 fellows is complete when it reaches past the (k+1)-th grid candidate.
        todo = np.flatnonzero(~full)
        todo = todo[reach[todo] <= np.partition(d2[todo], k, axis=1)[:, k] * (1 + 1e-9)]
    else:
        pkey = np.full((n_e, width), _NO_KEY)
        pid = np.full((n_e, width), -1, np.int64)
        todo = np.arange(n_e)
    if todo.size:
        pkey[todo], pid[todo] = _dense_rows(batch, xyz, todo, width)
    part = np.partition(np.concatenate([pkey, gkey], axis=1), [k - 1, k], axis=1)
    kth, nxt = part[:, k - 1], part[:, k]
    crowded = np.flatnonzero((key_distance(pkey[:, -1]) <= key_distance(nxt)) & (pkey[:, -1] < _NO_KEY))
    if crowded.size:  # ties may reach past the listed fellows: rank those rows against all of them
        wide_k, wide_i = _dense_rows(batch, xyz, crowded, int(batch.n.max()))
        pkey = np.concatenate([pkey, np.full((n_e, wide_k.shape[1] - width), _NO_KEY)], 1)
        pid = np.concatenate([pid, np.full((n_e, wide_k.shape[1] - width), -1)], 1)
        pkey[crowded], pid[crowded] = wide_k, wide_i
        part = np.partition(np.concatenate([pkey, gkey], axis=1), [k - 1, k], axis=1)
        kth, nxt = part[:, k - 1], part[:, k]
    inrow = pkey <= kth[:, None]
    pp_src = np.broadcast_to(np.arange(n_e)[:, None], pkey.shape)[inrow]
    pp_dst = pid[inrow]
    ref_p = np.zeros(n_e, bool)
    if reference:
        tie = key_distance(kth) == key_distance(nxt)
        ref_p = tie & (key_distance(pkey) == key_distance(kth)[:, None]).any(1)

    # Grid rows: presence points closer to a grid point than its k-th grid neighbour.
    e, c = np.nonzero(d2 <= tmpl.dk_ratio_each[gids] * unit2[:, None])
    gid = gids[e, c]
    keg = sort_keys(d2[e, c], batch.member[e])
    below, lt_g, eq_g, gk = _grid_rank(look, tmpl, gid, own[e], d2[e, c], keg, rt)
    inside = below < k
    e, gid, keg, gk, below, lt_g, eq_g = (v[inside] for v in (e, gid, keg, gk, below, lt_g, eq_g))
    slack = below + (eq_g if reference else 0) - k
    rank_p, lt_p, eq_p = _group_order(own[e] * tmpl.size + gid, keg, batch.n.shape[0] * tmpl.size, slack)
    member = below + rank_p < k
    rows_g = np.zeros((0, 2), np.int64)
    if reference and e.size:
        lt = lt_g + lt_p
        tied = (lt < k) & (lt + eq_g + eq_p >= k) & (eq_g + eq_p > 0)
        emu = np.flatnonzero(tied & (eq_p == 0))
        unresolved = np.flatnonzero(tied & (eq_p > 0))
        if emu.size:
            q = key_distance(keg[emu])
            pre, exact_tie = _reference_order(batch, latlon, e[emu], gid[emu], gk[emu], q)
            member[emu] = lt[emu] + pre < k
            unresolved = np.concatenate([unresolved, emu[exact_tie]])
        rows_g = np.stack([e[unresolved], gid[unresolved]], axis=1)
    graph = Graph(pp_src, pp_dst, e[member], np.zeros(n_e, np.int64), np.zeros(batch.n.shape[0]))
    if ref_p.any() or rows_g.size:
        graph = _requery(
            batch, latlon, weight_k, graph, np.flatnonzero(ref_p), rows_g, e[member], gid[member]
        )
    return graph


def _reference_order(
    batch: Batch, latlon: np.ndarray, e: np.ndarray, gid: np.ndarray, gk: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For presence ``e`` tied with grid neighbours of grid row ``gid``: how many of the tied grid points
    PyGBS ranks first, and whether PyGBS itself sees an exact tie (then its BallTree order decides).
    """
    tmpl, own = batch.tmpl, batch.owner[e]
    tied = key_distance(gk) == q[:, None]
    hid = np.where(tied, (gk & ((1 << QBITS) - 1)) - GRID_CODE, 0)
    allg = np.concatenate([gid[:, None], hid], axis=1)
    t = tmpl.ring[allg]
    rep = np.repeat(own, allg.shape[1])
    ll = reference_grid_latlon(
        batch.centre_latlon[rep],
        batch.density[rep],
        t.ravel(),
        (allg - tmpl.ring_start[t]).ravel(),
        tmpl.ring_size[t].ravel(),
    )
    ll = ll.reshape(*allg.shape, 2)
    rd_e = reference_rdist(ll[:, 0], latlon[batch.member[e]])
    rd_h = reference_rdist(ll[:, :1], ll[:, 1:])
    return (tied & (rd_h < rd_e[:, None])).sum(1), (tied & (rd_h == rd_e[:, None])).any(1)


def _requery(
    batch: Batch,
    latlon: np.ndarray,
    weight_k: int,
    graph: Graph,
    rows_p: np.ndarray,
    rows_g: np.ndarray,
    gp_dst: np.ndarray,
    gp_row: np.ndarray,
) -> Graph:
    """Replace the edges of tie-dependent rows by the reference's BallTree query on its own coordinates.

    ``rows_p``: presence entries; ``rows_g``: (an entry of the centre, grid id); ``gp_row`` the grid row
    of each grid→presence edge in ``graph``.
    """
    own = batch.owner
    drop_p = np.zeros(own.shape[0], bool)
    drop_p[rows_p] = True
    g_own = own[rows_g[:, 0]]
    drop_g = np.isin(own[gp_dst] * (1 << 32) + gp_row, g_own * (1 << 32) + rows_g[:, 1])
    pp_keep = ~drop_p[graph.pp_src]
    new_src, new_dst, new_gp = [graph.pp_src[pp_keep]], [graph.pp_dst[pp_keep]], [gp_dst[~drop_g]]
    out_extra, s0_extra = graph.out_extra.copy(), graph.s0_extra.copy()
    table = _entry_table(batch)
    for b in np.unique(np.concatenate([own[rows_p], g_own])).tolist():
        ents = table[b, : batch.n[b]]
        n = ents.shape[0]
        points = np.concatenate(
            [
                latlon[batch.member[ents]],
                reference_background(batch.centre_latlon[b], float(batch.radius[b]), batch.density[b]),
            ]
        )
        rp = batch.pos[rows_p[own[rows_p] == b]]
        query = np.concatenate([rp, n + np.unique(rows_g[g_own == b, 1])])
        nbrs = BallTree(points, leaf_size=30, metric="haversine").query(
            points[query], k=weight_k + 1, return_distance=False
        )
        is_self = nbrs == query[:, None]
        out = weight_k + 1 - is_self.sum(1)
        r_idx, c_idx = np.nonzero((nbrs < n) & ~is_self)
        from_p = r_idx < rp.shape[0]
        new_src.append(ents[query[r_idx[from_p]]])
        new_dst.append(batch.member[ents[nbrs[r_idx[from_p], c_idx[from_p]]]])
        new_gp.append(ents[nbrs[r_idx[~from_p], c_idx[~from_p]]])
        out_extra[ents[rp]] = out[: rp.shape[0]] - weight_k
        s0_extra[b] = (out - weight_k).sum()
    return Graph(
        np.concatenate(new_src), np.concatenate(new_dst), np.concatenate(new_gp), out_extra, s0_extra
    )


def moran_fast(
    graph: Graph, batch: Batch, z_global: np.ndarray, weight_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ī per centre from the presence-touching edges, for values ``z_global`` per data point (background 0).

    Returns (Ī, Σx², Σx⁴) ``[B]``, the latter two over all M points (for the exact moments).
    """
    n_c, own = batch.n.shape[0], batch.owner
    z = z_global[batch.member]
    big_m = batch.n + batch.tmpl.size
    s = np.bincount(own, z, n_c)
    zbar = s / big_m
    z_dst = z_global[graph.pp_dst]
    a = np.bincount(own[graph.pp_src], z[graph.pp_src] * z_dst, n_c)
    t = np.bincount(own[graph.pp_src], z_dst, n_c) + np.bincount(own[graph.gp_dst], z[graph.gp_dst], n_c)
    zout = weight_k * s + np.bincount(own, z * graph.out_extra, n_c)
    moran = a - zbar * (zout + t) + zbar**2 * (weight_k * big_m + graph.s0_extra)
    x = z - zbar[own]
    m = batch.tmpl.size
    sum_x2 = np.bincount(own, x**2, n_c) + m * zbar**2
    sum_x4 = np.bincount(own, x**4, n_c) + m * zbar**4
    return moran, sum_x2, sum_x4


def dense_edges(batch: Batch, xyz: np.ndarray, weight_k: int, centre: int) -> tuple[np.ndarray, np.ndarray]:
    """All directed edges (local rows, cols; presence by position, then grid ids) of one centre, by brute
    force with the same keys and tie order as :func:`fast_graph` (``ties="stable"``); O(M²).
    """
    ents = _entry_table(batch)[centre, : batch.n[centre]]
    n = ents.shape[0]
    rep = np.full(n, centre)
    pf = pole_frame(xyz[batch.member[ents]], batch.centre_xyz[rep], batch.centre_latlon[rep])
    pts = np.concatenate([pf, grid_points(batch.tmpl, float(batch.delta[centre]))])
    big_m = pts.shape[0]
    diff = pts[:, None, :] - pts[None, :, :]
    codes = np.concatenate([batch.member[ents], GRID_CODE + np.arange(batch.tmpl.size)])
    keys = sort_keys((diff * diff).sum(-1), codes)
    keys[np.arange(big_m), np.arange(big_m)] = -1
    nbrs = np.argpartition(keys, weight_k, axis=1)[:, : weight_k + 1]
    rows = np.repeat(np.arange(big_m), weight_k + 1)
    cols = nbrs.ravel()
    keep = rows != cols
    return rows[keep], cols[keep]

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

import numpy as np

from engine.metrics.geobias._candidates import Polar, presence_candidates
from engine.metrics.geobias._grid import (
    GRID_CODE,
    RingTables,
    grid_points,
    key_distance,
    pole_frame,
    sort_keys,
)
from engine.metrics.geobias._prefix import PrefixTable, prefix_rows
from engine.metrics.geobias._rows import (
    NO_KEY,
    Batch,
    Graph,
    GridLookup,
    dense_rows,
    entry_table,
    grid_rank,
    group_order,
)
from engine.metrics.geobias._ties import reference_order, requery


def fast_graph(
    batch: Batch,
    xyz: np.ndarray,
    latlon: np.ndarray,
    weight_k: int,
    ties: str,
    look: GridLookup,
    prefix: PrefixTable | None = None,
) -> Graph:
    """Presence-touching edges of every centre in ``batch`` (see the module docstring).

    ``look`` gives the grid-only neighbours of the grid points (:func:`grid_lookup`); ``prefix`` the
    prefixes of the global k-NN lists (:class:`PrefixTable`), if known.
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
    if prefix is not None:
        pkey, pid, full, reach = prefix_rows(batch, xyz, width, prefix)
        # A prefix short of width + 1 fellows is complete when it reaches past the (k+1)-th grid candidate.
        todo = np.flatnonzero(~full)
        todo = todo[reach[todo] <= np.partition(d2[todo], k, axis=1)[:, k] * (1 + 1e-9)]
    else:
        pkey = np.full((n_e, width), NO_KEY)
        pid = np.full((n_e, width), -1, np.int64)
        todo = np.arange(n_e)
    if todo.size:
        pkey[todo], pid[todo] = dense_rows(batch, xyz, todo, width)
    part = np.partition(np.concatenate([pkey, gkey], axis=1), [k - 1, k], axis=1)
    kth, nxt = part[:, k - 1], part[:, k]
    crowded = np.flatnonzero((key_distance(pkey[:, -1]) <= key_distance(nxt)) & (pkey[:, -1] < NO_KEY))
    if crowded.size:  # ties may reach past the listed fellows: rank those rows against all of them
        wide_k, wide_i = dense_rows(batch, xyz, crowded, int(batch.n.max()))
        pkey = np.concatenate([pkey, np.full((n_e, wide_k.shape[1] - width), NO_KEY)], 1)
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
    below, lt_g, eq_g, gk = grid_rank(look, tmpl, gid, own[e], d2[e, c], keg, rt)
    inside = below < k
    e, gid, keg, gk, below, lt_g, eq_g = (v[inside] for v in (e, gid, keg, gk, below, lt_g, eq_g))
    slack = below + (eq_g if reference else 0) - k
    rank_p, lt_p, eq_p = group_order(own[e] * tmpl.size + gid, keg, batch.n.shape[0] * tmpl.size, slack)
    member = below + rank_p < k
    rows_g = np.zeros((0, 2), np.int64)
    if reference and e.size:
        lt = lt_g + lt_p
        tied = (lt < k) & (lt + eq_g + eq_p >= k) & (eq_g + eq_p > 0)
        emu = np.flatnonzero(tied & (eq_p == 0))
        unresolved = np.flatnonzero(tied & (eq_p > 0))
        if emu.size:
            q = key_distance(keg[emu])
            pre, exact_tie = reference_order(batch, latlon, e[emu], gid[emu], gk[emu], q)
            member[emu] = lt[emu] + pre < k
            unresolved = np.concatenate([unresolved, emu[exact_tie]])
        rows_g = np.stack([e[unresolved], gid[unresolved]], axis=1)
    graph = Graph(pp_src, pp_dst, e[member], np.zeros(n_e, np.int64), np.zeros(batch.n.shape[0]))
    if ref_p.any() or rows_g.size:
        graph = requery(batch, latlon, weight_k, graph, np.flatnonzero(ref_p), rows_g, e[member], gid[member])
    return graph


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
    ents = entry_table(batch)[centre, : batch.n[centre]]
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

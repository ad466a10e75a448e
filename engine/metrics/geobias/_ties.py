"""PyGBS's own tie breaking inside the fast graph: emulated rounding, then its BallTree where needed.

A presence point tied with grid points in a grid row is ranked by the reference's reduced haversine on the
reference's coordinates (:mod:`._reference`); when those are equal too, or ties involve several presence
points, the row is re-queried with ``BallTree(leaf_size=30, metric="haversine")`` on the reference's point
set, exactly as PyGBS builds its weights.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import BallTree

from engine.metrics.geobias._grid import GRID_CODE, QBITS, key_distance
from engine.metrics.geobias._reference import reference_background, reference_grid_latlon, reference_rdist
from engine.metrics.geobias._rows import Batch, Graph, entry_table


def reference_order(
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


def requery(
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
    table = entry_table(batch)
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

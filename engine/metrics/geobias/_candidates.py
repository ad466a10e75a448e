"""The background points near each presence point, found from the ring structure and certified complete.

For a presence point at colatitude θ and longitude α in its centre's pole frame, the grid points of the
rings around θ/δ nearest in longitude are candidates; a lower bound on the chord to every grid point left
out proves that the candidates hold the k nearest grid points and every grid point whose own k-th grid
neighbour is farther than the presence point. Points the bound cannot certify try a wider window, then all
m grid points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.metrics.geobias._grid import GridTemplate, RingTables

WINDOWS = ((np.array([-1, 0, 1]), 3, "round"), (np.array([-1, 0, 1, 2]), 7, "floor"))
"""Candidate windows tried in turn for a presence point at colatitude θ: rings around round(θ/δ) (or ⌊θ/δ⌋)
and that many positions per ring nearest in longitude; points that fail the coverage check try the next."""
CANDIDATES = 12
"""Background candidates kept per presence point (the nearest of its window)."""


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
        hopeless = _too_few(tmpl, pol.theta[todo] / delta[todo], offsets, per_ring, base, kth)
        rows, todo = todo[~hopeless], todo[hopeless]
        if rows.size:
            sub = Polar(*(getattr(pol, f)[rows] for f in Polar.__dataclass_fields__))
            wi, wd, ok = _window(tmpl, sub, owner[rows], delta[rows], rt, offsets, per_ring, base, kth)
            parts.append((rows[ok], wi[ok], wd[ok]))
            todo = np.sort(np.concatenate([todo, rows[~ok]]))
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


def _too_few(
    tmpl: GridTemplate, ratio: np.ndarray, offsets: np.ndarray, per_ring: int, base: str, kth: int
) -> np.ndarray:
    """Rows (colatitude / δ ``ratio``) for which :func:`_window` is bound to fail: fewer than ``kth``
    candidates (so its k-th candidate distance is infinite) while some ring of the window has points left
    out (near the centre: the window of round(θ/δ) = 0 holds only ``per_ring`` points of ring 1).
    """
    t = (np.rint if base == "round" else np.floor)(ratio).astype(np.int64)[:, None] + offsets
    valid = (t >= 1) & (t <= tmpl.n_rings)
    wide = valid & (tmpl.ring_size[np.clip(t, 0, tmpl.n_rings + 1)] > per_ring)
    return (valid.sum(1) * per_ring < kth) & wide.any(1)


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

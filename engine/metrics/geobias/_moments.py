"""Null moments of the unscaled Moran's I and the SSI tail score, vectorised over centres.

Two calibrations:

* ``"pygbs"``: the closed form of Wang, Janowicz, Mai & Majic (COSIT 2024) as PyGBS evaluates it, from the
  categories c_p (distinct values, ascending), counts n_p, N = Σ n_p, x̄ and r* (most frequent, ties → lowest):
  μ = Σ_p (c_p − x̄)² (4 n_p (n_p − 1)/N − 1) + Σ_{p≠q} (c_p − x̄)(c_q − x̄) 4 n_p n_q / N and
  σ² = Σ_{p≠r*} (c_p − c_r*)⁴ [8 n_p (n_p − 1)/N][1 − 4(2n_p − 1)/(3N)]
  + Σ_{p≠q; p,q≠r*} [(c_p−x̄)(c_q−x̄) − 2(c_p−x̄)(c_r*−x̄) + (c_r*−x̄)²]² min(n_p,n_q) [4 max/N][1 − 4 max/N],
  σ = √σ² + 1 (the literal 4 is a rook-lattice constant, not k).
* ``"exact"``: the randomisation moments of Cliff & Ord (1981) for the actual weights W (S0, S1, S2), without
  the +1: E[I] = −1/(M−1), E[I²] = [M((M²−3M+3)S1 − M S2 + 3S0²) − b₂((M²−M)S1 − 2M S2 + 6S0²)]
  / [(M−1)(M−2)(M−3)S0²], b₂ = M Σx⁴/(Σx²)², scaled by S0 Σx²/M to the unscaled Ī.

Score: P = 2Φ(−|Ī − μ|/σ), SSI = −ln(P + 1e-256), in [0, 589.46…].
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

SSI_FLOOR = 1e-256
"""Added to P before the log, as the reference does: SSI ≤ −ln(1e-256) ≈ 589.4618."""


def categories(
    values: np.ndarray, owner: np.ndarray, n_groups: int, background: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group distinct values (ascending, value 0 holding the ``background`` count) and counts.

    ``values``/``owner`` are the presence values and their group ids; returns padded ``[G, C]`` arrays
    (padding: count 0, value 0).
    """
    vals = np.concatenate([values, np.zeros(n_groups)])
    own = np.concatenate([owner, np.arange(n_groups)])
    cnt = np.concatenate([np.ones(values.shape[0], np.int64), background.astype(np.int64)])
    order = np.lexsort((vals, own))
    vals, own, cnt = vals[order], own[order], cnt[order]
    new = np.ones(vals.shape[0], bool)
    new[1:] = (own[1:] != own[:-1]) | (vals[1:] != vals[:-1])
    start = np.flatnonzero(new)
    u_vals, u_own = vals[start], own[start]
    u_cnt = np.add.reduceat(cnt, start)
    per = np.bincount(u_own, minlength=n_groups)
    slot = np.arange(start.shape[0]) - np.repeat(np.cumsum(per) - per, per)
    cats = np.zeros((n_groups, int(per.max())))
    counts = np.zeros((n_groups, int(per.max())), np.int64)
    cats[u_own, slot] = u_vals
    counts[u_own, slot] = u_cnt
    return cats, counts


def pygbs_moments(cats: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference's μ and σ (= √σ² + 1) per group from :func:`categories` output ``[G, C]``."""
    n = counts.astype(np.float64)
    big_n = n.sum(1, keepdims=True)
    xbar = (cats * n).sum(1, keepdims=True) / big_n
    a = cats - xbar
    present = counts > 0
    diag = np.where(present, a**2 * (4 * n * (n - 1) / big_n - 1), 0.0).sum(1)
    eye = np.eye(cats.shape[1], dtype=bool)
    pair = a[:, :, None] * a[:, None, :] * 4 * n[:, :, None] * n[:, None, :] / big_n[:, :, None]
    mu = diag + np.where(eye, 0.0, pair).sum((1, 2))
    r = counts.argmax(1)
    c_r = np.take_along_axis(cats, r[:, None], 1)
    a_r = c_r - xbar
    not_r = np.arange(cats.shape[1])[None, :] != r[:, None]
    var_d = (cats - c_r) ** 4 * (8 * n * (n - 1) / big_n) * (1 - 4 * (2 * n - 1) / (3 * big_n))
    var = np.where(not_r, var_d, 0.0).sum(1)
    coef = (a[:, :, None] * a[:, None, :] - 2 * a[:, :, None] * a_r[:, :, None] + a_r[:, :, None] ** 2) ** 2
    lo = np.minimum(n[:, :, None], n[:, None, :])
    hi = np.maximum(n[:, :, None], n[:, None, :]) * 4 / big_n[:, :, None]
    mask = ~eye & not_r[:, :, None] & not_r[:, None, :]
    var = var + np.where(mask, coef * lo * hi * (1 - hi), 0.0).sum((1, 2))
    return mu, np.sqrt(var) + 1.0


def exact_moments(
    m_total: np.ndarray,
    s0: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    sum_x2: np.ndarray,
    sum_x4: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Cliff–Ord randomisation mean and standard deviation of the unscaled Ī for the actual W."""
    big_m = m_total.astype(np.float64)
    b2 = big_m * sum_x4 / sum_x2**2
    e_i = -1.0 / (big_m - 1)
    num = big_m * ((big_m**2 - 3 * big_m + 3) * s1 - big_m * s2 + 3 * s0**2) - b2 * (
        (big_m**2 - big_m) * s1 - 2 * big_m * s2 + 6 * s0**2
    )
    e_i2 = num / ((big_m - 1) * (big_m - 2) * (big_m - 3) * s0**2)
    scale = s0 * sum_x2 / big_m
    return scale * e_i, scale * np.sqrt(np.maximum(e_i2 - e_i**2, 0.0))


def tail_ssi(moran: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, SSI): z = (Ī − μ)/σ and SSI = −ln(2Φ(−|Ī − μ|/σ) + 1e-256), evaluated like the reference."""
    low = np.minimum(moran, 2 * mean - moran)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (moran - mean) / std
        p = 2 * ndtr((low - mean) / std)
    p = np.where(std > 0, p, np.where(moran == mean, 1.0, 0.0))
    return z, -np.log(p + SSI_FLOOR)

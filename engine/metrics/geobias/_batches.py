"""Batched evaluation of many neighbourhoods: grid shapes, batches of centres sharing a grid template,
threads, and the per-batch scores (graph, Ī, null moments, SSI).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from engine.metrics.geobias._graph import dense_edges, fast_graph, moran_fast
from engine.metrics.geobias._grid import grid_template, max_spacing
from engine.metrics.geobias._inputs import Density
from engine.metrics.geobias._moments import categories, exact_moments, pygbs_moments, tail_ssi
from engine.metrics.geobias._parallel import default_workers, parallel_map
from engine.metrics.geobias._prefix import PrefixTable
from engine.metrics.geobias._reference import reference_density
from engine.metrics.geobias._rows import Batch, GridTables, grid_lookup

BATCH_POINTS = 12_000
"""Presence points per processing batch (small enough for the caches; bounds memory per worker)."""
MIN_PROCESS_ENTRIES = 100_000
"""Presence points (summed over centres) from which worker processes pay for their start (~0.5 s of work)."""


def grid_shape(n: np.ndarray, radius: np.ndarray, density: Density) -> tuple[np.ndarray, ...]:
    """(ρ, δ, L) per centre, evaluated exactly as the reference does: ρ = ⌈5n/(πr²)⌉ ("auto"),
    δ = 1/√ρ, L = ⌈r/δ⌉.
    """
    rho = reference_density(n, radius) if density == "auto" else np.full(n.shape, float(density))
    delta = 1 / np.sqrt(rho)
    rings = np.ceil(radius / delta).astype(np.int64)
    uniq, inv = np.unique(rings, return_inverse=True)
    if (delta > np.array([max_spacing(int(L)) for L in uniq])[inv]).any():
        raise ValueError(f"density {density!r} is too low: the background rings would pass the antipode")
    return rho, delta, rings


@dataclass(frozen=True, eq=False)
class Job:
    """Everything the batches share: points, neighbourhoods ``nbr[c, :n[c]]`` and per-centre grid shapes;
    ``prefix`` (built by :func:`evaluate` from ``knn_lists``) the ordered prefixes of the global k-NN lists.
    """

    xyz: np.ndarray
    latlon: np.ndarray
    centres: np.ndarray
    nbr: np.ndarray
    n: np.ndarray
    radius: np.ndarray
    rho: np.ndarray
    delta: np.ndarray
    rings: np.ndarray
    marks_list: Sequence[np.ndarray | None]
    weight_k: int
    method: str
    ties: str
    knn_lists: np.ndarray | None
    tables: GridTables
    prefix: PrefixTable | None = None


def _batches(n: np.ndarray, rings: np.ndarray, delta: np.ndarray) -> list[np.ndarray]:
    """Centre groups sharing L, about :data:`BATCH_POINTS` presence points each (sorted by n, then δ)."""
    order = np.lexsort((delta, n, rings))
    ns, ls = n[order], rings[order]
    new_l = np.r_[True, ls[1:] != ls[:-1]]
    group = np.cumsum(new_l) - 1
    cum = np.cumsum(ns)
    within = cum - (cum - ns)[np.flatnonzero(new_l)][group]
    key = group * (len(order) + 1) + (within - 1) // BATCH_POINTS
    cuts = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    return [order[a:b] for a, b in itertools.pairwise(cuts)]


def evaluate(
    job: Job, progress: bool | str = False, workers: int | None = None
) -> list[dict[str, np.ndarray]]:
    """Scores of every centre of ``job``, per mark set: ssi, moran, mu, sigma, z and m (background count).

    Batches run on ``workers`` (default: the CPUs available) forked processes where that is safe and the
    job is large enough, else threads (:mod:`._parallel`); the results do not depend on ``workers``.
    """
    n_c = job.centres.shape[0]
    out = [{f: np.zeros(n_c) for f in ("ssi", "moran", "mu", "sigma", "z")} for _ in job.marks_list]
    m_bg = np.zeros(n_c, np.int64)
    batches = _batches(job.n, job.rings, job.delta)
    for rings in np.unique(job.rings).tolist():
        grid_template(int(rings), job.weight_k)  # build the templates before the workers start
    if job.knn_lists is not None and job.prefix is None:
        job = replace(job, prefix=PrefixTable.build(job.xyz, job.knn_lists))
    n_workers = default_workers() if workers is None else max(1, int(workers))
    processes = int(job.n.sum()) >= MIN_PROCESS_ENTRIES
    desc = progress if isinstance(progress, str) else "geo-bias"
    results = parallel_map(_run_batch, job, batches, n_workers, processes)
    with tqdm(total=n_c, disable=not progress, desc=desc, unit="centre", leave=False) as bar:
        for sel, parts in zip(batches, results, strict=True):
            for res, part in zip(out, parts, strict=True):
                for key, val in part.items():
                    res[key][sel] = val
            m_bg[sel] = grid_template(int(job.rings[sel[0]]), job.weight_k).size
            bar.update(len(sel))
    for res in out:
        res["m"] = m_bg
    return out


def _run_batch(job: Job, sel: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Scores of the centres ``sel`` (one grid template), per mark set."""
    k = job.weight_k
    tmpl = grid_template(int(job.rings[sel[0]]), k)
    if tmpl.size + 1 <= k:
        raise ValueError(f"weight_k={k} needs more than {tmpl.size + 1} points per neighbourhood")
    n = job.n[sel]
    cols = np.arange(job.nbr.shape[1])[None, :] < n[:, None]
    owner, pos = np.nonzero(cols)
    batch = Batch(
        tmpl=tmpl,
        centre_xyz=job.xyz[job.centres[sel]],
        centre_latlon=job.latlon[job.centres[sel]],
        radius=job.radius[sel],
        delta=job.delta[sel],
        density=job.rho[sel],
        n=n,
        owner=owner,
        member=job.nbr[sel][cols],
        pos=pos,
    )
    look = grid_lookup(tmpl, batch.delta, job.tables)
    graph = fast_graph(batch, job.xyz, job.latlon, k, job.ties, look, job.prefix)
    big_m = n + tmpl.size
    if job.method == "exact":
        s1, s2 = np.zeros(len(sel)), np.zeros(len(sel))
        for b in range(len(sel)):
            rows, cols_b = dense_edges(batch, job.xyz, k, b)
            s1[b] = rows.shape[0] + np.isin(cols_b * big_m[b] + rows, rows * big_m[b] + cols_b).sum()
            s2[b] = ((k + np.bincount(cols_b, minlength=int(big_m[b]))) ** 2).sum()
    results = []
    for marks in job.marks_list:
        z_global = np.ones(job.xyz.shape[0]) if marks is None else marks
        moran, sum_x2, sum_x4 = moran_fast(graph, batch, z_global, k)
        if job.method == "exact":
            mu, sigma = exact_moments(big_m, k * big_m.astype(float), s1, s2, sum_x2, sum_x4)
        else:
            cats, counts = categories(z_global[batch.member], owner, len(sel), np.full(len(sel), tmpl.size))
            mu, sigma = pygbs_moments(cats, counts)
        z, ssi = tail_ssi(moran, mu, sigma)
        results.append({"ssi": ssi, "moran": moran, "mu": mu, "sigma": sigma, "z": z})
    return results

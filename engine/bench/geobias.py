"""``python -m engine.bench geobias --out FILE.json [--sizes 1000,5000,20000,100000]``: Geo-Bias Score speed.

For each size n: clustered points (every point a centre), unmarked + marked SSI at 100 km, 1000 km and the
kNN scale (K = 100), timed per scale and in total. At n = ``--naive-n`` (20,000 by default, when listed)
the reference algorithm (per-centre BallTree k-NN and a dense M × M weight matrix) runs on a random subset of
centres in the same process; its per-centre time, extrapolated to all n centres, gives the speed-up at
100 km. The documented reference time (≈ 178 s for 20k points at 100 km on 2 cores) is reported beside it.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from engine.bench.timing import machine_info
from engine.io import write_json

REFERENCE_DOC_SECONDS = 178.0
"""PyGBS time for 20,000 points at 100 km on a 2-core machine (docs/geobias.md)."""
SCALES: dict[str, dict[str, Any]] = {
    "100km": {"radius_km": 100.0},
    "1000km": {"radius_km": 1000.0},
    "knn": {"knn": 100},
}


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its joined child processes (worker pools)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def clustered_points(n: int, seed: int = 0) -> np.ndarray:
    """``n`` (lon, lat) degrees: 90 % in heavy-tailed Gaussian clusters (20–400 km), 10 % uniform."""
    rng = np.random.default_rng(seed)
    n_clusters = max(10, n // 200)
    clat = np.degrees(np.arcsin(rng.uniform(-0.85, 0.85, n_clusters)))
    clon = rng.uniform(-180, 180, n_clusters)
    spread = rng.uniform(20, 400, n_clusters) / 111.0
    weight = rng.pareto(1.2, n_clusters) + 1
    k = rng.choice(n_clusters, size=n, p=weight / weight.sum())
    lat = clat[k] + rng.normal(size=n) * spread[k]
    lon = clon[k] + rng.normal(size=n) * spread[k] / np.cos(np.radians(clat[k]))
    uniform = rng.random(n) < 0.1
    lat[uniform] = np.degrees(np.arcsin(rng.uniform(-1, 1, uniform.sum())))
    lon[uniform] = rng.uniform(-180, 180, uniform.sum())
    return np.stack([(lon + 180) % 360 - 180, np.clip(lat, -89.9, 89.9)], axis=1)


def clustered_errors(lonlat: np.ndarray, seed: int = 0) -> np.ndarray:
    """±1 marks (about 70 % +1) whose errors follow a smooth spatial field plus noise."""
    rng = np.random.default_rng(seed + 1)
    lam, phi = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    field = np.sin(3 * lam) * np.cos(2 * phi) + 0.5 * rng.normal(size=lonlat.shape[0])
    return np.where(field < np.quantile(field, 0.7), 1.0, -1.0)


def run(
    sizes: list[int], seed: int, naive_n: int, naive_centres: int, workers: int | None = None
) -> dict[str, Any]:
    """Time every size and scale (wall and process CPU seconds); add the naive baseline at ``naive_n``.

    The machine's load average is recorded before and after (and after each scale): on a shared machine
    wall times stretch, so speed-ups are compared within one run only. CPU seconds include the worker
    processes (joined before each timing ends).
    """
    load_before = os.getloadavg()
    from engine.metrics.geobias import ssi_scores_multi
    from engine.metrics.geobias._reference import reference_ssi

    rows, totals = [], {}
    naive: dict[str, Any] | None = None
    for n in sizes:
        lonlat = clustered_points(n, seed)
        marks = clustered_errors(lonlat, seed)
        total = 0.0
        for scale, kw in SCALES.items():
            t0, c0 = time.perf_counter(), cpu_seconds()
            unmarked, marked = ssi_scores_multi(lonlat, [None, marks], workers=workers, **kw)
            seconds = time.perf_counter() - t0
            total += seconds
            rows.append(
                {
                    "n": n,
                    "scale": scale,
                    "seconds": seconds,
                    "cpu_seconds": cpu_seconds() - c0,
                    "load_average_after": os.getloadavg(),
                    "presence_points": int(unmarked.n_neighbors.sum()),
                    "mean_neighbors": float(unmarked.n_neighbors.mean()),
                    "gbs_unmarked": float(unmarked.ssi.mean()),
                    "gbs_marked": float(marked.ssi.mean()),
                }
            )
            print(
                f"n={n:>7} {scale:>6}: {seconds:8.2f} s, cpu {rows[-1]['cpu_seconds']:7.2f} s "
                f"(mean n {unmarked.n_neighbors.mean():.1f}, load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        totals[str(n)] = total
        if n == naive_n and naive_centres > 0:
            fast = next(r for r in rows if r["n"] == n and r["scale"] == "100km")
            centres = np.random.default_rng(seed).choice(n, size=min(naive_centres, n), replace=False)
            t0, c0 = time.perf_counter(), cpu_seconds()
            reference_ssi(lonlat, [None, marks], centres, radius_km=100.0)
            per_centre = (time.perf_counter() - t0) / centres.shape[0]
            cpu_per_centre = (cpu_seconds() - c0) / centres.shape[0]
            extrapolated = per_centre * n
            naive = {
                "n": n,
                "scale": "100km",
                "centres_timed": int(centres.shape[0]),
                "seconds_per_centre": per_centre,
                "extrapolated_seconds": extrapolated,
                "fast_seconds": fast["seconds"],
                "speedup_vs_naive": extrapolated / fast["seconds"],
                "cpu_seconds_per_centre": cpu_per_centre,
                "cpu_speedup_vs_naive": cpu_per_centre * n / fast["cpu_seconds"],
                "reference_doc_seconds": REFERENCE_DOC_SECONDS if n == 20_000 else None,
                "speedup_vs_reference_doc": REFERENCE_DOC_SECONDS / fast["seconds"] if n == 20_000 else None,
            }
            print(
                f"naive dense at n={n}, 100km: {per_centre * 1e3:.2f} ms/centre -> {extrapolated:.1f} s "
                f"extrapolated, {naive['speedup_vs_naive']:.1f}x slower than the fast path",
                flush=True,
            )
    return {
        "benchmark": "geobias",
        "machine": machine_info(),
        "seed": seed,
        "results": rows,
        "total_seconds": totals,
        "naive": naive,
        "workers": workers,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def _run(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 100:
        raise ValueError("--sizes needs sizes of at least 100 (K = 100 neighbours)")
    write_json(args.out, run(sizes, args.seed, args.naive_n, args.naive_centres, args.workers))
    print(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``geobias`` benchmark."""
    p = sub.add_parser("geobias", help="Geo-Bias Score speed at 1k-100k points, three scales")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--sizes", default="1000,5000,20000,100000", help="comma list of point counts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--naive-n", type=int, default=20_000, help="size at which to time the naive baseline")
    p.add_argument("--naive-centres", type=int, default=200, help="centres timed with the naive baseline")
    p.add_argument("--workers", type=int, default=None, help="threads (default: the CPUs available)")
    p.set_defaults(func=_run)

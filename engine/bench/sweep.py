"""
``python -m engine.bench sweep --out FILE.json``: Ray's overhead per run against the local executor.

The same ``--runs`` tiny checkerboard runs (one encoder, ``--runs`` seeds, one epoch) go through
:class:`~engine.training.executors.LocalExecutor` and then :class:`~engine.training.executors.RayExecutor`
with one CPU per task, each into its own fresh sweep folder, in one process. Reported: Ray start-up
(``ray.init`` on this machine) separately, then wall seconds per run for each executor and their
difference; each executor runs the sweep twice (cold: first imports and worker start-up; warm). Ray's tasks
run in parallel (as many as there are CPUs), so its per-run wall time can be
lower than the local one even with a larger fixed cost per task.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.bench.timing import machine_info
from engine.io import write_json
from engine.training.config import TrainConfig
from engine.training.executors import LocalExecutor, RayExecutor
from engine.training.runner import bench

TINY = {"n_train": 600, "n_val": 200, "n_test": 200, "n_support": 12, "num_classes": 4, "cache": False}
CONFIG = TrainConfig(
    encoder_kwargs={"frequency_num": 8, "hidden_dim": 64}, epochs=1, batch_size=256, n_boot=20, geobias=False
)


def _sweep(out: Path, encoder: str, runs: int, executor: Any) -> float:
    t0 = time.perf_counter()
    tidy = bench(
        ["checkerboard"],
        [encoder],
        runs,
        out,
        config=CONFIG,
        dataset_kwargs={"checkerboard": TINY},
        baselines=None,
        progress=False,
        executor=executor,
    )
    if tidy.attrs["failed"]:
        raise RuntimeError(f"{len(tidy.attrs['failed'])} run(s) failed: {tidy.attrs['failed'][0]['error']}")
    return time.perf_counter() - t0


def run(encoder: str, runs: int, num_cpus: int | None) -> dict[str, Any]:
    """Time ``runs`` runs locally and through Ray (see the module docstring); return the report."""
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        local_cold_s = _sweep(Path(tmp) / "local_cold", encoder, runs, LocalExecutor())  # first imports
        local_s = _sweep(Path(tmp) / "local", encoder, runs, LocalExecutor())
        executor = RayExecutor(init_kwargs={"num_cpus": num_cpus} if num_cpus else {})
        t0 = time.perf_counter()
        executor._init()
        startup_s = time.perf_counter() - t0
        cpus = int(ray.cluster_resources().get("CPU", 0))
        first_s = _sweep(Path(tmp) / "ray_cold", encoder, runs, executor)  # workers start here
        warm_s = _sweep(Path(tmp) / "ray_warm", encoder, runs, executor)
        ray.shutdown()
    local, cold, warm = local_s / runs, first_s / runs, warm_s / runs
    return {
        "benchmark": "sweep",
        "machine": machine_info(),
        "encoder": encoder,
        "runs": runs,
        "ray_cpus": cpus,
        "ray_startup_s": startup_s,
        "local_cold_s_per_run": local_cold_s / runs,
        "local_s_per_run": local,
        "ray_cold_s_per_run": cold,
        "ray_warm_s_per_run": warm,
        "ray_cold_overhead_s_per_run": cold - local,
        "ray_warm_overhead_s_per_run": warm - local,
    }


def _run(args: argparse.Namespace) -> int:
    report = run(args.encoder, args.runs, args.num_cpus)
    write_json(args.out, report)
    for key, value in report.items():
        if key.endswith("_s") or "_s_per_run" in key:
            print(f"{key:>28}: {value:8.3f} s")
    print(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` benchmark."""
    p = sub.add_parser("sweep", help="Ray executor overhead per run vs the local executor")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--encoder", default="sphere_c", help="encoder of the tiny runs")
    p.add_argument("--runs", type=int, default=6, help="number of tiny runs (seeds)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray instance (default all)")
    p.set_defaults(func=_run)

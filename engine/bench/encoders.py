"""
``python -m engine.bench encoders --out FILE.json``: encoder throughput (points per second).

For every encoder and batch size (default 1024 and 65,536): the PE alone (no grad) and forward + backward
of the full encoder, on CPU and on CUDA when present. Beside them, the plain-numpy reference-style
sphere_c / sphere_m / space2vec_theory (:mod:`engine.bench.numpy_reference`), measured in the same run, so
the JSON reports our PE's speed-up as a ratio.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from tqdm import tqdm

from engine.bench.numpy_reference import NUMPY_BASELINES
from engine.bench.timing import machine_info, paired_ratio, time_call
from engine.encoders import create_encoder, list_encoders
from engine.geo import sample_sphere_uniform
from engine.io import write_json


def _measure(name: str, batch: int, device: torch.device, fwd_bwd: bool) -> dict[str, Any]:
    enc = create_encoder(name).to(device)
    enc.check_input = False
    x = sample_sphere_uniform(batch, seed=0).to(device)
    sync = device.type == "cuda"
    with torch.no_grad():
        t_pe = time_call(lambda: enc.pe.encode(x), sync=sync)
    row: dict[str, Any] = {
        "encoder": name,
        "device": device.type,
        "batch": batch,
        "pe_dim": enc.pe.out_dim,
        "pe_pts_per_s": batch / t_pe,
    }
    if fwd_bwd:

        def step() -> None:
            enc.zero_grad(set_to_none=True)
            enc(x).square().mean().backward()

        row["fwd_bwd_pts_per_s"] = batch / time_call(step, sync=sync, max_reps=10)
    return row


def run(
    encoders: list[str], batches: list[int], devices: list[torch.device], fwd_bwd: bool
) -> dict[str, Any]:
    """Measure every (encoder, batch, device) and the numpy baselines; return the JSON-able report."""
    rows = []
    jobs = [(n, b, d) for d in devices for b in batches for n in encoders]
    for name, batch, device in tqdm(jobs, desc="encoders"):
        rows.append(_measure(name, batch, device, fwd_bwd))
    ratios = []
    for name, fn in NUMPY_BASELINES.items():
        if name not in encoders:
            continue
        pe = create_encoder(name).pe
        for batch in batches:
            x = sample_sphere_uniform(batch, seed=0)
            with torch.no_grad():
                r = paired_ratio(lambda pe=pe, x=x: pe.encode(x), lambda fn=fn, x=x: fn(x))
            ratios.append(
                {
                    "encoder": name,
                    "batch": batch,
                    "torch_pts_per_s": batch / r["fast_s"],
                    "numpy_pts_per_s": batch / r["slow_s"],
                    "speedup": r["ratio_median"],
                    "speedup_of_best_times": r["ratio_of_best"],
                }
            )
    return {"benchmark": "encoders", "machine": machine_info(), "results": rows, "numpy_baseline": ratios}


def _run(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    encoders = list_encoders() if args.encoders == "all" else args.encoders.split(",")
    devices = [torch.device("cpu")] + (
        [torch.device("cuda")] if torch.cuda.is_available() and not args.cpu else []
    )
    report = run(encoders, [int(b) for b in args.batches.split(",")], devices, not args.no_backward)
    write_json(args.out, report)
    for r in report["numpy_baseline"]:
        print(
            f"{r['encoder']:>18} batch {r['batch']:>6}: torch {r['torch_pts_per_s']:>12,.0f} pts/s, "
            f"numpy {r['numpy_pts_per_s']:>12,.0f} pts/s, "
            f"speed-up {r['speedup_of_best_times']:.1f}x (best times), "
            f"{r['speedup']:.1f}x (median of paired runs)"
        )
    print(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``encoders`` benchmark."""
    p = sub.add_parser("encoders", help="encoder throughput (points/s) and the numpy baseline ratio")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--encoders", default="all", help="comma list or 'all'")
    p.add_argument("--batches", default="1024,65536")
    p.add_argument("--no-backward", action="store_true", help="skip forward+backward timing")
    p.add_argument("--cpu", action="store_true", help="CPU only even when a GPU is present")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    p.set_defaults(func=_run)

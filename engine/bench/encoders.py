"""
``python -m engine.bench encoders --out FILE.json``: encoder throughput (points per second).

For every encoder and batch size (default 1024 and 65,536): the PE alone (no grad) and forward + backward
of the full encoder, on CPU and on CUDA when present. Beside them, the plain-numpy reference-style
sphere_c / sphere_m / space2vec_theory (:mod:`engine.bench.numpy_reference`), measured in the same run, so
the JSON reports our PE's speed-up as a ratio. Every PE is timed twice: eager and fused
(``create_encoder(name, fused=True)``: one ``torch.compile``d kernel with the polynomial sin/cos of
:mod:`engine.encoders.pe.fast_trig`; the one-off compile time is reported beside it).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from tqdm import tqdm

from engine.bench.numpy_reference import NUMPY_BASELINES
from engine.bench.timing import machine_info, paired_ratio, time_call
from engine.encoders import create_encoder, list_encoders
from engine.geo import sample_sphere_uniform
from engine.io import write_json


def _fused_rate(name: str, x: torch.Tensor, sync: bool) -> tuple[float, float]:
    """(points/s, first-call seconds incl. compilation) of the fused PE on ``x``."""
    pe = create_encoder(name, fused=True).pe.to(x.device)
    encode = pe.encode_fn()
    with torch.no_grad():
        t0 = time.perf_counter()
        encode(x)
        if sync:
            torch.cuda.synchronize()
        first = time.perf_counter() - t0
        return x.shape[0] / time_call(lambda: encode(x), sync=sync), first


def _measure(name: str, batch: int, device: torch.device, fwd_bwd: bool, fused: bool) -> dict[str, Any]:
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
    if fused:
        row["pe_fused_pts_per_s"], row["fused_first_call_s"] = _fused_rate(name, x, sync)
    if fwd_bwd:

        def step() -> None:
            enc.zero_grad(set_to_none=True)
            enc(x).square().mean().backward()

        row["fwd_bwd_pts_per_s"] = batch / time_call(step, sync=sync, max_reps=10)
    return row


def run(
    encoders: list[str],
    batches: list[int],
    devices: list[torch.device],
    fwd_bwd: bool,
    fused: bool = True,
) -> dict[str, Any]:
    """Measure every (encoder, batch, device) and the numpy baselines; return the JSON-able report."""
    rows = []
    jobs = [(n, b, d) for d in devices for b in batches for n in encoders]
    for name, batch, device in tqdm(jobs, desc="encoders"):
        rows.append(_measure(name, batch, device, fwd_bwd, fused))
    ratios = []
    for name, fn in NUMPY_BASELINES.items():
        if name not in encoders:
            continue
        variants = {"eager": create_encoder(name).pe.encode}
        if fused:
            variants["fused"] = create_encoder(name, fused=True).pe.encode_fn()
        for batch in batches:
            x = sample_sphere_uniform(batch, seed=0)
            for variant, encode in variants.items():
                with torch.no_grad():
                    encode(x)  # compile outside the timed pairs
                    r = paired_ratio(lambda e=encode, x=x: e(x), lambda fn=fn, x=x: fn(x))
                ratios.append(
                    {
                        "encoder": name,
                        "variant": variant,
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
    batches = [int(b) for b in args.batches.split(",")]
    report = run(encoders, batches, devices, not args.no_backward, not args.no_fused)
    write_json(args.out, report)
    for r in report["numpy_baseline"]:
        print(
            f"{r['encoder']:>18} {r['variant']:>5} batch {r['batch']:>6}: "
            f"torch {r['torch_pts_per_s']:>12,.0f} pts/s, "
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
    p.add_argument("--no-fused", action="store_true", help="skip the fused (torch.compile) PE timings")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    p.set_defaults(func=_run)

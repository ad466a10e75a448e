"""
``python -m engine.bench train --out FILE.json``: training throughput (points per second).

For every encoder and batch size (default 1024 and 8192): one full optimizer step (forward, cross-entropy,
backward, Adam step) of the classification model (encoder + linear head over ``--classes`` classes) on
random sphere points, on CPU and on CUDA when present (CUDA with bf16 autocast, as training uses).
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from tqdm import tqdm

from engine.bench.timing import machine_info, time_call
from engine.encoders import list_encoders
from engine.geo import sample_sphere_uniform
from engine.io import write_json
from engine.training.models import build_model


def measure(name: str, batch: int, device: torch.device, num_classes: int = 100) -> dict[str, Any]:
    """Points per second of one training step of encoder ``name`` at ``batch`` on ``device``."""
    torch.manual_seed(0)
    model = build_model("classification", name, {}, num_classes=num_classes).to(device)
    model.encoder.check_input = False
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = sample_sphere_uniform(batch, seed=0).to(device)
    y = torch.randint(0, num_classes, (batch,), device=device)
    cuda = device.type == "cuda"

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        opt.step()

    seconds = time_call(step, sync=cuda, max_reps=10)
    params = sum(p.numel() for p in model.parameters())
    return {
        "encoder": name,
        "device": device.type,
        "amp": "bf16" if cuda else "off",
        "batch": batch,
        "params": params,
        "step_s": seconds,
        "train_pts_per_s": batch / seconds,
    }


def _run(args: argparse.Namespace) -> int:
    encoders = list_encoders() if args.encoders == "all" else args.encoders.split(",")
    devices = [torch.device("cpu")] + (
        [torch.device("cuda")] if torch.cuda.is_available() and not args.cpu else []
    )
    batches = [int(b) for b in args.batches.split(",")]
    jobs = [(n, b, d) for d in devices for b in batches for n in encoders]
    rows = [measure(n, b, d, args.classes) for n, b, d in tqdm(jobs, desc="train")]
    write_json(args.out, {"benchmark": "train", "machine": machine_info(), "results": rows})
    for r in rows:
        print(
            f"{r['encoder']:>20} {r['device']:>4} batch {r['batch']:>5}: {r['train_pts_per_s']:>12,.0f} pts/s"
        )
    print(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` benchmark."""
    p = sub.add_parser("train", help="training throughput (points/s per optimizer step) per encoder")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--encoders", default="all", help="comma list or 'all'")
    p.add_argument("--batches", default="1024,8192")
    p.add_argument("--classes", type=int, default=100, help="classes of the linear head")
    p.add_argument("--cpu", action="store_true", help="CPU only even when a GPU is present")
    p.set_defaults(func=_run)

"""
``python -m engine demo``: a one-minute tour on CPU — encode cities, fit three encoders on a small
synthetic checkerboard (16 classes on a Fibonacci lattice, Rußwurm et al. 2024) and print test accuracy.
"""

from __future__ import annotations

import argparse
import time

import torch
from tqdm import tqdm

from engine.encoders import create_encoder, list_encoders
from engine.geo import fibonacci_lattice, haversine_km, sample_sphere_uniform

CITIES = {
    "Paris": (2.35, 48.85),
    "Tokyo": (139.69, 35.69),
    "Sydney": (151.21, -33.87),
    "Suva": (178.44, -18.14),
}


def checkerboard_labels(lonlat: torch.Tensor, support: int = 200, classes: int = 16) -> torch.Tensor:
    """Label of the nearest of ``support`` Fibonacci points (index mod ``classes``)."""
    anchors = fibonacci_lattice(support, dtype=lonlat.dtype)
    return haversine_km(lonlat[:, None, :], anchors[None]).argmin(1) % classes


def fit_and_score(
    name: str,
    train: torch.Tensor,
    y: torch.Tensor,
    test: torch.Tensor,
    yt: torch.Tensor,
    epochs: int,
    seed: int,
) -> float:
    """Train ``name`` + a linear softmax head with Adam; return test top-1."""
    torch.manual_seed(seed)
    enc = create_encoder(name, dropout=0.0) if name != "wrap" else create_encoder(name)
    head = torch.nn.Linear(enc.out_dim, 16)
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=1e-3)
    enc.check_input = False
    for _ in tqdm(range(epochs), desc=f"{name:>20}", leave=False):
        for idx in torch.randperm(len(train)).split(512):
            loss = torch.nn.functional.cross_entropy(head(enc(train[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    enc.eval()
    with torch.no_grad():
        return float((head(enc(test)).argmax(1) == yt).float().mean())


def _run(args: argparse.Namespace) -> int:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"LocLab: {len(list_encoders())} encoders: {', '.join(list_encoders())}\n")
    pts = torch.tensor(list(CITIES.values()))
    for name in ("sphere_c_plus", "spherical_harmonics", "space2vec_theory"):
        enc = create_encoder(name)
        print(
            f"{name:>20}: input {tuple(pts.shape)} -> PE {tuple(enc.pe(pts).shape)}"
            f" -> Enc {tuple(enc(pts).shape)}"
        )
    train = sample_sphere_uniform(args.n_train, seed=0)
    test = fibonacci_lattice(args.n_test)
    y, yt = checkerboard_labels(train), checkerboard_labels(test)
    print(
        f"\ncheckerboard: {len(train)} train points, {len(test)} test points, 16 classes, "
        f"{args.epochs} epochs"
    )
    for name in args.encoders.split(","):
        t0 = time.perf_counter()
        acc = fit_and_score(name, train, y, test, yt, args.epochs, args.seed)
        print(f"{name:>20}: test top-1 {acc:6.1%}   ({time.perf_counter() - t0:.1f} s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    p = sub.add_parser("demo", help="a one-minute CPU tour of the encoders")
    p.add_argument("--encoders", default="direct,sphere_c_plus,spherical_harmonics")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--n-train", type=int, default=5000)
    p.add_argument("--n-test", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run)

"""
``python -m engine tune``: hyperparameter search for one (dataset, encoder) with Ray Tune.

Example::

    python -m engine tune --dataset checkerboard --encoder sphere_c --trials 20 --epochs 10 --out tuned
    python -m engine bench --datasets checkerboard --encoders sphere_c --hparams tuned/hparams.csv --out b

ASHA stops weak trials early on the per-epoch validation metric; Optuna samples the trials when installed
(else random search). Only the validation split is used for selection. ``--space FILE.json`` replaces the
default per-encoder space (format in :mod:`engine.training.tune`). The best settings land in
``OUT/hparams.csv`` (one versioned row per (encoder, dataset); ``bench --hparams`` reads it) and every
trial in ``OUT/trials_<dataset>_<encoder>.csv``.
"""

from __future__ import annotations

import argparse
import json

from engine.cli._args import parse_pairs
from engine.datasets.base import DATASETS
from engine.encoders import ENCODERS
from engine.training.profiles import for_dataset, profile_config


def _run(args: argparse.Namespace) -> int:
    from engine.training.tune import load_space, tune_encoder

    DATASETS.entry(args.dataset)
    ENCODERS.entry(args.encoder)
    if args.trials < 1:
        raise ValueError(f"--trials must be >= 1, got {args.trials}")
    changes = {"device": args.device} | ({"epochs": args.epochs} if args.epochs is not None else {})
    config = for_dataset(profile_config(args.profile, **changes), args.dataset)
    best = tune_encoder(
        args.dataset,
        args.encoder,
        args.out,
        config=config,
        trials=args.trials,
        space=load_space(args.space) if args.space else None,
        dataset_kwargs=parse_pairs(args.dataset_arg, "--dataset-arg"),
        root=args.root,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
    )
    print(json.dumps(best, indent=2, default=str))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tune`` sub-command."""
    p = sub.add_parser(
        "tune",
        help="hyperparameter search (Ray Tune, ASHA, Optuna) for one dataset and encoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", required=True, help="dataset registry name")
    p.add_argument("--encoder", required=True, help="encoder registry name")
    p.add_argument("--trials", type=int, default=20, help="number of trials (default 20)")
    p.add_argument("--space", default=None, help="JSON search space (default: per-encoder space)")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs per trial (ASHA's budget)")
    p.add_argument("--profile", default="quick", help="base training profile: quick (default) | paper")
    p.add_argument("--dataset-arg", action="append", metavar="KEY=VALUE", help="dataset loader option")
    p.add_argument("--root", default=None, help="folder holding downloaded (LocBench) data")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--cpus-per-trial", type=float, default=1, help="CPUs per trial")
    p.add_argument("--gpus-per-trial", type=float, default=0, help="GPUs per trial")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_run)

"""
``python -m engine train``: train one encoder on a registered dataset or on the user's own table.

Examples::

    python -m engine train --dataset checkerboard --encoder sphere_c_plus --epochs 10 --out runs/cb
    python -m engine train --csv obs.csv --target species --encoder spherical_harmonics --out runs/obs

Shows a progress bar (epoch, loss, validation metric, ETA), saves the run folder ``--out`` (config, metrics,
history, predictions, weights; ``error.json`` if the run fails) and prints the test metrics.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli._args import format_metrics, parse_pairs
from engine.datasets import load_dataset, load_table
from engine.datasets.base import DATASETS, Dataset
from engine.encoders import create_encoder
from engine.training.config import TrainConfig
from engine.training.losses import LOSSES, check_loss_task
from engine.training.runner import run_one


def _load(args: argparse.Namespace) -> tuple[Dataset, dict]:
    """The dataset named by ``--dataset`` or read from ``--csv``, with the kwargs to record."""
    if args.csv is not None:
        if not args.target:
            raise ValueError("--csv needs --target COL (the column to predict)")
        kwargs = {
            "lon": args.lon_col,
            "lat": args.lat_col,
            "target": args.target,
            "task": args.task,
            "drop_invalid": args.drop_invalid,
        }
        return load_table(args.csv, **kwargs), {"path": str(args.csv), **kwargs}
    kwargs = parse_pairs(args.dataset_arg, "--dataset-arg")
    return load_dataset(args.dataset, root=args.root, **kwargs), kwargs


def _check(args: argparse.Namespace) -> None:
    """Argument errors the user can fix, found before any data is loaded."""
    if args.out is None:
        raise ValueError("--out DIR is required (the run folder to write)")
    if args.encoder is None:
        raise ValueError("--encoder NAME is required (see `python -m engine encoders`)")
    if args.task not in (None, "classification", "regression"):
        raise ValueError(f"--task must be classification or regression, got {args.task!r}")
    if (args.dataset is None) == (args.csv is None):
        raise ValueError("give exactly one of --dataset NAME or --csv PATH")
    if args.dataset is not None:
        task = DATASETS.entry(args.dataset).meta.get("task")
        if args.loss is not None and task is not None:
            check_loss_task(args.loss, task)
    if args.loss is not None:
        LOSSES.entry(args.loss)
    create_encoder(args.encoder, **parse_pairs(args.encoder_arg, "--encoder-arg"))


def _run(args: argparse.Namespace) -> int:
    _check(args)
    dataset, ds_kwargs = _load(args)
    config = TrainConfig(
        encoder=args.encoder,
        encoder_kwargs=parse_pairs(args.encoder_arg, "--encoder-arg"),
        loss=args.loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        balanced=args.balanced,
        patience=args.patience,
        n_boot=args.n_boot,
        geobias=not args.no_geobias,
    )
    check_loss_task(config.resolved_loss(dataset.info.task), dataset.info.task)
    print(
        f"{dataset.info.name}: {dataset.sizes()} ({dataset.info.task}); encoder {args.encoder}",
        file=sys.stderr,
    )
    rec = run_one(
        dataset,
        args.encoder,
        args.seed,
        Path(args.out),
        config=config,
        dataset_kwargs=ds_kwargs,
        progress=not args.quiet,
    )
    if rec["status"] != "ok":
        print(
            f"error: training failed: {rec['error']} (details in {rec['path']}/error.json)", file=sys.stderr
        )
        return 1
    metrics = json.loads((Path(args.out) / "metrics.json").read_text())
    print(format_metrics(metrics))
    print(f"\nrun saved to {args.out} ({rec['seconds']:.1f} s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-command."""
    p = sub.add_parser(
        "train",
        help="train one encoder on a dataset or a CSV / Parquet table",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", default=None, help="registered dataset name (`python -m engine datasets`)")
    p.add_argument("--dataset-arg", action="append", metavar="KEY=VALUE", help="dataset loader option")
    p.add_argument("--csv", default=None, help="your own table (CSV, TSV or Parquet) instead of --dataset")
    p.add_argument("--target", default=None, help="--csv: the column to predict")
    p.add_argument("--lon-col", default="lon", help="--csv: longitude column (default lon)")
    p.add_argument("--lat-col", default="lat", help="--csv: latitude column (default lat)")
    p.add_argument("--task", default=None, help="--csv: classification | regression (default: inferred)")
    p.add_argument("--drop-invalid", action="store_true", help="--csv: drop rows with bad coordinates")
    p.add_argument("--encoder", default=None, help="encoder name (required; `python -m engine encoders`)")
    p.add_argument("--encoder-arg", action="append", metavar="KEY=VALUE", help="encoder hyperparameter")
    p.add_argument("--loss", default=None, help="ce | presence_absence | an_full | mse (default by task)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience (0 = off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--balanced", action="store_true", help="at most 100 examples per class per epoch")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples of the test intervals")
    p.add_argument("--no-geobias", action="store_true", help="skip the Geo-Bias Scores")
    p.add_argument("--root", default=None, help="folder holding downloaded (LocBench) data")
    p.add_argument("--out", default=None, help="the run folder to write (required)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)

"""
``python -m engine bench``: every dataset × encoder × seed plus baselines, resumable, with a summary.

Examples::

    python -m engine bench --datasets checkerboard,land_ocean,cities_country --encoders all --seeds 3 --out b
    python -m engine bench --suite locbench --root ~/locbench --profile paper --seeds 3 --out lb

Runs go to ``OUT/<dataset>/<model>/seed_<s>/``; finished runs are skipped on a rerun (resume after an
interrupt); a failing run is recorded in its ``error.json`` and the sweep goes on. ``OUT/summary.csv`` (tidy)
and ``OUT/summary.md`` (mean ± std over seeds) are written at the end and the summary is printed.
Profiles: ``quick`` (default; a CPU-sized budget) and ``paper`` (reference settings), see
:mod:`engine.training.profiles`. ``--suite locbench`` uses the tuned per-(encoder, dataset) hyperparameters
(:mod:`engine.training.hparams`); explicit ``--lr`` / ``--batch-size`` win over the table.
The dataset split seed is fixed (``--split-seed 0``); ``--split-seed model`` re-splits with each model seed.
``--executor ray`` runs every cell as a Ray task (:mod:`engine.training.executors`): a local Ray instance, or
``--address auto`` / ``--address ray://HOST:PORT`` for a running cluster (``OUT`` must then be on a shared
filesystem, or pass ``--ship-files`` to return the run folders to this process).
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

from engine.cli._args import parse_pairs, split_list
from engine.datasets import list_datasets
from engine.datasets.base import DATASETS
from engine.encoders import list_encoders
from engine.training.hparams import DATASET_NAMES, Hparams, load_hparams
from engine.training.profiles import profile_config
from engine.training.runner import bench

SUITES = ("locbench",)


def _seeds(text: str) -> list[int]:
    try:
        parts = [int(p) for p in split_list(text)]
    except ValueError:
        raise ValueError(f"--seeds takes a count (3) or a list (0,1,2), got {text!r}") from None
    if len(parts) == 1 and "," not in text:
        if parts[0] < 1:
            raise ValueError(f"--seeds must be >= 1, got {parts[0]}")
        return list(range(parts[0]))
    return parts


def _dataset_kwargs(datasets: list[str], pairs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Give each dataset the ``--dataset-arg`` options its loader accepts (an option none accepts raises)."""
    out: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for name in datasets:
        params = inspect.signature(DATASETS.entry(name).builder).parameters
        out[name] = {k: v for k, v in pairs.items() if k in params}
        used |= set(out[name])
    unused = sorted(set(pairs) - used)
    if unused:
        raise ValueError(f"--dataset-arg {', '.join(unused)}: no selected dataset takes this option")
    return out


def _hparams(args: argparse.Namespace) -> Hparams | None:
    if args.hparams is None and args.suite is None:
        return None
    table = load_hparams(args.hparams)
    drop = {k for k, v in (("lr", args.lr), ("batch_size", args.batch_size)) if v is not None}
    return {key: {k: v for k, v in hp.items() if k not in drop} for key, hp in table.items()}


def _executor(args: argparse.Namespace) -> Any:
    if args.executor == "local":
        if args.address is not None:
            raise ValueError("--address needs --executor ray")
        return None
    if args.executor != "ray":
        raise ValueError(f"--executor takes 'local' or 'ray', got {args.executor!r}")
    from engine.training.executors import RayExecutor

    return RayExecutor(args.address, args.cpus_per_task, args.gpus_per_task, ship_files=args.ship_files)


def _run(args: argparse.Namespace) -> int:
    if args.out is None:
        raise ValueError("--out DIR is required (the sweep folder)")
    if args.suite is not None and args.suite not in SUITES:
        raise ValueError(f"unknown suite {args.suite!r}; valid: {', '.join(SUITES)}")
    hparams = _hparams(args)
    datasets = split_list(args.datasets)
    if not datasets and args.suite == "locbench":
        datasets = [d for d in DATASET_NAMES.values() if d in list_datasets()]
    if not datasets:
        raise ValueError("--datasets A,B is required (see `python -m engine datasets`)")
    for name in datasets:
        DATASETS.entry(name)
    encoders = split_list(args.encoders)
    if not encoders and args.suite is not None:  # the encoders the tuned table covers
        encoders = list(dict.fromkeys(enc for enc, _ in hparams or {}))
    elif not encoders or encoders == ["all"]:
        encoders = list_encoders()
    elif encoders == ["none"]:
        encoders = []
    baselines: str | list[str] | None = args.baselines
    if args.baselines in ("none", ""):
        baselines = None
    elif args.baselines != "default":
        baselines = split_list(args.baselines)
    changes: dict[str, Any] = {"device": args.device, "geobias": not args.no_geobias}
    for key in ("epochs", "lr", "batch_size"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    config = profile_config(args.profile, **changes)
    if args.split_seed != "model" and not args.split_seed.isdigit():
        raise ValueError(f"--split-seed takes an integer or 'model', got {args.split_seed!r}")
    split_seed = None if args.split_seed == "model" else int(args.split_seed)
    executor = _executor(args)
    tidy = bench(
        datasets,
        encoders,
        _seeds(args.seeds),
        Path(args.out),
        config=config,
        root=args.root,
        hparams=hparams,
        dataset_kwargs=_dataset_kwargs(datasets, parse_pairs(args.dataset_arg, "--dataset-arg")),
        progress=not args.quiet,
        baselines=baselines,
        split_seed=split_seed,
        executor=executor,
    )
    print((Path(args.out) / "summary.md").read_text())
    failed = tidy.attrs.get("failed", [])
    if failed:
        print(f"{len(failed)} run(s) failed; rerun the same command to retry them", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    p = sub.add_parser(
        "bench",
        help="benchmark encoders × datasets × seeds with baselines",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--datasets", default=None, help="comma-separated dataset names")
    p.add_argument("--encoders", default=None, help="'all' or comma-separated encoder names (default all)")
    p.add_argument("--baselines", default="default", help="'default', 'none' or comma-separated names")
    p.add_argument("--seeds", default="3", help="number of model seeds (3 = 0,1,2) or a list 0,5,7")
    p.add_argument("--profile", default="quick", help="quick (default) | paper")
    p.add_argument("--suite", default=None, help="locbench: tuned hyperparameters and the LocBench datasets")
    p.add_argument("--hparams", default=None, help="per-(encoder, dataset) hyperparameter CSV")
    p.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    p.add_argument("--lr", type=float, default=None, help="override the profile's (and table's) lr")
    p.add_argument("--batch-size", type=int, default=None, help="override the batch size")
    p.add_argument("--split-seed", default="0", help="dataset split seed (default 0), or 'model'")
    p.add_argument("--dataset-arg", action="append", metavar="KEY=VALUE", help="dataset loader option")
    p.add_argument("--no-geobias", action="store_true", help="skip the Geo-Bias Scores")
    p.add_argument("--root", default=None, help="folder holding downloaded (LocBench) data")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--out", default=None, help="the sweep folder (required)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--executor", default="local", help="local (default, sequential) | ray")
    p.add_argument("--address", default=None, help="Ray cluster: auto | ray://HOST:PORT (default: start one)")
    p.add_argument("--cpus-per-task", type=float, default=1, help="Ray: CPUs per run")
    p.add_argument("--gpus-per-task", type=float, default=0, help="Ray: GPUs per run (fractions share one)")
    p.add_argument("--ship-files", action="store_true", help="Ray: return run folders to the driver")
    p.set_defaults(func=_run)

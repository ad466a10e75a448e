"""``python -m engine data …``: dataset tools. ``data show NAME [--root DIR]`` prints a summary.

The ``data`` group is extensible: :data:`EXTENSIONS` names ``(module, function)`` pairs that each receive the
group's sub-parsers, e.g. ``register_download`` of :mod:`engine.datasets.locbench.download` adds
``data download``. A module that does not exist (yet) is skipped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

EXTENSIONS: tuple[tuple[str, str], ...] = (("engine.datasets.locbench.download", "register_download"),)
"""``(module, function)``: ``function(data_subparsers)`` adds more ``data`` sub-commands."""


def _load_extension(module: str, function: str, data_sub: argparse._SubParsersAction) -> None:
    """Call ``module.function(data_sub)``; skip quietly if ``module`` (or a parent package) is absent."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and (module == err.name or module.startswith(err.name + ".")):
            return
        print(f"warning: `data` extension {module} failed to import: {err}", file=sys.stderr)
        return
    except ImportError as err:
        print(f"warning: `data` extension {module} failed to import: {err}", file=sys.stderr)
        return
    getattr(mod, function)(data_sub)


def _show(args: argparse.Namespace) -> int:
    from engine.datasets import load_dataset
    from engine.datasets.summary import format_summary, summarize

    kwargs = {"seed": args.seed} if args.seed is not None else {}
    if args.split is not None:
        kwargs["split"] = args.split
    summary = summarize(load_dataset(args.name, root=args.root, **kwargs))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``data`` group with ``show`` and any :data:`EXTENSIONS`."""
    p = sub.add_parser("data", help="dataset tools (show; download when available)")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    show = data_sub.add_parser(
        "show", help="summary of one dataset: splits, classes, target, extent, licence"
    )
    show.add_argument("name", help="dataset name (see `python -m engine datasets`)")
    show.add_argument("--root", default=None, help="folder holding downloaded (LocBench) data")
    show.add_argument("--split", default=None, choices=["random", "spatial_block"], help="split kind")
    show.add_argument("--seed", type=int, default=None, help="split seed (default: the dataset's)")
    show.add_argument("--json", action="store_true", help="print the summary as JSON")
    show.set_defaults(func=_show)
    for module, function in EXTENSIONS:
        _load_extension(module, function, data_sub)

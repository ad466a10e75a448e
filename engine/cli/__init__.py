"""
The ``python -m engine`` command line: one module per sub-command, each with ``register(subparsers)``.

A sub-command module defines ``register(sub: argparse._SubParsersAction) -> None`` that adds its parser and
sets ``func=callable(args) -> int``. Errors the user can fix (``ValueError``, ``FileNotFoundError``) are
printed as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: tuple[str, ...] = (
    "engine.cli.encoders",
    "engine.cli.demo",
    "engine.cli.datasets",
    "engine.cli.data",
    "engine.cli.train",
    "engine.cli.bench",
    "engine.cli.tune",
    "engine.cli.geobias",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="python -m engine", description="LocLab: location encoders.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; user errors become a one-line message."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, ImportError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {msg}", file=sys.stderr)
        return 2

"""``python -m engine.bench NAME --out FILE.json``."""

from __future__ import annotations

import argparse
import importlib

BENCHES: tuple[str, ...] = (
    "engine.bench.encoders",
    "engine.bench.geobias",
    "engine.bench.train",
    "engine.bench.sweep",
)


def main(argv: list[str] | None = None) -> int:
    """Run one benchmark."""
    parser = argparse.ArgumentParser(prog="python -m engine.bench", description="LocLab benchmarks.")
    sub = parser.add_subparsers(dest="bench", required=True)
    for module in BENCHES:
        importlib.import_module(module).register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())

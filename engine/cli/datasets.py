"""``python -m engine datasets [--root DIR] [--group G]``: every dataset, its task, split sizes and data.

Embedded datasets are loaded with their defaults (cached under ``$LOCLAB_CACHE`` after the first run);
downloadable ones (LocBench) are only checked for their files under ``--root``, never loaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.registry import Entry


def missing_files(entry: Entry[Any], root: str | None) -> list[str] | None:
    """Files of a downloadable dataset missing under ``root`` (``None`` when the registry cannot tell).

    Uses the entry's ``check(root)`` meta when present, else its ``files`` (paths relative to ``root``).
    """
    check = entry.meta.get("check")
    if callable(check):
        return list(check(root))
    files = entry.meta.get("files")
    if files is None:
        return None
    if root is None:
        return list(files)
    return [f for f in files if not (Path(root).expanduser() / f).is_file()]


def dataset_row(entry: Entry[Any], root: str | None) -> dict[str, str]:
    """One table row: name, group, task, classes, train/val/test sizes and where the data stands."""
    meta = entry.meta
    row = {"name": entry.name, "group": str(meta.get("group", "?")), "task": str(meta.get("task", "?"))}
    row.update({"classes": "-", "train": "-", "val": "-", "test": "-"})
    if meta.get("embedded"):
        try:
            ds = entry.builder(root=root)
        except (ValueError, FileNotFoundError, ImportError, OSError) as err:
            return {**row, "data": f"error: {err}"}
        row.update({k: f"{v:,}" for k, v in ds.sizes().items()})
        row["classes"] = str(ds.info.num_classes) if ds.info.task == "classification" else "-"
        return {**row, "data": "embedded"}
    sizes = meta.get("sizes") or {}
    row.update({k: f"{v:,}" for k, v in sizes.items() if k in ("train", "val", "test")})
    missing = missing_files(entry, root)
    if missing is None:
        data = "unknown (no file list)"
    elif root is None:
        data = "not checked (pass --root)"
    elif missing:
        data = f"missing {len(missing)} file(s) under --root, e.g. {missing[0]}"
    else:
        data = "present"
    return {**row, "data": data}


def dataset_table(root: str | None = None, group: str | None = None) -> list[dict[str, str]]:
    """Rows of :func:`dataset_row` for every registered dataset (optionally one ``group``)."""
    from engine.datasets import DATASETS

    return [dataset_row(e, root) for e in DATASETS if group is None or e.meta.get("group") == group]


def plain_table(rows: list[dict[str, str]]) -> str:
    """Aligned plain-text rendering of ``rows`` (numbers right-aligned)."""
    if not rows:
        return "no datasets registered"
    cols = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in cols}
    numeric = {"classes", "train", "val", "test"}

    def cell(k: str, v: str) -> str:
        return v.rjust(widths[k]) if k in numeric else v.ljust(widths[k])

    head = "  ".join(cell(k, k) for k in cols)
    return "\n".join(
        [head, "-" * len(head), *("  ".join(cell(k, r[k]) for k in cols).rstrip() for r in rows)]
    )


def _run(args: argparse.Namespace) -> int:
    print(plain_table(dataset_table(args.root, args.group)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` sub-command."""
    p = sub.add_parser("datasets", help="list datasets: task, split sizes, whether the data is present")
    p.add_argument("--root", default=None, help="folder holding downloaded (LocBench) data")
    p.add_argument("--group", default=None, choices=["embedded", "locbench"], help="only this group")
    p.set_defaults(func=_run)

"""``python -m engine geobias``: the Geo-Bias Score report of any CSV of predictions.

    python -m engine geobias --csv preds.csv [--lon-col lon --lat-col lat]
        (--correct-col C | --error-col E | --unmarked) [--scales 100km,1000km,knn] [--max-neighbors 100]
        --out report.json

The CSV is read as text (never unpickled); problems (missing columns, unparsable or out-of-range
coordinates, an empty file) are reported in one line. The report (:mod:`engine.metrics.geobias.report`) is
written atomically as JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from engine.geo import check_lonlat
from engine.io import write_json

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def read_predictions(args: argparse.Namespace) -> pd.DataFrame:
    """Validated frame with columns lon, lat and ``correct`` (bool) or ``error`` (float) as requested."""
    path = Path(args.csv)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty") from None
    except pd.errors.ParserError as err:
        raise ValueError(f"{path} is not a readable CSV: {str(err).splitlines()[0]}") from None
    present = ", ".join(frame.columns.astype(str)) or "(none)"
    wanted = [args.lon_col, args.lat_col] + [c for c in (args.correct_col, args.error_col) if c]
    for col in wanted:
        if col not in frame.columns:
            raise ValueError(f"column {col!r} not found in {path.name}; columns present: {present}")
    if len(frame) == 0:
        raise ValueError(f"{path.name} has a header but no rows")
    out = pd.DataFrame({"lon": _numbers(frame, args.lon_col), "lat": _numbers(frame, args.lat_col)})
    check_lonlat(out[["lon", "lat"]].to_numpy(), f"{args.lon_col}/{args.lat_col}")
    if args.correct_col:
        text = frame[args.correct_col].str.strip().str.lower()
        bad = ~text.isin(_TRUE | _FALSE)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"column {args.correct_col!r} must be true/false or 1/0; row {row + 2} has "
                f"{frame[args.correct_col].iloc[row]!r}"
            )
        out["correct"] = text.isin(_TRUE).to_numpy()
    if args.error_col:
        out["error"] = _numbers(frame, args.error_col)
    return out


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Column as float64; raise naming the first row that is missing or not a finite number."""
    values = pd.to_numeric(frame[col].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"column {col!r}: {int(bad.sum())} rows are missing or not finite numbers "
            f"(first: row {row + 2}, {frame[col].iloc[row]!r})"
        )
    return values


def _run(args: argparse.Namespace) -> int:
    from engine.metrics.geobias import report

    preds = read_predictions(args)
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    if not scales:
        raise ValueError("--scales is empty")
    task = "classification" if args.correct_col else "regression" if args.error_col else "unmarked"
    rep = report(
        preds,
        scales,
        task=task,
        max_neighbors=args.max_neighbors,
        method=args.method,
        ties=args.ties,
        progress=not args.quiet,
    )
    write_json(args.out, rep.to_dict(per_point=not args.no_per_point))
    for key, value in rep.summary().items():
        print(f"{key:32s} {'n/a' if value is None else f'{value:.4f}'}")
    print(f"wrote {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``geobias`` sub-command."""
    p = sub.add_parser("geobias", help="Geo-Bias Score (SSI) report of a CSV of predictions")
    p.add_argument("--csv", required=True, help="input CSV (one row per test point)")
    p.add_argument("--lon-col", default="lon", help="longitude column, degrees (default: lon)")
    p.add_argument("--lat-col", default="lat", help="latitude column, degrees (default: lat)")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--correct-col", help="boolean column: the prediction is correct (classification)")
    kind.add_argument("--error-col", help="numeric column: prediction error (regression; median rule)")
    kind.add_argument("--unmarked", action="store_true", help="only where the points are (no marks)")
    p.add_argument("--scales", default="100km,1000km,knn", help="comma list of knn and <x>km scales")
    p.add_argument("--max-neighbors", type=int, default=100, help="neighbour cap K_p and kNN K (default 100)")
    p.add_argument(
        "--method", choices=["pygbs", "exact"], default="pygbs", help="null moments (default pygbs)"
    )
    p.add_argument(
        "--ties",
        choices=["reference", "stable"],
        default="reference",
        help="distance-tie rule (default: as the reference)",
    )
    p.add_argument("--no-per-point", action="store_true", help="omit the per-point arrays from the JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="output JSON path")
    p.set_defaults(func=_run)

"""Load the user's own table (CSV or Parquet) of located samples as a :class:`Dataset`.

Every problem a user can fix is a ``ValueError`` (or ``FileNotFoundError``) that says what is wrong and
where: a file over the size limit, an empty file, missing columns (the columns present are listed), a
likely lon/lat swap, rows with missing or out-of-range coordinates (count and first row numbers).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.datasets.assemble import dataset_from_arrays, split_arrays
from engine.datasets.base import Dataset, DatasetInfo, Task
from engine.datasets.splits import (
    DEFAULT_BLOCK_RES,
    DEFAULT_FRACTIONS,
    BlockKind,
    Fractions,
    SplitKind,
    SplitSpec,
)

DEFAULT_MAX_BYTES = 256 * 1024**2
"""Files larger than this (256 MiB) are refused unless ``max_bytes`` is raised."""
MAX_INTEGER_CLASSES = 50
"""An integer target with at most this many distinct values is inferred as classification."""
ROWS_SHOWN = 10
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
PARQUET_SUFFIXES = (".parquet", ".pq")


def _read(path: Path, columns: list[str] | None) -> pd.DataFrame:
    """Read a CSV / TSV (optionally ``.gz``) or Parquet file; format errors become ``ValueError``."""
    suffixes = [s.lower() for s in path.suffixes]
    main = (
        suffixes[-2] if len(suffixes) >= 2 and suffixes[-1] == ".gz" else (suffixes[-1] if suffixes else "")
    )
    try:
        if main in PARQUET_SUFFIXES:
            return pd.read_parquet(path, columns=columns)
        if main in CSV_SUFFIXES:
            return pd.read_csv(path, sep=CSV_SUFFIXES[main], usecols=columns)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: expected a header row and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        raise ValueError(f"could not read {path}: {err}") from None
    raise ValueError(
        f"unsupported file type {path.name!r}; use .csv, .tsv, .txt (optionally .gz), .parquet or .pq"
    )


def _rows(mask: np.ndarray) -> str:
    """Format the first :data:`ROWS_SHOWN` True rows as "rows 3, 8, … (1-based data rows …)"."""
    rows = np.flatnonzero(mask)[:ROWS_SHOWN] + 1
    more = ", …" if mask.sum() > ROWS_SHOWN else ""
    return f"rows {', '.join(str(r) for r in rows)}{more} (1-based data rows, header not counted)"


def infer_task(values: pd.Series) -> Task:
    """``classification`` for strings / booleans / categories / few distinct integers, else ``regression``."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return "classification"
    if pd.api.types.is_integer_dtype(dtype) and values.nunique() <= MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def _sorted_classes(values: pd.Series) -> list[object]:
    """Distinct non-missing target values in natural order (by text when types are mixed)."""
    unique = values.dropna().unique().tolist()
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


def _prior_columns(image_prior: str | Sequence[str] | None, classes: list[str]) -> list[str]:
    """Resolve ``image_prior`` (a column prefix or explicit columns) against the class names."""
    if image_prior is None:
        return []
    if isinstance(image_prior, str):
        return [f"{image_prior}{c}" for c in classes]
    columns = list(image_prior)
    if len(columns) != len(classes):
        raise ValueError(f"image_prior has {len(columns)} columns but the target has {len(classes)} classes")
    return columns


def _coordinate_problems(coords: np.ndarray, lon: str, lat: str) -> dict[str, np.ndarray]:
    """Row masks of missing and out-of-range coordinates; ``ValueError`` naming a likely lon/lat swap."""
    finite = np.isfinite(coords).all(axis=1)
    lat_out = finite & (np.abs(coords[:, 1]) > 90)
    if lat_out.any() and (np.abs(coords[finite, 0]) <= 90).all():
        raise ValueError(
            f"columns {lon!r} and {lat!r} look swapped: {int(lat_out.sum())} values of {lat!r} are outside "
            f"±90 while every {lon!r} value is within ±90; pass lon={lat!r}, lat={lon!r}"
        )
    out_of_range = finite & ((np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90))
    return {
        f"missing or non-numeric {lon!r}/{lat!r}": ~finite,
        f"{lon!r} outside [-180, 180] or {lat!r} outside [-90, 90]": out_of_range,
    }


def _invalid_rows(problems: dict[str, np.ndarray], file_name: str, *, drop_invalid: bool) -> np.ndarray:
    """Union of the problem masks; report each (count, first rows) as an error or, if dropping, a warning."""
    bad = np.zeros(len(next(iter(problems.values()))), dtype=bool)
    lines = []
    for reason, mask in problems.items():
        if mask.any():
            bad |= mask
            lines.append(f"{int(mask.sum())} rows with {reason}: {_rows(mask)}")
    if lines and not drop_invalid:
        raise ValueError(f"{file_name}: " + "; ".join(lines) + ". Fix them or pass drop_invalid=True")
    if lines:
        message = f"{file_name}: dropped {int(bad.sum())} of {len(bad)} rows: " + "; ".join(lines)
        warnings.warn(message, UserWarning, stacklevel=3)
    return bad


def load_table(
    path: str | Path,
    *,
    lon: str = "lon",
    lat: str = "lat",
    target: str,
    task: Task | None = None,
    image_prior: str | Sequence[str] | None = None,
    drop_invalid: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
    seed: int = 0,
    split: SplitKind = "random",
    fractions: Fractions = DEFAULT_FRACTIONS,
    block: BlockKind = "h3",
    block_res: int = DEFAULT_BLOCK_RES,
    block_deg: float = 10.0,
) -> Dataset:
    """Load a CSV or Parquet table of (lon, lat, target) rows as a :class:`Dataset`.

    Args:
        path: ``.csv`` / ``.tsv`` / ``.txt`` (optionally gzipped) or ``.parquet`` / ``.pq`` file.
        lon: longitude column (degrees, [-180, 180]).
        lat: latitude column (degrees, [-90, 90]).
        target: label column.
        task: ``"classification"`` or ``"regression"``; inferred when ``None`` (strings, booleans or at most
            50 distinct integers → classification; other numbers → regression).
        image_prior: image-model class probabilities (classification only): a column prefix (columns
            ``prefix + class name`` for every class) or one column per class in sorted class order. The
            classes are the distinct non-missing target values of the whole file, sorted.
        drop_invalid: drop rows with missing / out-of-range coordinates or missing values (with a warning)
            instead of raising ``ValueError``.
        max_bytes: refuse files larger than this.
        name: dataset name (default: the file name without suffix).
        seed: split seed.
        split: ``"random"`` (seeded shuffle by ``fractions``) or ``"spatial_block"`` (whole blocks held out).
        fractions: (train, val, test) shares.
        block: ``"h3"`` cells or ``"lonlat"`` boxes.
        block_res: H3 resolution of the blocks.
        block_deg: box size for ``block="lonlat"``.

    Returns:
        A :class:`Dataset` whose ``index`` is the 0-based data row of the file.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is too large, empty, unreadable, lacks a column, has swapped or invalid
            coordinates (unless ``drop_invalid``), or the target does not fit ``task``.

    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(
            f"{path} is {size / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.1f} MiB: "
            "subsample it or pass a larger max_bytes"
        )
    if size == 0:
        raise ValueError(f"{path} is empty: expected a header row and data rows")
    spec = SplitSpec(
        split=split, seed=seed, fractions=fractions, block=block, block_res=block_res, block_deg=block_deg
    )
    frame = _read(path, None)
    missing = [c for c in dict.fromkeys([lon, lat, target]) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"column(s) {', '.join(map(repr, missing))} not found in {path.name}; "
            f"columns present: {', '.join(map(str, frame.columns))}"
        )
    if len(frame) == 0:
        raise ValueError(f"{path} has a header but no data rows")

    coords = frame[[lon, lat]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    problems = _coordinate_problems(coords, lon, lat)
    problems[f"missing {target!r}"] = frame[target].isna().to_numpy()
    inferred = task is None
    task = infer_task(frame[target].dropna()) if task is None else task
    if task not in ("classification", "regression"):
        raise ValueError(f"unknown task {task!r}; valid: classification, regression")
    values = frame[target]
    if task == "regression":
        if image_prior is not None:
            raise ValueError("image_prior needs a classification target")
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            raise ValueError(
                f"task='regression' needs a numeric target, but {target!r} has dtype {values.dtype}"
            )
        problems[f"non-finite {target!r}"] = ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
    classes = _sorted_classes(values) if task == "classification" else []
    class_names = [str(c) for c in classes]
    prior_cols = _prior_columns(image_prior, class_names)
    absent = [c for c in prior_cols if c not in frame.columns]
    if absent:
        raise ValueError(
            f"image_prior column(s) {', '.join(map(repr, absent))} not found; columns present: "
            f"{', '.join(map(str, frame.columns))}"
        )
    if prior_cols:
        prior = frame[prior_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)
        problems["missing or non-numeric image prior"] = ~np.isfinite(prior).all(axis=1)

    bad = _invalid_rows(problems, path.name, drop_invalid=drop_invalid)
    keep = np.flatnonzero(~bad)
    if len(keep) < 3:
        raise ValueError(
            f"{path.name}: only {len(keep)} valid rows; at least 3 are needed for train/val/test"
        )

    lonlat = coords[keep]
    if task == "classification":
        lookup = {c: i for i, c in enumerate(classes)}
        y = np.array([lookup[v] for v in values.iloc[keep].tolist()], dtype=np.int64)
    else:
        y = values.iloc[keep].to_numpy(dtype=np.float32)
    extra = {"image_prior": prior[keep]} if prior_cols else {}
    arrays = split_arrays(lonlat, y, spec.assign(lonlat), index=keep, **extra)
    config = spec.config(source=str(path), rows=len(frame), dropped=int(bad.sum()))
    info = DatasetInfo(
        name=name or path.name.split(".")[0],
        display_name=name or path.name,
        task=task,
        class_names=tuple(class_names) if task == "classification" else None,
        target_name=target,
        coverage=(
            f"lon [{lonlat[:, 0].min():.2f}, {lonlat[:, 0].max():.2f}], "
            f"lat [{lonlat[:, 1].min():.2f}, {lonlat[:, 1].max():.2f}]"
        ),
        licence="user data",
        source=str(path),
        notes=(
            f"User table {path.name}: {len(frame)} rows, {int(bad.sum())} dropped; task "
            f"{'inferred' if inferred else 'given'}: {task}. index = 0-based data row of the file."
        ),
    )
    return dataset_from_arrays(info, arrays, config)

"""
Reading an uploaded predictions CSV safely: size limit, plain CSV parsing (never unpickling), and checks
with messages a user can act on (missing columns, NaN or out-of-range coordinates, too few points).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest accepted upload (50 MB ≈ 1–2 million rows of lon, lat, value)."""
MIN_POINTS = 100
"""Fewest located points accepted (the Geo-Bias Score needs N ≥ K_p = 100 neighbours)."""
MARK_COLUMNS = ("correct", "error")
"""Value columns a user may choose: ``correct`` (0/1, true/false) or ``error`` (numeric)."""

_TRUE = {"1", "true", "t", "yes", "y", "1.0"}
_FALSE = {"0", "false", "f", "no", "n", "0.0"}


def read_points_csv(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> pd.DataFrame:
    """Parse CSV bytes into a frame (column names stripped and lower-cased).

    Raises:
        ValueError: when the file is empty, larger than ``max_bytes`` or not parseable as CSV.

    """
    if len(data) == 0:
        raise ValueError("the file is empty")
    if len(data) > max_bytes:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")
    try:
        frame = pd.read_csv(io.BytesIO(data), low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"not a readable CSV file: {err}") from err
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _as_correct(column: pd.Series) -> np.ndarray:
    """0/1 or true/false (any case) -> float 0/1; anything else raises ``ValueError``."""
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64)
        bad = ~np.isin(values, (0.0, 1.0))
    else:
        text = column.astype(str).str.strip().str.lower()
        values = np.where(text.isin(_TRUE), 1.0, np.where(text.isin(_FALSE), 0.0, np.nan))
        bad = np.isnan(values)
    if bad.any():
        raise ValueError(f"'correct' must be 0/1 or true/false; {int(bad.sum())} rows are not")
    return values


def points_table(frame: pd.DataFrame, value_col: str, *, min_points: int = MIN_POINTS) -> pd.DataFrame:
    """Validate an uploaded table and return ``lon, lat`` and the chosen value column (float64).

    Args:
        frame: the parsed CSV (see :func:`read_points_csv`).
        value_col: ``"correct"`` (0/1, true/false) or ``"error"`` (numeric; its absolute value is used).
        min_points: fewest rows required.

    Returns:
        A frame ``lon, lat, correct`` or ``lon, lat, error, abs_error``.

    Raises:
        ValueError: naming the problem (missing column, non-numeric or NaN values, coordinates out of
            range or apparently swapped, too few points).

    """
    if value_col not in MARK_COLUMNS:
        raise ValueError(f"value column must be one of {MARK_COLUMNS}, got {value_col!r}")
    missing = [c for c in ("lon", "lat", value_col) if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; found {list(frame.columns)[:20]}")
    coords = {}
    for col in ("lon", "lat"):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(f"column '{col}' has {int(bad.sum())} missing, non-numeric or infinite values")
        coords[col] = values
    lon, lat = coords["lon"], coords["lat"]
    if (np.abs(lat) > 90).any():
        swapped = (np.abs(lon) <= 90).all()
        hint = " (lon and lat look swapped)" if swapped else ""
        raise ValueError(f"{int((np.abs(lat) > 90).sum())} latitudes outside [-90, 90]{hint}")
    if (np.abs(lon) > 180).any():
        raise ValueError(f"{int((np.abs(lon) > 180).sum())} longitudes outside [-180, 180]")
    if len(frame) < min_points:
        raise ValueError(f"{len(frame)} points; at least {min_points} are needed")
    out = pd.DataFrame({"lon": lon, "lat": lat})
    if value_col == "correct":
        out["correct"] = _as_correct(frame["correct"])
    else:
        err = pd.to_numeric(frame["error"], errors="coerce").to_numpy(dtype=np.float64)
        if (~np.isfinite(err)).any():
            raise ValueError(
                f"column 'error' has {int((~np.isfinite(err)).sum())} missing or non-numeric values"
            )
        out["error"] = err
        out["abs_error"] = np.abs(err)
    return out

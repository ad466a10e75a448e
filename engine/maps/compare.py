"""Per-cell maps of a run's predictions (accuracy or error) and the difference between two runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.maps.h3grid import aggregate_h3

VALUE_COLUMNS: dict[str, str] = {"correct": "accuracy", "abs_error": "|error|", "error": "error"}
"""Prediction-table columns that can be mapped, with the name of their per-cell mean."""


@dataclass(frozen=True)
class MapValues:
    """Per-point values of a prediction table ready to aggregate.

    Attributes:
        lonlat: ``[N, 2]`` float64 (lon, lat) of the located rows.
        values: ``[N]`` float64 values (``correct`` as 0/1).
        column: the prediction-table column used.
        label: human name of the per-cell mean ("accuracy", "|error|").
        higher_is_better: True for accuracy, False for errors.

    """

    lonlat: np.ndarray
    values: np.ndarray
    column: str
    label: str
    higher_is_better: bool


def default_value_column(predictions: pd.DataFrame) -> str:
    """``correct`` for classification tables, ``abs_error`` for regression ones.

    Raises:
        ValueError: when the table has neither column.

    """
    for column in ("correct", "abs_error"):
        if column in predictions.columns:
            return column
    raise ValueError(f"predictions need a 'correct' or 'abs_error' column, got {list(predictions.columns)}")


def map_values(predictions: pd.DataFrame, value_col: str | None = None) -> MapValues:
    """Extract located points and their values from a run's prediction table.

    Args:
        predictions: a frame with ``lon``, ``lat``, optionally ``has_location`` and the value column.
        value_col: column to map; ``None`` picks :func:`default_value_column`.

    Returns:
        The :class:`MapValues` of the rows with a location.

    Raises:
        ValueError: when a needed column is missing.

    """
    column = value_col or default_value_column(predictions)
    missing = [c for c in ("lon", "lat", column) if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack column(s) {missing}")
    located = predictions
    if "has_location" in predictions.columns:
        located = predictions[predictions["has_location"].astype(bool)]
    return MapValues(
        lonlat=located[["lon", "lat"]].to_numpy(dtype=np.float64),
        values=located[column].to_numpy(dtype=np.float64),
        column=column,
        label=VALUE_COLUMNS.get(column, column),
        higher_is_better=column == "correct",
    )


def run_map(predictions: pd.DataFrame, res: int, value_col: str | None = None) -> pd.DataFrame:
    """Accuracy (or error) of one run per H3 cell: :func:`aggregate_h3` of :func:`map_values`."""
    mv = map_values(predictions, value_col)
    return aggregate_h3(mv.lonlat, mv.values, res)


def difference_map(
    a_df: pd.DataFrame, b_df: pd.DataFrame, res: int, value_col: str | None = None
) -> pd.DataFrame:
    """Per-cell difference A − B of two runs' accuracy (or error), on the cells both runs cover.

    Args:
        a_df: run A's prediction table.
        b_df: run B's prediction table.
        res: H3 resolution of the common cells.
        value_col: the column to compare; ``None`` picks :func:`default_value_column` of ``a_df``.

    Returns:
        Columns ``cell``, ``value_a``, ``value_b``, ``diff`` (= value_a − value_b), ``count_a``, ``count_b``;
        one row per cell with points in both runs, sorted by cell.

    Raises:
        ValueError: when the two tables do not share the value column.

    """
    column = value_col or default_value_column(a_df)
    a = run_map(a_df, res, column)
    b = run_map(b_df, res, column)
    both = a.merge(b, on="cell", how="inner", suffixes=("_a", "_b"))
    out = pd.DataFrame(
        {
            "cell": both["cell"],
            "value_a": both["value_mean_a"],
            "value_b": both["value_mean_b"],
            "diff": both["value_mean_a"] - both["value_mean_b"],
            "count_a": both["count_a"],
            "count_b": both["count_b"],
        }
    )
    return out.sort_values("cell", ignore_index=True)

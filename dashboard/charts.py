"""Plotly figure builders for the dashboard: pure functions from tidy frames to figures.

Ordinary cartesian charts only (bars, scatter, lines): Streamlit bundles them, so they render offline. Geo
charts (``scattergeo``, ``choropleth``) would fetch a base map from a CDN and are not used here.

The summary frames are long: one row per (model, metric) with columns ``model``, ``metric``, ``mean``,
``std`` (NaN for a single seed) and ``n`` (number of seeds); baselines are the models named
``baseline:<name>``.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

ENCODER_COLOUR = "#1f77b4"
BASELINE_COLOUR = "#7f7f7f"
BASELINE_PREFIX = "baseline:"


def _is_baseline(model: str) -> bool:
    return model.startswith(BASELINE_PREFIX)


def _std_or_zero(values: pd.Series) -> list[float]:
    """Error-bar half widths: the std, 0 where it is undefined (a single seed)."""
    return [0.0 if (v is None or math.isnan(v)) else float(v) for v in values]


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        height=380,
        showlegend=False,
    )
    return fig


def metric_bars(summary: pd.DataFrame, metric: str, label: str | None = None) -> go.Figure:
    """Bars of ``metric`` per model (mean over seeds, error bars ± 1 std), best first; baselines grey.

    Args:
        summary: long summary frame (``model, metric, mean, std, n``).
        metric: the metric to plot (e.g. ``top1``, ``r2``).
        label: axis title (default: ``metric``).
    """
    rows = summary[summary["metric"] == metric].sort_values("mean", ascending=False)
    fig = go.Figure(
        go.Bar(
            x=rows["model"],
            y=rows["mean"],
            error_y={"type": "data", "array": _std_or_zero(rows["std"]), "visible": True},
            marker_color=[BASELINE_COLOUR if _is_baseline(m) else ENCODER_COLOUR for m in rows["model"]],
            customdata=rows[["std", "n"]].to_numpy(),
            hovertemplate="%{x}<br>%{y:.4f} ± %{customdata[0]:.4f} (%{customdata[1]} seeds)<extra></extra>",
        )
    )
    return _layout(fig, f"{label or metric} per model (mean ± std over seeds)", "model", label or metric)


def metric_vs_metric(
    summary: pd.DataFrame,
    x_metric: str,
    y_metric: str,
    *,
    x_label: str | None = None,
    y_label: str | None = None,
) -> go.Figure:
    """Scatter of one metric against another per model (e.g. accuracy vs Geo-Bias Score), ± 1 std bars.

    Models that lack either metric are left out. Each point is labelled with its model name.
    """
    x = summary[summary["metric"] == x_metric].set_index("model")
    y = summary[summary["metric"] == y_metric].set_index("model")
    models = [m for m in y.index if m in x.index]
    x, y = x.loc[models], y.loc[models]
    fig = go.Figure(
        go.Scatter(
            x=x["mean"],
            y=y["mean"],
            mode="markers+text",
            text=models,
            textposition="top center",
            error_x={"type": "data", "array": _std_or_zero(x["std"]), "visible": True},
            error_y={"type": "data", "array": _std_or_zero(y["std"]), "visible": True},
            marker={
                "size": 11,
                "color": [BASELINE_COLOUR if _is_baseline(m) else ENCODER_COLOUR for m in models],
            },
            hovertemplate="%{text}<br>x %{x:.4f}<br>y %{y:.4f}<extra></extra>",
        )
    )
    xl, yl = x_label or x_metric, y_label or y_metric
    return _layout(fig, f"{yl} vs {xl}", xl, yl)


def training_curves(history: pd.DataFrame, column: str = "val_metric", label: str | None = None) -> go.Figure:
    """One line per run: ``column`` (``val_metric`` or ``train_loss``) against the epoch.

    Args:
        history: rows ``run, epoch, train_loss, val_metric`` (``run`` labels the line).
        column: the history column to plot.
        label: axis title (default: ``column``).
    """
    fig = go.Figure(
        [
            go.Scatter(x=rows["epoch"], y=rows[column], mode="lines+markers", name=str(run))
            for run, rows in history.groupby("run", sort=False)
        ]
    )
    fig = _layout(fig, f"{label or column} per epoch", "epoch", label or column)
    fig.update_layout(showlegend=True)
    return fig

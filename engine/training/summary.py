"""Benchmark summaries: the tidy table of a sweep and its Markdown report.

``summary.csv`` is tidy (``dataset, model, seed, metric, value``: one row per run and metric, taken from each
run folder's ``metrics.json`` plus the run's wall time as ``seconds``). ``summary.md`` has one table per
dataset: mean ± sample std over seeds (:func:`engine.metrics.bootstrap.mean_std`) of top-1 / top-3 / MRR (in
percent) or R² / MAE / RMSE and the marked Geo-Bias Scores, baselines first, then encoders by their mean
top-1 (R²). The ``vs kNN`` column marks every encoder whose mean does not beat the kNN baseline's as
``≤ kNN``. Both files are written atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from engine.io import write_atomic, write_text
from engine.metrics.bootstrap import mean_std

COLUMNS = ["dataset", "model", "seed", "metric", "value"]
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("top1", "top3", "mrr"),
    "regression": ("r2", "mae", "rmse"),
}
PERCENT = frozenset({"top1", "top3", "mrr"})
GEOBIAS_COLUMNS = ("gbs_marked_100km", "gbs_marked_1000km", "gbs_marked_knn")
"""The Geo-Bias Scores shown in ``summary.md`` (every score stays in ``summary.csv``)."""
KNN_BASELINE = "baseline:knn"


def collect(out: str | Path, cells: Iterable[tuple[str, str, int]]) -> pd.DataFrame:
    """The tidy table of the complete runs among ``cells`` = ``(dataset, model, seed)`` under ``out``."""
    rows: list[dict[str, Any]] = []
    for dataset, model, seed in cells:
        path = Path(out) / dataset / model.replace(":", "-") / f"seed_{seed}"
        if not (path / "metrics.json").is_file():
            continue
        metrics = json.loads((path / "metrics.json").read_text())
        for name, entry in metrics.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, int | float):
                rows.append(
                    {"dataset": dataset, "model": model, "seed": seed, "metric": name, "value": value}
                )
        config_path = path / "config.json"
        seconds = (
            json.loads(config_path.read_text()).get("run", {}).get("seconds")
            if config_path.is_file()
            else None
        )
        if isinstance(seconds, int | float):
            rows.append(
                {"dataset": dataset, "model": model, "seed": seed, "metric": "seconds", "value": seconds}
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def aggregate(tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample std and number of seeds per ``(dataset, model, metric)``."""
    rows = []
    for (dataset, model, metric), group in tidy.groupby(["dataset", "model", "metric"], sort=False):
        values = group["value"].astype(float).dropna()
        if values.empty:
            continue
        mean, std = mean_std(values.tolist())
        rows.append(
            {"dataset": dataset, "model": model, "metric": metric, "mean": mean, "std": std, "n": len(values)}
        )
    return pd.DataFrame(rows, columns=["dataset", "model", "metric", "mean", "std", "n"])


def _cell(mean: float, std: float, scale: float) -> str:
    if math.isnan(mean):
        return "–"
    digits = 2 if scale == 100 else 4
    text = f"{mean * scale:.{digits}f}"
    return text if math.isnan(std) else f"{text} ± {std * scale:.{digits}f}"


def dataset_table(agg: pd.DataFrame, dataset: str) -> str:
    """The Markdown table of one dataset (see the module docstring)."""
    part = agg[agg["dataset"] == dataset]
    metrics = set(part["metric"])
    task = "regression" if "r2" in metrics and "top1" not in metrics else "classification"
    columns = [m for m in TASK_METRICS[task] if m in metrics] + [g for g in GEOBIAS_COLUMNS if g in metrics]
    primary = TASK_METRICS[task][0]
    stat = {(r.model, r.metric): (r.mean, r.std, r.n) for r in part.itertuples()}
    models = list(dict.fromkeys(part["model"]))
    baselines = [m for m in models if m.startswith("baseline:")]
    encoders = sorted(
        (m for m in models if m not in baselines), key=lambda m: -stat.get((m, primary), (-math.inf,))[0]
    )
    knn = stat.get((KNN_BASELINE, primary), (math.nan,))[0]
    head = ["model", *(f"{c} (%)" if c in PERCENT else c for c in columns), "seeds", "vs kNN"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model in baselines + encoders:
        cells = [
            _cell(*stat.get((model, c), (math.nan, math.nan))[:2], 100 if c in PERCENT else 1)
            for c in columns
        ]
        n = max((stat[(model, c)][2] for c in columns if (model, c) in stat), default=0)
        mean = stat.get((model, primary), (math.nan,))[0]
        mark = "" if model in baselines or math.isnan(knn) else ("≤ kNN" if not mean > knn else "> kNN")
        lines.append("| " + " | ".join([model, *cells, str(n), mark]) + " |")
    return "\n".join(lines)


def markdown(tidy: pd.DataFrame, failed: Sequence[dict[str, Any]] = ()) -> str:
    """The whole ``summary.md``: one table per dataset, then the failed runs."""
    agg = aggregate(tidy)
    parts = [
        "# Benchmark summary",
        "",
        "Mean ± sample std over seeds (top-k and MRR in %). Baselines first; `≤ kNN` marks an encoder whose "
        "mean does not beat the kNN baseline. Geo-Bias Scores: marked SSI, higher = more geo-biased errors.",
    ]
    for dataset in dict.fromkeys(tidy["dataset"]):
        parts += ["", f"## {dataset}", "", dataset_table(agg, dataset)]
    if failed:
        parts += ["", "## Failed runs", ""]
        parts += [
            f"- {r['dataset']}/{r['model']}/seed_{r['seed']}: {r['error']} (see {r['path']}/error.json)"
            for r in failed
        ]
    return "\n".join(parts) + "\n"


def write_summary(
    out: str | Path, tidy: pd.DataFrame, failed: Sequence[dict[str, Any]] = ()
) -> tuple[Path, Path]:
    """Write ``summary.csv`` and ``summary.md`` into ``out`` atomically; returns their paths."""
    out = Path(out)
    csv = write_atomic(out / "summary.csv", lambda p: tidy.to_csv(p, index=False))
    md = write_text(out / "summary.md", markdown(tidy, failed))
    return csv, md

"""One-line descriptions of run folders (for run pickers): dataset, encoder, seed and the headline metric."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.training.store import COMPLETE_MARKER

HEADLINE: dict[str, tuple[str, str]] = {"classification": ("top1", "top-1"), "regression": ("r2", "R²")}
"""Task -> (metrics.json key, display name) of the metric shown next to a run."""


@dataclass(frozen=True)
class RunSummary:
    """What a run picker shows about one run folder.

    Attributes:
        path: the run folder.
        name: the folder relative to the run store (or its name).
        dataset: dataset name.
        encoder: encoder name.
        seed: training seed.
        task: ``classification`` or ``regression``.
        metric_name: display name of the headline metric (``top-1`` / ``R²``).
        metric: its test value (NaN when missing).
        has_model: whether weights are stored (baseline runs have none).
        stamp: modification time of ``metrics.json`` (cache key: changes when the run is rewritten).

    """

    path: Path
    name: str
    dataset: str
    encoder: str
    seed: int | None
    task: str
    metric_name: str
    metric: float
    has_model: bool
    stamp: float

    @property
    def label(self) -> str:
        """``"name — dataset · encoder · seed 0 · top-1 0.734"``."""
        seed = "" if self.seed is None else f" · seed {self.seed}"
        value = "n/a" if math.isnan(self.metric) else f"{self.metric:.3f}"
        return f"{self.name} — {self.dataset} · {self.encoder}{seed} · {self.metric_name} {value}"


def run_stamp(path: str | Path) -> float:
    """Modification time of the run's ``metrics.json`` (0.0 when missing)."""
    marker = Path(path) / COMPLETE_MARKER
    return marker.stat().st_mtime if marker.is_file() else 0.0


def _value(metrics: dict[str, Any], key: str) -> float:
    entry = metrics.get(key)
    value = entry.get("value") if isinstance(entry, dict) else entry
    return float(value) if isinstance(value, int | float) else math.nan


def summarize_run(path: str | Path, root: str | Path | None = None) -> RunSummary:
    """Read ``config.json`` and ``metrics.json`` of a run folder (no model is built).

    Raises:
        FileNotFoundError: when either file is missing.
        ValueError: when either file is not valid JSON.

    """
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text())
        metrics = json.loads((path / COMPLETE_MARKER).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: corrupt JSON ({err})") from err
    task = str(config.get("task", "classification"))
    key, metric_name = HEADLINE.get(task, ("top1", "top-1"))
    train = config.get("train", {})
    model = config.get("model", {})
    try:
        name = str(path.relative_to(root)) if root is not None else path.name
    except ValueError:
        name = path.name
    seed = train.get("seed")
    return RunSummary(
        path=path,
        name=name,
        dataset=str(config.get("dataset", "?")),
        encoder=str(model.get("encoder") or train.get("encoder") or "?"),
        seed=int(seed) if isinstance(seed, int) else None,
        task=task,
        metric_name=metric_name,
        metric=_value(metrics, key),
        has_model=(path / "weights.safetensors").is_file(),
        stamp=run_stamp(path),
    )

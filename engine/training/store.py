"""Run folders: ``config.json``, ``metrics.json``, ``history.csv``, ``predictions.parquet``,
``weights.safetensors`` — every file written atomically; ``metrics.json`` last, so its presence marks a
complete run. ``load_run`` rebuilds the model (never unpickling: safetensors + JSON).
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from engine.datasets.base import Dataset
from engine.geo import check_lonlat
from engine.io import write_atomic, write_json
from engine.training.config import TrainConfig
from engine.training.evaluate import predict_located
from engine.training.models import build_model

FILES = ("config.json", "metrics.json", "history.csv", "predictions.parquet", "weights.safetensors")
COMPLETE_MARKER = "metrics.json"
ERROR_FILE = "error.json"


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Tensor):
        return obj.tolist()
    return obj


def run_config(
    dataset: Dataset, config: TrainConfig, spec: dict[str, Any], dataset_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``config.json`` content: train config, model spec, dataset + split provenance and versions."""
    return _json_safe(
        {
            "dataset": dataset.info.name,
            "dataset_kwargs": dataset_kwargs or {},
            "task": dataset.info.task,
            "split": dict(dataset.split_config),
            "split_sizes": {k: len(v) for k, v in dataset.splits().items()},
            "train": config.to_dict(),
            "model": spec,
            "versions": {"torch": torch.__version__, "python": platform.python_version()},
        }
    )


def save_run(
    out: str | Path,
    *,
    config: dict[str, Any],
    metrics: dict[str, Any],
    history: list[dict[str, float]] | None = None,
    predictions: pd.DataFrame | None = None,
    model: nn.Module | None = None,
) -> Path:
    """Write a run folder atomically (metrics.json last: its presence means the run is complete)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / ERROR_FILE).unlink(missing_ok=True)
    write_json(out / "config.json", config)
    if history is not None:
        write_atomic(out / "history.csv", lambda p: pd.DataFrame(history).to_csv(p, index=False))
    if predictions is not None:
        write_atomic(out / "predictions.parquet", lambda p: predictions.to_parquet(p, index=False))
    if model is not None:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        write_atomic(out / "weights.safetensors", lambda p: save_file(state, str(p)))
    write_json(out / "metrics.json", _json_safe(metrics))
    return out


def is_complete(out: str | Path) -> bool:
    """True when the run folder holds a finished run."""
    return (Path(out) / COMPLETE_MARKER).is_file()


@dataclass
class Run:
    """A loaded run: the model (or ``None`` for baselines), its config and metrics, and where it lives."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    model: nn.Module | None

    @property
    def task(self) -> str:
        """``classification`` or ``regression``."""
        return self.config["task"]

    def predictions(self) -> pd.DataFrame:
        """The per-sample test predictions."""
        return pd.read_parquet(self.path / "predictions.parquet")

    def history(self) -> pd.DataFrame:
        """Per-epoch train / validation history."""
        return pd.read_csv(self.path / "history.csv")


def load_run(path: str | Path) -> Run:
    """Load a run folder; rebuilds the model from ``config.json`` and ``weights.safetensors``.

    Raises:
        FileNotFoundError: when the folder is not a complete run (naming the missing file).
        ValueError: when the weights do not match the recorded architecture (corrupt checkpoint).
    """
    path = Path(path)
    for name in ("config.json", "metrics.json"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path} is not a complete run: {name} is missing")
    try:
        config = json.loads((path / "config.json").read_text())
        metrics = json.loads((path / "metrics.json").read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: corrupt JSON ({err})") from err
    model = None
    weights = path / "weights.safetensors"
    if weights.is_file():
        spec = config["model"]
        model = build_model(
            spec["task"],
            spec["encoder"],
            spec["encoder_kwargs"],
            num_classes=spec["num_classes"],
            prior=spec["prior"],
            feature_dim=spec["feature_dim"],
            head_hidden=spec["head_hidden"],
        )
        try:
            state = load_file(str(weights))
        except Exception as err:  # safetensors raises its own error types for truncated / bad files
            raise ValueError(f"{weights}: corrupt checkpoint ({err})") from err
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ValueError(f"{weights} does not match the recorded architecture: {err}") from err
        model.eval()
    return Run(path=path, config=config, metrics=metrics, model=model)


def predict(run: Run, lonlat: Tensor, features: Tensor | None = None, *, batch_size: int = 8192) -> Tensor:
    """Score new points with a loaded run: location prior ``[N, C]`` or regression values ``[N]``.

    ``lonlat`` is ``[N, 2]`` (lon, lat) degrees, validated here; regressors trained with image features need
    ``features`` ``[N, D]``.
    """
    if run.model is None:
        raise ValueError(f"run {run.path} has no model weights (a baseline run)")
    lonlat = torch.as_tensor(lonlat, dtype=torch.float32)
    check_lonlat(lonlat)
    return predict_located(run.model, lonlat.reshape(-1, 2), features, batch_size=batch_size)


def default_run_store() -> Path:
    """The run store shared by the CLI and the dashboard: ``$LOCLAB_RUNS`` or ``./runs``."""
    import os

    return Path(os.environ.get("LOCLAB_RUNS", "runs"))


def list_runs(root: str | Path | None = None) -> list[Path]:
    """Every complete run folder under ``root`` (default :func:`default_run_store`), newest first."""
    root = Path(root) if root is not None else default_run_store()
    if not root.is_dir():
        return []
    runs = [p.parent for p in root.rglob(COMPLETE_MARKER) if (p.parent / "config.json").is_file()]
    return sorted(runs, key=lambda p: (p / COMPLETE_MARKER).stat().st_mtime, reverse=True)

"""Training budgets for the benchmark: ``quick`` (a CPU-sized sweep) and ``paper`` (reference settings).

``quick`` is sized so that ``python -m engine bench --datasets checkerboard,land_ocean,cities_country
--encoders all --seeds 3`` (18 encoders × 3 datasets × 3 seeds plus the baselines, 174 runs) finishes well
within half an hour on a 2-core CPU (measured: 13 min 35 s on an idle 2-core machine): every run takes at
most 6 epochs × 20 optimizer steps of 512 points (the heaviest
encoder, GeoCLIP with 9.5M parameters, costs ~0.3 s per such step there, the others 10–60 ms), validation
uses a fixed subset of 2,000 rows, the test intervals 200 bootstrap resamples and the Geo-Bias Scores a fixed
subset of 1,000 located test points (1–2 s per run instead of ~5 s for 2,000; scores of a subset are not
comparable with full-test-set scores, see ``TrainConfig.geobias_max_points``); the test metrics always use the
whole test split. Its numbers rank encoders
roughly; they are not converged results.

``paper`` follows the reference protocol (Mac Aodha et al. 2019; TorchSpatial): 100 epochs, a balanced
sampler with at most 100 examples per class per epoch (not for YFCC, as in the reference), learning-rate decay
0.98 per epoch, 1,000 bootstrap resamples; the best validation epoch is kept (no early stopping).
"""

from __future__ import annotations

from typing import Any, Literal

from engine.training.config import TrainConfig

Profile = Literal["quick", "paper"]

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {
        "epochs": 6,
        "batch_size": 512,
        "max_steps_per_epoch": 20,
        "val_max_points": 2000,
        "lr": 3e-3,
        "lr_decay": 0.9,
        "patience": 3,
        "n_boot": 200,
        "geobias_max_points": 1000,
    },
    "paper": {
        "epochs": 100,
        "batch_size": 1024,
        "max_steps_per_epoch": 0,
        "val_max_points": 0,
        "lr": 1e-3,
        "lr_decay": 0.98,
        "balanced": True,
        "max_per_class": 100,
        "patience": 0,
        "n_boot": 1000,
        "geobias_max_points": 0,
    },
}
"""TrainConfig fields set by each profile (everything else keeps the TrainConfig default)."""

UNBALANCED_DATASETS = frozenset({"yfcc"})
"""Datasets the reference trains without the balanced sampler."""


def profile_config(name: str, **changes: Any) -> TrainConfig:
    """The :class:`TrainConfig` of profile ``name`` with ``changes`` applied on top.

    Raises:
        ValueError: for an unknown profile name.
    """
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid: {', '.join(PROFILES)}")
    return TrainConfig(**{**PROFILES[name], **changes})


def for_dataset(config: TrainConfig, dataset: str) -> TrainConfig:
    """Per-dataset protocol exceptions: no balanced sampler on :data:`UNBALANCED_DATASETS`."""
    if config.balanced and dataset in UNBALANCED_DATASETS:
        return config.replace(balanced=False)
    return config

"""Regression metrics: R², MAE, RMSE (accumulated in float64).

The scalar functions accept ``pred`` and ``target`` as ``[N]`` or ``[N, 1]``. The ``*_batched`` forms reduce
over the last dimension of equal-shaped tensors (``[B, N]`` → ``[B]``); the bootstrap uses them to score many
resamples at once.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_pair(pred: Tensor, target: Tensor, squeeze: bool = False) -> tuple[Tensor, Tensor]:
    """Float64 copies of ``pred``/``target`` with equal shapes; ``squeeze`` turns ``[N, 1]`` into ``[N]``."""
    pred = torch.as_tensor(pred).double()
    target = torch.as_tensor(target, device=pred.device).double()
    if squeeze:
        pred = pred.reshape(-1) if pred.ndim == 2 and pred.shape[1] == 1 else pred
        target = target.reshape(-1) if target.ndim == 2 and target.shape[1] == 1 else target
    if pred.shape != target.shape:
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same shape"
        )
    if pred.shape[-1] == 0:
        raise ValueError("regression metrics of an empty set are undefined")
    return pred, target


def r2_batched(pred: Tensor, target: Tensor) -> Tensor:
    """Coefficient of determination over the last dimension: ``R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²``.

    A constant target (Σ(y − ȳ)² = 0) gives NaN, since R² is undefined there.
    """
    pred, target = check_pair(pred, target)
    ss_res = ((target - pred) ** 2).sum(dim=-1)
    ss_tot = ((target - target.mean(dim=-1, keepdim=True)) ** 2).sum(dim=-1)
    return torch.where(
        ss_tot > 0, 1.0 - ss_res / ss_tot.clamp_min(torch.finfo(torch.float64).tiny), torch.nan
    )


def mae_batched(pred: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error over the last dimension: ``MAE = (1/N) Σ |y − ŷ|``."""
    pred, target = check_pair(pred, target)
    return (target - pred).abs().mean(dim=-1)


def rmse_batched(pred: Tensor, target: Tensor) -> Tensor:
    """Root mean squared error over the last dimension: ``RMSE = √((1/N) Σ (y − ŷ)²)``."""
    pred, target = check_pair(pred, target)
    return ((target - pred) ** 2).mean(dim=-1).sqrt()


def r2(pred: Tensor, target: Tensor) -> float:
    """R² of ``pred`` against ``target`` (1 for a perfect predictor, 0 for the constant target mean).

    Uses the sample's own mean ȳ, like ``sklearn.metrics.r2_score``; NaN for a constant target.
    """
    return float(r2_batched(*check_pair(pred, target, squeeze=True)))


def mae(pred: Tensor, target: Tensor) -> float:
    """Mean absolute error ``(1/N) Σ |y − ŷ|``."""
    return float(mae_batched(*check_pair(pred, target, squeeze=True)))


def rmse(pred: Tensor, target: Tensor) -> float:
    """Root mean squared error ``√((1/N) Σ (y − ŷ)²)``."""
    return float(rmse_batched(*check_pair(pred, target, squeeze=True)))


REGRESSION_METRICS = {"r2": r2_batched, "mae": mae_batched, "rmse": rmse_batched}
"""Batched regression metric functions ``(pred [..., N], target [..., N]) -> [...]`` by name."""


def regression_metrics(pred: Tensor, target: Tensor) -> dict[str, float]:
    """R², MAE and RMSE of ``pred`` against ``target`` as ``{"r2", "mae", "rmse"}``."""
    pred, target = check_pair(pred, target, squeeze=True)
    return {name: float(fn(pred, target)) for name, fn in REGRESSION_METRICS.items()}

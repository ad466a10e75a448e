"""Percentile bootstrap confidence intervals and across-seed aggregation.

The nonparametric bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993): draw ``B``
resamples of the ``N`` evaluation samples with replacement, compute the statistic on each, and report the
``α/2`` and ``1 − α/2`` percentiles of the ``B`` values as the ``(1 − α)`` interval.

Resampled indices are drawn as ``[b, N]`` int64 tensors from one seeded generator, ``b`` rows at a time so
that memory stays bounded (about 8M indices per chunk); each chunk is scored in one vectorised call. For top-k
accuracy and MRR the per-sample correctness ``1[rank ≤ k]`` and reciprocal rank ``1/rank`` are resampled; for
R², MAE and RMSE the (prediction, target) pairs are resampled together.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from engine.datasets.base import Task
from engine.metrics.classification import reciprocal_rank, topk_correct, true_class_rank
from engine.metrics.regression import REGRESSION_METRICS, check_pair

MAX_INDEX_ELEMENTS = 1 << 23
"""Upper bound on resampled indices held at once (rows of the ``[b, N]`` chunk = this // N)."""

Statistic = Callable[[Tensor], Tensor]
"""A statistic over resample indices: ``[b, N]`` int64 → ``[b]`` (or ``[b, M]``) values."""


def bootstrap_indices(n: int, n_boot: int, seed: int = 0) -> Iterator[Tensor]:
    """Yield resample index chunks ``[b, n]`` (uniform with replacement, CPU) totalling ``n_boot`` rows.

    The draws come from one ``torch.Generator`` seeded with ``seed``, so the sequence depends only on
    ``(n, n_boot, seed)``.
    """
    if n < 1:
        raise ValueError("cannot bootstrap an empty sample")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    g = torch.Generator().manual_seed(seed)
    rows = max(1, MAX_INDEX_ELEMENTS // n)
    for start in range(0, n_boot, rows):
        yield torch.randint(n, (min(rows, n_boot - start), n), generator=g)


def resample_counts(idx: Tensor, n: int) -> Tensor:
    """How often each sample occurs in each resample: ``w_bi = #{j : idx_bj = i}``, float64 ``[b, n]``.

    A mean over a resample is then a matrix product: ``(1/n) Σ_j v[idx_bj] = (1/n) Σ_i w_bi v_i``.
    """
    ones = torch.ones((), dtype=torch.float64).expand(idx.shape)
    return torch.zeros(idx.shape[0], n, dtype=torch.float64).scatter_add_(1, idx, ones)


def bootstrap_distribution(
    data: Tensor | Statistic, n: int | None = None, *, n_boot: int = 1000, seed: int = 0
) -> Tensor:
    """Compute the bootstrap replicates of a statistic, float64 ``[n_boot]`` (or ``[n_boot, M]``).

    Args:
        data: either per-sample values ``[N]`` or ``[N, M]`` (the statistic is the column mean, computed as
            ``counts @ values / N`` with :func:`resample_counts`), or a :data:`Statistic` mapping resample
            indices ``[b, N]`` to ``[b]`` or ``[b, M]`` values.
        n: number of samples ``N``; required when ``data`` is a callable, inferred otherwise.
        n_boot: number of resamples ``B``.
        seed: seed of the resampling generator.

    """
    if isinstance(data, Tensor):
        if data.ndim not in (1, 2):
            raise ValueError(f"per-sample values must be [N] or [N, M], got {tuple(data.shape)}")
        values = data.detach().double().cpu()
        n = values.shape[0]

        def statistic(idx: Tensor) -> Tensor:
            return resample_counts(idx, values.shape[0]) @ values / values.shape[0]

    else:
        if n is None:
            raise ValueError("n (the number of samples) is required when data is a statistic function")
        statistic = data
    return torch.cat([statistic(idx).double().cpu() for idx in bootstrap_indices(n, n_boot, seed)])


def percentile_interval(replicates: Tensor, alpha: float = 0.05) -> Tensor:
    """Percentiles ``α/2``, ``1 − α/2`` of ``replicates`` ``[B, ...]`` as ``[2, ...]``; NaNs are ignored."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    q = torch.tensor([alpha / 2, 1 - alpha / 2], dtype=torch.float64)
    return torch.nanquantile(replicates.double(), q, dim=0)


def bootstrap_ci(
    data: Tensor | Statistic,
    n: int | None = None,
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval ``(low, high)`` at level ``1 − alpha`` (default 95 %).

    ``low, high = quantile(θ*_1..θ*_B, α/2), quantile(θ*_1..θ*_B, 1 − α/2)`` with linear interpolation, where
    θ*_b is the statistic on resample b. Replicates that are NaN (e.g. R² of a resample with a constant
    target) are ignored.

    Args:
        data: per-sample values ``[N]`` (statistic = mean) or a statistic over indices returning ``[b]``
            (see :func:`bootstrap_distribution`), e.g. ``lambda idx: r2_batched(pred[idx], target[idx])``.
        n: number of samples; required when ``data`` is a callable.
        n_boot: number of resamples ``B`` (1000 by default).
        alpha: 1 − confidence level.
        seed: seed of the resampling generator; the same seed gives the same interval.

    """
    reps = bootstrap_distribution(data, n, n_boot=n_boot, seed=seed)
    if reps.ndim != 1:
        raise ValueError(
            f"bootstrap_ci needs a scalar statistic, got replicates of shape {tuple(reps.shape)}"
        )
    low, high = percentile_interval(reps, alpha).tolist()
    return low, high


def _table(names: Sequence[str], values: Tensor, interval: Tensor) -> dict[str, dict[str, float]]:
    """``{name: {"value", "low", "high"}}`` from point values ``[M]`` and an interval ``[2, M]``."""
    return {
        name: {"value": float(values[j]), "low": float(interval[0, j]), "high": float(interval[1, j])}
        for j, name in enumerate(names)
    }


def _regression_replicates(pred: Tensor, target: Tensor, n_boot: int, seed: int) -> Tensor:
    """``[B, 3]`` bootstrap replicates of (R², MAE, RMSE) from resampled (pred, target) pairs.

    With resample counts w and e = y − ŷ, every sum is linear in w: MAE = Σwᵢ|eᵢ|/N, RMSE = √(Σwᵢeᵢ²/N),
    R² = 1 − Σwᵢeᵢ² / (Σwᵢyᵢ² − (Σwᵢyᵢ)²/N) (y centred on its full-sample mean first, for precision).
    """
    n = pred.shape[0]
    err = target - pred
    y = target - target.mean()
    columns = torch.stack([err.abs(), err**2, y, y**2], dim=1).cpu()  # [N, 4]
    sums = bootstrap_distribution(columns, n_boot=n_boot, seed=seed) * n  # [B, 4] weighted sums
    abs_sum, sq_sum, y_sum, y2_sum = sums.unbind(1)
    ss_tot = y2_sum - y_sum**2 / n
    r2 = torch.where(ss_tot > 0, 1 - sq_sum / ss_tot.clamp_min(torch.finfo(torch.float64).tiny), torch.nan)
    return torch.stack([r2, abs_sum / n, (sq_sum / n).sqrt()], dim=1)


def metrics_with_ci(
    task: Task,
    target: Tensor,
    *,
    scores: Tensor | None = None,
    ranks: Tensor | None = None,
    pred: Tensor | None = None,
    ks: Sequence[int] = (1, 3),
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Task metrics with percentile bootstrap intervals: ``{metric: {"value", "low", "high"}}``.

    Classification (``scores`` ``[N, C]`` or precomputed ``ranks`` ``[N]``): ``top{k}`` for each k in ``ks``
    and ``mrr``, bootstrapping per-sample ``1[rank ≤ k]`` and ``1/rank``. Regression (``pred`` ``[N]``):
    ``r2``, ``mae``, ``rmse``, bootstrapping (pred, target) pairs. All metrics of one call share the same
    resamples, so their intervals are paired. ``value`` is the estimate on the full sample.
    """
    if task == "classification":
        if ranks is None:
            if scores is None:
                raise ValueError("classification needs scores [N, C] or ranks [N]")
            ranks = true_class_rank(scores, target)
        names = [*(f"top{k}" for k in ks), "mrr"]
        per_sample = torch.stack([*(topk_correct(ranks, k) for k in ks), reciprocal_rank(ranks)], dim=1)
        reps = bootstrap_distribution(per_sample, n_boot=n_boot, seed=seed)
        return _table(names, per_sample.mean(dim=0), percentile_interval(reps, alpha))
    if task == "regression":
        if pred is None:
            raise ValueError("regression needs pred [N]")
        p, t = check_pair(pred, target, squeeze=True)
        if p.ndim != 1:
            raise ValueError(f"pred must be [N] or [N, 1], got {tuple(p.shape)}")
        values = torch.stack([fn(p, t) for fn in REGRESSION_METRICS.values()])
        reps = _regression_replicates(p, t, n_boot, seed)
        return _table(list(REGRESSION_METRICS), values, percentile_interval(reps, alpha))
    raise ValueError(f"unknown task {task!r}; valid: classification, regression")


def mean_std(values: Sequence[float] | Tensor) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1) across seeds; the std of a single value is NaN.

    ``mean = (1/n) Σ v_i``, ``std = √(Σ (v_i − mean)² / (n − 1))``.
    """
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if v.numel() == 0:
        raise ValueError("mean_std of no values is undefined")
    mean = float(v.mean())
    std = float(v.std(correction=1)) if v.numel() > 1 else math.nan
    return mean, std

"""Evaluation: batched scoring of a split, task metrics with bootstrap intervals, per-sample predictions.

Classification scores are ``P_img ⊙ P_loc`` when the split has an image prior (rows without a location fall
back to ``P_img``; Mac Aodha et al. 2019), else ``P_loc``. Ranks are computed vectorised and chunked
(:func:`engine.metrics.classification.true_class_rank`), never one image at a time.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from engine.datasets.base import Split
from engine.metrics.bootstrap import metrics_with_ci
from engine.metrics.classification import combine_priors, true_class_rank
from engine.metrics.regression import r2


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA when ``enabled``; a no-op elsewhere (CPU runs stay in float32)."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def predict_located(
    model: nn.Module, lonlat: Tensor, features: Tensor | None, *, batch_size: int = 8192, amp: bool = False
) -> Tensor:
    """Model output for located rows: location prior ``[N, C]`` (classifier) or values ``[N]`` (regressor).

    Runs in batches on the model's device with bounded memory; returns float32 on the CPU.
    """
    model.eval()
    device = next(model.parameters()).device
    outs = []
    for start in range(0, lonlat.shape[0], batch_size):
        x = lonlat[start : start + batch_size].to(device, non_blocking=True)
        f = None if features is None else features[start : start + batch_size].to(device).float()
        with autocast(device, amp):
            out = model(x, f)
        if hasattr(model, "probabilities"):
            out = model.probabilities(out.float())
        outs.append(out.float().cpu())
    if not outs:
        return torch.zeros(0)
    return torch.cat(outs)


def split_scores(
    model: nn.Module, split: Split, task: str, *, batch_size: int = 8192, amp: bool = False
) -> Tensor:
    """Scores of every row of ``split``: combined priors ``[N, C]`` or regression predictions ``[N]``.

    Rows without a location get a location prior of ones (image prior alone) or, in regression, NaN.
    """
    located = split.has_location
    feats = (
        split.image_features
        if task == "regression" and getattr(model, "features", None) is not None
        else None
    )
    out_loc = predict_located(
        model,
        split.lonlat[located].float(),
        None if feats is None else feats[located],
        batch_size=batch_size,
        amp=amp,
    )
    n = len(split)
    if task == "regression":
        pred = torch.full((n,), float("nan"))
        pred[located] = out_loc
        return pred
    loc_prior = torch.ones(n, out_loc.shape[1] if out_loc.ndim == 2 else 1)
    loc_prior[located] = out_loc
    if split.image_prior is None:
        return loc_prior
    return combine_priors(split.image_prior, loc_prior, located)


def _dense_rows(scores: Tensor) -> Tensor:
    return scores.to_dense() if scores.layout != torch.strided else scores


def validation_metric(model: nn.Module, split: Split, task: str, *, batch_size: int, amp: bool) -> float:
    """Model-selection metric on ``split``: top-1 (classification) or R² (regression); higher is better."""
    scores = split_scores(model, split, task, batch_size=batch_size, amp=amp)
    if task == "regression":
        ok = ~torch.isnan(scores)
        return r2(scores[ok], split.target[ok].float()) if bool(ok.any()) else float("nan")
    ranks = true_class_rank(scores, split.target)
    return float((ranks == 1).float().mean())


def evaluate(
    scores: Tensor, split: Split, task: str, *, n_boot: int = 1000, seed: int = 0
) -> tuple[dict[str, dict[str, float]], pd.DataFrame]:
    """Test metrics with 95 % bootstrap intervals and the per-sample prediction table.

    Classification columns: ``lon, lat, has_location, index, target, prediction, correct, rank, prob_true``
    (``prob_true`` = the true class's share of the row's total score). Regression columns: ``lon, lat,
    has_location, index, target, prediction, error`` (= prediction − target), ``abs_error``.
    """
    lonlat = split.lonlat.double().numpy()
    table = {
        "lon": lonlat[:, 0],
        "lat": lonlat[:, 1],
        "has_location": split.has_location.numpy(),
        "index": split.index.numpy(),
        "target": split.target.numpy(),
    }
    if task == "classification":
        ranks = true_class_rank(scores, split.target)
        metrics = metrics_with_ci(task, split.target, ranks=ranks, n_boot=n_boot, seed=seed)
        pred, p_true = _argmax_and_true_share(scores, split.target)
        table.update(
            prediction=pred.numpy(),
            correct=(ranks == 1).numpy(),
            rank=ranks.numpy(),
            prob_true=p_true.numpy(),
        )
    else:
        ok = ~torch.isnan(scores)
        target = split.target.float()
        metrics = metrics_with_ci(task, target[ok], pred=scores[ok], n_boot=n_boot, seed=seed)
        err = (scores - target).numpy()
        table.update(prediction=scores.numpy(), error=err, abs_error=np.abs(err))
    metrics["n"] = {"value": float(len(split)), "low": float("nan"), "high": float("nan")}
    return metrics, pd.DataFrame(table)


def _argmax_and_true_share(scores: Tensor, target: Tensor, rows: int = 4096) -> tuple[Tensor, Tensor]:
    preds, shares = [], []
    for start in range(0, scores.shape[0], rows):
        block = _dense_rows(
            scores.index_select(0, torch.arange(start, min(start + rows, scores.shape[0])))
            if scores.layout != torch.strided
            else scores[start : start + rows]
        ).float()
        t = target[start : start + rows]
        preds.append(block.argmax(1))
        total = block.sum(1).clamp_min(1e-30)
        shares.append(block.gather(1, t[:, None]).squeeze(1) / total)
    return torch.cat(preds), torch.cat(shares)

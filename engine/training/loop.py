"""The training loop: data resident on the device, seeded, model selection on validation, test once.

``fit(dataset, config)`` trains ``config.encoder`` on ``dataset.train``, selects the best epoch on
``dataset.val`` (early stopping with patience), then evaluates on ``dataset.test`` exactly once.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn
from tqdm import tqdm

from engine.datasets.base import Dataset, Split
from engine.geo import check_lonlat, resolve_device
from engine.training.config import TrainConfig
from engine.training.evaluate import autocast, evaluate, split_scores, validation_metric
from engine.training.losses import LOSSES, check_loss_task, get_loss
from engine.training.models import build_model


class TrainingCancelled(RuntimeError):
    """Raised when ``should_stop()`` asks a running fit to stop."""


@dataclass
class TrainResult:
    """What a fit produces (saved as a run folder by :func:`engine.training.store.save_run`)."""

    model: nn.Module
    spec: dict[str, Any]
    config: TrainConfig
    history: list[dict[str, float]]
    best_epoch: int
    metrics: dict[str, Any]
    predictions: pd.DataFrame
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def model_spec(dataset: Dataset, config: TrainConfig, train: Split) -> dict[str, Any]:
    """The JSON-ready description needed to rebuild the model (see :func:`engine.training.store.load_run`)."""
    task = dataset.info.task
    loss = config.resolved_loss(task)
    feats = train.image_features if (task == "regression" and config.use_image_features) else None
    return {
        "task": task,
        "encoder": config.encoder,
        "encoder_kwargs": dict(config.encoder_kwargs),
        "num_classes": dataset.info.num_classes,
        "class_names": list(dataset.info.class_names or []),
        "prior": "softmax" if loss == "ce" else "sigmoid",
        "feature_dim": 0 if feats is None else int(feats.shape[1]),
        "head_hidden": config.head_hidden,
    }


def _encoder_kwargs(config: TrainConfig, train_lonlat: Tensor) -> dict[str, Any]:
    kwargs = dict(config.encoder_kwargs)
    if config.encoder == "rbf" and "anchors" not in kwargs and "train_lonlat" not in kwargs:
        kwargs["train_lonlat"] = train_lonlat  # anchors sampled from training locations (seeded)
        kwargs.setdefault("seed", config.seed)
    return kwargs


def _balanced_indices(y: Tensor, num_classes: int, cap: int, g: torch.Generator) -> Tensor:
    """At most ``cap`` random examples per class, shuffled (vectorised: no per-class loop)."""
    n = y.shape[0]
    perm = torch.randperm(n, generator=g, device=g.device).to(y.device)
    cls_sorted, order = torch.sort(y[perm], stable=True)
    counts = torch.bincount(cls_sorted, minlength=num_classes)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(n, device=y.device) - starts[cls_sorted]
    keep = perm[order][rank < cap]
    return keep[torch.randperm(keep.shape[0], generator=g, device=g.device).to(y.device)]


def _background(n: int, g: torch.Generator, device: torch.device) -> Tensor:
    """Uniform points on the sphere (lon ~ U(−180, 180), lat = asin(U(−1, 1))) for presence–absence losses."""
    u = torch.rand(n, 2, generator=g, device=g.device).to(device)
    return torch.stack([u[:, 0] * 360.0 - 180.0, torch.rad2deg(torch.asin(u[:, 1] * 2.0 - 1.0))], dim=-1)


def _validation_subset(val: Split, cap: int) -> Split:
    """At most ``cap`` rows of ``val`` (0 = all): a fixed random subset (seed 0), in the original order."""
    if not cap or len(val) <= cap:
        return val
    keep = torch.randperm(len(val), generator=torch.Generator().manual_seed(0))[:cap]
    return val.subset(keep.sort().values)


def fit(
    dataset: Dataset,
    config: TrainConfig,
    *,
    progress: bool = True,
    callback: Callable[[dict[str, float]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train, select on validation, evaluate on test once.

    Args:
        dataset: a :class:`~engine.datasets.base.Dataset` (train / val / test).
        config: the :class:`TrainConfig`.
        progress: show a tqdm bar (epoch, loss, val metric, ETA).
        callback: called after every epoch with the history row (dashboards use it for progress).
        should_stop: polled every epoch; returning True raises :class:`TrainingCancelled`.

    Returns:
        A :class:`TrainResult` with the best-epoch model (on the CPU), history, test metrics (95 % bootstrap
        intervals) and per-sample test predictions.
    """
    t_start = time.perf_counter()
    task = dataset.info.task
    loss_name = config.resolved_loss(task)
    check_loss_task(loss_name, task)
    loss_fn = get_loss(loss_name, **config.loss_kwargs)
    needs_bg = bool(LOSSES.entry(loss_name).meta.get("needs_background"))
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)

    train = dataset.train.subset(dataset.train.has_location)
    if len(train) == 0:
        raise ValueError(f"dataset {dataset.info.name!r} has no located training rows")
    check_lonlat(train.lonlat, "train lonlat")
    spec = model_spec(dataset, config, train)
    enc_kwargs = _encoder_kwargs(config, train.lonlat)
    model = build_model(
        task,
        config.encoder,
        enc_kwargs,
        num_classes=spec["num_classes"],
        prior=spec["prior"],
        feature_dim=spec["feature_dim"],
        head_hidden=config.head_hidden,
    )
    if config.encoder == "rbf":
        spec["encoder_kwargs"]["num_anchors"] = int(model.encoder.pe.out_dim)
    model.encoder.check_input = False  # validated once above
    model.to(device)

    x_all = train.lonlat.float().to(device)
    y_all = train.target.to(device)
    y_all = y_all.long() if task == "classification" else y_all.float()
    f_all = train.image_features.float().to(device) if spec["feature_dim"] else None

    opt_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=config.lr_decay)
    gen_device = device if device.type == "cuda" else torch.device("cpu")
    g = torch.Generator(device=gen_device).manual_seed(config.seed)

    val_split = _validation_subset(dataset.val, config.val_max_points)
    history: list[dict[str, float]] = []
    best = (-math.inf, 0, copy.deepcopy(model.state_dict()))
    bar = tqdm(
        range(1, config.epochs + 1),
        desc=f"{dataset.info.name}/{config.encoder}",
        disable=not progress,
        leave=False,
    )
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        if config.balanced and task == "classification":
            order = _balanced_indices(y_all, spec["num_classes"], config.max_per_class, g)
        else:
            order = torch.randperm(x_all.shape[0], generator=g, device=gen_device).to(device)
        total, count = torch.zeros((), device=device), 0
        batches = order.split(config.batch_size)
        if config.max_steps_per_epoch:
            batches = batches[: config.max_steps_per_epoch]
        for idx in batches:
            x, y = x_all[idx], y_all[idx]
            with autocast(device, config.amp):
                out = model(x, None if f_all is None else f_all[idx])
                out_bg = model(_background(idx.shape[0], g, device)) if needs_bg else None
            loss = loss_fn(out.float(), y, None if out_bg is None else out_bg.float())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * idx.shape[0]
            count += idx.shape[0]
        sched.step()
        train_loss = float(total) / max(count, 1)
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"training loss became {train_loss} at epoch {epoch}")
        val = validation_metric(model, val_split, task, batch_size=config.eval_batch_size, amp=config.amp)
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_metric": val,
            "lr": opt.param_groups[0]["lr"],
            "seconds": time.perf_counter() - t0,
        }
        history.append(row)
        bar.set_postfix(loss=f"{train_loss:.4f}", val=f"{val:.4f}")
        if callback is not None:
            callback(row)
        if val > best[0]:
            best = (val, epoch, copy.deepcopy(model.state_dict()))
        elif config.patience and epoch - best[1] >= config.patience:
            break
        if should_stop is not None and should_stop():
            raise TrainingCancelled(f"cancelled after epoch {epoch}")
    bar.close()

    model.load_state_dict(best[2])
    scores = split_scores(model, dataset.test, task, batch_size=config.eval_batch_size, amp=config.amp)
    metrics, predictions = evaluate(scores, dataset.test, task, n_boot=config.n_boot, seed=config.seed)
    metrics["val_metric"] = {"value": best[0], "low": math.nan, "high": math.nan}
    model.cpu().eval()
    return TrainResult(
        model=model,
        spec=spec,
        config=config,
        history=history,
        best_epoch=best[1],
        metrics=metrics,
        predictions=predictions,
        seconds=time.perf_counter() - t_start,
    )

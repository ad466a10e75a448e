"""The training loop: learning, seeding, model selection, regression / presence–absence / image prior."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import pytest
import torch

from engine.datasets.base import Dataset
from engine.training import loop
from engine.training.config import TrainConfig
from engine.training.evaluate import validation_metric
from engine.training.loop import fit


def test_loss_decreases_and_beats_chance_on_checkerboard(checkerboard: Dataset, fast: TrainConfig) -> None:
    result = fit(checkerboard, fast.replace(epochs=4), progress=False)
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    assert result.metrics["top1"]["value"] > 0.5  # 4 classes: chance is 0.25
    assert len(result.predictions) == len(checkerboard.test)
    low, high = result.metrics["top1"]["low"], result.metrics["top1"]["high"]
    assert low <= result.metrics["top1"]["value"] <= high


def test_same_seed_same_metrics_different_seed_different(checkerboard: Dataset, fast: TrainConfig) -> None:
    cfg = fast.replace(epochs=2)
    a, b = fit(checkerboard, cfg, progress=False), fit(checkerboard, cfg, progress=False)
    c = fit(checkerboard, cfg.replace(seed=1), progress=False)
    assert {k: v["value"] for k, v in a.metrics.items()} == {k: v["value"] for k, v in b.metrics.items()}
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]
    assert a.history[-1]["train_loss"] != c.history[-1]["train_loss"]
    assert (a.predictions["prob_true"] != c.predictions["prob_true"]).any()


def test_early_stopping_keeps_the_best_epoch(
    checkerboard: Dataset, fast: TrainConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted = iter([0.30, 0.60, 0.50, 0.40, 0.70, 0.10])
    snapshots: list[dict[str, torch.Tensor]] = []
    real = loop.validation_metric

    def fake(model: torch.nn.Module, split: object, task: str, **kw: object) -> float:
        snapshots.append(copy.deepcopy(model.state_dict()))
        return next(scripted)

    monkeypatch.setattr(loop, "validation_metric", fake)
    result = fit(checkerboard, fast.replace(epochs=6, patience=2), progress=False)
    assert [r["val_metric"] for r in result.history] == [
        0.30,
        0.60,
        0.50,
        0.40,
    ]  # stopped 2 epochs after the best
    assert result.best_epoch == 2 and result.metrics["val_metric"]["value"] == 0.60
    for key, value in result.model.state_dict().items():
        assert torch.equal(value, snapshots[1][key].cpu()), key
    # without the scripted metric: the returned model's validation metric is the best in the history
    monkeypatch.setattr(loop, "validation_metric", real)
    result = fit(checkerboard, fast.replace(epochs=4, patience=1, lr=0.05), progress=False)
    best = max(r["val_metric"] for r in result.history)
    again = validation_metric(result.model, checkerboard.val, "classification", batch_size=4096, amp=False)
    assert again == pytest.approx(best, abs=1e-9) == result.metrics["val_metric"]["value"]


@pytest.mark.parametrize("features", [False, True])
def test_regression_with_and_without_image_features(
    make_regression: Callable[[bool], Dataset], fast: TrainConfig, features: bool
) -> None:
    ds = make_regression(features)
    result = fit(ds, fast.replace(epochs=5, lr=5e-3), progress=False)
    assert result.spec["feature_dim"] == (5 if features else 0)
    assert (result.model.features is not None) == features
    assert math.isfinite(result.metrics["r2"]["value"]) and result.metrics["r2"]["value"] > 0.0
    assert {"prediction", "error", "abs_error"} <= set(result.predictions.columns)
    off = fit(ds, fast.replace(epochs=1, use_image_features=False), progress=False)
    assert off.spec["feature_dim"] == 0


def test_presence_absence_loss(checkerboard: Dataset, fast: TrainConfig) -> None:
    result = fit(checkerboard, fast.replace(loss="presence_absence", epochs=3), progress=False)
    assert result.spec["prior"] == "sigmoid"
    assert all(math.isfinite(r["train_loss"]) for r in result.history)
    assert result.metrics["top1"]["value"] > 0.25


def test_image_prior_rows_without_location_stay_in_eval(prior_dataset: Dataset, fast: TrainConfig) -> None:
    result = fit(prior_dataset, fast.replace(epochs=3), progress=False)
    test, preds = prior_dataset.test, result.predictions
    assert len(preds) == len(test) and result.metrics["n"]["value"] == len(test)
    unlocated = ~test.has_location
    assert int(unlocated.sum()) > 0
    image_only = test.image_prior.argmax(1)[unlocated].numpy()
    assert (preds["prediction"].to_numpy()[unlocated.numpy()] == image_only).all()
    assert not preds["has_location"].to_numpy()[unlocated.numpy()].any()


def test_step_cap_and_validation_cap(
    checkerboard: Dataset, fast: TrainConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"train": 0, "val_rows": []}
    build = loop.build_model

    def counting(*args: object, **kwargs: object) -> torch.nn.Module:
        model = build(*args, **kwargs)
        model.register_forward_pre_hook(
            lambda m, inp: calls.__setitem__("train", calls["train"] + m.training)
        )
        return model

    real = loop.validation_metric

    def val(model: torch.nn.Module, split: object, task: str, **kw: object) -> float:
        calls["val_rows"].append(len(split))
        return real(model, split, task, **kw)

    monkeypatch.setattr(loop, "build_model", counting)
    monkeypatch.setattr(loop, "validation_metric", val)
    fit(
        checkerboard,
        fast.replace(epochs=2, batch_size=100, max_steps_per_epoch=3, val_max_points=50),
        progress=False,
    )
    assert calls["train"] == 2 * 3  # 15 batches per epoch, capped at 3
    assert calls["val_rows"] == [50, 50]


def test_nan_loss_raises(checkerboard: Dataset, fast: TrainConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    real = loop.get_loss

    def nan_loss(name: str, **options: float) -> Callable[..., torch.Tensor]:
        fn = real(name, **options)
        return lambda *args: fn(*args) * float("nan")

    monkeypatch.setattr(loop, "get_loss", nan_loss)
    with pytest.raises(FloatingPointError, match="training loss became nan"):
        fit(checkerboard, fast.replace(epochs=2), progress=False)

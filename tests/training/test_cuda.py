"""The training stack on a GPU (run where one is present; skipped on CPU-only machines and CI)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from engine.datasets.base import Dataset
from engine.training.config import TrainConfig
from engine.training.loop import fit

pytestmark = pytest.mark.cuda


@pytest.mark.parametrize("amp", [True, False])
def test_fit_on_cuda_learns_and_matches_cpu_quality(
    checkerboard: Dataset, fast: TrainConfig, amp: bool
) -> None:
    gpu = fit(checkerboard, fast.replace(epochs=4, device="cuda", amp=amp), progress=False)
    cpu = fit(checkerboard, fast.replace(epochs=4, device="cpu"), progress=False)
    assert gpu.metrics["top1"]["value"] > 0.5  # 4 classes: chance is 0.25
    assert abs(gpu.metrics["top1"]["value"] - cpu.metrics["top1"]["value"]) < 0.1
    assert len(gpu.predictions) == len(checkerboard.test)


def test_fused_encoder_trains_on_cuda(checkerboard: Dataset, fast: TrainConfig) -> None:
    kwargs = {**fast.encoder_kwargs, "fused": True}
    cfg = fast.replace(epochs=4, device="cuda")
    fused = fit(checkerboard, cfg.replace(encoder_kwargs=kwargs), progress=False)
    eager = fit(checkerboard, cfg, progress=False)
    assert abs(fused.metrics["top1"]["value"] - eager.metrics["top1"]["value"]) < 0.1
    assert fused.metrics["top1"]["value"] > 0.4  # 4 classes: chance is 0.25


def test_regression_on_cuda(make_regression: Callable[[bool], Dataset], fast: TrainConfig) -> None:
    result = fit(make_regression(True), fast.replace(epochs=5, lr=5e-3, device="cuda"), progress=False)
    assert torch.isfinite(torch.tensor(result.metrics["r2"]["value"]))

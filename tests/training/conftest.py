"""Tiny datasets and a fast config shared by the training-stack tests (loop, store, runner, CLI)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

import engine
from engine.datasets.base import Dataset, DatasetInfo, Split
from engine.geo import sample_sphere_uniform
from engine.training.config import TrainConfig

FAST = TrainConfig(
    encoder="sphere_c",
    encoder_kwargs={"frequency_num": 8, "hidden_dim": 64, "dropout": 0.0},
    epochs=3,
    batch_size=256,
    lr=1e-2,
    patience=0,
    n_boot=20,
    geobias=False,
)
"""Small encoder, few epochs, few bootstrap resamples: each fit takes well under a second."""

TINY_CHECKERBOARD = {
    "n_train": 1500,
    "n_val": 300,
    "n_test": 300,
    "n_support": 12,
    "num_classes": 4,
    "cache": False,
}


@pytest.fixture(scope="session")
def checkerboard() -> Dataset:
    """A 4-class checkerboard on 12 support points (large, easy cells)."""
    return engine.load_dataset("checkerboard", **TINY_CHECKERBOARD)


@pytest.fixture
def fast() -> TrainConfig:
    """The fast training config."""
    return FAST


def _quadrant(lonlat: torch.Tensor) -> torch.Tensor:
    return (lonlat[:, 0] > 0).long() * 2 + (lonlat[:, 1] > 0).long()


@pytest.fixture(scope="session")
def prior_dataset() -> Dataset:
    """4 classes (lon/lat quadrants) with a noisy image prior; 20 % of the test rows have no location."""
    g = torch.Generator().manual_seed(0)

    def split(n: int, seed: int, unlocated: float = 0.0) -> Split:
        lonlat = sample_sphere_uniform(n, seed=seed)
        target = _quadrant(lonlat)
        noisy = torch.nn.functional.one_hot(target, 4).float() + 1.2 * torch.rand(n, 4, generator=g)
        prior = noisy / noisy.sum(1, keepdim=True)
        missing = torch.rand(n, generator=g) < unlocated
        lonlat[missing] = float("nan")
        return Split(lonlat=lonlat, target=target, image_prior=prior)

    info = DatasetInfo(
        name="quadrants", display_name="Quadrants", task="classification", class_names=("a", "b", "c", "d")
    )
    return Dataset(info, split(800, 1), split(200, 2), split(300, 3, unlocated=0.2))


@pytest.fixture(scope="session")
def make_regression() -> Callable[[bool], Dataset]:
    """Factory of a regression dataset ``y = sin(lon) + cos(lat) (+ features · w)``."""

    def make(features: bool) -> Dataset:
        g = torch.Generator().manual_seed(0)
        w = torch.randn(5, generator=g)

        def split(n: int, seed: int) -> Split:
            lonlat = sample_sphere_uniform(n, seed=seed)
            rad = torch.deg2rad(lonlat)
            feats = torch.randn(n, 5, generator=g)
            y = torch.sin(rad[:, 0]) + torch.cos(rad[:, 1]) + (feats @ w if features else 0.0)
            return Split(lonlat=lonlat, target=y.float(), image_features=feats if features else None)

        info = DatasetInfo(name="waves", display_name="Waves", task="regression")
        return Dataset(info, split(800, 1), split(200, 2), split(200, 3))

    return make


@pytest.fixture
def tiny_kwargs() -> dict[str, object]:
    """Loader kwargs of the tiny checkerboard (for ``bench`` and the CLI)."""
    return dict(TINY_CHECKERBOARD)

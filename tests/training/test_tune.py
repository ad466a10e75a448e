"""Hyperparameter search: 2 trials × 2 epochs on a tiny checkerboard, and the table bench reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from engine.training.config import TrainConfig
from engine.training.hparams import apply_hparams, load_hparams
from engine.training.tune import default_space, load_space, trial_config, write_best

ray = pytest.importorskip("ray")
pytest.importorskip("optuna")

TINY = {"n_train": 600, "n_val": 200, "n_test": 200, "n_support": 12, "num_classes": 4, "cache": False}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    from engine.training.executors import RayExecutor

    if ray.is_initialized():
        ray.shutdown()
    RayExecutor(init_kwargs={"num_cpus": 2})._init()
    yield
    ray.shutdown()


def test_default_space_follows_the_encoder() -> None:
    assert "legendre_polys" in default_space("spherical_harmonics")
    assert "frequency_num" not in default_space("spherical_harmonics")
    assert {"lr", "frequency_num", "min_radius", "dropout"} <= set(default_space("sphere_c"))


def test_space_file_and_trial_config(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps({"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}}))
    assert load_space(tmp_path / "s.json")["lr"]["high"] == 1e-2
    (tmp_path / "bad.json").write_text(json.dumps({"lr": {"type": "normal"}}))
    with pytest.raises(ValueError, match="loguniform"):
        load_space(tmp_path / "bad.json")
    cfg = trial_config(TrainConfig(encoder="xyz"), {"lr": 0.01, "frequency_num": 8, "hidden_dim": 64})
    assert cfg.lr == 0.01 and cfg.encoder_kwargs == {"hidden_dim": 64}  # xyz takes no frequency_num


def test_table_is_versioned_and_loads(tmp_path: Path) -> None:
    cfg = TrainConfig(encoder="sphere_c", lr=0.005, encoder_kwargs={"frequency_num": 16, "dropout": 0.25})
    for _ in range(2):
        write_best(tmp_path / "hp.csv", "checkerboard", "sphere_c", cfg, 0.5, "optuna")
    table = pd.read_csv(tmp_path / "hp.csv")
    assert (
        len(table) == 1 and table["version"].item() == 2 and table["source"].item().startswith("tune:optuna")
    )
    hp = load_hparams(tmp_path / "hp.csv")
    applied = apply_hparams(TrainConfig(encoder="sphere_c"), hp, "checkerboard")
    assert applied.lr == 0.005 and applied.encoder_kwargs == {"frequency_num": 16, "dropout": 0.25}


def test_tune_two_trials(local_ray: None, tmp_path: Path) -> None:
    from engine.cli import main

    base = ["--dataset", "checkerboard", "--encoder", "sphere_c", "--trials", "2", "--epochs", "2"]
    args = [f"--dataset-arg={k}={v}" for k, v in TINY.items()]
    assert main(["tune", *base, *args, "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "hparams.csv")
    assert table[["encoder", "dataset", "version"]].values.tolist() == [["sphere_c", "checkerboard", 1]]
    assert 0 <= table["val_metric"].item() <= 1
    assert len(pd.read_csv(tmp_path / "trials_checkerboard_sphere_c.csv")) == 2
    assert ("sphere_c", "checkerboard") in load_hparams(tmp_path / "hparams.csv")

"""Run folders: save / load round trip, corrupt checkpoints, incomplete folders, baseline runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import engine
from engine.datasets.base import Dataset
from engine.training.config import TrainConfig
from engine.training.evaluate import predict_located
from engine.training.loop import fit
from engine.training.runner import run_one
from engine.training.store import is_complete, load_run, predict, run_config, save_run


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, checkerboard: Dataset) -> tuple[Path, torch.nn.Module]:
    cfg = TrainConfig(
        encoder="sphere_c",
        encoder_kwargs={"frequency_num": 8, "hidden_dim": 64},
        epochs=2,
        batch_size=256,
        n_boot=20,
        geobias=False,
    )
    result = fit(checkerboard, cfg, progress=False)
    out = tmp_path_factory.mktemp("run")
    save_run(
        out,
        config=run_config(checkerboard, cfg, result.spec),
        metrics=result.metrics,
        history=result.history,
        predictions=result.predictions,
        model=result.model,
    )
    return out, result.model


def test_round_trip_gives_identical_predictions(
    saved: tuple[Path, torch.nn.Module], checkerboard: Dataset
) -> None:
    path, model = saved
    assert is_complete(path)
    run = engine.load_run(path)
    assert run.task == "classification" and run.config["train"]["encoder"] == "sphere_c"
    x = checkerboard.test.lonlat.float()
    assert torch.equal(engine.predict(run, x), predict_located(model, x, None))
    assert len(run.predictions()) == len(checkerboard.test) and len(run.history()) == 2
    with pytest.raises(ValueError, match="lon"):
        predict(run, torch.tensor([[0.0, 95.0]]))


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_truncated_checkpoint_is_a_clear_error(saved: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    path = _copy(saved[0], tmp_path / "run")
    weights = path / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="corrupt checkpoint"):
        load_run(path)


def test_wrong_shapes_are_a_clear_error(saved: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    path = _copy(saved[0], tmp_path / "run")
    config = json.loads((path / "config.json").read_text())
    config["model"]["encoder_kwargs"]["hidden_dim"] = 32
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not match the recorded architecture"):
        load_run(path)


def test_incomplete_folder_names_the_missing_file(
    saved: tuple[Path, torch.nn.Module], tmp_path: Path
) -> None:
    path = _copy(saved[0], tmp_path / "run")
    (path / "metrics.json").unlink()
    assert not is_complete(path)
    with pytest.raises(FileNotFoundError, match=r"metrics\.json is missing"):
        load_run(path)
    (path / "metrics.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt JSON"):
        load_run(path)


def test_baseline_run_has_no_weights(checkerboard: Dataset, tmp_path: Path) -> None:
    rec = run_one(
        checkerboard, "baseline:grid", 0, tmp_path / "grid", config=TrainConfig(n_boot=20, geobias=False)
    )
    assert rec["status"] == "ok"
    assert not (tmp_path / "grid" / "weights.safetensors").exists()
    run = load_run(tmp_path / "grid")
    assert run.model is None and run.config["model"]["baseline"] == "grid"
    assert len(run.predictions()) == len(checkerboard.test)
    with pytest.raises(ValueError, match="no model weights"):
        predict(run, torch.zeros(1, 2))

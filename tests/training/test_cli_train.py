"""``python -m engine train`` and ``bench`` end to end on tiny data, and their one-line argument errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.cli import main

FAST_ARGS = ["--epochs", "2", "--batch-size", "128", "--n-boot", "20", "--no-geobias", "--quiet"]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-180, 180, 400), rng.uniform(-80, 80, 400)
    frame = pd.DataFrame({"x": lon, "y": lat, "label": np.where(lat > 0, "north", "south"), "v": np.sin(lon)})
    path = tmp_path / "obs.csv"
    frame.to_csv(path, index=False)
    return path


def test_train_on_a_csv(table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = [
        "train",
        "--csv",
        str(table),
        "--target",
        "label",
        "--lon-col",
        "x",
        "--lat-col",
        "y",
        "--encoder",
        "sphere_c",
        "--encoder-arg",
        "hidden_dim=32",
        "--encoder-arg",
        "frequency_num=4",
        "--out",
        str(out),
        *FAST_ARGS,
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "top1" in printed and "95% interval" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["encoder_kwargs"] == {"hidden_dim": 32, "frequency_num": 4}
    assert config["dataset_kwargs"]["target"] == "label" and (out / "weights.safetensors").is_file()


def test_train_regression_on_a_csv(table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "train",
        "--csv",
        str(table),
        "--target",
        "v",
        "--lon-col",
        "x",
        "--lat-col",
        "y",
        "--task",
        "regression",
        "--encoder",
        "xyz",
        "--encoder-arg",
        "hidden_dim=32",
        "--out",
        str(tmp_path / "r"),
        *FAST_ARGS,
    ]
    assert main(argv) == 0
    assert "r2" in capsys.readouterr().out


def test_bench_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_kwargs: dict) -> None:
    data = [
        f"--dataset-arg={k}={json.dumps(v) if not isinstance(v, bool) else str(v).lower()}"
        for k, v in tiny_kwargs.items()
    ]
    argv = [
        "bench",
        "--datasets",
        "checkerboard",
        "--encoders",
        "xyz",
        "--baselines",
        "knn",
        "--seeds",
        "2",
        "--epochs",
        "1",
        "--no-geobias",
        "--quiet",
        "--out",
        str(tmp_path),
        *data,
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "## checkerboard" in printed and "| baseline:knn |" in printed and " ± " in printed
    assert (tmp_path / "summary.csv").is_file()
    assert sorted(p.name for p in (tmp_path / "checkerboard").iterdir()) == ["baseline-knn", "xyz"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--dataset", "checkerboard", "--encoder", "nope", "--out", "x"], "unknown encoder 'nope'"),
        (["train", "--dataset", "nope", "--encoder", "xyz", "--out", "x"], "unknown dataset 'nope'"),
        (["train", "--dataset", "checkerboard", "--encoder", "xyz", "--loss", "mse", "--out", "x"], "mse"),
        (["train", "--dataset", "checkerboard", "--encoder", "xyz"], "--out DIR is required"),
        (
            [
                "train",
                "--dataset",
                "checkerboard",
                "--encoder",
                "xyz",
                "--encoder-arg",
                "bogus=1",
                "--out",
                "x",
            ],
            "bogus",
        ),
        (["train", "--encoder", "xyz", "--out", "x"], "exactly one of --dataset"),
        (
            ["bench", "--datasets", "checkerboard", "--encoders", "nope", "--out", "x"],
            "unknown encoder 'nope'",
        ),
        (["bench", "--datasets", "checkerboard", "--out", "x", "--profile", "slow"], "unknown profile"),
        (["bench", "--datasets", "checkerboard"], "--out DIR is required"),
        (["bench", "--datasets", "checkerboard", "--seeds", "two", "--out", "x"], "--seeds"),
        (["bench", "--datasets", "checkerboard", "--dataset-arg", "zzz=1", "--out", "x"], "zzz"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err, err
    assert not (tmp_path / "x").exists()


def test_bench_locbench_suite_uses_the_tuned_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.datasets.locbench.fakes import FAKES

    FAKES["yfcc"].write(tmp_path / "data")
    out = tmp_path / "out"
    argv = [
        "bench",
        "--suite",
        "locbench",
        "--datasets",
        "yfcc",
        "--encoders",
        "rff,xyz",
        "--baselines",
        "no_prior",
        "--seeds",
        "1",
        "--profile",
        "paper",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--no-geobias",
        "--quiet",
        "--root",
        str(tmp_path / "data"),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert "| baseline:no_prior |" in capsys.readouterr().out
    train = json.loads((out / "yfcc/rff/seed_0/config.json").read_text())["train"]
    assert train["lr"] == 0.001 and train["batch_size"] == 64  # the table's lr, the explicit batch size
    assert train["encoder_kwargs"] == {
        "frequency_num": 64,
        "num_hidden_layer": 1,
        "hidden_dim": 512,
        "activation": "relu",
        "sigma": 1.0,
    }
    assert not train["balanced"] and train["epochs"] == 1  # paper profile, but YFCC is not balanced
    xyz = json.loads((out / "yfcc/xyz/seed_0/config.json").read_text())["train"]
    assert xyz["encoder_kwargs"] == {"num_hidden_layer": 1, "hidden_dim": 512, "activation": "relu"}

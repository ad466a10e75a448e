"""The benchmark runner: baselines, failures, resuming, Geo-Bias integration, summaries, hparams, profiles."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.datasets.base import Dataset
from engine.training import runner
from engine.training.config import TrainConfig
from engine.training.hparams import LOCBENCH_HPARAMS, apply_hparams, encoder_accepts, load_hparams
from engine.training.profiles import for_dataset, profile_config
from engine.training.runner import bench, plan, run_one

# ---------------------------------------------------------------- run_one


def test_encoder_run_is_saved_complete(checkerboard: Dataset, fast: TrainConfig, tmp_path: Path) -> None:
    rec = run_one(checkerboard, "sphere_c", 3, tmp_path / "r", config=fast, dataset_kwargs={"n_train": 1500})
    assert rec["status"] == "ok" and rec["error"] == "" and rec["metrics"]["top1"] > 0.25
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["train"]["seed"] == 3 and config["train"]["encoder"] == "sphere_c"
    assert config["dataset_kwargs"] == {"n_train": 1500} and config["run"]["best_epoch"] >= 1
    assert config["run"]["geobias"] == {"status": "off"}


def test_no_prior_baseline_with_an_image_prior_is_image_only(prior_dataset: Dataset, tmp_path: Path) -> None:
    rec = run_one(
        prior_dataset, "baseline:no_prior", 0, tmp_path, config=TrainConfig(n_boot=20, geobias=False)
    )
    test = prior_dataset.test
    image_only = float((test.image_prior.argmax(1) == test.target).float().mean())
    assert rec["metrics"]["top1"] == pytest.approx(image_only)
    knn = run_one(
        prior_dataset, "baseline:knn", 0, tmp_path / "knn", config=TrainConfig(n_boot=20, geobias=False)
    )
    assert knn["metrics"]["top1"] > image_only  # a location prior helps on the located rows
    preds = pd.read_parquet(tmp_path / "knn" / "predictions.parquet")
    assert len(preds) == len(test)  # rows without location stay in the evaluation


def test_regression_baselines(make_regression: Any, tmp_path: Path) -> None:
    ds = make_regression(False)
    cfg = TrainConfig(n_boot=20, geobias=False)
    mean = run_one(ds, "baseline:mean", 0, tmp_path / "mean", config=cfg)
    knn = run_one(ds, "baseline:knn", 0, tmp_path / "knn", config=cfg)  # knn means knn_regressor here
    assert mean["status"] == knn["status"] == "ok"
    assert knn["metrics"]["r2"] > 0.5 > mean["metrics"]["r2"]
    assert json.loads((tmp_path / "knn" / "config.json").read_text())["model"]["baseline"] == "knn_regressor"


def test_a_failing_run_is_recorded(
    checkerboard: Dataset, fast: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise FloatingPointError("training loss became nan at epoch 1")

    monkeypatch.setattr(runner, "fit", boom)
    rec = run_one(checkerboard, "sphere_c", 0, tmp_path, config=fast)
    assert rec["status"] == "failed" and "FloatingPointError" in rec["error"]
    error = json.loads((tmp_path / "error.json").read_text())
    assert error["type"] == "FloatingPointError" and "epoch 1" in error["message"]
    assert "Traceback" in error["traceback"] and error["model"] == "sphere_c"
    assert not (tmp_path / "metrics.json").exists()


# ---------------------------------------------------------------- Geo-Bias integration


class _Report:
    def __init__(self, n: int) -> None:
        self.n = n

    def summary(self) -> dict[str, Any]:
        return {"gbs_unmarked_100km": 1.5, "gbs_marked_100km": 2.5, "gbs_marked_knn": 0.5, "scale": "x"}


def _fake_geobias(monkeypatch: pytest.MonkeyPatch, report: Any) -> list[pd.DataFrame]:
    seen: list[pd.DataFrame] = []

    def fake(points: pd.DataFrame, scales: tuple[str, ...] = ()) -> Any:
        seen.append(points)
        return report(points)

    module = types.ModuleType("engine.metrics.geobias")
    module.report = fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "engine.metrics.geobias", module)
    return seen


def test_geobias_scores_are_added(
    checkerboard: Dataset, fast: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _fake_geobias(monkeypatch, lambda p: _Report(len(p)))
    cfg = fast.replace(geobias=True, geobias_max_points=120, epochs=1)
    rec = run_one(checkerboard, "baseline:knn", 0, tmp_path, config=cfg)
    assert rec["metrics"]["gbs_marked_100km"] == 2.5 and "scale" not in rec["metrics"]
    assert len(seen[0]) == 120 and {"lon", "lat", "correct"} <= set(seen[0].columns)
    note = json.loads((tmp_path / "config.json").read_text())["run"]["geobias"]
    assert note["status"] == "ok" and note["points"] == 120


def test_geobias_value_error_is_recorded_not_fatal(
    checkerboard: Dataset, fast: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(points: pd.DataFrame) -> Any:
        raise ValueError("need at least 100 points per neighbourhood")

    _fake_geobias(monkeypatch, refuse)
    rec = run_one(checkerboard, "baseline:knn", 0, tmp_path, config=fast.replace(geobias=True))
    assert rec["status"] == "ok" and not any(k.startswith("gbs_") for k in rec["metrics"])
    note = json.loads((tmp_path / "config.json").read_text())["run"]["geobias"]
    assert note["status"] == "failed" and "100 points" in note["reason"]
    tiny = run_one(
        checkerboard,
        "baseline:knn",
        0,
        tmp_path / "t",
        config=fast.replace(geobias=True, geobias_max_points=50),
    )
    note = json.loads((tmp_path / "t" / "config.json").read_text())["run"]["geobias"]
    assert tiny["status"] == "ok" and note["status"] == "skipped" and "50 located" in note["reason"]


# ---------------------------------------------------------------- bench


def test_bench_resumes_records_failures_and_summarises(
    fast: TrainConfig, tiny_kwargs: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []
    real_fit = runner.fit

    def counting(dataset: Dataset, config: TrainConfig, **kw: Any) -> Any:
        calls.append((config.encoder, config.seed))
        if config.encoder == "xyz" and config.seed == 1:
            raise MemoryError("out of memory (simulated)")
        return real_fit(dataset, config, **kw)

    monkeypatch.setattr(runner, "fit", counting)
    kwargs = {
        "dataset_kwargs": {"checkerboard": tiny_kwargs},
        "config": fast.replace(epochs=2, encoder_kwargs={"hidden_dim": 64}),
        "progress": False,
    }
    tidy = bench(["checkerboard"], ["sphere_c", "xyz"], 2, tmp_path, baselines=["knn", "no_prior"], **kwargs)
    assert sorted(calls) == [("sphere_c", 0), ("sphere_c", 1), ("xyz", 0), ("xyz", 1)]
    assert json.loads((tmp_path / "checkerboard/xyz/seed_1/error.json").read_text())["type"] == "MemoryError"
    assert [r["model"] for r in tidy.attrs["failed"]] == ["xyz"]
    assert set(tidy["model"]) == {"baseline:knn", "baseline:no_prior", "sphere_c", "xyz"}
    assert list(tidy.columns) == ["dataset", "model", "seed", "metric", "value"]
    md = (tmp_path / "summary.md").read_text()
    assert " ± " in md and "| baseline:knn |" in md and "≤ kNN" in md and "## Failed runs" in md
    assert md.index("baseline:no_prior") < md.index("| sphere_c |")
    csv = pd.read_csv(tmp_path / "summary.csv")
    assert len(csv) == len(tidy)
    # the split seed is fixed: the seed-1 run saw the dataset loaded with seed 0
    assert (
        json.loads((tmp_path / "checkerboard/sphere_c/seed_1/config.json").read_text())["dataset_kwargs"][
            "seed"
        ]
        == 0
    )

    done = tmp_path / "checkerboard/sphere_c/seed_0/metrics.json"
    stamp = done.stat().st_mtime_ns
    calls.clear()
    tidy = bench(["checkerboard"], ["sphere_c", "xyz"], 2, tmp_path, baselines=["knn", "no_prior"], **kwargs)
    assert calls == [("xyz", 1)]  # only the failed run is retried
    assert done.stat().st_mtime_ns == stamp
    assert "## Failed runs" in (tmp_path / "summary.md").read_text()


def test_plan_validates_names_up_front() -> None:
    cells = plan(["checkerboard"], ["xyz"], [0, 1])
    assert cells["checkerboard"][:4] == [
        ("baseline:no_prior", 0),
        ("baseline:train_freq", 0),
        ("baseline:knn", 0),
        ("baseline:grid", 0),
    ]
    assert cells["checkerboard"][4:] == [("xyz", 0), ("xyz", 1)]
    assert [m for m, _ in plan(["cities_population"], [], [0])["cities_population"]] == [
        "baseline:mean",
        "baseline:knn",
    ]
    with pytest.raises(ValueError, match="unknown encoder"):
        plan(["checkerboard"], ["nope"], [0])
    with pytest.raises(ValueError, match="unknown dataset"):
        plan(["nope"], ["xyz"], [0])
    with pytest.raises(ValueError, match="is for regression"):
        plan(["checkerboard"], [], [0], baselines=["mean"])


# ---------------------------------------------------------------- hparams and profiles


def test_locbench_hparams_table() -> None:
    table = load_hparams()
    assert len(table) == 97
    assert ("sphere_c_plus", "birdsnap_ebird") in table and ("tile", "inat2017") in table
    shared = Path("/work/shared/docs/locbench_hparams.csv")
    if shared.is_file():
        assert shared.read_text() == LOCBENCH_HPARAMS.read_text()
    cfg = apply_hparams(TrainConfig(encoder="rbf"), table, "inat2017")
    assert cfg.lr == 0.01 and cfg.batch_size == 1024
    assert cfg.encoder_kwargs == {
        "num_anchors": 500,
        "sigma": 2.0,
        "num_hidden_layer": 1,
        "hidden_dim": 512,
        "activation": "relu",
    }
    xyz = apply_hparams(TrainConfig(encoder="xyz", encoder_kwargs={"hidden_dim": 64}), table, "fmow")
    assert "frequency_num" not in xyz.encoder_kwargs and xyz.encoder_kwargs["hidden_dim"] == 64
    assert "activation" not in apply_hparams(TrainConfig(encoder="wrap"), table, "yfcc").encoder_kwargs
    assert set(encoder_accepts("space2vec_grid")) >= {
        "frequency_num",
        "min_radius",
        "max_radius",
        "hidden_dim",
    }
    assert apply_hparams(TrainConfig(encoder="geoclip"), table, "yfcc") == TrainConfig(encoder="geoclip")


def test_user_hparams_errors(tmp_path: Path) -> None:
    path = tmp_path / "hp.csv"
    path.write_text("encoder,dataset,lr\nSphere2Vec-sphereC+,checkerboard,0.5\n")
    assert load_hparams(path)[("sphere_c_plus", "checkerboard")] == {"encoder_kwargs": {}, "lr": 0.5}
    path.write_text("encoder,dataset,lr\nnot_an_encoder,checkerboard,0.5\n")
    with pytest.raises(ValueError, match="unknown encoder 'not_an_encoder'"):
        load_hparams(path)
    with pytest.raises(FileNotFoundError):
        load_hparams(tmp_path / "missing.csv")


def test_profiles() -> None:
    quick, paper = profile_config("quick"), profile_config("paper", epochs=7)
    assert quick.max_steps_per_epoch > 0 and quick.n_boot < paper.n_boot
    assert paper.balanced and paper.max_per_class == 100 and paper.lr_decay == 0.98 and paper.epochs == 7
    assert not for_dataset(paper, "yfcc").balanced and for_dataset(paper, "fmow").balanced
    with pytest.raises(ValueError, match="unknown profile"):
        profile_config("slow")


def test_missing_downloads_fail_before_any_run(fast: TrainConfig, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pass root"):
        bench(["checkerboard", "yfcc"], ["xyz"], 1, tmp_path, config=fast, progress=False)
    with pytest.raises(FileNotFoundError, match=r"train_test_split\.csv"):
        bench(["yfcc"], ["xyz"], 1, tmp_path, config=fast, root=str(tmp_path), progress=False)
    assert not (tmp_path / "checkerboard").exists()
    per_seed = plan(["checkerboard"], ["xyz"], [0, 1], ["knn"], baseline_seeds=[0, 1])["checkerboard"]
    assert per_seed == [("baseline:knn", 0), ("xyz", 0), ("baseline:knn", 1), ("xyz", 1)]

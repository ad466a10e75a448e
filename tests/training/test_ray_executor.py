"""The Ray executor gives the local executor's results, resumes, and records a dead task as failed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.training.config import TrainConfig
from engine.training.executors import Cell, RayExecutor, write_files_atomically
from engine.training.runner import bench

ray = pytest.importorskip("ray")

TINY = {"n_train": 600, "n_val": 200, "n_test": 200, "n_support": 12, "num_classes": 4, "cache": False}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    if ray.is_initialized():
        ray.shutdown()
    executor = RayExecutor(init_kwargs={"num_cpus": 2})
    executor._init()
    yield
    ray.shutdown()


def _bench(out: Path, fast: TrainConfig, executor: Any) -> Any:
    return bench(
        ["checkerboard"],
        ["sphere_c"],
        [0, 1],
        out,
        config=fast.replace(epochs=2),
        dataset_kwargs={"checkerboard": TINY},
        baselines=["knn"],
        progress=False,
        executor=executor,
    )


def _values(tidy: Any) -> dict[tuple, float]:
    return {(r.model, r.seed, r.metric): r.value for r in tidy.itertuples() if r.metric in ("top1", "nll")}


@pytest.mark.parametrize("ship_files", [False, True])
def test_ray_matches_local_and_resumes(
    local_ray: None, fast: TrainConfig, tmp_path: Path, ship_files: bool
) -> None:
    local = _bench(tmp_path / "local", fast, None)
    remote = _bench(tmp_path / "ray", fast, RayExecutor(ship_files=ship_files))
    assert not remote.attrs["failed"]
    got, want = _values(remote), _values(local)
    assert got.keys() == want.keys() and len(got) >= 3
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-4), key
    assert not list((tmp_path / "ray" / "checkerboard").rglob(".seed_*"))  # no temporary folders left
    again = _bench(tmp_path / "ray", fast, RayExecutor(ship_files=ship_files))  # everything is complete
    assert _values(again) == got


def _die(cell: Cell, ship_files: bool) -> dict[str, Any]:
    import os

    os._exit(1)  # a worker crash: the task never returns


def test_a_dead_task_is_recorded_as_failed(
    local_ray: None, fast: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.training import executors

    monkeypatch.setattr(executors, "_run_cell", _die)
    tidy = _bench(tmp_path, fast, RayExecutor())
    assert len(tidy.attrs["failed"]) == 3 and tidy.empty
    error = json.loads((tmp_path / "checkerboard" / "sphere_c" / "seed_1" / "error.json").read_text())
    assert error["model"] == "sphere_c" and error["type"]


def test_write_files_atomically_replaces_a_folder(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "old.txt").write_text("old")
    write_files_atomically(tmp_path / "run", {"a.json": b"{}", "sub/b.bin": b"\x00"})
    assert sorted(p.name for p in (tmp_path / "run").rglob("*")) == ["a.json", "b.bin", "sub"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]

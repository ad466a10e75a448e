"""The background training worker, driven directly (no Streamlit): start, progress, cancel, failure."""

from __future__ import annotations

import time
from pathlib import Path

import jobs
import pytest

from engine.training.config import TrainConfig
from engine.training.store import list_runs, load_run

TINY = jobs.DatasetSource("checkerboard", {"n_train": 300, "n_val": 100, "n_test": 200, "cache": False})
CONFIG = TrainConfig(epochs=2, batch_size=128, n_boot=20, patience=0, geobias=False)


def wait(job: jobs.Job, timeout: float = 90.0) -> jobs.JobView:
    """Wait until the job has finished; return its final view."""
    job.thread.join(timeout)
    view = job.view()
    assert not view.running, f"job still {view.status} after {timeout} s: {view.messages}"
    return view


def test_job_trains_and_writes_the_run_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCLAB_RUNS", str(tmp_path))
    registry = jobs.JobRegistry()
    job = registry.submit(jobs.JobSpec(TINY, ("direct",), seeds=(0, 1), config=CONFIG, label="tiny"))
    assert registry.get(job.id) is job and registry.jobs() == [job]
    view = wait(job)
    assert view.status == "done", view.messages
    assert [r.status for r in view.runs] == ["done", "done"]
    assert all(r.epoch == 2 and r.fraction == 1.0 for r in view.runs)
    assert view.fraction == 1.0 and view.label == "tiny" and registry.active() == []
    runs = list_runs(tmp_path)
    assert sorted(map(str, runs)) == sorted(view.result_paths)
    run = load_run(runs[0])
    assert run.config["dataset"] == "checkerboard" and run.config["train"]["encoder"] == "direct"
    assert "top1" in run.metrics


def test_baselines_run_once_at_the_first_seed(tmp_path: Path) -> None:
    spec = jobs.JobSpec(TINY, ("direct",), seeds=(3, 4), config=CONFIG, baselines=("knn",), store=tmp_path)
    view = wait(jobs.JobRegistry().submit(spec))
    assert view.status == "done", view.messages
    assert [(r.model, r.seed) for r in view.runs] == [("baseline:knn", 3), ("direct", 3), ("direct", 4)]
    assert (Path(view.out_dir) / "summary.md").is_file() and (Path(view.out_dir) / "summary.csv").is_file()
    assert len(list_runs(tmp_path)) == 3


def test_geobias_scores_reach_the_run_store(tmp_path: Path) -> None:
    source = jobs.DatasetSource("checkerboard", {"n_train": 300, "n_val": 100, "n_test": 500, "cache": False})
    config = CONFIG.replace(geobias=True)
    view = wait(jobs.JobRegistry().submit(jobs.JobSpec(source, ("direct",), config=config, store=tmp_path)))
    assert view.status == "done", view.messages
    metrics = load_run(view.result_paths[0]).metrics
    assert {"gbs_marked_100km", "gbs_unmarked_1000km", "gbs_marked_knn"} <= set(metrics)


def test_progress_is_reported_while_running(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    cfg = CONFIG.replace(epochs=4)
    job = jobs.JobRegistry().submit(jobs.JobSpec(TINY, ("direct",), config=cfg, store=tmp_path))
    while job.view().running:
        r = job.view().runs[0]
        seen.append((r.status, r.epoch))
        time.sleep(0.02)
    view = wait(job)
    assert view.status == "done", view.messages
    epochs = {e for s, e in seen if s == "running"}
    assert len(epochs) >= 2, seen  # several intermediate epochs were visible


def test_cancel_stops_the_job(tmp_path: Path) -> None:
    cfg = CONFIG.replace(epochs=200)
    job = jobs.JobRegistry().submit(jobs.JobSpec(TINY, ("direct", "xyz"), config=cfg, store=tmp_path))
    deadline = time.time() + 60
    while job.view().runs[0].epoch < 1 and time.time() < deadline:
        time.sleep(0.05)
    job.cancel()
    view = wait(job)
    assert view.status == "cancelled"
    assert [r.status for r in view.runs] == ["cancelled", "cancelled"]
    assert view.runs[0].epoch < 200 and list_runs(tmp_path) == []


def test_queued_jobs_wait_for_the_slot_and_can_be_cancelled(tmp_path: Path) -> None:
    registry = jobs.JobRegistry()
    first = registry.submit(
        jobs.JobSpec(TINY, ("direct",), config=CONFIG.replace(epochs=200), store=tmp_path)
    )
    second = registry.submit(jobs.JobSpec(TINY, ("direct",), config=CONFIG, store=tmp_path))
    assert second.view().status == "queued"
    assert {j.id for j in registry.active()} == {first.id, second.id}
    second.cancel()
    first.cancel()
    assert wait(first).status == "cancelled" and wait(second).status == "cancelled"
    assert second.view().runs[0].epoch == 0


def test_failures_are_recorded(tmp_path: Path) -> None:
    def boom(job: jobs.Job, ds: object, i: int) -> str:
        if job.run(i).seed == 1:
            raise RuntimeError("out of cheese")
        return "somewhere"

    job = jobs.JobRegistry().submit(
        jobs.JobSpec(TINY, ("direct",), seeds=(0, 1), config=CONFIG, store=tmp_path), run_fn=boom
    )
    view = wait(job)
    assert view.status == "failed"
    assert [r.status for r in view.runs] == ["done", "failed"]
    assert "out of cheese" in view.runs[1].error
    assert any("out of cheese" in m for m in view.messages)


def test_a_dataset_that_cannot_load_fails_the_job(tmp_path: Path) -> None:
    source = jobs.DatasetSource("my_table", {"target": "y"}, table_path=str(tmp_path / "missing.csv"))
    view = wait(jobs.JobRegistry().submit(jobs.JobSpec(source, ("direct",), config=CONFIG, store=tmp_path)))
    assert view.status == "failed"
    assert any("could not load the dataset" in m for m in view.messages)


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="unknown encoder"):
        jobs.JobSpec(TINY, ("no_such_encoder",))
    with pytest.raises(ValueError, match="at least one encoder"):
        jobs.JobSpec(TINY, ())
    with pytest.raises(ValueError, match="at least one seed"):
        jobs.JobSpec(TINY, ("direct",), seeds=())

"""AppTest checks of the app shell, Home and Train & compare (a tiny background job end to end)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.training.store import list_runs

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
APP = str(DASHBOARD / "app.py")
TIMINGS: dict[str, float] = {}


def run(at: AppTest, label: str) -> AppTest:
    """Run (or rerun) the app, record the time, fail on any exception."""
    start = time.perf_counter()
    at.run()
    TIMINGS[label] = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    return at


def widget(items: Any, label: str) -> Any:
    """The widget with ``label`` among ``items`` (e.g. ``at.number_input``)."""
    return next(w for w in items if w.label == label)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LOCLAB_RUNS", str(tmp_path / "runs"))
    return AppTest.from_file(APP, default_timeout=60)


def test_the_navigation_lists_the_five_pages_in_order() -> None:
    source = (DASHBOARD / "app.py").read_text()
    files = ["home", "train_compare", "accuracy_map", "geobias", "embeddings"]
    titles = ["Home", "Train & compare", "Accuracy map", "Geo-bias hotspots", "Embedding maps"]
    positions = [source.index(f'"app_pages/{f}.py", "{t}"') for f, t in zip(files, titles, strict=True)]
    assert positions == sorted(positions)
    for f in files:
        assert (DASHBOARD / "app_pages" / f"{f}.py").is_file(), f


def test_app_loads_home_with_both_catalogues(app: AppTest) -> None:
    run(app, "home: first run")
    assert app.title[0].value == "LocLab"
    encoders, datasets = app.dataframe[0].value, app.dataframe[1].value
    assert list(encoders["name"]) == engine.list_encoders()
    assert {"display_name", "pe_dim", "net", "paper"} <= set(encoders.columns)
    assert list(datasets["name"]) == engine.list_datasets()
    assert datasets.set_index("name").loc["checkerboard", "embedded"]
    assert widget(app.button, "Train 3 encoders").disabled is False
    run(app, "home: rerun")


def test_train_compare_trains_a_tiny_job_in_the_background(app: AppTest, tmp_path: Path) -> None:
    run(app, "home: first run (train test)")
    app.switch_page("app_pages/train_compare.py")
    run(app, "train & compare: first run")
    assert "No finished runs" in app.info[-1].value
    for label, value in (("points: train", 300), ("points: val", 100), ("points: test", 500)):
        widget(app.number_input, label).set_value(value)
    widget(app.multiselect, "Encoders").set_value(["direct"])
    widget(app.multiselect, "Baselines (non-neural, fit once)").set_value(["knn"])
    widget(app.number_input, "Epochs").set_value(2)
    run(app, "train & compare: rerun after a widget change")
    button = widget(app.button, "Train 2 run(s)")
    button.click()
    run(app, "train & compare: submit")
    deadline = time.time() + 90
    while not list_runs(tmp_path / "runs") or any("running" in p.proto.text for p in app.get("progress")):
        assert time.time() < deadline, "no run in the store after 90 s"
        time.sleep(0.5)
        run(app, "train & compare: poll")
    deadline = time.time() + 60
    while len(list_runs(tmp_path / "runs")) < 2:
        assert time.time() < deadline
        time.sleep(0.5)
    run(app, "train & compare: results")
    table = next(m.value for m in app.markdown if m.value.startswith("| model"))
    assert "| direct |" in table and "| baseline:knn |" in table
    assert len(app.get("plotly_chart")) == 3  # bars, accuracy vs Geo-Bias Score, training curves
    assert any("done" in m.value for m in app.markdown)


def test_a_running_job_can_be_cancelled_from_the_page(app: AppTest, tmp_path: Path) -> None:
    run(app, "home: first run (cancel test)")
    app.switch_page("app_pages/train_compare.py")
    run(app, "train & compare: first run (cancel test)")
    for label, value in (("points: train", 300), ("points: val", 100), ("points: test", 500)):
        widget(app.number_input, label).set_value(value)
    widget(app.multiselect, "Encoders").set_value(["direct"])
    widget(app.multiselect, "Baselines (non-neural, fit once)").set_value([])
    widget(app.number_input, "Epochs").set_value(500)
    widget(app.number_input, "Early-stopping patience (0 = off)").set_value(0)
    run(app, "train & compare: set up a long job")
    widget(app.button, "Train 1 run(s)").click()
    run(app, "train & compare: submit the long job")
    cancel = [b for b in app.button if b.key and b.key.startswith("cancel-")]
    assert len(cancel) == 1, "a running job shows one Cancel button"
    cancel[0].click()
    run(app, "train & compare: cancel")
    deadline = time.time() + 60
    while not any("· cancelled ·" in m.value for m in app.markdown):
        assert time.time() < deadline, "the job did not stop within 60 s of Cancel"
        time.sleep(0.5)
        run(app, "train & compare: poll after cancel")
    assert not [b for b in app.button if b.key and b.key.startswith("cancel-")]
    assert list_runs(tmp_path / "runs") == []


def test_an_uploaded_table_is_checked_with_clear_errors(app: AppTest) -> None:
    run(app, "home: first run (upload test)")
    app.switch_page("app_pages/train_compare.py")
    run(app, "train & compare: first run (upload test)")
    app.radio[0].set_value("My table (CSV / Parquet)")
    run(app, "train & compare: switch to an uploaded table")
    assert app.button(key="train").disabled
    rows = "\n".join(
        f"{lon},{lat},{'a' if lon > 0 else 'b'}" for lon in range(-170, 180, 7) for lat in (-40, 10, 50)
    )
    app.file_uploader[0].set_value(
        ("pts.csv", f"longitude,latitude,label\n{rows}\n500,0,a\n".encode(), "text/csv")
    )
    run(app, "train & compare: upload a table")
    assert [w.value for w in app.selectbox[:3]] == ["longitude", "latitude", "label"]
    assert "cannot be used yet" in app.error[0].value and "rows 151" in app.error[0].value
    assert app.button(key="train").disabled
    widget(
        app.checkbox, "Drop rows with missing or out-of-range coordinates (otherwise they are an error)"
    ).check()
    run(app, "train & compare: drop invalid rows")
    assert not app.error and app.warning, "dropping rows should warn, not fail"
    assert "classification" in app.success[0].value
    assert not app.button(key="train").disabled


def test_record_timings() -> None:
    """Write the AppTest run times of this module to tests/artifacts/apptest_timings.json (git-ignored)."""
    artifacts = DASHBOARD.parent / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "apptest_timings.json").write_text(json.dumps(TIMINGS, indent=2))

"""AppTest smoke tests of the three map pages: empty run store, a tiny trained run store, widget switches."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import h3
import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.training.config import TrainConfig
from engine.training.loop import fit
from engine.training.store import run_config, save_run

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def run_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tiny checkerboard runs (sphere_c and direct) in a fresh run store."""
    root = tmp_path_factory.mktemp("runs")
    dataset_kwargs = {"n_train": 300, "n_val": 100, "n_test": 300, "cache": False}
    dataset = engine.load_dataset("checkerboard", **dataset_kwargs)
    for encoder, kwargs in (("sphere_c", {"frequency_num": 4}), ("direct", {})):
        config = TrainConfig(
            encoder=encoder,
            encoder_kwargs={**kwargs, "hidden_dim": 16},
            epochs=2,
            n_boot=10,
            device="cpu",
            geobias=False,
        )
        result = fit(dataset, config, progress=False)
        save_run(
            root / f"checkerboard_{encoder}",
            config=run_config(dataset, config, result.spec, dataset_kwargs),
            metrics=result.metrics,
            history=result.history,
            predictions=result.predictions,
            model=result.model,
        )
    return root


def page(name: str, store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LOCLAB_RUNS", str(store))
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)


def run(at: AppTest, label: str) -> AppTest:
    start = time.perf_counter()
    at.run()
    TIMINGS[label] = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    return at


def change(at: AppTest, element, value, label: str) -> AppTest:
    element.set_value(value)
    return run(at, label)


def deck(at: AppTest, index: int = -1) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[index].proto.json)


def data_layer(spec: dict) -> dict:
    layers = [layer for layer in spec["layers"] if layer["id"] not in ("ocean", "countries")]
    assert len(layers) == 1
    return layers[0]


def h3_res(spec: dict) -> int:
    return h3.get_resolution(data_layer(spec)["data"][0]["cell"])


def widget(items, label: str):
    return next(w for w in items if w.label == label)


@pytest.mark.parametrize("name", ["accuracy_map", "geobias", "embeddings"])
def test_empty_store_shows_guidance(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(page(name, tmp_path / "no_runs", monkeypatch), f"{name} (empty store)")
    if name == "embeddings":
        at = change(at, widget(at.radio, "Show"), "Trained run", "embeddings trained (empty store)")
    assert any("No " in m.value and "run store" in m.value for m in at.info), [m.value for m in at.info]


def test_accuracy_map(run_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(page("accuracy_map", run_store, monkeypatch), "accuracy_map")
    spec = deck(at)
    assert spec["views"][0]["@@type"] == "_GlobeView"
    assert h3_res(spec) == 1  # suggested: 300 test points are too few for res 2
    assert {"cell", "value_mean", "count"} <= set(data_layer(spec)["data"][0])
    at = change(at, widget(at.select_slider, "H3 resolution"), 2, "accuracy_map res 2")
    assert h3_res(deck(at)) == 2
    at = change(at, at.toggle[0], True, "accuracy_map compare")
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 3  # A, B and A − B
    diff = data_layer(deck(at, 2))
    assert {"diff", "value_a", "value_b"} <= set(diff["data"][0])
    assert deck(at, 0)["initialViewState"] == deck(at, 1)["initialViewState"]


def test_geobias_scale_switch_changes_resolution(run_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(page("geobias", run_store, monkeypatch), "geobias kNN")
    spec = deck(at)
    assert spec["views"][0]["@@type"] == "_GlobeView" and h3_res(spec) == 2
    assert len(at.metric) == 4
    at = change(at, widget(at.radio, "Scale"), "1000km", "geobias 1000km")
    assert h3_res(deck(at)) == 1
    at = change(at, widget(at.radio, "Scale"), "100km", "geobias 100km")
    assert h3_res(deck(at)) == 3
    marked = change(at, widget(at.radio, "Map"), "marked", "geobias marked")
    assert data_layer(deck(marked))["data"] != data_layer(spec)["data"]


def test_embeddings_untrained_trained_and_teaching(run_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page("embeddings", run_store, monkeypatch)
    at = run(at, "embeddings untrained")
    spec = deck(at)
    assert spec["views"][0]["@@type"] == "_GlobeView" and h3_res(spec) == 2
    assert {"r", "g", "b"} <= set(data_layer(spec)["data"][0])
    at = change(at, widget(at.radio, "Show"), "Trained run", "embeddings trained")
    assert h3_res(deck(at)) == 2
    at = change(at, widget(at.radio, "Show"), "Teaching view: one PE channel", "embeddings teaching")
    first = deck(at)
    at = change(at, widget(at.select_slider, "scale index s"), 3, "teaching scale")
    assert deck(at) != first
    second = deck(at)
    at = change(at, widget(at.selectbox, "Term"), "cos φ_s cos λ_s", "teaching term")
    assert deck(at) != second
    assert len(at.metric) == 2


@pytest.mark.parametrize("name", ["accuracy_map", "geobias", "embeddings"])
def test_pages_have_no_magic_strings(name: str) -> None:
    """Streamlit "magic" prints bare module-level strings: only the docstring may be one."""
    tree = ast.parse((PAGES / f"{name}.py").read_text())
    bare = [n for n in tree.body[1:] if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)]
    assert not bare


def test_report_timings() -> None:
    """Not a check: prints the AppTest rerun times measured above (run with -s to see them)."""
    for label, seconds in TIMINGS.items():
        print(f"{label:40s} {seconds:6.2f} s")

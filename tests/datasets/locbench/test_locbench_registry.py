"""The registry holds exactly the 17 LocBench datasets, each with complete metadata, a source and a fake."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from engine.datasets.base import DATASETS
from engine.datasets.locbench import LOCBENCH_NAMES
from engine.datasets.locbench.sources import SOURCES
from tests.datasets.locbench.fakes import FAKES

EXPECTED = {
    "birdsnap", "birdsnap_ebird", "nabirds_ebird", "inat2017", "inat2018", "yfcc", "fmow",
    "mosaiks_population", "mosaiks_forest_cover", "mosaiks_nightlights", "mosaiks_elevation",
    "sustainbench_asset_index", "sustainbench_women_bmi", "sustainbench_water_index",
    "sustainbench_under5_mort", "sustainbench_sanitation_index", "sustainbench_women_edu",
}  # fmt: skip
CLASSIFICATION = {"birdsnap", "birdsnap_ebird", "nabirds_ebird", "inat2017", "inat2018", "yfcc", "fmow"}


def test_exactly_the_17_names() -> None:
    registered = {e.name for e in DATASETS if e.meta.get("group") == "locbench"}
    assert registered == EXPECTED == set(LOCBENCH_NAMES) == set(SOURCES) == set(FAKES)
    assert len(LOCBENCH_NAMES) == 17


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_meta_and_signature(name: str) -> None:
    entry = DATASETS.entry(name)
    meta = entry.meta
    assert meta["task"] == ("classification" if name in CLASSIFICATION else "regression")
    assert meta["embedded"] is False and meta["group"] == "locbench" and meta["display_name"]
    folder = SOURCES[name].folder
    assert meta["files"] and all(f.startswith(f"{folder}/") for f in meta["files"])
    params = inspect.signature(entry.builder).parameters
    assert params["root"].default is None
    for kw, default in (("seed", 0), ("val_fraction", 0.1), ("split", "random")):
        assert params[kw].kind is inspect.Parameter.KEYWORD_ONLY and params[kw].default == default
    assert entry.builder.__doc__


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fake_writes_every_listed_file(name: str, tmp_path: Path) -> None:
    FAKES[name].write(tmp_path)
    meta = DATASETS.entry(name).meta
    for rel in [*meta["files"], *meta.get("optional_files", [])]:
        if name == "fmow" and rel in meta.get("optional_files", []):
            continue  # the fMoW fake deliberately has no train predictions
        assert (tmp_path / rel).is_file(), rel

import json

import numpy as np
import pytest
import torch

from engine.datasets import load_dataset
from engine.datasets.splits import (
    SplitSpec,
    assign_blocks,
    block_ids,
    carve_validation,
    random_split,
    restrict_to_blocks,
    spatial_block_split,
    split_config,
)
from engine.geo import sample_sphere_uniform


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCLAB_CACHE", str(tmp_path / "cache"))


def _points(n=3000, seed=0):
    return sample_sphere_uniform(n, seed=seed, dtype=torch.float64).numpy()


def _assert_partition(parts, n):
    rows = np.concatenate([parts["train"], parts["val"], parts["test"]])
    assert len(rows) == n and len(np.unique(rows)) == n  # disjoint and complete
    for p in parts.values():
        assert p.dtype == np.int64 and np.all(np.diff(p) > 0)


def test_random_split_is_disjoint_sized_and_seeded():
    parts = random_split(1000, fractions=(0.7, 0.1, 0.2), seed=3)
    _assert_partition(parts, 1000)
    assert [len(parts[k]) for k in ("train", "val", "test")] == [700, 100, 200]
    again = random_split(1000, fractions=(0.7, 0.1, 0.2), seed=3)
    other = random_split(1000, fractions=(0.7, 0.1, 0.2), seed=4)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    assert not np.array_equal(parts["test"], other["test"])


@pytest.mark.parametrize(
    "fractions", [(0.5, 0.5), (0.7, 0.2, 0.2), (0.0, 0.5, 0.5), (0.9, 0.1, 0.0), (-0.1, 0.6, 0.5)]
)
def test_bad_fractions_raise(fractions):
    with pytest.raises(ValueError, match="fractions"):
        random_split(10, fractions=fractions)


def test_carve_validation_partitions_train():
    train_index = np.arange(100, 600, 2)
    train, val = carve_validation(train_index, val_fraction=0.2, seed=0)
    assert len(val) == 50 and len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), train_index)
    _, val2 = carve_validation(train_index, val_fraction=0.2, seed=0)
    assert np.array_equal(val, val2)
    with pytest.raises(ValueError, match="val_fraction"):
        carve_validation(train_index, val_fraction=1.0)


@pytest.mark.parametrize("block", ["h3", "lonlat"])
def test_spatial_block_split_holds_out_whole_cells(block):
    lonlat = _points()
    parts = spatial_block_split(
        lonlat, fractions=(0.6, 0.2, 0.2), seed=1, block=block, block_res=1, block_deg=20
    )
    _assert_partition(parts, len(lonlat))
    cells = block_ids(lonlat, block=block, block_res=1, block_deg=20)
    sets = {k: set(cells[v].tolist()) for k, v in parts.items()}
    assert (
        not sets["train"] & sets["val"]
        and not sets["train"] & sets["test"]
        and not sets["val"] & sets["test"]
    )
    shares = {k: len(v) / len(lonlat) for k, v in parts.items()}
    assert abs(shares["train"] - 0.6) < 0.1 and abs(shares["test"] - 0.2) < 0.1
    again = spatial_block_split(
        lonlat, fractions=(0.6, 0.2, 0.2), seed=1, block=block, block_res=1, block_deg=20
    )
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    other = spatial_block_split(
        lonlat, fractions=(0.6, 0.2, 0.2), seed=2, block=block, block_res=1, block_deg=20
    )
    assert not np.array_equal(parts["test"], other["test"])


def test_h3_block_ids_are_the_h3_cells():
    import h3

    lonlat = np.array([[2.35, 48.85], [-74.0, 40.7]])
    ids = block_ids(lonlat, block_res=3)
    assert ids[0] == h3.str_to_int(h3.latlng_to_cell(48.85, 2.35, 3))


def test_assign_blocks_never_leaves_a_split_empty():
    blocks = np.array([0] * 1000 + [1] + [2])  # one huge block, two tiny ones
    codes = assign_blocks(blocks, fractions=(0.8, 0.1, 0.1), seed=0)
    assert set(codes.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="block"):
        assign_blocks(np.array([0, 0, 1]), seed=0)


def test_restrict_to_blocks_keeps_each_split_in_its_own_cells():
    points = {"train": _points(2000, 0), "val": _points(2000, 1), "test": _points(2000, 2)}
    kept = restrict_to_blocks(points, seed=0, block_res=1)
    cells = {k: set(block_ids(points[k][kept[k]], block_res=1).tolist()) for k in points}
    assert (
        not cells["train"] & cells["test"]
        and not cells["train"] & cells["val"]
        and not cells["val"] & cells["test"]
    )
    assert 0.6 < len(kept["train"]) / 2000 < 0.8


def test_split_spec_validates_and_records():
    with pytest.raises(ValueError, match="unknown split"):
        SplitSpec(split="kfold")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="block"):
        SplitSpec(block="square")  # type: ignore[arg-type]
    config = SplitSpec(split="spatial_block", seed=5, block_res=3).config(extra_key=1)
    assert config == {
        "split": "spatial_block",
        "seed": 5,
        "fractions": [0.7, 0.1, 0.2],
        "block": "h3",
        "block_res": 3,
        "extra_key": 1,
    }
    # the keyword form other loaders (LocBench) call
    assert split_config("random", seed=0, val_fraction=0.1) == {
        "split": "random",
        "seed": 0,
        "val_fraction": 0.1,
    }


def test_split_assignment_is_json_and_reproducible():
    ds = load_dataset("checkerboard", n_train=300, n_val=200, n_test=100, seed=2)
    record = json.loads(json.dumps(ds.split_assignment()))
    assert record["dataset"] == "checkerboard" and record["config"]["seed"] == 2
    assert [len(record["index"][k]) for k in ("train", "val", "test")] == [300, 200, 100]
    again = load_dataset(
        "checkerboard", n_train=300, n_val=200, n_test=100, **{"seed": record["config"]["seed"]}
    )
    assert again.split_assignment() == record
    table = ds.split_table()
    assert list(table.columns) == ["index", "split"] and len(table) == 600
    assert table["index"].is_unique

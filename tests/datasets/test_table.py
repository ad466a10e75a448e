import json

import numpy as np
import pandas as pd
import pytest
import torch

import engine
from engine.datasets import load_table
from engine.datasets.table import infer_task


def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "lon": rng.uniform(-170, 170, n),
            "lat": rng.uniform(-60, 60, n),
            "species": rng.choice(["fox", "owl", "bee"], n),
            "count": rng.integers(0, 4, n),
            "height": rng.normal(10, 2, n),
        }
    )


def _csv(tmp_path, frame, name="obs.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_classification_from_strings(tmp_path):
    ds = load_table(_csv(tmp_path, _frame()), target="species")
    assert ds.info.task == "classification" and ds.info.class_names == ("bee", "fox", "owl")
    assert sum(ds.sizes().values()) == 60 and ds.sizes()["train"] == 42
    rows = torch.cat([s.index for s in ds.splits().values()]).sort().values
    assert torch.equal(rows, torch.arange(60))  # index = data row of the file
    frame = _frame()
    row = int(ds.test.index[0])
    assert ds.info.class_names[int(ds.test.target[0])] == frame["species"][row]
    assert torch.allclose(
        ds.test.lonlat[0].double(), torch.tensor(frame.loc[row, ["lon", "lat"]].to_numpy(float))
    )
    assert "inferred" in ds.info.notes and json.dumps(ds.split_config)


def test_task_inference_rules():
    assert infer_task(pd.Series([0, 1, 2, 1])) == "classification"
    assert infer_task(pd.Series(np.arange(1000))) == "regression"
    assert infer_task(pd.Series([0.5, 1.5])) == "regression"
    assert infer_task(pd.Series([True, False])) == "classification"
    assert infer_task(pd.Series(["a", "b"])) == "classification"


def test_integer_and_float_targets_and_override(tmp_path):
    path = _csv(tmp_path, _frame())
    counts = load_table(path, target="count")
    assert counts.info.task == "classification" and counts.info.class_names == ("0", "1", "2", "3")
    height = load_table(path, target="height")
    assert height.info.task == "regression" and height.train.target.dtype == torch.float32
    forced = load_table(path, target="count", task="regression")
    assert forced.info.task == "regression" and "given" in forced.info.notes
    with pytest.raises(ValueError, match="numeric target"):
        load_table(path, target="species", task="regression")


def test_swapped_columns_are_named(tmp_path):
    frame = _frame().rename(columns={"lon": "lat", "lat": "lon"})  # 'lat' now holds longitudes up to ±170
    with pytest.raises(ValueError, match=r"'lon' and 'lat' look swapped.*lon='lat', lat='lon'"):
        load_table(_csv(tmp_path, frame), target="species", drop_invalid=True)


def test_invalid_rows_reported_with_row_numbers(tmp_path):
    frame = _frame()
    frame.loc[[1, 4], "lat"] = np.nan
    frame.loc[7, "lon"] = 200.0
    path = _csv(tmp_path, frame)
    with pytest.raises(ValueError) as err:
        load_table(path, target="species")
    message = str(err.value)
    assert "2 rows with missing or non-numeric" in message and "rows 2, 5 (1-based data rows" in message
    assert "1 rows with 'lon' outside [-180, 180]" in message and "rows 8 " in message
    assert "drop_invalid=True" in message
    with pytest.warns(UserWarning, match="dropped 3 of 60 rows"):
        ds = load_table(path, target="species", drop_invalid=True)
    rows = set(torch.cat([s.index for s in ds.splits().values()]).tolist())
    assert len(rows) == 57 and not rows & {1, 4, 7}


def test_missing_target_and_non_numeric_coordinates(tmp_path):
    frame = _frame().astype({"lon": object})
    frame.loc[3, "lon"] = "abc"
    frame.loc[5, "species"] = None
    with pytest.raises(ValueError, match=r"missing 'species': rows 6 "):
        load_table(_csv(tmp_path, frame), target="species")
    with pytest.warns(UserWarning):
        ds = load_table(_csv(tmp_path, frame), target="species", drop_invalid=True)
    assert sum(ds.sizes().values()) == 58


def test_size_limit_missing_column_and_empty_files(tmp_path):
    path = _csv(tmp_path, _frame())
    with pytest.raises(ValueError, match="over the limit"):
        load_table(path, target="species", max_bytes=100)
    with pytest.raises(
        ValueError, match=r"'latitude' not found in obs.csv; columns present: lon, lat, species"
    ):
        load_table(path, lat="latitude", target="species")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_table(empty, target="species")
    header = tmp_path / "header.csv"
    header.write_text("lon,lat,species\n")
    with pytest.raises(ValueError, match="no data rows"):
        load_table(header, target="species")
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "nope.csv", target="species")
    odd = tmp_path / "obs.xlsx"
    odd.write_bytes(b"x")
    with pytest.raises(ValueError, match="unsupported file type"):
        load_table(odd, target="species")


def test_parquet_and_image_prior(tmp_path):
    frame = _frame()
    rng = np.random.default_rng(1)
    prior = rng.dirichlet(np.ones(3), len(frame))
    for k, c in enumerate(["bee", "fox", "owl"]):
        frame[f"p_{c}"] = prior[:, k]
    path = tmp_path / "obs.parquet"
    frame.to_parquet(path)
    ds = engine.load_table(path, target="species", image_prior="p_", name="mine")
    assert ds.info.name == "mine" and ds.info.task == "classification"
    assert ds.train.image_prior.shape == (len(ds.train), 3)
    rows = ds.train.index.numpy()
    assert np.allclose(ds.train.image_prior.numpy(), prior[rows], atol=1e-6)
    with pytest.raises(ValueError, match="'q_bee'"):
        load_table(path, target="species", image_prior="q_")
    with pytest.raises(ValueError, match="classification"):
        load_table(path, target="height", image_prior="p_")


def test_table_spatial_block_split(tmp_path):
    ds = load_table(
        _csv(tmp_path, _frame(400)), target="height", split="spatial_block", block="lonlat", block_deg=30
    )
    cells = {
        k: set(map(tuple, np.floor((s.lonlat.numpy() + np.array([180.0, 90.0])) / 30).astype(int).tolist()))
        for k, s in ds.splits().items()
    }
    assert not cells["train"] & cells["test"] and not cells["val"] & cells["test"]
    assert ds.split_config["split"] == "spatial_block" and ds.split_config["block_deg"] == 30.0

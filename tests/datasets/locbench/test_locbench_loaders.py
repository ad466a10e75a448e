"""Every LocBench loader reads its published layout (fake data in tmp_path): splits, shapes, priors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import torch

import engine.datasets.locbench  # noqa: F401  (registers the loaders)
from engine.datasets.base import DATASETS, Dataset
from engine.datasets.splits import block_ids
from tests.datasets.locbench.fakes import FAKES

NAMES = sorted(FAKES)


def _build(name: str, root: Path, **kw: object) -> Dataset:
    return DATASETS.build(name, root=root, **kw)


@pytest.mark.parametrize("name", NAMES)
def test_reads_published_layout(name: str, tmp_path: Path) -> None:
    exp = FAKES[name].write(tmp_path)
    ds = _build(name, tmp_path)
    assert ds.info.name == name and not ds.info.embedded
    assert len(ds.train) > 0 and len(ds.val) > 0
    assert len(ds.train) + len(ds.val) == exp.n_pool
    assert len(ds.test) == exp.n_test
    # eval images without a location stay in test, as NaN rows flagged in has_location
    assert int(ds.test.has_location.sum()) == exp.n_test_located
    assert torch.isnan(ds.test.lonlat[~ds.test.has_location]).all()
    for part in (ds.train, ds.val):
        assert part.has_location.all() and torch.isfinite(part.lonlat).all()
    # splits never overlap
    train, val, test = (set(s.index.tolist()) for s in (ds.train, ds.val, ds.test))
    assert len(train) == len(ds.train) and len(val) == len(ds.val) and len(test) == len(ds.test)
    assert train.isdisjoint(val)
    if exp.one_file:
        assert test.isdisjoint(train | val)
    assert "carved" in ds.info.notes and ds.split_config["seed"] == 0
    if exp.num_classes:
        assert ds.info.task == "classification" and ds.info.num_classes == exp.num_classes
        assert ds.test.image_prior is not None
        assert tuple(ds.test.image_prior.shape) == (exp.n_test, exp.num_classes)
        assert (ds.val.image_prior is not None) == exp.train_prior
        for part in ds.splits().values():
            assert part.target.dtype == torch.int64
            assert 0 <= int(part.target.min()) and int(part.target.max()) < exp.num_classes
    else:
        assert ds.info.task == "regression" and ds.info.num_classes == 0
        for part in ds.splits().values():
            assert part.target.dtype == torch.float32 and part.image_prior is None
            assert part.image_features is not None
            assert tuple(part.image_features.shape) == (len(part), exp.feature_dim)


@pytest.mark.parametrize("name", NAMES)
def test_seeded_and_spatial_block(name: str, tmp_path: Path) -> None:
    FAKES[name].write(tmp_path)
    a, b = _build(name, tmp_path, seed=3), _build(name, tmp_path, seed=3)
    assert torch.equal(a.val.index, b.val.index) and torch.equal(a.test.index, b.test.index)
    blocked = _build(name, tmp_path, split="spatial_block", block_res=1)
    assert blocked.split_config["split"] == "spatial_block" and blocked.split_config["block_res"] == 1
    cells = {
        k: set(block_ids(s.lonlat.double().numpy(), block_res=1).tolist())
        for k, s in (("train", blocked.train), ("val", blocked.val))
    }
    assert cells["train"].isdisjoint(cells["val"]) and cells["val"]
    assert len(blocked.train) + len(blocked.val) == len(a.train) + len(a.val)


def test_different_seed_different_val(tmp_path: Path) -> None:
    FAKES["inat2018"].write(tmp_path)
    vals = {tuple(_build("inat2018", tmp_path, seed=s).val.index.tolist()) for s in range(4)}
    assert len(vals) > 1


def test_prior_rows_follow_images(tmp_path: Path) -> None:
    """Prior rows stay aligned with their images through located-filtering and carving."""
    FAKES["inat2017"].write(tmp_path)
    feats = tmp_path / "inat_2017/features_inception"
    raw_train = torch.from_numpy(scipy.sparse.load_npz(feats / "inat2017_train_preds_sparse.npz").toarray())
    raw_val = torch.from_numpy(scipy.sparse.load_npz(feats / "inat2017_val_preds_sparse.npz").toarray())
    ds = _build("inat2017", tmp_path)
    assert ds.val.image_prior is not None and ds.val.image_prior.is_sparse
    assert torch.equal(ds.val.image_prior.to_dense(), raw_train[ds.val.index])
    assert torch.equal(ds.test.image_prior.to_dense(), raw_val)


def test_prior_formats(tmp_path: Path) -> None:
    FAKES["birdsnap"].write(tmp_path)
    sparse = _build("birdsnap", tmp_path)
    dense = _build("birdsnap", tmp_path, prior_format="dense")
    assert sparse.test.image_prior.is_sparse and dense.test.image_prior.layout == torch.strided
    assert torch.equal(sparse.test.image_prior.to_dense(), dense.test.image_prior)
    FAKES["yfcc"].write(tmp_path)
    assert _build("yfcc", tmp_path).test.image_prior.layout == torch.strided  # auto keeps dense .npy
    assert _build("yfcc", tmp_path, prior_format="sparse").test.image_prior.is_sparse
    with pytest.raises(ValueError, match="prior_format"):
        _build("yfcc", tmp_path, prior_format="csr")


def test_birds_meta_variants_differ(tmp_path: Path) -> None:
    FAKES["birdsnap"].write(tmp_path)
    orig, ebird = _build("birdsnap", tmp_path), _build("birdsnap_ebird", tmp_path)
    assert len(orig.train) + len(orig.val) < len(ebird.train) + len(ebird.val)
    assert len(orig.test) == len(ebird.test)  # same images, fewer of them located in orig_meta
    assert orig.info.display_name == "BirdSnap" and ebird.info.display_name == "BirdSnap†"


def test_mosaiks_subsample_is_seeded(tmp_path: Path) -> None:
    FAKES["mosaiks_elevation"].write(tmp_path)
    full = _build("mosaiks_elevation", tmp_path, subsample=1.0)
    assert len(full.train) + len(full.val) == 320 and len(full.test) == 80
    x = np.load(tmp_path / "mosaiks/X_elevation.npy")
    assert np.array_equal(full.val.image_features.numpy(), x[full.val.index.numpy()])
    a, b = (_build("mosaiks_elevation", tmp_path, seed=1) for _ in range(2))
    assert torch.equal(a.test.index, b.test.index) and a.split_config["subsample"] == 0.05
    with pytest.raises(ValueError, match="subsample"):
        _build("mosaiks_elevation", tmp_path, subsample=0.0)


@pytest.mark.parametrize(
    ("kw", "match"), [({"split": "kfold"}, "unknown split"), ({"val_fraction": 1.0}, "val_fraction")]
)
def test_bad_split_arguments(kw: dict, match: str, tmp_path: Path) -> None:
    FAKES["sustainbench_women_edu"].write(tmp_path)
    with pytest.raises(ValueError, match=match):
        _build("sustainbench_women_edu", tmp_path, **kw)

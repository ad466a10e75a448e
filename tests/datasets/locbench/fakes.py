"""Fake-data generators: tiny LocBench file trees in exactly the published layout (torchgeo's pattern).

``FAKES[name].write(root)`` writes the files dataset ``name`` reads under ``root`` and returns what the
loader must find (:class:`Expected`); the other :class:`Fake` fields corrupt a written tree in the ways the
loaders must reject.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse


@dataclass(frozen=True)
class Expected:
    num_classes: int  # 0 for regression
    n_pool: int  # located (and, for MOSAIKS, subsampled) training rows = len(train) + len(val)
    n_test: int
    n_test_located: int
    feature_dim: int | None = None  # image_features width (regression)
    train_prior: bool = False  # whether train/val carry an image prior
    one_file: bool = False  # train and test rows are rows of the same source file (index disjoint across all)


@dataclass(frozen=True)
class Fake:
    write: Callable[[Path], Expected]
    break_column: Callable[[Path], str]  # corrupts a column/key, returns the name the error must mention
    nan_coords: Callable[[Path], None]  # puts a NaN coordinate in a located row
    prior: str | None = None  # eval image prior (classification), relative to root
    matrix: str | None = None  # an .npy/.npz to truncate


def _json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))  # allow_nan: NaN is written as a bare NaN token, as Python does


def _edit_json(path: Path, edit: Callable[[Any], None]) -> None:
    obj = json.loads(path.read_text())
    edit(obj)
    _json(path, obj)


def _edit_csv(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    frame = pd.read_csv(path)
    out = edit(frame)
    (frame if out is None else out).to_csv(path, index=False)


def _probs(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    p = rng.dirichlet(np.full(cols, 0.3), size=rows).astype(np.float32)
    return np.where(p > 0.05, p, 0.0).astype(np.float32)  # sparse-ish, like top-k image predictions


def write_prior(path: Path, rows: int, cols: int, seed: int = 0) -> None:
    """Write a ``rows x cols`` probability matrix as sparse ``.npz`` or dense ``.npy`` by suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    p = _probs(np.random.default_rng(seed), rows, cols)
    if path.suffix == ".npz":
        scipy.sparse.save_npz(path, scipy.sparse.csr_matrix(p))
    else:
        np.save(path, p)


def matrix_shape(path: Path) -> tuple[int, int]:
    if path.suffix == ".npz":
        return scipy.sparse.load_npz(path).shape
    return np.load(path, mmap_mode="r").shape


def _na_lonlat(rng: np.random.Generator) -> tuple[float, float]:
    return float(rng.uniform(-120, -70)), float(rng.uniform(25, 50))


# ---------------------------------------------------------------- BirdSnap / NABirds
BIRD_CLASSES = 5
BIRD_TRAIN, BIRD_TEST = 40, 16
BIRD_INVALID = {"train": {3, 17}, "test": {5}}
BIRD_LOCATED = {  # which entries have a location, per metadata record and split
    "orig_meta": {"train": lambda i: i % 4 != 0, "test": lambda i: i % 3 != 0},
    "ebird_meta": {"train": lambda i: i % 10 != 0, "test": lambda i: i % 8 != 0},
}


def write_birds(root: Path, prefix: str, meta: str) -> Expected:
    rng = np.random.default_rng(1)
    data: dict[str, Any] = {"classes": [f"{prefix} species {c}" for c in range(BIRD_CLASSES)], "valid": []}
    counts = {}
    for split, n in (("train", BIRD_TRAIN), ("test", BIRD_TEST)):
        entries = []
        for i in range(n):
            lon, lat = _na_lonlat(rng)
            entry: dict[str, Any] = {
                "valid_image": i not in BIRD_INVALID[split],
                "im_path": f"{split}/{i}.jpg",
                "class_id": i % BIRD_CLASSES,
            }
            for m, rule in BIRD_LOCATED.items():
                ok = rule[split](i)
                entry[m] = {
                    "user_id": i if ok else None,
                    "lon": lon if ok else None,
                    "lat": lat if ok else None,
                    "date": 2012.5,
                }
            entries.append(entry)
        data[split] = entries
        valid = [i for i in range(n) if i not in BIRD_INVALID[split]]
        counts[split] = (len(valid), sum(BIRD_LOCATED[meta][split](i) for i in valid))
        write_prior(
            root / prefix / "features_inception" / f"{prefix}_{split}_preds_sparse.npz",
            len(valid),
            BIRD_CLASSES,
            seed=len(split),
        )
    _json(root / prefix / f"{prefix}_with_loc_2019.json", data)
    return Expected(BIRD_CLASSES, counts["train"][1], counts["test"][0], counts["test"][1], train_prior=True)


def _bird_fake(prefix: str, meta: str) -> Fake:
    ann = f"{prefix}/{prefix}_with_loc_2019.json"

    def break_column(root: Path) -> str:
        _edit_json(root / ann, lambda d: d["train"][1].update(label=d["train"][1].pop("class_id")))
        return "class_id"

    def nan_coords(root: Path) -> None:
        _edit_json(root / ann, lambda d: d["test"][1][meta].update(lon=float("nan")))

    prior = f"{prefix}/features_inception/{prefix}_test_preds_sparse.npz"
    return Fake(lambda r: write_birds(r, prefix, meta), break_column, nan_coords, prior=prior, matrix=prior)


# ---------------------------------------------------------------- iNat / fMoW (COCO style)
COCO_CLASSES = 6
COCO_TRAIN, COCO_VAL = 40, 15


def _coco_split(folder: Path, ann: str, loc: str, n: int, class_ids: list[int], start: int) -> int:
    """Write one COCO-style split; every 6th image has no location. Returns the located count."""
    rng = np.random.default_rng(start)
    images = [{"id": start + i, "file_name": f"img/{start + i}.jpg"} for i in range(n)]
    annotations = [{"image_id": start + i, "category_id": class_ids[i % len(class_ids)]} for i in range(n)]
    locations = []
    for i in range(n):
        lon, lat = float(rng.uniform(-180, 180)), float(rng.uniform(-60, 70))
        ok = i % 6 != 0
        locations.append(
            {
                "id": start + i,
                "lon": lon if ok else None,
                "lat": lat if ok else None,
                "date_c": 2017.3,
                "user_id": i if ok else None,
            }
        )
    _json(folder / ann, {"images": images, "annotations": annotations, "categories": []})
    _json(folder / loc, locations[::-1])  # records are matched by id, not by order
    return sum(i % 6 != 0 for i in range(n))


def write_inat(root: Path, year: int) -> Expected:
    folder = root / f"inat_{year}"
    ids = [10 * c + 3 for c in range(COCO_CLASSES)]  # non-contiguous ids, listed out of order
    _json(folder / f"categories{year}.json", [{"id": c, "name": f"taxon {c}"} for c in ids[::-1]])
    n_pool = _coco_split(folder, f"train{year}.json", f"train{year}_locations.json", COCO_TRAIN, ids, 1000)
    n_loc = _coco_split(folder, f"val{year}.json", f"val{year}_locations.json", COCO_VAL, ids, 5000)
    feats = folder / "features_inception"
    write_prior(feats / f"inat{year}_val_preds_sparse.npz", COCO_VAL, COCO_CLASSES)
    write_prior(feats / f"inat{year}_train_preds_sparse.npz", COCO_TRAIN, COCO_CLASSES)
    return Expected(COCO_CLASSES, n_pool, COCO_VAL, n_loc, train_prior=True)


def _inat_fake(year: int) -> Fake:
    def break_column(root: Path) -> str:
        _edit_json(
            root / f"inat_{year}/train{year}.json",
            lambda d: [a.update(cat=a.pop("category_id")) for a in d["annotations"]],
        )
        return "category_id"

    def nan_coords(root: Path) -> None:
        def edit(records: list) -> None:
            next(r for r in records if r["lon"] is not None).update(lat=float("nan"))

        _edit_json(root / f"inat_{year}/val{year}_locations.json", edit)

    prior = f"inat_{year}/features_inception/inat{year}_val_preds_sparse.npz"
    return Fake(lambda r: write_inat(r, year), break_column, nan_coords, prior=prior, matrix=prior)


def write_fmow(root: Path) -> Expected:
    folder = root / "fmow"
    ids = list(range(COCO_CLASSES))
    _json(folder / "category.json", {f"land use {c}": c for c in ids})
    n_pool = _coco_split(folder, "train.json", "train_location.json", COCO_TRAIN, ids, 1000)
    n_loc = _coco_split(folder, "val.json", "val_location.json", COCO_VAL, ids, 5000)
    write_prior(folder / "feature_moco" / "fmow_val_preds.npy", COCO_VAL, COCO_CLASSES)
    return Expected(COCO_CLASSES, n_pool, COCO_VAL, n_loc, train_prior=False)  # no train predictions


def _fmow_break(root: Path) -> str:
    _edit_json(root / "fmow/val_location.json", lambda recs: recs[0].update(latitude=recs[0].pop("lat")))
    return "lat"


def _fmow_nan(root: Path) -> None:
    _edit_json(
        root / "fmow/train_location.json",
        lambda recs: next(r for r in recs if r["lon"] is not None).update(lon=float("nan")),
    )


# ---------------------------------------------------------------- YFCC
YFCC_CLASSES, YFCC_ROWS = 4, 50


def write_yfcc(root: Path) -> Expected:
    rng = np.random.default_rng(3)
    folder = root / "yfcc"
    (folder / "features_inception").mkdir(parents=True)
    split = np.where(np.arange(YFCC_ROWS) % 5 == 0, "test", "train")
    pd.DataFrame(
        {
            "lon": rng.uniform(-125, -70, YFCC_ROWS),
            "lat": rng.uniform(25, 49, YFCC_ROWS),
            "class": np.arange(YFCC_ROWS) % YFCC_CLASSES,
            "split": split,
        }
    ).to_csv(folder / "train_test_split.csv", index=False)
    pd.DataFrame({"id": range(YFCC_CLASSES), "name": [f"concept {c}" for c in range(YFCC_CLASSES)]}).to_csv(
        folder / "class_names.csv", index=False
    )
    n_test = int((split == "test").sum())
    write_prior(folder / "features_inception" / "YFCC_test_preds.npy", n_test, YFCC_CLASSES)
    write_prior(folder / "features_inception" / "YFCC_train_preds.npy", YFCC_ROWS - n_test, YFCC_CLASSES)
    return Expected(YFCC_CLASSES, YFCC_ROWS - n_test, n_test, n_test, train_prior=True, one_file=True)


def _yfcc_break(root: Path) -> str:
    _edit_csv(root / "yfcc/train_test_split.csv", lambda f: f.rename(columns={"class": "label"}))
    return "class"


def _yfcc_nan(root: Path) -> None:
    _edit_csv(root / "yfcc/train_test_split.csv", lambda f: f.assign(lat=f["lat"].where(f.index != 7)))


# ---------------------------------------------------------------- MOSAIKS
MOSAIKS_SPLITS = ("train",) * 300 + ("val",) * 20 + ("test",) * 80  # 400 rows, shuffled below
MOSAIKS_DIM = 2048


def write_mosaiks(root: Path, label: str) -> Expected:
    rng = np.random.default_rng(4)
    n = len(MOSAIKS_SPLITS)
    split = rng.permutation(np.array(MOSAIKS_SPLITS))
    folder = root / "mosaiks"
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "lon": rng.uniform(-180, 180, n),
            "lat": np.rad2deg(np.arcsin(rng.uniform(-1, 1, n))),
            "split": split,
            label: rng.normal(size=n),
        }
    ).to_csv(folder / f"Y_{label}.csv", index=False)
    np.save(folder / f"X_{label}.npy", rng.normal(size=(n, MOSAIKS_DIM)).astype(np.float32))
    n_test = int((split == "test").sum())
    # default subsample 0.05 of each published split (train+val pooled)
    return Expected(
        0,
        round((n - n_test) * 0.05),
        round(n_test * 0.05),
        round(n_test * 0.05),
        feature_dim=MOSAIKS_DIM,
        one_file=True,
    )


def _mosaiks_fake(label: str) -> Fake:
    def break_column(root: Path) -> str:
        _edit_csv(root / f"mosaiks/Y_{label}.csv", lambda f: f.rename(columns={label: "value"}))
        return label

    def nan_coords(root: Path) -> None:
        _edit_csv(root / f"mosaiks/Y_{label}.csv", lambda f: f.assign(lon=f["lon"].where(f.index != 11)))

    return Fake(lambda r: write_mosaiks(r, label), break_column, nan_coords, matrix=f"mosaiks/X_{label}.npy")


# ---------------------------------------------------------------- SustainBench
SB_LABELS = ("asset_index", "women_bmi", "water_index", "under5_mort", "sanitation_index", "women_edu")
SB_ROWS = {"dhs_trainval_labels.csv": 60, "dhs_test_labels.csv": 20}


def write_sustainbench(root: Path, label: str) -> Expected:
    rng = np.random.default_rng(5)
    folder = root / "sustainbench"
    folder.mkdir(parents=True)
    kept = {}
    for file, n in SB_ROWS.items():
        frame = pd.DataFrame(
            {
                "DHSID_EA": [f"XX-2015-{i}" for i in range(n)],
                "cname": "XX",
                "year": 2015,
                "lat": rng.uniform(-30, 15, n),
                "lon": rng.uniform(-15, 40, n),
                "nl_mean": rng.gamma(1.0, 2.0, n),
            }
        )
        for k, name in enumerate(SB_LABELS):  # each indicator surveyed in a different subset of clusters
            values = rng.normal(size=n)
            frame[f"{name}_normalized"] = np.where(np.arange(n) % (k + 4) == 1, np.nan, values)
        frame.to_csv(folder / file, index=False)
        kept[file] = int(frame[f"{label}_normalized"].notna().sum())
    n_test = kept["dhs_test_labels.csv"]
    return Expected(0, kept["dhs_trainval_labels.csv"], n_test, n_test, feature_dim=1)


def _sb_fake(label: str) -> Fake:
    column = f"{label}_normalized"

    def break_column(root: Path) -> str:
        _edit_csv(root / "sustainbench/dhs_test_labels.csv", lambda f: f.rename(columns={column: "y"}))
        return column

    def nan_coords(root: Path) -> None:
        _edit_csv(
            root / "sustainbench/dhs_trainval_labels.csv",
            lambda f: f.assign(lat=f["lat"].where(f.index != 2)),
        )  # row 2 has every label set

    return Fake(lambda r: write_sustainbench(r, label), break_column, nan_coords)


FAKES: dict[str, Fake] = {
    "birdsnap": _bird_fake("birdsnap", "orig_meta"),
    "birdsnap_ebird": _bird_fake("birdsnap", "ebird_meta"),
    "nabirds_ebird": _bird_fake("nabirds", "ebird_meta"),
    "inat2017": _inat_fake(2017),
    "inat2018": _inat_fake(2018),
    "yfcc": Fake(
        write_yfcc,
        _yfcc_break,
        _yfcc_nan,
        prior="yfcc/features_inception/YFCC_test_preds.npy",
        matrix="yfcc/features_inception/YFCC_test_preds.npy",
    ),
    "fmow": Fake(
        write_fmow,
        _fmow_break,
        _fmow_nan,
        prior="fmow/feature_moco/fmow_val_preds.npy",
        matrix="fmow/feature_moco/fmow_val_preds.npy",
    ),
    "mosaiks_population": _mosaiks_fake("population"),
    "mosaiks_forest_cover": _mosaiks_fake("forest"),
    "mosaiks_nightlights": _mosaiks_fake("nightlights"),
    "mosaiks_elevation": _mosaiks_fake("elevation"),
    **{f"sustainbench_{label}": _sb_fake(label) for label in SB_LABELS},
}

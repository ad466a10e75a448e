"""YFCC100M-GEO100 (LocBench geo-aware image classification, 100 concepts, USA).

Layout under ``root`` (the reference's ``yfcc/`` data folder)::

    root/yfcc/train_test_split.csv                       columns lon, lat, class, split (train | test)
    root/yfcc/class_names.csv                            columns id, name
    root/yfcc/features_inception/YFCC_test_preds.npy     dense [N_test, 100]
    root/yfcc/features_inception/YFCC_train_preds.npy    dense [N_train, 100]   (optional)

Prediction rows follow the order of the CSV rows of their split. Every YFCC image has a location.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.datasets.base import DATASETS, Dataset, DatasetInfo
from engine.datasets.locbench._build import SplitMethod, check_split_args, finish, make_split
from engine.datasets.locbench._io import (
    LOCBENCH_CITATION,
    LOCBENCH_LICENCE,
    PUBLISHED_AT,
    PriorFormat,
    check_prior_format,
    class_index,
    load_prior,
    lonlat_from,
    map_targets,
    numeric_column,
    optional_prior,
    read_csv,
    require_file,
    require_root,
)
from engine.datasets.splits import DEFAULT_BLOCK_RES

SPLIT_CSV = "yfcc/train_test_split.csv"
CLASSES_CSV = "yfcc/class_names.csv"
TEST_PREDS = "yfcc/features_inception/YFCC_test_preds.npy"
TRAIN_PREDS = "yfcc/features_inception/YFCC_train_preds.npy"
YFCC_CITATION = (
    "Thomee, B., Shamma, D. A., Friedland, G., et al. YFCC100M: The New Data in Multimedia Research. "
    "Communications of the ACM 59(2), 2016. GEO100 subset: Tang, K., Paluri, M., Fei-Fei, L., Fergus, R., "
    "Bourdev, L. Improving Image Classification with Location Context. ICCV 2015. "
    f"Benchmark: {LOCBENCH_CITATION}"
)


def load_yfcc(
    root: str | Path | None,
    *,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int,
    prior_format: PriorFormat,
) -> Dataset:
    """Read YFCC (see the module docstring for the layout)."""
    name = "yfcc"
    check_prior_format(prior_format)
    check_split_args(split, val_fraction)
    base = require_root(root, name)
    split_path = require_file(base, SPLIT_CSV, name)
    classes_path = require_file(base, CLASSES_CSV, name)
    test_preds = require_file(base, TEST_PREDS, name)
    names = read_csv(classes_path, name, ("id", "name"))
    classes = class_index(names["id"].tolist(), classes_path, name)
    name_of = dict(zip(names["id"].astype(int), names["name"].astype(str), strict=True))
    class_names = tuple(name_of[cid] for cid in sorted(classes))

    frame = read_csv(split_path, name, ("lon", "lat", "class", "split"))
    labels = frame["split"].astype(str)
    unknown = sorted(set(labels) - {"train", "test"})
    if unknown:
        raise ValueError(f"{name}: column 'split' of {str(split_path)!r} has unknown values {unknown}")
    lonlat = lonlat_from(
        numeric_column(frame, "lon", split_path, name),
        numeric_column(frame, "lat", split_path, name),
        split_path,
        name,
        allow_missing=False,
    )
    target = map_targets(frame["class"].tolist(), classes, split_path, name)
    kw = {"num_classes": len(classes), "prior_format": prior_format}
    parts = {}
    for part in ("train", "test"):
        rows = np.flatnonzero((labels == part).to_numpy())
        prior = (
            load_prior(test_preds, name, rows=len(rows), **kw)
            if part == "test"
            else optional_prior(base, TRAIN_PREDS, name, rows=len(rows), **kw)
        )
        parts[part] = make_split(lonlat[rows], target[rows], index=rows, image_prior=prior)
    notes = [
        f"Test = the published test split ({len(parts['test'])} images).",
        "The val image prior comes from an image model trained on these images (optimistic)."
        if parts["train"].image_prior is not None
        else f"No train predictions ({TRAIN_PREDS}): train/val carry no image prior.",
    ]
    info = DatasetInfo(
        name=name,
        display_name="YFCC",
        task="classification",
        class_names=class_names,
        target_name="photo concept",
        coverage="USA",
        citation=YFCC_CITATION,
        licence=LOCBENCH_LICENCE,
        source=PUBLISHED_AT,
    )
    return finish(
        info,
        parts["train"],
        parts["test"],
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        notes=notes,
    )


@DATASETS.register(
    "yfcc",
    task="classification",
    display_name="YFCC",
    group="locbench",
    embedded=False,
    files=[SPLIT_CSV, CLASSES_CSV, TEST_PREDS],
    optional_files=[TRAIN_PREDS],
)
def yfcc(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """YFCC100M-GEO100: 100 photo concepts in the USA (Thomee et al. 2016; Tang et al. 2015).

    Args:
        root: data root holding ``yfcc/`` (see the module docstring); ``None`` raises with download help.
        seed: seed of the validation split.
        val_fraction: share of the training images carved out as validation.
        split: ``"random"`` or ``"spatial_block"`` validation carving.
        block_res: H3 resolution of the validation blocks for ``split="spatial_block"``.
        prior_format: ``"auto"`` / ``"sparse"`` / ``"dense"`` image-prior tensors.

    """
    return load_yfcc(
        root,
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )

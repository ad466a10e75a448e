"""fMoW-RGB (LocBench geo-aware remote-sensing scene classification, 62 categories, global).

Layout under ``root`` (the reference's ``fmow/`` data folder)::

    root/fmow/train.json                    COCO-style images / annotations
    root/fmow/train_location.json           [{id, lon, lat, date_c, user_id}, ...]
    root/fmow/val.json
    root/fmow/val_location.json
    root/fmow/category.json                 {"<category name>": <id>, ...}
    root/fmow/feature_moco/fmow_val_preds.npy      dense [N_val, 62], MoCo-v3 image model
    root/fmow/feature_moco/fmow_train_preds.npy    dense [N_train, 62]   (optional)

fMoW's test labels are not distributed with LocBench, so the published "val" split is this benchmark's
test split (as in the reference); validation is carved out of train.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import DATASETS, Dataset, DatasetInfo
from engine.datasets.locbench._build import SplitMethod, check_split_args, finish, located, make_split
from engine.datasets.locbench._coco import read_coco_split
from engine.datasets.locbench._io import (
    LOCBENCH_CITATION,
    LOCBENCH_LICENCE,
    PUBLISHED_AT,
    PriorFormat,
    check_prior_format,
    class_index,
    load_prior,
    optional_prior,
    read_json,
    require_file,
    require_root,
)
from engine.datasets.splits import DEFAULT_BLOCK_RES

FILES = [
    "fmow/train.json",
    "fmow/train_location.json",
    "fmow/val.json",
    "fmow/val_location.json",
    "fmow/category.json",
    "fmow/feature_moco/fmow_val_preds.npy",
]
TRAIN_PREDS = "fmow/feature_moco/fmow_train_preds.npy"
FMOW_CITATION = (
    "Christie, G., Fendley, N., Wilson, J., Mukherjee, R. Functional Map of the World. CVPR 2018. "
    "Image model: Chen, X., Xie, S., He, K. An Empirical Study of Training Self-Supervised Vision "
    f"Transformers (MoCo v3). ICCV 2021. Benchmark: {LOCBENCH_CITATION}"
)


def load_fmow(
    root: str | Path | None,
    *,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int,
    prior_format: PriorFormat,
) -> Dataset:
    """Read fMoW (see the module docstring for the layout)."""
    name = "fmow"
    check_prior_format(prior_format)
    check_split_args(split, val_fraction)
    base = require_root(root, name)
    train_ann, train_loc, val_ann, val_loc, cat_path, val_preds = (
        require_file(base, rel, name) for rel in FILES
    )
    categories = read_json(cat_path, name)
    if not isinstance(categories, dict) or not categories:
        raise ValueError(f"{name}: {str(cat_path)!r} must hold a JSON object {{category name: id}}")
    classes = class_index(list(categories.values()), cat_path, name)
    name_of = {int(cid): str(cname) for cname, cid in categories.items()}
    class_names = tuple(name_of[cid] for cid in sorted(classes))

    kw = {"num_classes": len(classes), "prior_format": prior_format}
    lonlat, target = read_coco_split(train_ann, train_loc, name, classes)
    train_prior = optional_prior(base, TRAIN_PREDS, name, rows=len(target), **kw)
    pool = located(make_split(lonlat, target, image_prior=train_prior))
    lonlat, target = read_coco_split(val_ann, val_loc, name, classes)
    test = make_split(lonlat, target, image_prior=load_prior(val_preds, name, rows=len(target), **kw))
    n_missing = int((~test.has_location).sum()) if test.has_location is not None else 0
    notes = [
        f"Training images without a location are dropped ({len(pool)} kept).",
        f"Test = the published val split ({len(test)} images; {n_missing} without a location).",
        "The val image prior comes from an image model trained on these images (optimistic)."
        if train_prior is not None
        else f"No train predictions ({TRAIN_PREDS}): train/val carry no image prior.",
    ]
    info = DatasetInfo(
        name=name,
        display_name="fMoW",
        task="classification",
        class_names=class_names,
        target_name="land-use category",
        coverage="global",
        citation=FMOW_CITATION,
        licence=LOCBENCH_LICENCE,
        source=PUBLISHED_AT,
    )
    return finish(
        info, pool, test, seed=seed, val_fraction=val_fraction, split=split, block_res=block_res, notes=notes
    )


@DATASETS.register(
    "fmow",
    task="classification",
    display_name="fMoW",
    group="locbench",
    embedded=False,
    files=FILES,
    optional_files=[TRAIN_PREDS],
)
def fmow(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """fMoW-RGB: 62 functional land-use categories, global (Christie et al. 2018).

    Args:
        root: data root holding ``fmow/`` (see the module docstring); ``None`` raises with download help.
        seed: seed of the validation split.
        val_fraction: share of the located training images carved out as validation.
        split: ``"random"`` or ``"spatial_block"`` validation carving.
        block_res: H3 resolution of the validation blocks for ``split="spatial_block"``.
        prior_format: ``"auto"`` / ``"sparse"`` / ``"dense"`` image-prior tensors.

    """
    return load_fmow(
        root,
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )

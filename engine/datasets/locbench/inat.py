"""iNat2017 and iNat2018 (LocBench geo-aware species classification, global).

Layout under ``root`` (``YYYY`` = 2017 or 2018; the reference's ``inat_YYYY/`` data folders)::

    root/inat_YYYY/trainYYYY.json                 COCO-style images / annotations
    root/inat_YYYY/trainYYYY_locations.json       [{id, lon, lat, date_c, user_id}, ...]
    root/inat_YYYY/valYYYY.json
    root/inat_YYYY/valYYYY_locations.json
    root/inat_YYYY/categoriesYYYY.json            [{id, name, ...}, ...]
    root/inat_YYYY/features_inception/inatYYYY_val_preds_sparse.npz
    root/inat_YYYY/features_inception/inatYYYY_train_preds_sparse.npz   (optional)

The competition's test labels are not public, so the published "val" split is this benchmark's test split
(as in the reference); validation is carved out of train. See :mod:`engine.datasets.locbench._coco` for the
JSON formats.
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
    require_keys,
    require_root,
)
from engine.datasets.splits import DEFAULT_BLOCK_RES

INAT_CITATION = (
    "Van Horn, G., Mac Aodha, O., Song, Y., et al. The iNaturalist Species Classification and Detection "
    f"Dataset. CVPR 2018. Locations as released by iNaturalist. Benchmark: {LOCBENCH_CITATION}"
)


def inat_files(year: int) -> list[str]:
    """Return the required relative paths of iNat ``year``."""
    d = f"inat_{year}"
    return [
        f"{d}/train{year}.json",
        f"{d}/train{year}_locations.json",
        f"{d}/val{year}.json",
        f"{d}/val{year}_locations.json",
        f"{d}/categories{year}.json",
        f"{d}/features_inception/inat{year}_val_preds_sparse.npz",
    ]


def _train_preds(year: int) -> str:
    return f"inat_{year}/features_inception/inat{year}_train_preds_sparse.npz"


def load_inat(
    year: int,
    root: str | Path | None,
    *,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int,
    prior_format: PriorFormat,
) -> Dataset:
    """Read iNat ``year`` (see the module docstring for the layout)."""
    name = f"inat{year}"
    check_prior_format(prior_format)
    check_split_args(split, val_fraction)
    base = require_root(root, name)
    train_ann, train_loc, val_ann, val_loc, cat_path, val_preds = (
        require_file(base, rel, name) for rel in inat_files(year)
    )
    categories = read_json(cat_path, name)
    if not isinstance(categories, list):
        raise ValueError(f"{name}: {str(cat_path)!r} must hold a JSON list of categories")
    for i, cat in enumerate(categories):
        require_keys(cat, ("id", "name"), f"category [{i}]", cat_path, name)
    classes = class_index([c["id"] for c in categories], cat_path, name)
    name_of = {int(c["id"]): str(c["name"]) for c in categories}
    class_names = tuple(name_of[cid] for cid in sorted(classes))

    kw = {"num_classes": len(classes), "prior_format": prior_format}
    lonlat, target = read_coco_split(train_ann, train_loc, name, classes)
    train_prior = optional_prior(base, _train_preds(year), name, rows=len(target), **kw)
    pool = located(make_split(lonlat, target, image_prior=train_prior))
    lonlat, target = read_coco_split(val_ann, val_loc, name, classes)
    test = make_split(lonlat, target, image_prior=load_prior(val_preds, name, rows=len(target), **kw))
    n_missing = int((~test.has_location).sum()) if test.has_location is not None else 0
    notes = [
        f"Training images without a location are dropped ({len(pool)} kept).",
        f"Test = the published val split ({len(test)} images; {n_missing} without a location keep only the "
        "image prior).",
        "The val image prior comes from an image model trained on these images (optimistic)."
        if train_prior is not None
        else f"No train predictions ({_train_preds(year)}): train/val carry no image prior.",
    ]
    info = DatasetInfo(
        name=name,
        display_name=f"iNat{year}",
        task="classification",
        class_names=class_names,
        target_name="species",
        coverage="global",
        citation=INAT_CITATION,
        licence=LOCBENCH_LICENCE,
        source=PUBLISHED_AT,
    )
    return finish(
        info, pool, test, seed=seed, val_fraction=val_fraction, split=split, block_res=block_res, notes=notes
    )


_META = {"task": "classification", "group": "locbench", "embedded": False}


@DATASETS.register(
    "inat2017", display_name="iNat2017", files=inat_files(2017), optional_files=[_train_preds(2017)], **_META
)
def inat2017(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """iNat2017: 5,089 species, global (Van Horn et al. 2018).

    Args:
        root: data root holding ``inat_2017/`` (see the module docstring); ``None`` raises with download help.
        seed: seed of the validation split.
        val_fraction: share of the located training images carved out as validation.
        split: ``"random"`` or ``"spatial_block"`` validation carving.
        block_res: H3 resolution of the validation blocks for ``split="spatial_block"``.
        prior_format: ``"auto"`` / ``"sparse"`` / ``"dense"`` image-prior tensors (dense iNat train priors
            need tens of GB).

    """
    return load_inat(
        2017,
        root,
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )


@DATASETS.register(
    "inat2018", display_name="iNat2018", files=inat_files(2018), optional_files=[_train_preds(2018)], **_META
)
def inat2018(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """iNat2018: 8,142 species, global (Van Horn et al. 2018). Args as :func:`inat2017` (``inat_2018/``)."""
    return load_inat(
        2018,
        root,
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )

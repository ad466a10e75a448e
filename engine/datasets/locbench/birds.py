"""BirdSnap, BirdSnap† and NABirds† (LocBench geo-aware fine-grained bird classification).

Layout under ``root`` (the reference's ``birdsnap/`` and ``nabirds/`` data folders)::

    root/birdsnap/birdsnap_with_loc_2019.json
    root/birdsnap/features_inception/birdsnap_test_preds_sparse.npz
    root/birdsnap/features_inception/birdsnap_train_preds_sparse.npz   (optional)
    root/nabirds/nabirds_with_loc_2019.json
    root/nabirds/features_inception/nabirds_test_preds_sparse.npz
    root/nabirds/features_inception/nabirds_train_preds_sparse.npz     (optional)

The JSON holds ``{"train": [...], "valid": [...], "test": [...], "classes": [names]}``; each entry has
``valid_image``, ``im_path``, ``class_id`` (index into ``classes``) and two metadata records ``orig_meta``
(the photos' own metadata, sparse) and ``ebird_meta`` (locations simulated from eBird by Mac Aodha et al.
2019), each ``{user_id, lon, lat, date}`` with ``null`` when absent. Entries with ``valid_image`` false are
skipped; the prediction matrices have one row per remaining entry, in file order. The JSON's ``valid`` list
is not used (no predictions are published for it and the reference never reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine.datasets.base import DATASETS, Dataset, DatasetInfo
from engine.datasets.locbench._build import SplitMethod, check_split_args, finish, located, make_split
from engine.datasets.locbench._io import (
    LOCBENCH_CITATION,
    LOCBENCH_LICENCE,
    PUBLISHED_AT,
    PriorFormat,
    check_prior_format,
    load_prior,
    lonlat_from,
    map_targets,
    optional_prior,
    read_json,
    require_file,
    require_keys,
    require_root,
    to_float,
)
from engine.datasets.splits import DEFAULT_BLOCK_RES

Meta = Literal["orig_meta", "ebird_meta"]
MAC_AODHA = (
    "Mac Aodha, O., Cole, E., Perona, P. Presence-Only Geographical Priors for Fine-Grained Image "
    "Classification. ICCV 2019."
)


@dataclass(frozen=True)
class BirdLayout:
    """Where one bird dataset lives under ``root``."""

    folder: str
    prefix: str
    citation: str

    @property
    def annotations(self) -> str:
        """Relative path of the annotation JSON."""
        return f"{self.folder}/{self.prefix}_with_loc_2019.json"

    def preds(self, split: str) -> str:
        """Relative path of the image-model predictions of ``split`` (``train`` or ``test``)."""
        return f"{self.folder}/features_inception/{self.prefix}_{split}_preds_sparse.npz"

    @property
    def files(self) -> list[str]:
        """Required relative paths."""
        return [self.annotations, self.preds("test")]


BIRDSNAP = BirdLayout(
    "birdsnap",
    "birdsnap",
    "Berg, T., Liu, J., Lee, S. W., et al. Birdsnap: Large-scale Fine-grained Visual Categorization of "
    f"Birds. CVPR 2014. Locations: {MAC_AODHA} Benchmark: {LOCBENCH_CITATION}",
)
NABIRDS = BirdLayout(
    "nabirds",
    "nabirds",
    "Van Horn, G., Branson, S., Farrell, R., et al. Building a bird recognition app and large scale dataset "
    "with citizen scientists. CVPR 2015. Locations simulated from eBird (Sullivan et al. 2009, Biological "
    f"Conservation) by {MAC_AODHA} Benchmark: {LOCBENCH_CITATION}",
)


def _read_split(
    data: dict, split: str, meta: Meta, path: Path, dataset: str, num_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lonlat [N, 2] with NaN rows, target [N], json positions [N]) of the valid images of ``split``."""
    entries = data[split]
    if not isinstance(entries, list):
        raise ValueError(f"{dataset}: key {split!r} of {str(path)!r} must be a list of images")
    rows, lon, lat, labels = [], [], [], []
    for i, entry in enumerate(entries):
        require_keys(entry, ("valid_image", "class_id", meta), f"{split}[{i}]", path, dataset)
        if not entry["valid_image"]:
            continue
        require_keys(entry[meta], ("lon", "lat"), f"{split}[{i}].{meta}", path, dataset)
        rows.append(i)
        lon.append(entry[meta]["lon"])
        lat.append(entry[meta]["lat"])
        labels.append(entry["class_id"])
    target = map_targets(labels, {c: c for c in range(num_classes)}, path, dataset)
    lonlat = lonlat_from(
        to_float(lon, f"{split} {meta}.lon", path, dataset),
        to_float(lat, f"{split} {meta}.lat", path, dataset),
        path,
        dataset,
        allow_missing=True,
    )
    return lonlat, target, np.asarray(rows, dtype=np.int64)


def load_birds(
    layout: BirdLayout,
    meta: Meta,
    root: str | Path | None,
    *,
    name: str,
    display_name: str,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int,
    prior_format: PriorFormat,
) -> Dataset:
    """Read one bird dataset variant (see the module docstring for the layout)."""
    check_prior_format(prior_format)
    check_split_args(split, val_fraction)
    base = require_root(root, name)
    ann_path = require_file(base, layout.annotations, name)
    test_prior_path = require_file(base, layout.preds("test"), name)
    data = read_json(ann_path, name)
    require_keys(data, ("train", "test", "classes"), "the annotation file", ann_path, name)
    if not isinstance(data["classes"], list) or not data["classes"]:
        raise ValueError(
            f"{name}: key 'classes' of {str(ann_path)!r} must be a non-empty list of class names"
        )
    class_names = tuple(str(c) for c in data["classes"])
    num_classes = len(class_names)

    parts = {}
    for part in ("train", "test"):
        lonlat, target, rows = _read_split(data, part, meta, ann_path, name, num_classes)
        kw = {"rows": len(rows), "num_classes": num_classes, "prior_format": prior_format}
        prior = (
            load_prior(test_prior_path, name, **kw)
            if part == "test"
            else optional_prior(base, layout.preds("train"), name, **kw)
        )
        parts[part] = make_split(lonlat, target, index=rows, image_prior=prior)
    pool, test = located(parts["train"]), parts["test"]
    n_missing = int((~test.has_location).sum()) if test.has_location is not None else 0
    notes = [
        f"Locations from `{meta}`. Training images without a location are dropped ({len(parts['train'])} -> "
        f"{len(pool)}); the reference additionally drops those without user id or date.",
        f"Test = the published test split ({len(test)} images; {n_missing} without a location keep only "
        "the image prior).",
    ]
    if pool.image_prior is None:
        notes.append(f"No train predictions ({layout.preds('train')}): train/val carry no image prior.")
    else:
        notes.append("The val image prior comes from an image model trained on these images (optimistic).")
    info = DatasetInfo(
        name=name,
        display_name=display_name,
        task="classification",
        class_names=class_names,
        target_name="bird species",
        coverage="North America",
        citation=layout.citation,
        licence=LOCBENCH_LICENCE,
        source=PUBLISHED_AT,
    )
    return finish(
        info, pool, test, seed=seed, val_fraction=val_fraction, split=split, block_res=block_res, notes=notes
    )


_META = {"task": "classification", "group": "locbench", "embedded": False}


@DATASETS.register(
    "birdsnap",
    display_name="BirdSnap",
    files=BIRDSNAP.files,
    optional_files=[BIRDSNAP.preds("train")],
    **_META,
)
def birdsnap(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """BirdSnap, 500 species, photo locations from ``orig_meta`` (Berg et al. 2014; Mac Aodha et al. 2019).

    Args:
        root: data root holding ``birdsnap/`` (see the module docstring); ``None`` raises with download help.
        seed: seed of the validation split.
        val_fraction: share of the located training images carved out as validation.
        split: ``"random"`` or ``"spatial_block"`` validation carving.
        block_res: H3 resolution of the validation blocks for ``split="spatial_block"``.
        prior_format: ``"auto"`` / ``"sparse"`` / ``"dense"`` image-prior tensors.

    """
    return load_birds(
        BIRDSNAP,
        "orig_meta",
        root,
        name="birdsnap",
        display_name="BirdSnap",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )


@DATASETS.register(
    "birdsnap_ebird",
    display_name="BirdSnap†",
    files=BIRDSNAP.files,
    optional_files=[BIRDSNAP.preds("train")],
    **_META,
)
def birdsnap_ebird(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """BirdSnap† with eBird-simulated locations (``ebird_meta``; Mac Aodha et al. 2019).

    Args as :func:`birdsnap`.
    """
    return load_birds(
        BIRDSNAP,
        "ebird_meta",
        root,
        name="birdsnap_ebird",
        display_name="BirdSnap†",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )


@DATASETS.register(
    "nabirds_ebird",
    display_name="NABirds†",
    files=NABIRDS.files,
    optional_files=[NABIRDS.preds("train")],
    **_META,
)
def nabirds_ebird(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    prior_format: PriorFormat = "auto",
) -> Dataset:
    """NABirds†, 555 species, eBird-simulated locations (Van Horn et al. 2015). Args as :func:`birdsnap`."""
    return load_birds(
        NABIRDS,
        "ebird_meta",
        root,
        name="nabirds_ebird",
        display_name="NABirds†",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        prior_format=prior_format,
    )

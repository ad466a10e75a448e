"""Reader for the COCO-style split files shared by iNat2017/2018 and fMoW in the LocBench layout.

A split is two JSON files (Mac Aodha et al. 2019 format, kept by LocBench):

- annotations ``{"images": [{"id": …}, …], "annotations": [{"image_id": …, "category_id": …}, …]}``;
- locations ``[{"id": <image id>, "lon": …, "lat": …, "date_c": …, "user_id": …}, …]`` (``lon``/``lat``
  ``null`` when the image has no location).

Rows follow the order of ``images``; the published image-model predictions use the same order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.datasets.locbench._io import lonlat_from, map_targets, read_json, require_keys, to_float


def read_coco_split(
    ann_path: Path, loc_path: Path, dataset: str, classes: dict[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Read one split.

    Args:
        ann_path: the COCO-style annotation file.
        loc_path: the matching location file.
        dataset: dataset name for error messages.
        classes: published category id -> contiguous class index.

    Returns:
        ``lonlat`` ``[N, 2]`` float64 (NaN rows: no location) and ``target`` ``[N]`` int64, in image order.

    """
    ann = read_json(ann_path, dataset)
    require_keys(ann, ("images", "annotations"), "the annotation file", ann_path, dataset)
    images, annotations = ann["images"], ann["annotations"]
    for i, entry in enumerate(images):
        require_keys(entry, ("id",), f"images[{i}]", ann_path, dataset)
    for i, entry in enumerate(annotations):
        require_keys(entry, ("image_id", "category_id"), f"annotations[{i}]", ann_path, dataset)
    label_of = {a["image_id"]: a["category_id"] for a in annotations}
    ids = [im["id"] for im in images]
    unlabelled = [i for i in ids if i not in label_of]
    if unlabelled:
        raise ValueError(
            f"{dataset}: {len(unlabelled)} images in {str(ann_path)!r} have no annotation "
            f"(first id {unlabelled[0]!r})"
        )
    target = map_targets([label_of[i] for i in ids], classes, ann_path, dataset)

    locs = read_json(loc_path, dataset)
    if not isinstance(locs, list):
        raise ValueError(f"{dataset}: {str(loc_path)!r} must hold a JSON list of location records")
    for i, entry in enumerate(locs):
        require_keys(entry, ("id", "lon", "lat"), f"location record [{i}]", loc_path, dataset)
    loc_of = {r["id"]: r for r in locs}
    absent = [i for i in ids if i not in loc_of]
    if absent:
        raise ValueError(
            f"{dataset}: {len(absent)} images of {str(ann_path)!r} have no record in {str(loc_path)!r} "
            f"(first id {absent[0]!r})"
        )
    lon = to_float([loc_of[i]["lon"] for i in ids], "lon", loc_path, dataset)
    lat = to_float([loc_of[i]["lat"] for i in ids], "lat", loc_path, dataset)
    return lonlat_from(lon, lat, loc_path, dataset, allow_missing=True), target

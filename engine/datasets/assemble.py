"""Turn numpy arrays into a :class:`Dataset`, through the flat ``{split}_{field}`` layout the cache stores.

Builders compute ``lonlat``/``target`` for all rows plus a split assignment, flatten them with
:func:`split_arrays` (``train_lonlat``, ``train_target``, ``train_index``, ``val_…``, ``test_…``, optional
``{split}_image_prior`` / ``{split}_image_features`` and ``class_names``), cache that dict, and finally call
:func:`dataset_from_arrays`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from engine.datasets.base import SPLIT_NAMES, Dataset, DatasetInfo, Split
from engine.datasets.splits import SplitSpec, restrict_to_blocks

OPTIONAL_FIELDS = ("image_prior", "image_features")


def split_arrays(
    lonlat: np.ndarray,
    target: np.ndarray,
    parts: Mapping[str, np.ndarray],
    *,
    index: np.ndarray | None = None,
    **optional: np.ndarray,
) -> dict[str, np.ndarray]:
    """Flatten rows of one pool into ``{split}_{field}`` arrays.

    Args:
        lonlat: ``[N, 2]`` (lon, lat) degrees of the pool.
        target: ``[N]`` class index or value.
        parts: row ids per split (from :mod:`engine.datasets.splits`).
        index: ``[N]`` source row ids of the pool (default ``arange(N)``).
        **optional: ``image_prior`` / ``image_features`` ``[N, …]`` arrays.

    Returns:
        ``{"train_lonlat": …, "train_target": …, "train_index": …, …}``.

    """
    unknown = set(optional) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown optional fields {sorted(unknown)}; valid: {', '.join(OPTIONAL_FIELDS)}")
    index = np.arange(len(lonlat), dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for name in SPLIT_NAMES:
        rows = parts[name]
        out[f"{name}_lonlat"] = np.asarray(lonlat[rows], dtype=np.float32)
        out[f"{name}_target"] = target[rows]
        out[f"{name}_index"] = index[rows]
        for field, values in optional.items():
            out[f"{name}_{field}"] = values[rows]
    return out


def protocol_arrays(
    points: Mapping[str, np.ndarray], labels: Callable[[np.ndarray], np.ndarray], spec: SplitSpec
) -> dict[str, np.ndarray]:
    """Flat arrays for a dataset whose splits are separately sampled point sets (a fixed protocol).

    Args:
        points: ``{"train": [N_tr, 2], "val": …, "test": …}`` (lon, lat) degrees.
        labels: maps ``[N, 2]`` points to ``[N]`` targets.
        spec: ``split="random"`` keeps the protocol's splits as they are; ``"spatial_block"`` keeps each
            split's points only inside its own blocks (:func:`~engine.datasets.splits.restrict_to_blocks`).

    Returns:
        The :func:`split_arrays` layout; ``index`` counts rows of the pool train ⧺ val ⧺ test.

    """
    arrays = [np.asarray(points[name], dtype=np.float64) for name in SPLIT_NAMES]
    lonlat = np.concatenate(arrays)
    if spec.split == "spatial_block":
        kept = restrict_to_blocks(
            dict(zip(SPLIT_NAMES, arrays, strict=True)),
            fractions=spec.fractions,
            seed=spec.seed,
            **spec.blocks,
        )
    else:
        kept = {name: np.arange(len(a), dtype=np.int64) for name, a in zip(SPLIT_NAMES, arrays, strict=True)}
    offsets = np.cumsum([0] + [len(a) for a in arrays[:-1]])
    parts = {name: kept[name] + offsets[k] for k, name in enumerate(SPLIT_NAMES)}
    return split_arrays(lonlat, labels(lonlat), parts)


def _tensor(values: np.ndarray | None) -> torch.Tensor | None:
    return None if values is None else torch.from_numpy(np.ascontiguousarray(values))


def dataset_from_arrays(
    info: DatasetInfo, arrays: Mapping[str, np.ndarray], split_config: Mapping[str, Any]
) -> Dataset:
    """Build a :class:`Dataset` from the flat layout of :func:`split_arrays`.

    Classification targets become ``int64``, regression targets ``float32``; lonlat is ``float32``.
    """
    target_dtype = torch.int64 if info.task == "classification" else torch.float32
    splits: dict[str, Split] = {}
    for name in SPLIT_NAMES:
        splits[name] = Split(
            lonlat=torch.from_numpy(np.ascontiguousarray(arrays[f"{name}_lonlat"], dtype=np.float32)),
            target=torch.from_numpy(np.ascontiguousarray(arrays[f"{name}_target"])).to(target_dtype),
            image_prior=_tensor(arrays.get(f"{name}_image_prior")),
            image_features=_tensor(arrays.get(f"{name}_image_features")),
            index=torch.from_numpy(np.ascontiguousarray(arrays[f"{name}_index"], dtype=np.int64)),
        )
    return Dataset(info=info, split_config=dict(split_config), **splits)

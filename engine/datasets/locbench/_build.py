"""Assemble a LocBench :class:`Dataset` from a published training pool and a published test split.

LocBench publishes train and test (or "val", used as test) only. Validation is always carved out of the
training pool, so model selection never sees test:

- ``split="random"``: ``val_fraction`` of the pool, drawn with ``seed``
  (:func:`engine.datasets.splits.carve_validation`).
- ``split="spatial_block"``: whole H3 cells (resolution ``block_res``, default
  :data:`~engine.datasets.splits.DEFAULT_BLOCK_RES`) of the pool go to validation until it holds about
  ``val_fraction`` of the rows, so validation measures extrapolation to unseen regions.

The published test split is kept as the benchmark's test either way (changing it would break comparability
with the published tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import torch

from engine.datasets.base import Dataset, DatasetInfo, Split
from engine.datasets.splits import DEFAULT_BLOCK_RES, block_ids, carve_validation

SplitMethod = Literal["random", "spatial_block"]
SPLIT_METHODS: tuple[str, ...] = ("random", "spatial_block")


def check_split_args(split: str, val_fraction: float) -> None:
    """Raise ``ValueError`` for an unknown ``split`` or a ``val_fraction`` outside (0, 1)."""
    if split not in SPLIT_METHODS:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLIT_METHODS)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")


def carve_blocks(blocks: np.ndarray, *, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Move whole blocks to validation, in a seeded order, until it holds ``val_fraction`` of the rows.

    Args:
        blocks: ``[N]`` block id per row.
        val_fraction: target share of rows in validation.
        seed: seed of the block order.

    Returns:
        ``(train, val)`` sorted disjoint row ids covering ``range(N)``; no block is in both.

    """
    unique, inverse, counts = np.unique(blocks, return_inverse=True, return_counts=True)
    if len(unique) < 2:
        raise ValueError("the training pool lies in a single spatial block: use split='random'")
    order = np.random.default_rng(seed).permutation(len(unique))
    target = val_fraction * len(blocks)
    cumulative = np.cumsum(counts[order])
    # smallest prefix of shuffled blocks reaching the target, at least one block, never all of them
    n_blocks = int(np.clip(np.searchsorted(cumulative, target) + 1, 1, len(unique) - 1))
    in_val = np.zeros(len(unique), dtype=bool)
    in_val[order[:n_blocks]] = True
    val_row = in_val[inverse]
    return np.flatnonzero(~val_row).astype(np.int64), np.flatnonzero(val_row).astype(np.int64)


def finish(
    info: DatasetInfo,
    pool: Split,
    test: Split,
    *,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int = DEFAULT_BLOCK_RES,
    notes: Sequence[str] = (),
    **extra_config: Any,
) -> Dataset:
    """Carve validation out of ``pool`` and return the :class:`Dataset` with provenance notes.

    Args:
        info: metadata without split notes.
        pool: every usable (located) published training row.
        test: the published evaluation split (rows without location kept, flagged in ``has_location``).
        seed: seed of the validation draw.
        val_fraction: share of the pool moved to validation.
        split: ``"random"`` or ``"spatial_block"`` (see the module docstring).
        block_res: H3 resolution of the blocks for ``split="spatial_block"``.
        notes: dataset-specific sentences put before the split description in ``info.notes``.
        **extra_config: extra builder arguments recorded in :attr:`Dataset.split_config` (passing the
            recorded keys back to the builder reproduces the split).

    Returns:
        The dataset; ``train``, ``val`` and ``test`` never share a row.

    """
    check_split_args(split, val_fraction)
    if split == "random":
        train_rows, val_rows = carve_validation(np.arange(len(pool)), val_fraction=val_fraction, seed=seed)
        how = f"{val_fraction:.0%} of the located training rows drawn at random (seed {seed})"
    else:
        blocks = block_ids(pool.lonlat.double().numpy(), block_res=block_res)
        train_rows, val_rows = carve_blocks(blocks, val_fraction=val_fraction, seed=seed)
        how = (
            f"whole H3 cells (resolution {block_res}) of the training rows, about {val_fraction:.0%} "
            f"of them, drawn with seed {seed}; test stays the published test split"
        )
    if len(train_rows) == 0 or len(val_rows) == 0:
        raise ValueError(
            f"{info.name}: cannot carve a validation split ({len(pool)} located training rows, "
            f"val_fraction={val_fraction})"
        )
    train = pool.subset(torch.from_numpy(train_rows))
    val = pool.subset(torch.from_numpy(val_rows))
    text = " ".join(
        [
            *notes,
            f"Validation carved out of the published training split: {how}; model selection never sees test.",
        ]
    )
    config: dict[str, Any] = {"split": split, "seed": int(seed), "val_fraction": float(val_fraction)}
    if split == "spatial_block":
        config["block_res"] = int(block_res)
    config.update(extra_config)
    return Dataset(info=replace(info, notes=text), train=train, val=val, test=test, split_config=config)


def make_split(
    lonlat: np.ndarray,
    target: np.ndarray,
    *,
    index: np.ndarray | None = None,
    image_prior: torch.Tensor | None = None,
    image_features: np.ndarray | None = None,
) -> Split:
    """Build a :class:`Split` from numpy arrays (lonlat float32, NaN rows = no location)."""
    target_t = torch.from_numpy(np.ascontiguousarray(target))
    target_t = target_t.to(torch.int64) if target.dtype.kind in "iu" else target_t.to(torch.float32)
    return Split(
        lonlat=torch.from_numpy(np.ascontiguousarray(lonlat, dtype=np.float32)),
        target=target_t,
        image_prior=image_prior,
        image_features=None
        if image_features is None
        else torch.from_numpy(np.ascontiguousarray(image_features, dtype=np.float32)),
        index=None if index is None else torch.from_numpy(np.asarray(index, dtype=np.int64)),
    )


def located(split: Split) -> Split:
    """Keep the rows of ``split`` that have a location (training pools drop the others)."""
    assert split.has_location is not None
    return split.subset(split.has_location)

"""``checkerboard``: the synthetic spherical checkerboard of Rußwurm et al. (2024).

A Fibonacci lattice of ``n_support`` (200) support points carries labels ``i mod num_classes`` (16); every
sample takes the label of its nearest support point (great-circle distance), which tiles the sphere into
near-equal-area cells of 16 interleaved classes. Protocol: ``n_train`` sphere-uniform training points
(seed 0), ``n_val`` validation points (seed 1), test on an ``n_test``-point Fibonacci grid.
"""

from __future__ import annotations

import numpy as np
import torch

import engine
from engine.datasets.assemble import dataset_from_arrays, protocol_arrays
from engine.datasets.base import DATASETS, Dataset, DatasetInfo
from engine.datasets.cache import load_or_build
from engine.datasets.splits import (
    DEFAULT_BLOCK_RES,
    DEFAULT_FRACTIONS,
    BlockKind,
    Fractions,
    SplitKind,
    SplitSpec,
)
from engine.geo import fibonacci_lattice, haversine_km, sample_sphere_uniform

CITATION = (
    "Rußwurm, M., Klemmer, K., Rolf, E., Zbinden, R., Tuia, D. (2024). Geographic Location Encoding with "
    "Spherical Harmonics and Sinusoidal Representation Networks. ICLR 2024."
)


def checkerboard_labels(
    lonlat: np.ndarray | torch.Tensor, *, n_support: int = 200, num_classes: int = 16, chunk: int = 65_536
) -> np.ndarray:
    """Label of each (lon, lat) point: ``argmin_i haversine(x, s_i) mod num_classes`` (``[N]`` int64).

    ``s_i`` is the ``n_support``-point Fibonacci lattice (:func:`engine.geo.fibonacci_lattice`).
    """
    support = fibonacci_lattice(n_support, dtype=torch.float64)  # [S, 2]
    x = torch.as_tensor(lonlat, dtype=torch.float64)
    nearest = [
        haversine_km(x[i : i + chunk, None, :], support[None, :, :]).argmin(dim=1)  # [chunk, S] -> [chunk]
        for i in range(0, len(x), chunk)
    ]
    labels = torch.cat(nearest) % num_classes if nearest else torch.zeros(0, dtype=torch.int64)
    return labels.numpy()


@DATASETS.register(
    "checkerboard", task="classification", display_name="Checkerboard", embedded=True, group="embedded"
)
def checkerboard(
    root: str | None = None,
    *,
    n_train: int = 10_000,
    n_val: int = 10_000,
    n_test: int = 10_000,
    n_support: int = 200,
    num_classes: int = 16,
    seed: int = 0,
    split: SplitKind = "random",
    fractions: Fractions = DEFAULT_FRACTIONS,
    block: BlockKind = "h3",
    block_res: int = DEFAULT_BLOCK_RES,
    block_deg: float = 10.0,
    cache: bool = True,
) -> Dataset:
    """Build the checkerboard dataset (synthetic, no files; ``root`` is ignored).

    Args:
        root: unused (kept for the common ``load_dataset`` signature).
        n_train: sphere-uniform training points (sampled with seed ``2 * seed``).
        n_val: sphere-uniform validation points (seed ``2 * seed + 1``); seed 0 gives the protocol's 0 and 1.
        n_test: points of the Fibonacci test grid.
        n_support: support points of the lattice that defines the labels.
        num_classes: number of classes (labels ``i mod num_classes``).
        seed: data and split seed.
        split: ``"random"`` is the protocol above (independent samples; test on the grid);
            ``"spatial_block"`` keeps each split's points only inside its own blocks, assigned by
            ``fractions`` of the pooled points, so each split shrinks to about its fraction.
        fractions: (train, val, test) shares of blocks for ``split="spatial_block"``.
        block: ``"h3"`` cells or ``"lonlat"`` boxes.
        block_res: H3 resolution of the blocks.
        block_deg: box size for ``block="lonlat"``.
        cache: read/write the derived arrays under ``$LOCLAB_CACHE``.

    Returns:
        A ``num_classes``-class :class:`Dataset`; ``index`` counts rows of the pool train ⧺ val ⧺ test.

    """
    for key, value in {"n_train": n_train, "n_val": n_val, "n_test": n_test, "n_support": n_support}.items():
        if value <= 0:
            raise ValueError(f"{key} must be positive, got {value}")
    spec = SplitSpec(
        split=split, seed=seed, fractions=fractions, block=block, block_res=block_res, block_deg=block_deg
    )
    protocol = f"train sphere-uniform seed {2 * seed}, val seed {2 * seed + 1}, test Fibonacci grid"
    config = spec.config(with_fractions=False, protocol=protocol)
    params = {"n": [n_train, n_val, n_test], "n_support": n_support, "num_classes": num_classes, **config}

    def build() -> dict[str, np.ndarray]:
        points = {
            "train": sample_sphere_uniform(n_train, seed=2 * seed).numpy(),
            "val": sample_sphere_uniform(n_val, seed=2 * seed + 1).numpy(),
            "test": fibonacci_lattice(n_test).numpy(),
        }
        return protocol_arrays(
            points, lambda x: checkerboard_labels(x, n_support=n_support, num_classes=num_classes), spec
        )

    version = f"engine{engine.__version__}"
    arrays = load_or_build("checkerboard", source_version=version, params=params, build=build, enabled=cache)
    blocked = (
        " Spatial block: each split keeps only its points inside its own blocks." if split != "random" else ""
    )
    info = DatasetInfo(
        name="checkerboard",
        display_name="Checkerboard",
        task="classification",
        class_names=tuple(str(c) for c in range(num_classes)),
        target_name=f"class of the nearest of {n_support} Fibonacci support points (index mod {num_classes})",
        coverage="global (uniform)",
        citation=CITATION,
        licence="synthetic data generated by LocLab (MIT)",
        source="generated (engine.datasets.checkerboard)",
        notes=(
            f"Synthetic. Train {n_train} sphere-uniform points (seed {2 * seed}), val {n_val} (seed "
            f"{2 * seed + 1}), test {n_test}-point Fibonacci grid; index = row of train ⧺ val ⧺ test."
            + blocked
        ),
        embedded=True,
    )
    return dataset_from_arrays(info, arrays, config)

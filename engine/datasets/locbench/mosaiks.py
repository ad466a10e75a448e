"""MOSAIKS regression tasks: population, forest cover, nightlights, elevation (Rolf et al. 2021).

Layout under ``root`` (the reference's ``mosaiks/`` data folder; ``L`` = population | forest | nightlights |
elevation)::

    root/mosaiks/Y_L.csv     columns lon, lat, split (train | val | test), L   (one row per image)
    root/mosaiks/X_L.npy     float [N, 2048] remote-sensing image features, row i <-> CSV row i

Targets are used as published (population is already log(1 + density); elevation in metres).

Splits. The reference draws a fresh, **unseeded** 5 % subsample of each published split on every run
(``np.random.choice`` without a seed), so R² values are not comparable across encoders or runs. Here the
subsample is drawn with ``seed`` (fraction ``subsample``, default 0.05 to keep the reference's scale;
``subsample=1.0`` keeps every row): the same seed gives the same rows for every encoder. Published
``train`` and ``val`` rows form the training pool, validation is carved out of it, published ``test`` rows
are the test split.
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
    check_matrix_shape,
    load_npy,
    lonlat_from,
    numeric_column,
    read_csv,
    require_file,
    require_root,
)
from engine.datasets.splits import DEFAULT_BLOCK_RES

FEATURE_DIM = 2048
"""Width of the published MOSAIKS image features."""
MOSAIKS_CITATION = (
    "Rolf, E., Proctor, J., Carleton, T., et al. A generalizable and accessible approach to machine learning "
    f"with global satellite imagery. Nature Communications 12, 4392 (2021). Benchmark: {LOCBENCH_CITATION}"
)


def mosaiks_files(label: str) -> list[str]:
    """Return the required relative paths of the MOSAIKS task whose label column is ``label``."""
    return [f"mosaiks/Y_{label}.csv", f"mosaiks/X_{label}.npy"]


def _subsample(rows: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    if fraction >= 1.0 or len(rows) == 0:
        return rows
    keep = max(1, round(len(rows) * fraction))
    return np.sort(rng.choice(rows, size=keep, replace=False))


def load_mosaiks(
    label: str,
    root: str | Path | None,
    *,
    name: str,
    display_name: str,
    target_name: str,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int,
    subsample: float,
) -> Dataset:
    """Read one MOSAIKS task (see the module docstring for the layout)."""
    if not 0.0 < subsample <= 1.0:
        raise ValueError(f"subsample must be in (0, 1], got {subsample}")
    check_split_args(split, val_fraction)
    base = require_root(root, name)
    y_rel, x_rel = mosaiks_files(label)
    y_path, x_path = require_file(base, y_rel, name), require_file(base, x_rel, name)
    frame = read_csv(y_path, name, ("lon", "lat", "split", label))
    labels = frame["split"].astype(str).to_numpy()
    unknown = sorted(set(labels) - {"train", "val", "test"})
    if unknown:
        raise ValueError(f"{name}: column 'split' of {str(y_path)!r} has unknown values {unknown}")
    lonlat = lonlat_from(
        numeric_column(frame, "lon", y_path, name),
        numeric_column(frame, "lat", y_path, name),
        y_path,
        name,
        allow_missing=False,
    )
    target = numeric_column(frame, label, y_path, name)
    if not np.isfinite(target).all():
        bad = np.flatnonzero(~np.isfinite(target))
        raise ValueError(
            f"{name}: column {label!r} of {str(y_path)!r} has {len(bad)} NaN/inf values "
            f"(first at row {int(bad[0])})"
        )
    features = load_npy(x_path, name, mmap=True)
    check_matrix_shape(features.shape, len(frame), FEATURE_DIM, "feature matrix", x_path, name)

    rng = np.random.default_rng([seed, 20])  # its own stream: independent of the validation draw
    parts = {}
    for part, published in (("train", ("train", "val")), ("test", ("test",))):
        rows = _subsample(np.flatnonzero(np.isin(labels, published)), subsample, rng)
        feats = np.asarray(features[rows], dtype=np.float32)
        if not np.isfinite(feats).all():
            raise ValueError(f"{name}: {str(x_path)!r} has NaN/inf features in {part} rows")
        parts[part] = make_split(
            lonlat[rows], target[rows].astype(np.float32), index=rows, image_features=feats
        )
    notes = [
        f"Seeded subsample: {subsample:.0%} of each published split, drawn with seed {seed} (the reference "
        "draws an unseeded 5 % on every run).",
        "Published train+val rows form the training pool; test = the published test rows "
        f"({len(parts['test'])}).",
    ]
    info = DatasetInfo(
        name=name,
        display_name=display_name,
        task="regression",
        target_name=target_name,
        coverage="global (uniform at random over land)",
        citation=MOSAIKS_CITATION,
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
        subsample=float(subsample),
    )


_META = {"task": "regression", "group": "locbench", "embedded": False}


@DATASETS.register(
    "mosaiks_population", display_name="MOSAIKS population", files=mosaiks_files("population"), **_META
)
def mosaiks_population(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    subsample: float = 0.05,
) -> Dataset:
    """MOSAIKS population density, log(1 + people per km²), ~425k images (Rolf et al. 2021).

    Args:
        root: data root holding ``mosaiks/`` (see the module docstring); ``None`` raises with download help.
        seed: seed of the subsample and of the validation split.
        val_fraction: share of the training pool carved out as validation.
        split: ``"random"`` or ``"spatial_block"`` validation carving.
        block_res: H3 resolution of the validation blocks for ``split="spatial_block"``.
        subsample: fraction of each published split kept (seeded; 1.0 keeps all).

    """
    return load_mosaiks(
        "population",
        root,
        name="mosaiks_population",
        display_name="MOSAIKS population",
        target_name="log(1 + population density)",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        subsample=subsample,
    )


@DATASETS.register(
    "mosaiks_forest_cover", display_name="MOSAIKS forest cover", files=mosaiks_files("forest"), **_META
)
def mosaiks_forest_cover(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    subsample: float = 0.05,
) -> Dataset:
    """MOSAIKS forest cover, % of vegetation > 5 m, ~498k images (label column ``forest``).

    Args as :func:`mosaiks_population`.
    """
    return load_mosaiks(
        "forest",
        root,
        name="mosaiks_forest_cover",
        display_name="MOSAIKS forest cover",
        target_name="forest cover (%)",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        subsample=subsample,
    )


@DATASETS.register(
    "mosaiks_nightlights", display_name="MOSAIKS nightlights", files=mosaiks_files("nightlights"), **_META
)
def mosaiks_nightlights(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    subsample: float = 0.05,
) -> Dataset:
    """MOSAIKS nightlights, VIIRS 2015 mean night radiance, ~492k images; see :func:`mosaiks_population`."""
    return load_mosaiks(
        "nightlights",
        root,
        name="mosaiks_nightlights",
        display_name="MOSAIKS nightlights",
        target_name="VIIRS night radiance",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        subsample=subsample,
    )


@DATASETS.register(
    "mosaiks_elevation", display_name="MOSAIKS elevation", files=mosaiks_files("elevation"), **_META
)
def mosaiks_elevation(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
    subsample: float = 0.05,
) -> Dataset:
    """MOSAIKS elevation in metres (SRTM), ~498k images. Args as :func:`mosaiks_population`."""
    return load_mosaiks(
        "elevation",
        root,
        name="mosaiks_elevation",
        display_name="MOSAIKS elevation",
        target_name="elevation (m)",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
        subsample=subsample,
    )

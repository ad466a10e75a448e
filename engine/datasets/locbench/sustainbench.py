"""SustainBench DHS regression tasks (Yeh et al. 2021): six survey indicators of DHS clusters.

Layout under ``root`` (the reference's ``sustainbench/`` data folder)::

    root/sustainbench/dhs_trainval_labels.csv
    root/sustainbench/dhs_test_labels.csv

Both CSVs have columns ``lon, lat, nl_mean`` and one ``<label>_normalized`` column per indicator
(``asset_index``, ``women_bmi``, ``water_index``, ``under5_mort``, ``sanitation_index``, ``women_edu``).
The image input is the scalar night-light mean ``nl_mean`` (an ``[N, 1]`` feature). Each indicator is only
surveyed in some clusters: rows whose label is empty are dropped, as in the reference. The train/val CSV is
the training pool (validation carved out of it), the test CSV the test split.
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
    lonlat_from,
    numeric_column,
    read_csv,
    require_file,
    require_root,
)
from engine.datasets.splits import DEFAULT_BLOCK_RES

TRAINVAL_CSV = "sustainbench/dhs_trainval_labels.csv"
TEST_CSV = "sustainbench/dhs_test_labels.csv"
FILES = [TRAINVAL_CSV, TEST_CSV]
SUSTAINBENCH_CITATION = (
    "Yeh, C., Meng, C., Wang, S., et al. SustainBench: Benchmarks for Monitoring the Sustainable Development "
    "Goals with Machine Learning. NeurIPS 2021 Datasets and Benchmarks Track. Survey data: the Demographic "
    f"and Health Surveys (DHS) Program. Benchmark: {LOCBENCH_CITATION}"
)


def _read(path: Path, column: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(lonlat, target, nl_mean [N, 1], CSV row ids, rows dropped) of the rows where ``column`` is set."""
    frame = read_csv(path, name, ("lon", "lat", "nl_mean", column))
    target = numeric_column(frame, column, path, name)
    rows = np.flatnonzero(~np.isnan(target))
    lonlat = lonlat_from(
        numeric_column(frame, "lon", path, name)[rows],
        numeric_column(frame, "lat", path, name)[rows],
        path,
        name,
        allow_missing=False,
    )
    nl_mean = numeric_column(frame, "nl_mean", path, name)[rows]
    if not np.isfinite(nl_mean).all() or not np.isfinite(target[rows]).all():
        raise ValueError(f"{name}: columns 'nl_mean' / {column!r} of {str(path)!r} hold NaN/inf values")
    return lonlat, target[rows], nl_mean[:, None], rows, len(frame) - len(rows)


def load_sustainbench(
    label: str,
    root: str | Path | None,
    *,
    name: str,
    display_name: str,
    seed: int,
    val_fraction: float,
    split: str,
    block_res: int,
) -> Dataset:
    """Read one SustainBench indicator (see the module docstring for the layout)."""
    check_split_args(split, val_fraction)
    base = require_root(root, name)
    column = f"{label}_normalized"
    parts, dropped = {}, {}
    for part, rel in (("train", TRAINVAL_CSV), ("test", TEST_CSV)):
        path = require_file(base, rel, name)
        lonlat, target, nl_mean, rows, dropped[part] = _read(path, column, name)
        parts[part] = make_split(lonlat, target.astype(np.float32), index=rows, image_features=nl_mean)
    notes = [
        f"Rows without a {column!r} value dropped (train/val file: {dropped['train']}, test file: "
        f"{dropped['test']}).",
        f"Test = {TEST_CSV} ({len(parts['test'])} clusters).",
    ]
    info = DatasetInfo(
        name=name,
        display_name=display_name,
        task="regression",
        target_name=f"{column} (DHS cluster mean, normalised)",
        coverage="DHS survey countries (mostly Africa, South Asia)",
        citation=SUSTAINBENCH_CITATION,
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


_META = {"task": "regression", "group": "locbench", "embedded": False, "files": FILES}


@DATASETS.register("sustainbench_asset_index", display_name="SustainBench asset index", **_META)
def sustainbench_asset_index(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
) -> Dataset:
    """SustainBench asset wealth index (column ``asset_index_normalized``; Yeh et al. 2021).

    Args:
        root: data root holding ``sustainbench/`` (see the module docstring); ``None`` raises with download
            help.
        seed: seed of the validation split.
        val_fraction: share of the train/val clusters carved out as validation.
        split: ``"random"`` or ``"spatial_block"`` validation carving.
        block_res: H3 resolution of the validation blocks for ``split="spatial_block"``.

    """
    return load_sustainbench(
        "asset_index",
        root,
        name="sustainbench_asset_index",
        display_name="SustainBench asset index",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
    )


@DATASETS.register("sustainbench_women_bmi", display_name="SustainBench women BMI", **_META)
def sustainbench_women_bmi(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
) -> Dataset:
    """SustainBench women's mean body-mass index, column ``women_bmi_normalized``.

    Args as :func:`sustainbench_asset_index`.
    """
    return load_sustainbench(
        "women_bmi",
        root,
        name="sustainbench_women_bmi",
        display_name="SustainBench women BMI",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
    )


@DATASETS.register("sustainbench_water_index", display_name="SustainBench water index", **_META)
def sustainbench_water_index(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
) -> Dataset:
    """SustainBench drinking-water quality index, column ``water_index_normalized``.

    Args as :func:`sustainbench_asset_index`.
    """
    return load_sustainbench(
        "water_index",
        root,
        name="sustainbench_water_index",
        display_name="SustainBench water index",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
    )


@DATASETS.register("sustainbench_under5_mort", display_name="SustainBench child mortality", **_META)
def sustainbench_under5_mort(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
) -> Dataset:
    """SustainBench under-5 mortality rate, column ``under5_mort_normalized``.

    Args as :func:`sustainbench_asset_index`.
    """
    return load_sustainbench(
        "under5_mort",
        root,
        name="sustainbench_under5_mort",
        display_name="SustainBench child mortality",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
    )


@DATASETS.register("sustainbench_sanitation_index", display_name="SustainBench sanitation index", **_META)
def sustainbench_sanitation_index(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
) -> Dataset:
    """SustainBench sanitation quality index, column ``sanitation_index_normalized``.

    Args as :func:`sustainbench_asset_index`.
    """
    return load_sustainbench(
        "sanitation_index",
        root,
        name="sustainbench_sanitation_index",
        display_name="SustainBench sanitation index",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
    )


@DATASETS.register("sustainbench_women_edu", display_name="SustainBench women education", **_META)
def sustainbench_women_edu(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    split: SplitMethod = "random",
    block_res: int = DEFAULT_BLOCK_RES,
) -> Dataset:
    """SustainBench women's mean years of education, column ``women_edu_normalized``.

    Args as :func:`sustainbench_asset_index`.
    """
    return load_sustainbench(
        "women_edu",
        root,
        name="sustainbench_women_edu",
        display_name="SustainBench women education",
        seed=seed,
        val_fraction=val_fraction,
        split=split,
        block_res=block_res,
    )

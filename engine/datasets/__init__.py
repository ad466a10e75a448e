"""Datasets: embedded offline tasks, LocBench loaders and the user-table loader, all as :class:`Dataset`.

Usage::

    import engine
    engine.list_datasets()                      # ["checkerboard", "land_ocean", ...]
    ds = engine.load_dataset("cities_country", split="spatial_block", block_res=2, seed=0)
    ds.train.lonlat, ds.train.target            # [N, 2] (lon, lat) degrees, [N] class index
    ds.split_assignment()                       # JSON-ready record of the split, to save with a run
    engine.load_table("my.csv", target="species")
"""

from __future__ import annotations

from typing import Any

from engine.datasets import checkerboard, cities_country, cities_population, land_ocean, simulated_prior
from engine.datasets.base import DATASETS, Dataset, DatasetInfo, Split
from engine.datasets.table import load_table

try:  # LocBench loaders register themselves (group="locbench"); absent until that package lands.
    from engine.datasets import locbench  # noqa: F401
except ModuleNotFoundError as err:
    if err.name != "engine.datasets.locbench":
        raise

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetInfo",
    "Split",
    "checkerboard",
    "cities_country",
    "cities_population",
    "land_ocean",
    "list_datasets",
    "load_dataset",
    "load_table",
    "simulated_prior",
]


def list_datasets(group: str | None = None) -> list[str]:
    """List registered dataset names in registration order, optionally only one ``group``.

    Args:
        group: ``"embedded"`` (ships with the installation) or ``"locbench"`` (needs a download);
            ``None`` lists all.

    """
    return [e.name for e in DATASETS if group is None or e.meta.get("group") == group]


def load_dataset(name: str, root: str | None = None, **kwargs: Any) -> Dataset:
    """Load a registered dataset with its three disjoint splits.

    Args:
        name: a name from :func:`list_datasets` (unknown names raise ``ValueError`` listing the valid ones).
        root: folder holding downloaded data (LocBench); ignored by embedded datasets.
        **kwargs: builder options, e.g. ``seed``, ``split="random" | "spatial_block"``, ``block_res``,
            sizes such as ``n_train`` (see each builder's docstring).

    Returns:
        The :class:`Dataset`.

    """
    return DATASETS.entry(name).builder(root=root, **kwargs)

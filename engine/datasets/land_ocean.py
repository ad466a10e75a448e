"""``land_ocean``: is a point on land? Labels from the Natural Earth country polygons.

The polygons are ``assets/world.geojson`` (Natural Earth 1:110m "naturalearth_lowres", public domain;
made by ``scripts/make_world_geojson.py``), the same file the dashboard draws as its basemap. About 29 %
of the sphere is land in these polygons (lakes such as the Caspian Sea count as water).
Protocol: ``n_train`` + ``n_val`` sphere-uniform points, test on an equal-area grid of ``test_spacing_km``.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

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
from engine.geo import equal_area_grid, sample_sphere_uniform

WORLD_GEOJSON = Path(__file__).resolve().parents[2] / "assets" / "world.geojson"
"""The committed Natural Earth countries (lon/lat, EPSG:4326)."""

CITATION = "Natural Earth, 1:110m Cultural Vectors: Admin 0 – Countries (naturalearthdata.com)."


def world_path() -> Path:
    """Path of ``assets/world.geojson``; ``FileNotFoundError`` with the fix when it is missing."""
    if not WORLD_GEOJSON.is_file():
        raise FileNotFoundError(
            f"{WORLD_GEOJSON} is missing: regenerate it with `python scripts/make_world_geojson.py`"
        )
    return WORLD_GEOJSON


@cache
def land_geometry(path: Path | None = None) -> shapely.Geometry:
    """Union of all country polygons as one prepared shapely geometry (read once per process)."""
    collection = json.loads((path or world_path()).read_text())
    land = shapely.union_all([shape(feature["geometry"]) for feature in collection["features"]])
    shapely.prepare(land)
    return land


def is_land(lonlat: np.ndarray, path: Path | None = None) -> np.ndarray:
    """``[N]`` bool: is each (lon, lat) degree point inside a country polygon (vectorised, shapely 2)."""
    lonlat = np.asarray(lonlat, dtype=np.float64)
    return shapely.contains_xy(land_geometry(path), lonlat[:, 0], lonlat[:, 1])


def _file_version(path: Path) -> str:
    """Short content hash of the polygon file (part of the cache key)."""
    return "world-" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@DATASETS.register(
    "land_ocean", task="classification", display_name="Land / ocean", embedded=True, group="embedded"
)
def land_ocean(
    root: str | None = None,
    *,
    n_train: int = 5_000,
    n_val: int = 5_000,
    test_spacing_km: float = 100.0,
    seed: int = 0,
    split: SplitKind = "random",
    fractions: Fractions = DEFAULT_FRACTIONS,
    block: BlockKind = "h3",
    block_res: int = DEFAULT_BLOCK_RES,
    block_deg: float = 10.0,
    cache: bool = True,
) -> Dataset:
    """Build the land/ocean dataset (classes ``ocean`` = 0, ``land`` = 1; ``root`` is ignored).

    Args:
        root: unused (kept for the common ``load_dataset`` signature).
        n_train: sphere-uniform training points (seed ``2 * seed``).
        n_val: sphere-uniform validation points (seed ``2 * seed + 1``).
        test_spacing_km: spacing of the equal-area test grid (100 km: 51,006 points).
        seed: data and split seed.
        split: ``"random"`` is the protocol; ``"spatial_block"`` keeps each split's points only inside its
            own blocks (each split shrinks to about its fraction).
        fractions: (train, val, test) shares of blocks for ``split="spatial_block"``.
        block: ``"h3"`` cells or ``"lonlat"`` boxes.
        block_res: H3 resolution of the blocks.
        block_deg: box size for ``block="lonlat"``.
        cache: read/write the derived arrays under ``$LOCLAB_CACHE``.

    Returns:
        A 2-class :class:`Dataset`; ``index`` counts rows of the pool train ⧺ val ⧺ test.

    """
    if n_train <= 0 or n_val <= 0:
        raise ValueError(f"n_train and n_val must be positive, got {n_train}, {n_val}")
    path = world_path()
    spec = SplitSpec(
        split=split, seed=seed, fractions=fractions, block=block, block_res=block_res, block_deg=block_deg
    )
    protocol = (
        f"train sphere-uniform seed {2 * seed}, val seed {2 * seed + 1}, test {test_spacing_km} km grid"
    )
    config = spec.config(with_fractions=False, protocol=protocol)
    params = {"n": [n_train, n_val], "test_spacing_km": float(test_spacing_km), **config}

    def build() -> dict[str, np.ndarray]:
        points = {
            "train": sample_sphere_uniform(n_train, seed=2 * seed).numpy(),
            "val": sample_sphere_uniform(n_val, seed=2 * seed + 1).numpy(),
            "test": equal_area_grid(test_spacing_km).numpy(),
        }
        return protocol_arrays(points, lambda x: is_land(x, path).astype(np.int64), spec)

    arrays = load_or_build(
        "land_ocean", source_version=_file_version(path), params=params, build=build, enabled=cache
    )
    blocked = (
        " Spatial block: each split keeps only its points inside its own blocks." if split != "random" else ""
    )
    info = DatasetInfo(
        name="land_ocean",
        display_name="Land / ocean",
        task="classification",
        class_names=("ocean", "land"),
        target_name="1 if the point lies inside a Natural Earth country polygon",
        coverage="global (uniform)",
        citation=CITATION,
        licence="Natural Earth: public domain",
        source="assets/world.geojson (from pyogrio's naturalearth_lowres test fixture)",
        notes=(
            f"Train {n_train} sphere-uniform points (seed {2 * seed}), val {n_val} (seed {2 * seed + 1}), "
            f"test on a {test_spacing_km:g} km equal-area Fibonacci grid; about 29 % land. 1:110m polygons: "
            f"small islands are missing and coasts are coarse. index = row of train ⧺ val ⧺ test.{blocked}"
        ),
        embedded=True,
    )
    return dataset_from_arrays(info, arrays, config)

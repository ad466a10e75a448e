"""Convert pyogrio's Natural Earth low-resolution test fixture to ``assets/world.geojson`` (run once).

The file is the offline world map of LocLab: the ``land_ocean`` dataset's polygons and the dashboard's
basemap. Natural Earth is public domain. Only ``name``, ``iso_a3``, ``continent`` and ``pop_est`` are kept;
``iso_a3`` is "-99" for France, Norway, N. Cyprus, Somaliland and Kosovo, so consumers key on ``name``.

Usage::

    .venv/bin/python scripts/make_world_geojson.py [--out assets/world.geojson]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyogrio

FIXTURE = (
    Path(pyogrio.__file__).parent / "tests" / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"
)
COLUMNS = ("name", "iso_a3", "continent", "pop_est")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "assets" / "world.geojson"


def world_geojson(source: Path = FIXTURE, precision: int = 6) -> dict:
    """Return the Natural Earth countries as a GeoJSON ``FeatureCollection`` dict (EPSG:4326, lon/lat)."""
    frame = pyogrio.read_dataframe(source, columns=list(COLUMNS))
    frame = frame.to_crs(4326) if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame
    frame["pop_est"] = frame["pop_est"].astype("int64")
    text = frame[[*COLUMNS, "geometry"]].to_json(drop_id=True, to_wgs84=False)
    collection = json.loads(text)
    for feature in collection["features"]:
        feature["geometry"]["coordinates"] = _round(feature["geometry"]["coordinates"], precision)
    return collection


def _round(coords: object, precision: int) -> object:
    """Round nested coordinate lists to ``precision`` decimals."""
    if isinstance(coords, list):
        return [_round(c, precision) for c in coords]
    return round(float(coords), precision)


def main(argv: list[str] | None = None) -> int:
    """Write the GeoJSON file atomically and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output path")
    args = parser.parse_args(argv)
    collection = world_geojson()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(collection, separators=(",", ":")) + "\n")
    tmp.replace(args.out)  # atomic on the same filesystem
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({len(collection['features'])} countries, {size_kb:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""
Pure pydeck builders for the offline globe (no streamlit import; see docs/dashboard_stack.md).

Every deck uses ``_GlobeView`` with ``map_provider=None`` (no tile basemap, no request outside the app): an
ocean ``SolidPolygonLayer`` and the countries from ``assets/world.geojson`` are the base map. Every 2-D layer
gets ``parameters={"depthCompare": "always"}`` (no z-fighting) and H3 layers ``extruded=False``. Colours are
per-row ``r, g, b`` columns read by a deck.gl expression, values are rounded: specs stay lean because a
changed deck is re-sent whole over the websocket.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

WORLD_GEOJSON = Path(__file__).resolve().parents[1] / "assets" / "world.geojson"
FLAT = {"depthCompare": "always"}
OCEAN_RGB = [34, 37, 43]  # neutral greys: neither viridis nor the blue/red diverging map
LAND_RGB = [86, 90, 98]
BORDER_RGB = [150, 154, 162]
DEFAULT_VIEW = {"latitude": 20.0, "longitude": 10.0, "zoom": 1.5}

Colormap = Literal["viridis", "diverging", "rgb"]

# 9 stops of matplotlib's viridis and a red/blue diverging map (RdBu reversed: blue < 0 < red).
_VIRIDIS = np.array(
    [
        [68, 1, 84],
        [71, 44, 122],
        [59, 81, 139],
        [44, 113, 142],
        [33, 144, 141],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ],
    dtype=np.float64,
)
_DIVERGING = np.array(
    [[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]], dtype=np.float64
)


class LeanDeck(pdk.Deck):
    """A ``pydeck.Deck`` whose JSON is compact (pydeck indents by 2, ~7× larger for polygons) and strict
    (``NaN`` raises instead of producing invalid JSON); Streamlit sends ``to_json()`` as the spec.
    """

    def to_json(self) -> str:
        return json.dumps(
            self, sort_keys=True, default=default_serialize, separators=(",", ":"), allow_nan=False
        )


def _round_coords(coords: Any, decimals: int) -> Any:
    if coords and isinstance(coords[0], list):
        return [_round_coords(c, decimals) for c in coords]
    return [round(coords[0], decimals), round(coords[1], decimals)]


@lru_cache(maxsize=1)
def world_geojson(decimals: int = 1) -> dict[str, Any]:
    """The committed Natural Earth countries, loaded once, coordinates rounded and only ``name`` kept.

    Rounding to 0.1° (≈ 11 km, about the precision of the 1:110m source) makes the spec ~40 % smaller.
    """
    raw = json.loads(WORLD_GEOJSON.read_text())
    features = [
        {
            "type": "Feature",
            "properties": {"name": f["properties"].get("name", "")},
            "geometry": {
                "type": f["geometry"]["type"],
                "coordinates": _round_coords(f["geometry"]["coordinates"], decimals),
            },
        }
        for f in raw["features"]
    ]
    return {"type": "FeatureCollection", "features": features}


def base_layers() -> list[pdk.Layer]:
    """The offline base map: a whole-sphere ocean polygon and the country polygons (not pickable)."""
    ocean = pdk.Layer(
        "SolidPolygonLayer",
        id="ocean",
        data=[{"p": [[-180, 90], [0, 90], [180, 90], [180, -90], [0, -90], [-180, -90]]}],
        get_polygon="p",
        get_fill_color=OCEAN_RGB,
        parameters=FLAT,
    )
    countries = pdk.Layer(
        "GeoJsonLayer",
        id="countries",
        data=world_geojson(),
        filled=True,
        stroked=True,
        get_fill_color=LAND_RGB,
        get_line_color=BORDER_RGB,
        line_width_min_pixels=0.5,
        parameters=FLAT,
    )
    return [ocean, countries]


def default_view_state(
    latitude: float | None = None, longitude: float | None = None, zoom: float | None = None
) -> pdk.ViewState:
    """A globe view state (defaults: the whole Earth, centred on Africa / Europe)."""
    return pdk.ViewState(
        latitude=DEFAULT_VIEW["latitude"] if latitude is None else latitude,
        longitude=DEFAULT_VIEW["longitude"] if longitude is None else longitude,
        zoom=DEFAULT_VIEW["zoom"] if zoom is None else zoom,
    )


def globe_deck(
    layers: Sequence[pdk.Layer],
    view_state: pdk.ViewState | None = None,
    tooltip: dict[str, Any] | bool | None = None,
) -> pdk.Deck:
    """A ``_GlobeView`` deck: :func:`base_layers` under ``layers``, no basemap provider.

    Args:
        layers: data layers, drawn in order above the base map.
        view_state: the initial view (default :func:`default_view_state`); two decks given the same one start
            aligned (they do not stay synchronised while the user pans).
        tooltip: a pydeck tooltip (``{"html": ...}``), or ``None`` for none.

    """
    return LeanDeck(
        layers=[*base_layers(), *layers],
        views=[pdk.View(type="_GlobeView", controller=True)],
        initial_view_state=view_state if view_state is not None else default_view_state(),
        map_provider=None,
        tooltip=tooltip if tooltip is not None else False,
    )


def colorize(
    values: np.ndarray | pd.Series,
    colormap: Literal["viridis", "diverging"] = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Map values to ``[N, 3]`` uint8 RGB.

    ``viridis`` spans [vmin, vmax] (default: the data range); ``diverging`` is symmetric around 0 with
    half-range ``max(|vmin|, |vmax|)`` (default: the largest |value|), blue < 0 < red. NaN -> grey.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if colormap == "diverging":
        half = max(abs(vmin or 0.0), abs(vmax or 0.0)) if (vmin is not None or vmax is not None) else None
        if half is None:
            half = float(np.abs(v[finite]).max()) if finite.any() else 1.0
        lo, hi, stops = -(half or 1.0), half or 1.0, _DIVERGING
    elif colormap == "viridis":
        lo = float(vmin) if vmin is not None else (float(v[finite].min()) if finite.any() else 0.0)
        hi = float(vmax) if vmax is not None else (float(v[finite].max()) if finite.any() else 1.0)
        stops = _VIRIDIS
    else:
        raise ValueError(f"unknown colormap {colormap!r}; valid: viridis, diverging")
    t = np.clip((v - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.full_like(v, 0.5)
    pos = np.where(finite, t, 0.0) * (len(stops) - 1)
    i = np.minimum(pos.astype(np.int64), len(stops) - 2)
    frac = (pos - i)[:, None]
    rgb = stops[i] * (1 - frac) + stops[i + 1] * frac
    rgb[~finite] = 128.0
    return np.rint(rgb).astype(np.uint8)


def _records(df: pd.DataFrame, rgb: np.ndarray | None, digits: int = 4) -> list[dict[str, Any]]:
    """JSON-ready rows: floats rounded to ``digits`` significant digits, NaN -> None, plus ``r, g, b``."""
    columns: dict[str, list[Any]] = {}
    for col in df.columns:
        values = df[col].to_numpy()
        if np.issubdtype(values.dtype, np.floating):
            columns[col] = [float(f"{x:.{digits}g}") if np.isfinite(x) else None for x in values.tolist()]
        else:
            columns[col] = values.tolist()
    if rgb is not None:
        columns.update(r=rgb[:, 0].tolist(), g=rgb[:, 1].tolist(), b=rgb[:, 2].tolist())
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def h3_layer(
    df: pd.DataFrame,
    value_col: str | None,
    colormap: Colormap = "viridis",
    *,
    cell_col: str = "cell",
    vmin: float | None = None,
    vmax: float | None = None,
    extra_cols: Sequence[str] = (),
    opacity: float = 0.85,
    layer_id: str = "h3",
) -> pdk.Layer:
    """A flat, pickable ``H3HexagonLayer`` coloured by ``value_col``.

    Args:
        df: one row per cell.
        value_col: the column to colour by (and show in tooltips); ``None`` with ``colormap="rgb"``.
        colormap: ``viridis``, ``diverging`` (symmetric around 0) or ``rgb`` (use the frame's ``r, g, b``).
        cell_col: the H3 id column (renamed ``cell`` in the spec).
        vmin: lower end of the colour scale (default: data minimum).
        vmax: upper end of the colour scale (default: data maximum).
        extra_cols: more columns to carry for the tooltip (e.g. ``count``).
        opacity: layer opacity.
        layer_id: deck.gl layer id (stable ids let deck.gl reuse GPU buffers).

    Returns:
        The layer; its data holds only ``cell``, the value / extra columns and ``r, g, b``.

    """
    keep = [c for c in (value_col, *extra_cols) if c is not None]
    data = df[[cell_col, *keep]].rename(columns={cell_col: "cell"}).reset_index(drop=True)
    if colormap == "rgb":
        rgb = df[["r", "g", "b"]].to_numpy(dtype=np.uint8)
    else:
        if value_col is None:
            raise ValueError("value_col is required unless colormap='rgb'")
        rgb = colorize(df[value_col].to_numpy(), colormap, vmin, vmax)
    return pdk.Layer(
        "H3HexagonLayer",
        id=layer_id,
        data=_records(data, rgb),
        get_hexagon="cell",
        get_fill_color="[r, g, b]",
        extruded=False,
        stroked=False,
        filled=True,
        pickable=True,
        opacity=opacity,
        parameters=FLAT,
    )


def points_layer(
    df: pd.DataFrame,
    *,
    lon_col: str = "lon",
    lat_col: str = "lat",
    color: Sequence[int] = (255, 140, 0),
    value_col: str | None = None,
    colormap: Literal["viridis", "diverging"] = "viridis",
    radius_px: float = 2.0,
    layer_id: str = "points",
) -> pdk.Layer:
    """A flat ``ScatterplotLayer`` of points, in one colour or coloured by ``value_col``."""
    data = pd.DataFrame({"lon": df[lon_col].to_numpy(), "lat": df[lat_col].to_numpy()})
    rgb, fill = None, list(color)
    if value_col is not None:
        data[value_col] = df[value_col].to_numpy()
        rgb, fill = colorize(df[value_col].to_numpy(), colormap), "[r, g, b]"
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=_records(data, rgb, 6),
        get_position="[lon, lat]",
        get_fill_color=fill,
        get_radius=1,
        radius_min_pixels=radius_px,
        radius_max_pixels=radius_px,
        pickable=value_col is not None,
        parameters=FLAT,
    )


def cell_tooltip(
    value_label: str | None, value_col: str = "value", extra: dict[str, str] | None = None
) -> dict[str, Any]:
    """Tooltip for :func:`h3_layer`: cell id, ``value_label: {value_col}`` and ``extra`` (label -> column)."""
    lines = ["<b>{cell}</b>"]
    if value_label is not None:
        lines.append(f"{value_label}: {{{value_col}}}")
    lines += [f"{label}: {{{col}}}" for label, col in (extra or {}).items()]
    return {"html": "<br/>".join(lines), "style": {"fontSize": "12px"}}

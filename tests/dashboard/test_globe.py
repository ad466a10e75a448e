"""dashboard/globe.py: offline globe specs (GlobeView, no basemap URLs, flat layers, lean JSON)."""

from __future__ import annotations

import json

import globe
import numpy as np
import pandas as pd
import pytest

from engine.maps import aggregate_h3


@pytest.fixture
def cells() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    lonlat = np.stack([rng.uniform(-180, 180, 400), rng.uniform(-80, 80, 400)], axis=1)
    return aggregate_h3(lonlat, rng.random(400) < 0.5, 1)


def spec(deck: globe.LeanDeck) -> dict:
    return json.loads(deck.to_json())


def test_globe_deck_is_offline_globe(cells: pd.DataFrame) -> None:
    deck = globe.globe_deck(
        [
            globe.h3_layer(cells, "value_mean", extra_cols=["count"]),
            globe.points_layer(cells.assign(lon=0.0, lat=0.0)),
        ],
        tooltip=globe.cell_tooltip("accuracy", "value_mean", {"n": "count"}),
    )
    text = deck.to_json()
    assert "http" not in text and "mapbox" not in text.lower() and "carto" not in text.lower()
    out = json.loads(text)
    assert out["views"] == [{"@@type": "_GlobeView", "controller": True}]
    assert out.get("mapProvider") is None and out["mapStyle"] in (None, "__MAP_STYLE__")
    ids = [layer["id"] for layer in out["layers"]]
    assert ids == ["ocean", "countries", "h3", "points"]
    for layer in out["layers"]:
        assert layer["parameters"] == {"depthCompare": "always"}, layer["id"]
    h3_layer = out["layers"][2]
    assert h3_layer["@@type"] == "H3HexagonLayer" and h3_layer["extruded"] is False
    assert h3_layer["getFillColor"] == "@@=[r, g, b]" and h3_layer["pickable"] is True
    assert set(h3_layer["data"][0]) == {"cell", "value_mean", "count", "r", "g", "b"}
    assert len(h3_layer["data"]) == len(cells)


def test_specs_are_compact_and_valid_json(cells: pd.DataFrame) -> None:
    with_nan = cells.assign(value_mean=np.where(np.arange(len(cells)) == 0, np.nan, cells["value_mean"]))
    text = globe.globe_deck([globe.h3_layer(with_nan, "value_mean")]).to_json()
    assert "\n" not in text and "NaN" not in text
    assert json.loads(text)["layers"][2]["data"][0]["value_mean"] is None
    base = len(globe.globe_deck([]).to_json())
    assert base < 200_000  # countries rounded to 0.1°, compact separators
    assert globe.world_geojson() is globe.world_geojson()  # loaded once


def test_default_view_state_shared() -> None:
    a = spec(globe.globe_deck([], globe.default_view_state()))
    b = spec(globe.globe_deck([], globe.default_view_state(latitude=20.0)))
    assert a["initialViewState"] == b["initialViewState"]


def test_colorize() -> None:
    rgb = globe.colorize(np.array([0.0, 0.5, 1.0, np.nan]), "viridis")
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 3)
    assert (
        rgb[0].tolist() == [68, 1, 84] and rgb[2].tolist() == [253, 231, 37] and rgb[3].tolist() == [128] * 3
    )
    div = globe.colorize(np.array([-2.0, 0.0, 1.0]), "diverging")
    assert div[1].tolist() == [247, 247, 247] and div[0].tolist() == [5, 48, 97]
    assert div[2, 0] > div[2, 2]  # positive -> red side
    with pytest.raises(ValueError, match="colormap"):
        globe.colorize(np.zeros(2), "jet")  # type: ignore[arg-type]


def test_rgb_layer_uses_given_colours() -> None:
    df = pd.DataFrame({"cell": ["8029fffffffffff"], "r": [1], "g": [2], "b": [3]})
    layer = spec(globe.globe_deck([globe.h3_layer(df, None, "rgb")]))["layers"][2]
    assert layer["data"] == [{"cell": "8029fffffffffff", "r": 1, "g": 2, "b": 3}]
    with pytest.raises(ValueError, match="value_col"):
        globe.h3_layer(df, None, "viridis")

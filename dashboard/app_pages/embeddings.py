"""
Embedding maps: an encoder's embedding of every H3 cell of the globe reduced to RGB (PCA / ICA), for an
untrained encoder or a trained run, and a teaching view of single position-encoding channels.
"""

from __future__ import annotations

from typing import Any

import _paths  # noqa: F401  (first: puts the repository root and dashboard/ on sys.path)
import data
import globe
import streamlit as st

from engine import list_encoders
from engine.maps import EDGE_KM, encoder_hyperparameters, pe_defaults, resolution_label

SPACING = 3**0.5  # distance between neighbouring H3 cell centres, in edge lengths
MODES = ("Untrained encoder", "Trained run", "Teaching view: one PE channel")
METHODS = {"pca": "PCA (3 principal components)", "ica": "FastICA (3 independent components)"}
TEACHING_PES = (
    "sphere_c",
    "sphere_c_plus",
    "sphere_m",
    "sphere_m_plus",
    "dfs",
    "nerf",
    "spherical_harmonics",
    "xyz",
    "wrap",
    "space2vec_grid",
    "space2vec_theory",
    "direct",
    "tile",
)
# PE -> (teaching slider maximum, teaching start) of ``frequency_num`` (others: (32, 8); untrained: ×4).
# (Comments, not bare strings: Streamlit's "magic" would print a bare string on the page.)
FREQUENCY_RANGE = {"dfs": (8, 4), "nerf": (12, 6)}
SELECT_OPTIONS: dict[str, tuple[Any, ...]] = {
    "cell_size": (1.0, 2.0, 5.0, 10.0, 15.0, 30.0),
    "hidden_dim": (32, 64, 128, 256, 512, 1024),
}
TEACHING_NOTE = """
**Why sphere encodings behave at the poles and the dateline, and grid encodings do not.** Encodings built
on the 3-D point (xyz, NeRF, spherical harmonics, and Sphere2Vec's coarsest scale ω = 1) are smooth functions
on the sphere: λ = −180° and +180° are the same place and give the same code, and each pole, where every
longitude meets, gets one value. Sphere2Vec's finer scales multiply λ and φ by ω_s: unless ω_s is an integer
the code jumps at ±180°, and terms without a cos φ factor (sin λ_s, cos φ_s cos λ_s with cos(ω_s·π/2) ≠ 0)
still depend on longitude at the pole. Grid encodings (space2vec_grid / theory, direct, tile) treat
(lon°, lat°) as a flat rectangle: the two sides of the dateline are 360° apart in their input, so there is a
seam, and the whole top row of the rectangle is one point, the pole, with many codes (pole pinching), while
the ground distance of a degree of longitude shrinks to zero. The checks below measure both on this channel.
"""


def frequency_slider(col: Any, pe: str, default: int, teaching: bool, key: str) -> int:
    """Number of scales S; the teaching view starts small so single scales are easy to tell apart."""
    top, start = FREQUENCY_RANGE.get(pe, (32, 8))
    if not teaching:
        top, start = max(4 * top, default), default
    return col.slider("scales S (frequency_num)", 1, top, min(start, default), key=key)


def hyperparameters(pe: str, defaults: dict[str, Any], *, teaching: bool, key: str) -> dict[str, Any]:
    """Widgets for an encoder's main hyperparameters; returns only the values that differ from defaults."""
    chosen: dict[str, Any] = {}
    cols = st.columns(max(1, min(4, len(defaults))))
    for i, (name, default) in enumerate(defaults.items()):
        col, wkey = cols[i % len(cols)], f"{key}_{name}"
        value: Any = default
        if name == "frequency_num":
            value = frequency_slider(col, pe, default, teaching, wkey)
        elif name == "legendre_polys":
            value = col.slider(
                "degrees L (legendre_polys)", 1, 40, min(default, 8) if teaching else default, key=wkey
            )
        elif name == "min_radius":
            options = sorted({round(default * 10.0**k, 12) for k in (-1, 0, 1, 2)})
            value = col.select_slider(
                "min_radius (finest scale)", options, default, format_func="{:g}".format, key=wkey
            )
        elif name in SELECT_OPTIONS:
            value = col.select_slider(name, SELECT_OPTIONS[name], default, key=wkey)
        elif name == "num_hidden_layer":
            value = col.slider(name, 1, 4, max(1, min(default, 4)), key=wkey)
        elif name == "embed_dim" and teaching:
            value = 8  # a random table: a few channels are enough to look at
        elif not teaching:
            value = col.number_input(name, value=default, key=wkey)
        if value != default:
            chosen[name] = value
    return chosen


def rgb_globe(cells: Any, caption: str) -> None:
    """An RGB embedding map on the globe."""
    layer = globe.h3_layer(cells, None, "rgb", layer_id="embedding")
    st.pydeck_chart(
        globe.globe_deck([layer], globe.default_view_state(), globe.cell_tooltip(None)), height=560
    )
    st.caption(caption)


st.title("Embedding maps")
mode = st.radio("Show", MODES, horizontal=True, key="mode")
res = st.select_slider("H3 resolution", (1, 2, 3), value=2, format_func=resolution_label, key="res")

if mode == MODES[0]:
    name = st.selectbox("Encoder", list_encoders(), index=list_encoders().index("sphere_c_plus"), key="enc")
    kwargs = hyperparameters(name, encoder_hyperparameters(name), teaching=False, key=f"enc_{name}")
    seed = int(st.number_input("initialisation seed", 0, 10_000, 0, key="seed"))
    method = st.radio("Reduction", tuple(METHODS), format_func=METHODS.get, horizontal=True, key="method")
    with st.spinner("Embedding the globe…"):
        try:
            cells = data.encoder_rgb(name, kwargs, seed, res, method)
        except ValueError as err:
            st.error(f"Cannot build this encoder: {err}")
            st.stop()
    rgb_globe(
        cells,
        f"Untrained `{name}` ({kwargs or 'defaults'}, seed {seed}) at {resolution_label(res)}, "
        f"{METHODS[method]} → RGB (1–99 % percentiles stretched to 0–255).",
    )

elif mode == MODES[1]:
    runs = [r for r in data.run_summaries() if r.has_model]
    if not runs:
        st.info(
            f"No trained runs with weights in the run store `{data.run_store()}` yet. Train one on the "
            "**Train & compare** page, or `python -m engine train --dataset checkerboard --encoder "
            "sphere_c_plus --out runs/cb`."
        )
        st.stop()
    run = st.selectbox("Run", runs, format_func=lambda s: s.label, key="run")
    method = st.radio("Reduction", tuple(METHODS), format_func=METHODS.get, horizontal=True, key="method")
    with st.spinner("Embedding the globe with the trained encoder…"):
        cells = data.run_rgb(run.path, res, method)
    rgb_globe(
        cells, f"Trained `{run.encoder}` of {run.name} at {resolution_label(res)}, {METHODS[method]} → RGB."
    )

else:
    name = st.selectbox("Position encoding", TEACHING_PES, key="pe")
    kwargs = hyperparameters(name, pe_defaults(name), teaching=True, key=f"pe_{name}")
    infos = data.channel_info(name, kwargs)
    terms = list(dict.fromkeys(c.term for c in infos))
    term = st.selectbox("Term", terms, key=f"term_{name}")
    candidates = [c for c in infos if c.term == term]
    scales = sorted({c.scale for c in candidates if c.scale is not None})
    if len(scales) > 1:
        label = "degree l" if name == "spherical_harmonics" else "scale index s"
        coarsest = max(candidates, key=lambda c: c.wavelength_km or 0.0)  # start smooth, then refine
        scale = st.select_slider(label, scales, value=coarsest.scale, key=f"scale_{name}")
        candidates = [c for c in candidates if c.scale == scale]
    orders = sorted({c.order for c in candidates if c.order is not None})
    if len(orders) > 1:
        label = "order m" if name == "spherical_harmonics" else "second index"
        order = st.select_slider(label, orders, key=f"order_{name}")
        candidates = [c for c in candidates if c.order == order]
    channel = candidates[0]
    cells = data.channel_cells(name, kwargs, channel.index, res)
    layer = globe.h3_layer(cells, "value", "diverging", layer_id="channel")
    tooltip = globe.cell_tooltip("value", "value")
    st.pydeck_chart(globe.globe_deck([layer], globe.default_view_state(), tooltip), height=560)
    st.caption(f"Channel {channel.index}: {channel.label} · blue < 0 < red · {resolution_label(res)}.")
    if channel.wavelength_km is not None and channel.wavelength_km < 2 * SPACING * EDGE_KM[res]:
        st.warning(
            f"The wavelength (≈ {channel.wavelength_km:,.0f} km) is shorter than two cell spacings at "
            f"{resolution_label(res)}: this map aliases (looks like noise). Pick a coarser scale or a finer "
            "resolution."
        )
    cont = data.channel_continuity_checks(name, kwargs, channel.index)
    c1, c2 = st.columns(2)
    c1.metric("jump across the dateline", f"{cont.dateline_jump:.3g}", help="0 = no seam at ±180°")
    c2.metric("spread at the poles", f"{cont.pole_spread:.3g}", help="0 = one value at each pole")
    st.markdown(TEACHING_NOTE)

"""
Geo-bias hotspots: unmarked and marked spatial self-information (SSI) per H3 cell at 100 km, 1000 km or
kNN scale, with the dataset-level Geo-Bias Scores, for a run or an uploaded predictions CSV.
"""

from __future__ import annotations

import _paths  # noqa: F401  (first: puts the repository root and dashboard/ on sys.path)
import data
import globe
import streamlit as st

from engine.maps import MAX_UPLOAD_BYTES, MIN_POINTS, SCALE_H3_RES, SCALE_LABELS, resolution_label

MAPS = {
    "unmarked": "Unmarked SSI: where the test points cluster (base geo-bias)",
    "marked": "Marked SSI: where right / wrong predictions cluster (relative geo-bias)",
}
SOURCES = ("A run from the run store", "An uploaded predictions CSV")

st.title("Geo-bias hotspots")
st.caption(
    "Every test point is the centre of a neighbourhood; its SSI (−ln p of a Moran's-I test against a "
    "background grid) is high where values cluster. Per-centre scores are averaged into H3 cells. "
    "Definition: docs/geobias.md (PyGBS-compatible)."
)

runs = data.run_summaries()
if not runs:
    st.info(
        f"No finished runs in the run store `{data.run_store()}` yet: upload a predictions CSV below, or "
        "train a run on the **Train & compare** page (or `python -m engine train --dataset checkerboard "
        "--encoder sphere_c_plus --out runs/cb`)."
    )
source = st.radio("Predictions", SOURCES, index=0 if runs else 1, horizontal=True)

if source == SOURCES[0]:
    if not runs:
        st.stop()
    run = st.selectbox("Run", runs, format_func=lambda s: s.label, help="newest first")
    key: tuple = ("run", run.path)
else:
    upload = st.file_uploader(
        f"Predictions CSV (at most {MAX_UPLOAD_BYTES // 2**20} MB): columns `lon`, `lat` (degrees) and "
        "`correct` (0/1) or `error`",
        type=["csv"],
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    )
    value_col = st.radio("Value column", ("correct", "error"), horizontal=True)
    if upload is None:
        st.info(f"Upload a CSV with at least {MIN_POINTS} located points.")
        st.stop()
    payload = upload.getvalue()
    try:
        points = data.uploaded_points(payload, value_col)
    except ValueError as err:
        st.error(f"Cannot use this file: {err}")
        st.stop()
    st.caption(f"{len(points):,} points read from `{upload.name}`.")
    key = ("upload", payload, value_col)

scale = st.radio(
    "Scale",
    tuple(SCALE_H3_RES),
    index=2,
    horizontal=True,
    format_func=lambda s: f"{SCALE_LABELS[s]} → {resolution_label(SCALE_H3_RES[s])}",
)
which = st.radio("Map", tuple(MAPS), format_func=MAPS.get, horizontal=True)

progress = st.progress(0.0, text=f"Geo-Bias Score at {SCALE_LABELS[scale]}…")
try:
    with st.spinner(f"Computing unmarked and marked SSI at {SCALE_LABELS[scale]} (cached afterwards)…"):
        progress.progress(0.2, text="neighbourhoods, background grids and Moran's I…")
        if key[0] == "run":
            hot = data.run_hotspots(key[1], scale)
        else:
            hot = data.uploaded_hotspots(key[1], key[2], scale)
        progress.progress(1.0, text="done")
except ValueError as err:
    progress.empty()
    st.error(f"Cannot compute the Geo-Bias Score: {err}")
    st.stop()
progress.empty()

s = hot.scores
left, right = st.columns([1, 3])
left.metric("unmarked SSI (mean)", f"{s['unmarked']:.3f}", help="base geo-bias: clustering of the points")
left.metric("marked SSI (mean)", f"{s['marked']:.3f}", help="relative geo-bias: clustering of right/wrong")
left.metric("marked SSI (n-weighted)", f"{s['marked_weighted']:.3f}", help="weighted by neighbour count")
left.metric("marked SSI (wrong centres)", f"{s['marked_wrong']:.3f}", help="mean over centres marked −1")
left.caption(f"{hot.n_points:,} centres · marks {hot.mark_rule}.")

vmax = max(float(hot.cells[which].quantile(0.98)), 1e-9)
other = "marked" if which == "unmarked" else "unmarked"
layer = globe.h3_layer(hot.cells, which, vmin=0.0, vmax=vmax, extra_cols=[other, "count"])
tooltip = globe.cell_tooltip(
    None, extra={"unmarked SSI": "unmarked", "marked SSI": "marked", "centres": "count"}
)
with right:
    st.pydeck_chart(globe.globe_deck([layer], globe.default_view_state(), tooltip), height=520)
    st.caption(
        f"Mean {which} SSI per cell at **{resolution_label(hot.res)}** ({len(hot.cells):,} cells with "
        f"centres); viridis 0 → {vmax:.3g} (98th percentile, higher values clipped)."
    )

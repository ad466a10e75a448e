"""
Accuracy map: where a run is right (or how large its error is), on H3 cells of the globe, side by side
with a second run and their per-cell difference.
"""

from __future__ import annotations

import _paths  # noqa: F401  (first: puts the repository root and dashboard/ on sys.path)
import data
import globe
import streamlit as st

from engine.maps import RunSummary, resolution_label, suggested_resolution

RESOLUTIONS = (1, 2, 3)
SYNC_NOTE = (
    "Both globes start from the same view. They are not linked while you drag: Streamlit's deck.gl chart "
    "does not report the camera back to Python, so moving one globe leaves the other where it was."
)


def describe(summary: RunSummary) -> None:
    """Dataset, encoder, seed and the headline metric of a run."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("dataset", summary.dataset)
    c2.metric("encoder", summary.encoder)
    c3.metric("seed", "—" if summary.seed is None else summary.seed)
    c4.metric(summary.metric_name, f"{summary.metric:.3f}")


def cells_globe(summary: RunSummary, res: int, vmax: float | None, height: int) -> None:
    """One run's per-cell accuracy (or |error|) on a globe."""
    cells = data.run_cells(summary.path, res)
    label = "accuracy" if summary.task == "classification" else "mean |error|"
    layer = globe.h3_layer(cells, "value_mean", vmin=0.0, vmax=vmax, extra_cols=["count"], layer_id="cells")
    tooltip = globe.cell_tooltip(label, "value_mean", {"points": "count"})
    st.pydeck_chart(globe.globe_deck([layer], globe.default_view_state(), tooltip), height=height)


st.title("Accuracy map")
runs = data.run_summaries()
if not runs:
    st.info(
        f"No finished runs in the run store `{data.run_store()}` yet. Train one on the **Train & compare** "
        "page, or from a terminal:\n\n"
        "`python -m engine train --dataset checkerboard --encoder sphere_c_plus --out runs/checkerboard_sc`"
    )
    st.stop()

run_a = st.selectbox("Run", runs, format_func=lambda s: s.label, help="newest first")
suggested = suggested_resolution(len(data.predictions(run_a.path)), RESOLUTIONS)
res = st.select_slider(
    "H3 resolution",
    RESOLUTIONS,
    value=suggested,
    format_func=resolution_label,
    help=f"default: the finest with ≥ 5 test points per cell on average (res {suggested} for this run)",
)
describe(run_a)
others = [r for r in runs if r.path != run_a.path and r.task == run_a.task]
compare = st.toggle(
    "Compare with a second run", disabled=not others, help="needs a second run of the same task"
)
vmax = 1.0 if run_a.task == "classification" else None
st.caption(
    f"Per-cell {'accuracy (top-1 correct share)' if vmax else 'mean |error|'} of the test points at "
    f"{resolution_label(res)}; hover a cell for its value and point count. Colour: viridis, "
    f"{'0 → 1' if vmax else 'low → high'}."
)

if not compare:
    cells_globe(run_a, res, vmax, height=560)
    st.stop()

run_b = st.selectbox("Second run (B)", others, format_func=lambda s: s.label)
if vmax is None:  # a shared colour scale for the two error maps
    vmax = max(float(data.run_cells(r.path, res)["value_mean"].quantile(0.98)) for r in (run_a, run_b))
left, right = st.columns(2)
with left:
    st.markdown(f"**A** · {run_a.label}")
    cells_globe(run_a, res, vmax, height=420)
with right:
    st.markdown(f"**B** · {run_b.label}")
    describe(run_b)
    cells_globe(run_b, res, vmax, height=420)
st.caption(SYNC_NOTE)

st.subheader("Difference A − B")
diff = data.difference_cells(run_a.path, run_b.path, res)
if diff.empty:
    st.warning("The two runs share no H3 cell at this resolution (different test locations).")
    st.stop()
better = "A more accurate" if run_a.task == "classification" else "A larger error"
st.caption(
    f"Per-cell A − B on the {len(diff)} cells both runs cover. "
    f"Red: {better}; blue: the opposite; white: equal."
)
layer = globe.h3_layer(diff, "diff", "diverging", extra_cols=["value_a", "value_b"], layer_id="diff")
tooltip = globe.cell_tooltip("A − B", "diff", {"A": "value_a", "B": "value_b"})
st.pydeck_chart(globe.globe_deck([layer], globe.default_view_state(), tooltip), height=520)

"""Home: what LocLab is, a one-click quick start with live progress, the encoder and dataset catalogues."""

from __future__ import annotations

import _paths  # noqa: F401  (first: puts the repository root on sys.path)
import data
import jobs
import streamlit as st

from engine.training.config import TrainConfig
from engine.training.summary import dataset_table

QUICK_START_LABEL = "Quick start: 3 encoders on a small checkerboard"
QUICK_START = jobs.JobSpec(
    source=jobs.DatasetSource("checkerboard", {"n_train": 3000, "n_val": 1000, "n_test": 2000}),
    encoders=("direct", "sphere_c_plus", "spherical_harmonics"),
    seeds=(0,),
    baselines=("knn",),
    config=TrainConfig(epochs=20, lr=5e-3, batch_size=512, patience=0, n_boot=200),
    label=QUICK_START_LABEL,
)

st.title("LocLab")
st.markdown(
    "**Location encoders** turn a (longitude, latitude) into a feature vector: "
    "`Enc(x) = NN(PE(x))`, a position encoding followed by a small network. LocLab implements the "
    "encoders of the TorchSpatial / LocBench papers in pure PyTorch, trains them on embedded and LocBench "
    "datasets, and measures not only accuracy but also **where** models fail, with the Geo-Bias Score. "
    "Train and compare encoders on the next page; the map pages show accuracy, geo-bias hotspots and "
    "embeddings on a globe."
)

st.header("Quick start")
st.caption(
    "Trains direct lon/lat, Sphere2Vec-sphereC+ and spherical harmonics (+MLP) for 20 epochs on a "
    "3,000-point checkerboard (16 classes on the sphere), next to a k-nearest-neighbour baseline, in the "
    "background, in well under a minute. "
    "Runs go to the run store, so they also appear on the other pages."
)
registry = data.job_registry()
quick_jobs = [j for j in registry.jobs() if j.spec.label == QUICK_START_LABEL]
busy = bool(quick_jobs) and quick_jobs[0].view().running
if st.button("Train 3 encoders", type="primary", icon=":material/play_arrow:", disabled=busy):
    quick_jobs.insert(0, registry.submit(QUICK_START))
    busy = True

if quick_jobs:
    job = quick_jobs[0]

    @st.fragment(run_every=0.5 if busy else None)
    def quick_start_progress() -> None:
        """Live progress of the latest quick-start job, then its results."""
        view = job.view()
        st.progress(view.fraction, text=f"{view.status} · {view.seconds:.0f} s")
        for run in view.runs:
            st.caption(f"{run.label}: {run.detail}")
        if view.running:
            return
        if busy:  # the job finished while this fragment was polling: rerun the page once to stop polling
            st.rerun()
        runs = data.run_summaries(view.out_dir)
        if runs:
            _, results = data.sweep_results(runs)
            st.markdown(dataset_table(results, runs[0].dataset))
        for message in view.messages:
            if "failed" in message:
                st.error(message)
        st.page_link("app_pages/train_compare.py", label="Train & compare more encoders", icon="➡️")

    quick_start_progress()

st.header("Catalogue")
encoders_tab, datasets_tab = st.tabs(["Encoders", "Datasets"])
with encoders_tab:
    st.dataframe(
        data.encoder_catalogue(),
        hide_index=True,
        column_config={
            "name": "name",
            "display_name": "paper name",
            "pe_dim": "PE dim",
            "default_dim": "PE dim (default)",
            "net": "default net",
            "paper": st.column_config.TextColumn("paper", width="large"),
        },
    )
with datasets_tab:
    st.caption(
        "Embedded datasets ship with LocLab; LocBench datasets need a download "
        "(`python -m engine data download NAME --root DIR`) and a data folder on the Train & compare page."
    )
    st.dataframe(data.dataset_catalogue(), hide_index=True)

"""Train & compare: pick data, encoders, seeds and a budget; train in the background; compare the results."""

from __future__ import annotations

import inspect
import os

import _paths  # noqa: F401  (first: puts the repository root on sys.path)
import charts
import data
import jobs
import streamlit as st

import engine
from engine.datasets.base import DATASETS
from engine.encoders import encoder_info
from engine.training.geobias_metrics import GEOBIAS_SCALES
from engine.training.profiles import profile_config
from engine.training.runner import DEFAULT_BASELINES, is_baseline
from engine.training.summary import TASK_METRICS, dataset_table

DEFAULT_ENCODERS = ["direct", "sphere_c_plus", "spherical_harmonics"]
SIZE_OPTIONS = ("n_train", "n_val", "n_test")
SCALE_LABELS = {"100km": "100 km", "1000km": "1000 km", "knn": "kNN (100 nearest)"}
METRIC_LABELS = {
    "top1": "top-1 accuracy",
    "top3": "top-3 accuracy",
    "mrr": "MRR",
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
}
GBS_MEANING = {
    "marked": "Marked Geo-Bias Score: mean spatial self-information (SSI) of right / wrong predictions; "
    "higher = the errors cluster more in space (relative geo-bias).",
    "unmarked": "Unmarked Geo-Bias Score: mean SSI of where the test points are (base geo-bias of the data; "
    "the same for every model on a dataset).",
}
QUICK = profile_config("quick")

st.title("Train & compare")
st.caption(
    "Training runs in a background worker, one run after the other; this page stays usable and a reload "
    f"or a second tab finds the job again. Finished runs are saved to the run store `{data.run_store()}` "
    "(`$LOCLAB_RUNS`), shared with `python -m engine bench` and the map pages."
)

# ───────────────────────────── 1 · data ─────────────────────────────
st.header("1 · Data")
kind = st.radio(
    "Data source", ["Embedded dataset", "LocBench (downloaded)", "My table (CSV / Parquet)"], horizontal=True
)
source: jobs.DatasetSource | None = None
task = "classification"
if kind == "Embedded dataset":
    names = engine.list_datasets("embedded")
    name = st.selectbox(
        "Dataset", names, format_func=lambda n: f"{DATASETS.entry(n).meta['display_name']} ({n})"
    )
    task = DATASETS.entry(name).meta["task"]
    params = inspect.signature(DATASETS.entry(name).builder).parameters
    kwargs: dict[str, object] = {}
    sizes = [p for p in SIZE_OPTIONS if p in params]
    for column, option in zip(st.columns(len(sizes) + 1), [*sizes, "split"], strict=True):
        with column:
            if option == "split" and "split" in params:
                kwargs["split"] = st.selectbox(
                    "Split", ["random", "spatial_block"], help="spatial_block holds out whole H3 cells"
                )
            elif option != "split":
                default = int(params[option].default)
                kwargs[option] = int(
                    st.number_input(option.replace("n_", "points: "), 100, 1_000_000, default, step=500)
                )
    st.caption(f"{task} · {(DATASETS.entry(name).builder.__doc__ or '').strip().splitlines()[0]}")
    source = jobs.DatasetSource(name, kwargs)
elif kind == "LocBench (downloaded)":
    root = st.text_input("Data folder (LocBench root)", os.environ.get("LOCLAB_DATA", ""))
    name = st.selectbox(
        "Dataset",
        engine.list_datasets("locbench"),
        format_func=lambda n: f"{DATASETS.entry(n).meta['display_name']} ({n})",
    )
    task = DATASETS.entry(name).meta["task"]
    missing = data.dataset_missing_files(name, root) if root else None
    if not root:
        st.info("Enter the folder that holds the downloaded LocBench files.")
    elif missing:
        st.error(f"{len(missing)} file(s) of {name} are missing under `{root}`, e.g. `{missing[0]}`.")
    else:
        st.success(f"{name}: files found under `{root}`.")
        source = jobs.DatasetSource(name, {}, root=root)
else:
    upload = st.file_uploader(
        f"Table of located samples (up to {data.MAX_UPLOAD_BYTES // 1024**2} MiB)",
        type=["csv", "tsv", "txt", "gz", "parquet", "pq"],
    )
    if upload is not None:
        try:
            path = data.save_upload(upload.name, upload.getvalue())
            columns = data.table_columns(path)
        except ValueError as err:
            st.error(str(err))
            columns = []
        if columns:
            lower = [c.lower() for c in columns]

            def guess(*names: str) -> int:
                """Index of the first column called like one of ``names`` (case-insensitive), else 0."""
                return next((lower.index(n) for n in names if n in lower), 0)

            lon_col, lat_col, target_col, task_col = st.columns(4)
            table_kwargs: dict[str, object] = {
                "lon": lon_col.selectbox("Longitude column", columns, guess("lon", "longitude", "lng")),
                "lat": lat_col.selectbox("Latitude column", columns, guess("lat", "latitude")),
                "target": target_col.selectbox(
                    "Target column", columns, guess("target", "label", "class", "y", lower[-1])
                ),
            }
            chosen_task = task_col.selectbox("Task", ["infer", "classification", "regression"])
            if chosen_task != "infer":
                table_kwargs["task"] = chosen_task
            table_kwargs["drop_invalid"] = st.checkbox(
                "Drop rows with missing or out-of-range coordinates (otherwise they are an error)"
            )
            table_kwargs["max_bytes"] = data.MAX_UPLOAD_BYTES
            try:
                summary, notes = data.check_table(path, table_kwargs)
            except (ValueError, FileNotFoundError) as err:
                st.error(f"This table cannot be used yet: {err}")
            else:
                for note in notes:
                    st.warning(note)
                task = summary["task"]
                st.success(
                    f"{summary['name']}: {task}, "
                    + ", ".join(f"{k} {v:,}" for k, v in summary["sizes"].items())
                    + (f", {summary['num_classes']} classes" if summary["num_classes"] else "")
                )
                source = jobs.DatasetSource(path.stem, table_kwargs, table_path=str(path))

# ───────────────────────────── 2 · models and budget ─────────────────────────────
st.header("2 · Models and budget")
encoders = st.multiselect(
    "Encoders",
    engine.list_encoders(),
    default=DEFAULT_ENCODERS,
    format_func=lambda n: f"{n} — {encoder_info(n)['display_name']}",
)
baselines = st.multiselect(
    "Baselines (non-neural, fit once)", DEFAULT_BASELINES[task], default=list(DEFAULT_BASELINES[task])
)
seeds_col, epochs_col, lr_col, batch_col = st.columns(4)
n_seeds = int(seeds_col.number_input("Seeds", 1, 10, 1, help="model seeds 0 … n−1 (the split is fixed)"))
epochs = int(epochs_col.number_input("Epochs", 1, 500, QUICK.epochs))
lr = float(lr_col.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=QUICK.lr))
batch_size = int(batch_col.select_slider("Batch size", [128, 256, 512, 1024, 2048, 4096], QUICK.batch_size))
with st.expander("More hyperparameters"):
    steps_col, patience_col, boot_col, gbs_col = st.columns(4)
    max_steps = int(
        steps_col.number_input("Max steps per epoch (0 = full pass)", 0, 10_000, QUICK.max_steps_per_epoch)
    )
    patience = int(patience_col.number_input("Early-stopping patience (0 = off)", 0, 100, QUICK.patience))
    n_boot = int(boot_col.number_input("Bootstrap resamples", 10, 10_000, QUICK.n_boot))
    gbs_points = int(
        gbs_col.number_input("Geo-Bias points (0 = all test points)", 0, 1_000_000, QUICK.geobias_max_points)
    )
config = QUICK.replace(
    epochs=epochs,
    lr=lr,
    batch_size=batch_size,
    max_steps_per_epoch=max_steps,
    patience=patience,
    n_boot=n_boot,
    geobias_max_points=gbs_points,
)

registry = data.job_registry()
ready = source is not None and bool(encoders or baselines)
n_runs = len(encoders) * n_seeds + len(baselines)
if st.button(
    f"Train {n_runs} run(s)", type="primary", icon=":material/play_arrow:", disabled=not ready, key="train"
):
    spec = jobs.JobSpec(
        source=source,
        encoders=tuple(encoders),
        seeds=tuple(range(n_seeds)),
        config=config,
        baselines=tuple(baselines),
        label=f"{source.name}: {len(encoders)} encoder(s) × {n_seeds} seed(s)",
    )
    registry.submit(spec)

# ───────────────────────────── 3 · jobs ─────────────────────────────
st.header("3 · Jobs")
busy = bool(registry.active())


@st.fragment(run_every=0.5 if busy else None)
def job_panel() -> None:
    """Progress of the latest jobs (every tab sees the same jobs), with a cancel button while they run."""
    recent = registry.jobs()[:3]
    if not recent:
        st.caption("No job yet in this server session.")
    for job in recent:
        view = job.view()
        with st.container(border=True):
            head, button = st.columns([5, 1])
            head.markdown(f"**{view.label}** · {view.status} · {view.seconds:.0f} s · `{view.out_dir}`")
            if view.running and button.button("Cancel", key=f"cancel-{view.id}", icon=":material/stop:"):
                job.cancel()
            for run in view.runs:
                st.progress(run.fraction, text=f"{run.label}: {run.detail}")
            with st.expander("Log"):
                st.code("\n".join(view.messages) or "(empty)", language=None)
    if busy and not registry.active():  # the last job just finished: refresh the page once, stop polling
        st.rerun()


job_panel()

# ───────────────────────────── 4 · results ─────────────────────────────
st.header("4 · Results")
sweeps = data.sweeps()
if not sweeps:
    st.info("No finished runs in the run store yet: train some above, or run `python -m engine bench`.")
    st.stop()
sweep = st.selectbox("Sweep (a job or a `bench` folder)", list(sweeps), help="newest first")
runs = sweeps[sweep]
datasets = list(dict.fromkeys(r.dataset for r in runs))
dataset = st.selectbox("Dataset", datasets) if len(datasets) > 1 else datasets[0]
runs = [r for r in runs if r.dataset == dataset]
tidy, results = data.sweep_results(runs)
st.markdown(dataset_table(results, dataset))
st.download_button(
    "Download the tidy results (CSV)", tidy.to_csv(index=False), f"{dataset}_results.csv", "text/csv"
)

metrics_here = set(results["metric"])
task_metrics = [m for m in TASK_METRICS[runs[0].task] if m in metrics_here]
metric = st.radio("Metric", task_metrics, format_func=METRIC_LABELS.get, horizontal=True)
bars, scatter = st.columns(2)
with bars:
    st.plotly_chart(charts.metric_bars(results, metric, METRIC_LABELS[metric]))
with scatter:
    marked_col, scale_col = st.columns(2)
    marked = marked_col.radio(
        "Geo-Bias Score", ["marked", "unmarked"], horizontal=True, help="marked: where the model errs"
    )
    scale = scale_col.radio(
        "Scale",
        GEOBIAS_SCALES,
        index=GEOBIAS_SCALES.index("knn"),
        format_func=SCALE_LABELS.get,
        horizontal=True,
        help="kNN adapts to the point density; fixed radii hold few points on sparse test sets",
    )
    gbs = f"gbs_{marked}_{scale}"
    if gbs in metrics_here:
        st.plotly_chart(
            charts.metric_vs_metric(
                results,
                gbs,
                metric,
                x_label=f"{marked} Geo-Bias Score, {SCALE_LABELS[scale]}",
                y_label=METRIC_LABELS[metric],
            ),
        )
        st.caption(GBS_MEANING[marked])
    else:
        st.info(f"These runs have no `{gbs}` score (see each run's `config.json` → run → geobias).")

history = data.histories([r for r in runs if not is_baseline(r.encoder)])
if not history.empty:
    st.plotly_chart(charts.training_curves(history, "val_metric", "validation metric"))

"""
The dashboard's only caching layer: thin ``st.cache_data`` / ``st.cache_resource`` wrappers around engine
calls. Pages call these functions and never cache themselves.

Conventions: a public function takes plain arguments and computes cheap cache keys (a run's ``stamp`` =
mtime of its ``metrics.json``, so a rewritten run is reloaded); the ``_cached`` function underneath holds the
cache. Frames and small results use ``st.cache_data`` (copied per caller); models use ``st.cache_resource``
(shared, read-only: never train or modify them in place). Sections: run store · accuracy maps · geo-bias ·
embedding maps. Append new sections at the end, each under its own banner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
import torch

from engine.maps import (
    ChannelInfo,
    Continuity,
    Hotspots,
    RunSummary,
    channel_continuity,
    difference_map,
    embed_globe,
    geobias_hotspots,
    h3_cells,
    pe_channel,
    pe_channel_info,
    points_table,
    read_points_csv,
    run_map,
    run_stamp,
    summarize_run,
    to_rgb,
)
from engine.training.store import Run, default_run_store, list_runs

# ─────────────────────────────────────────── run store ───────────────────────────────────────────


def run_store() -> Path:
    """The run store (``$LOCLAB_RUNS`` or ``./runs``), read on every call (never cached)."""
    return default_run_store()


@st.cache_data(show_spinner=False, max_entries=512)
def _summary(path: str, root: str, stamp: float) -> RunSummary | None:
    try:
        return summarize_run(path, root)
    except (OSError, ValueError):
        return None  # a half-written or corrupt run is skipped, not fatal


def run_summaries(root: str | Path | None = None) -> list[RunSummary]:
    """Every readable complete run under ``root`` (default: the run store), newest first."""
    root = Path(root) if root is not None else run_store()
    found = [_summary(str(p), str(root), run_stamp(p)) for p in list_runs(root)]
    return [s for s in found if s is not None]


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_run(path: str, stamp: float) -> Run:
    from engine.training.store import load_run

    return load_run(path)


def load_run(path: str | Path) -> Run:
    """The loaded run (model shared between sessions: read-only)."""
    return _load_run(str(path), run_stamp(path))


@st.cache_data(show_spinner=False, max_entries=16)
def _predictions(path: str, stamp: float) -> pd.DataFrame:
    return _load_run(path, stamp).predictions()


def predictions(path: str | Path) -> pd.DataFrame:
    """The run's per-sample test predictions."""
    return _predictions(str(path), run_stamp(path))


# ───────────────────────────────────────── accuracy maps ─────────────────────────────────────────


@st.cache_data(show_spinner=False, max_entries=64)
def _run_cells(path: str, stamp: float, res: int) -> pd.DataFrame:
    return run_map(_predictions(path, stamp), res)


def run_cells(path: str | Path, res: int) -> pd.DataFrame:
    """Per-H3-cell accuracy (classification) or mean |error| (regression): cell, value_mean, count."""
    return _run_cells(str(path), run_stamp(path), res)


@st.cache_data(show_spinner=False, max_entries=32)
def _difference_cells(a: str, stamp_a: float, b: str, stamp_b: float, res: int) -> pd.DataFrame:
    return difference_map(_predictions(a, stamp_a), _predictions(b, stamp_b), res)


def difference_cells(path_a: str | Path, path_b: str | Path, res: int) -> pd.DataFrame:
    """Per-cell A − B of two runs (cells covered by both)."""
    return _difference_cells(str(path_a), run_stamp(path_a), str(path_b), run_stamp(path_b), res)


# ──────────────────────────────────────────── geo-bias ───────────────────────────────────────────


@st.cache_data(show_spinner=False, max_entries=32)
def _run_hotspots(path: str, stamp: float, scale: str) -> Hotspots:
    return geobias_hotspots(_predictions(path, stamp), scale)


def run_hotspots(path: str | Path, scale: str) -> Hotspots:
    """Unmarked / marked SSI hotspots of a run at ``scale`` (seconds to a minute for 10k points)."""
    return _run_hotspots(str(path), run_stamp(path), scale)


@st.cache_data(show_spinner=False, max_entries=8)
def uploaded_points(data: bytes, value_col: str) -> pd.DataFrame:
    """Parse and validate an uploaded CSV (``ValueError`` with a readable message on a bad file)."""
    return points_table(read_points_csv(data), value_col)


@st.cache_data(show_spinner=False, max_entries=16)
def uploaded_hotspots(data: bytes, value_col: str, scale: str) -> Hotspots:
    """Hotspots of an uploaded predictions CSV at ``scale``."""
    return geobias_hotspots(uploaded_points(data, value_col), scale, value_col=_mark_column(value_col))


def _mark_column(value_col: str) -> str:
    return "correct" if value_col == "correct" else "abs_error"


# ───────────────────────────────────────── embedding maps ────────────────────────────────────────


@st.cache_data(show_spinner=False)
def cell_ids(res: int) -> np.ndarray:
    """Every H3 cell id on the globe at ``res`` (the row order of the embedding maps)."""
    return h3_cells(res)[0].copy()


EMBED_BATCH = 8192  # points per forward pass: bounds a GeoCLIP-sized encoder to ~100 MB of activations


def _rgb_frame(res: int, rgb: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"cell": cell_ids(res), "r": rgb[:, 0], "g": rgb[:, 1], "b": rgb[:, 2]})


@st.cache_data(show_spinner=False, max_entries=32)
def _encoder_rgb(name: str, kwargs_json: str, seed: int, res: int, method: str) -> pd.DataFrame:
    from engine import create_encoder

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = create_encoder(name, **json.loads(kwargs_json))
    return _rgb_frame(res, to_rgb(embed_globe(encoder, res, EMBED_BATCH), method=method, seed=seed))  # type: ignore[arg-type]


def encoder_rgb(name: str, kwargs: dict[str, Any], seed: int, res: int, method: str) -> pd.DataFrame:
    """An untrained encoder (initialised with ``seed``) over the globe, reduced to RGB: cell, r, g, b."""
    return _encoder_rgb(name, json.dumps(kwargs, sort_keys=True), seed, res, method)


@st.cache_data(show_spinner=False, max_entries=16)
def _run_rgb(path: str, stamp: float, res: int, method: str) -> pd.DataFrame:
    model = _load_run(path, stamp).model
    if model is None:
        raise ValueError(f"run {path} has no model weights (a baseline run)")
    encoder = getattr(model, "encoder", model)
    return _rgb_frame(res, to_rgb(embed_globe(encoder, res, EMBED_BATCH), method=method))  # type: ignore[arg-type]


def run_rgb(path: str | Path, res: int, method: str) -> pd.DataFrame:
    """A trained run's location encoder over the globe, reduced to RGB: cell, r, g, b."""
    return _run_rgb(str(path), run_stamp(path), res, method)


@st.cache_data(show_spinner=False, max_entries=32)
def _channel_info(name: str, kwargs_json: str) -> list[ChannelInfo]:
    return pe_channel_info(name, **json.loads(kwargs_json))


def channel_info(name: str, kwargs: dict[str, Any]) -> list[ChannelInfo]:
    """Labels of every output column of encoder ``name``'s PE."""
    return _channel_info(name, json.dumps(kwargs, sort_keys=True))


@st.cache_data(show_spinner=False, max_entries=64)
def _channel_cells(name: str, kwargs_json: str, channel: int, res: int) -> pd.DataFrame:
    _, lonlat = h3_cells(res)
    values = pe_channel(name, channel, lonlat, **json.loads(kwargs_json)).numpy()
    return pd.DataFrame({"cell": cell_ids(res), "value": values.astype(np.float64)})


def channel_cells(name: str, kwargs: dict[str, Any], channel: int, res: int) -> pd.DataFrame:
    """One PE channel evaluated at every H3 cell centre: cell, value."""
    return _channel_cells(name, json.dumps(kwargs, sort_keys=True), channel, res)


@st.cache_data(show_spinner=False, max_entries=64)
def _continuity(name: str, kwargs_json: str, channel: int) -> Continuity:
    return channel_continuity(name, channel, **json.loads(kwargs_json))


def channel_continuity_checks(name: str, kwargs: dict[str, Any], channel: int) -> Continuity:
    """Seam at the dateline and spread at the poles of one PE channel."""
    return _continuity(name, json.dumps(kwargs, sort_keys=True), channel)


# ──────────────────── home · train & compare (appended by the app-shell engineer) ────────────────────
# The catalogues, the process-wide registry of background training jobs, sweep results and the user's
# uploaded training tables. Everything above this banner belongs to the map pages.

import warnings  # noqa: E402

import jobs  # noqa: E402

from engine.cli.datasets import dataset_table, missing_files  # noqa: E402
from engine.cli.encoders import catalogue_rows  # noqa: E402
from engine.datasets.base import DATASETS  # noqa: E402
from engine.datasets.summary import summarize  # noqa: E402
from engine.training.summary import COLUMNS, aggregate  # noqa: E402

MAX_UPLOAD_BYTES = 50 * 1024**2
"""Largest training table the dashboard accepts (50 MiB); the CLI takes larger files."""


@st.cache_data(show_spinner="Reading the encoder registry…")
def encoder_catalogue() -> pd.DataFrame:
    """One row per registered encoder: name, paper name, PE dim (formula, default), default net, paper."""
    return pd.DataFrame(catalogue_rows())[["name", "display_name", "pe_dim", "default_dim", "net", "paper"]]


@st.cache_data(show_spinner="Reading the dataset registry…")
def dataset_catalogue(root: str | None = None) -> pd.DataFrame:
    """One row per registered dataset: name, group, embedded, task, classes, split sizes, data status.

    Embedded datasets are built once with their defaults (for their sizes); downloadable ones (LocBench) are
    only checked for their files under ``root``.
    """
    table = pd.DataFrame(dataset_table(root))
    table.insert(2, "embedded", table["group"] == "embedded")
    return table


def dataset_missing_files(name: str, root: str) -> list[str] | None:
    """Files of downloadable dataset ``name`` missing under ``root`` (``None``: the registry cannot tell)."""
    return missing_files(DATASETS.entry(name), root or None)


@st.cache_resource
def job_registry() -> jobs.JobRegistry:
    """The training jobs of this server process: shared by every session, survives a browser reload."""
    return jobs.JobRegistry()


def _sweep_folder(run: RunSummary) -> Path:
    """The sweep holding ``run``: ``<sweep>/<dataset>/<model>/seed_<s>`` (bench layout), else its parent."""
    path = run.path
    if path.name.startswith("seed_") and path.parents[1].name == run.dataset:
        return path.parents[2]
    return path.parent


def sweeps(root: str | Path | None = None) -> dict[str, list[RunSummary]]:
    """Complete runs grouped by sweep folder (a dashboard job or a ``bench`` folder), newest sweep first.

    Keys are sweep folders relative to the run store (``"."`` for runs written straight into it).
    """
    root = Path(root) if root is not None else run_store()
    groups: dict[str, list[RunSummary]] = {}
    for summary in run_summaries(root):  # newest first
        sweep = _sweep_folder(summary)
        name = str(sweep.relative_to(root)) if sweep.is_relative_to(root) else str(sweep)
        groups.setdefault(name, []).append(summary)
    return groups


@st.cache_data(show_spinner=False, max_entries=1024)
def _run_tidy(path: str, stamp: float, dataset: str, model: str, seed: int) -> pd.DataFrame:
    """One run's rows of the tidy table (as :func:`engine.training.summary.collect`, for any folder)."""
    metrics = json.loads((Path(path) / "metrics.json").read_text())
    seconds = json.loads((Path(path) / "config.json").read_text()).get("run", {}).get("seconds")
    values = {k: v.get("value") for k, v in metrics.items() if isinstance(v, dict)}
    values["seconds"] = seconds
    rows = [
        {"dataset": dataset, "model": model, "seed": seed, "metric": k, "value": float(v)}
        for k, v in values.items()
        if isinstance(v, int | float)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def sweep_results(runs: list[RunSummary]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy table (``dataset, model, seed, metric, value``) of ``runs`` and its mean ± std over seeds.

    The second frame is :func:`engine.training.summary.aggregate`: ``dataset, model, metric, mean, std, n``.
    """
    frames = [_run_tidy(str(r.path), r.stamp, r.dataset, r.encoder, r.seed or 0) for r in runs]
    tidy = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return tidy, aggregate(tidy)


@st.cache_data(show_spinner=False, max_entries=32)
def _histories(paths: tuple[str, ...], labels: tuple[str, ...], stamps: tuple[float, ...]) -> pd.DataFrame:
    frames = [
        pd.read_csv(Path(p) / "history.csv").assign(run=label)
        for p, label in zip(paths, labels, strict=True)
        if (Path(p) / "history.csv").is_file()
    ]
    columns = ["run", "epoch", "train_loss", "val_metric"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def histories(runs: list[RunSummary]) -> pd.DataFrame:
    """Per-epoch ``run, epoch, train_loss, val_metric`` of trained runs (baselines have no history)."""
    labels = tuple(f"{r.encoder} · seed {r.seed}" for r in runs)
    return _histories(tuple(str(r.path) for r in runs), labels, tuple(r.stamp for r in runs))


def save_upload(name: str, payload: bytes, root: str | Path | None = None) -> Path:
    """Store an uploaded training table as ``<run store>/uploads/<name>`` (the worker reads it from there).

    Raises:
        ValueError: when the file is larger than :data:`MAX_UPLOAD_BYTES` or empty.
    """
    if len(payload) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"{name} is {len(payload) / 1024**2:.1f} MiB; the dashboard takes tables up to "
            f"{MAX_UPLOAD_BYTES / 1024**2:.0f} MiB (use `python -m engine` for larger files)"
        )
    if not payload:
        raise ValueError(f"{name} is empty")
    folder = (Path(root) if root is not None else run_store()) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(name).name
    if not path.is_file() or path.read_bytes() != payload:
        path.write_bytes(payload)
    return path


@st.cache_data(show_spinner=False, max_entries=16)
def _table_columns(path: str, stamp: float) -> list[str]:
    if path.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    sep = "\t" if path.endswith((".tsv", ".tsv.gz")) else ","
    try:
        return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"could not read the header of {Path(path).name}: {err}") from None


def table_columns(path: str | Path) -> list[str]:
    """Column names of a CSV / TSV / Parquet table (``ValueError`` when unreadable)."""
    return _table_columns(str(path), Path(path).stat().st_mtime)


@st.cache_data(show_spinner="Checking the table…", max_entries=16)
def _check_table(path: str, stamp: float, kwargs_json: str) -> tuple[dict[str, Any], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = jobs.DatasetSource(Path(path).stem, json.loads(kwargs_json), table_path=path).load()
    return summarize(ds), [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def check_table(path: str | Path, kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Load a user table as ``engine.load_table(path, **kwargs)`` would for training.

    Returns:
        The dataset summary (:func:`engine.datasets.summary.summarize`) and the loader's warnings (e.g. rows
        dropped). Problems the user can fix raise ``ValueError`` / ``FileNotFoundError`` with the reason.
    """
    return _check_table(str(path), Path(path).stat().st_mtime, json.dumps(kwargs, sort_keys=True))

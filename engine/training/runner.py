"""One benchmark run (an encoder or a non-neural baseline, saved as a run folder) and the benchmark sweep.

``run_one`` never lets one run's failure end a sweep: any exception (a NaN loss raises
``FloatingPointError``, out-of-memory, a bug) is written to ``error.json`` in the run folder and returned as a
``failed`` status. ``bench`` runs the grid dataset × model × seed into ``out/<dataset>/<model>/seed_<s>/``,
skips folders that already hold a complete run (an interrupted sweep resumes where it stopped) and writes
``summary.csv`` / ``summary.md`` (:mod:`engine.training.summary`).

Seeds: the dataset split is fixed (``split_seed=0`` by default: every model seed sees the same
train / val / test rows) and only the model seed varies (initialisation, shuffling, background points).
``split_seed=None`` re-splits with the model seed instead. Baselines are deterministic, so with a fixed
split each runs once (at the first seed).
"""

from __future__ import annotations

import inspect
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm import tqdm

from engine.datasets.base import DATASETS, Dataset
from engine.encoders import ENCODERS
from engine.io import write_json
from engine.metrics.classification import combine_priors
from engine.training.baselines import create_baseline
from engine.training.config import TrainConfig
from engine.training.evaluate import evaluate
from engine.training.executors import Cell, Executor, LocalExecutor
from engine.training.geobias_metrics import geobias_metrics
from engine.training.hparams import Hparams, apply_hparams
from engine.training.loop import TrainingCancelled, fit
from engine.training.profiles import for_dataset
from engine.training.store import COMPLETE_MARKER, ERROR_FILE, is_complete, run_config, save_run
from engine.training.summary import collect, write_summary

BASELINE_PREFIX = "baseline:"
DEFAULT_BASELINES: dict[str, tuple[str, ...]] = {
    "classification": ("no_prior", "train_freq", "knn", "grid"),
    "regression": ("mean", "knn"),
}
"""Baselines run by default, per task."""
TASK_ALIASES: dict[tuple[str, str], str] = {("knn", "regression"): "knn_regressor"}
"""Short baseline names that mean another registry entry for a task (``knn`` on regression)."""


def is_baseline(model: str) -> bool:
    """True for ``baseline:<name>`` model names."""
    return model.startswith(BASELINE_PREFIX)


def baseline_name(model: str, task: str) -> str:
    """Registry name of baseline model ``baseline:<name>`` for ``task`` (``ValueError`` if invalid)."""
    short = model.removeprefix(BASELINE_PREFIX)
    name = TASK_ALIASES.get((short, task), short)
    create_baseline(name, task)  # validates name and task
    return name


def run_dir(out: str | Path, dataset: str, model: str, seed: int) -> Path:
    """``out/<dataset>/<model>/seed_<seed>`` (``baseline:knn`` becomes the folder ``baseline-knn``)."""
    return Path(out) / dataset / model.replace(":", "-") / f"seed_{seed}"


def _fit_baseline(dataset: Dataset, model: str, config: TrainConfig) -> tuple[dict, pd.DataFrame, dict]:
    """Fit a baseline on train and score test exactly like the encoder path (image prior combined)."""
    task = dataset.info.task
    name = baseline_name(model, task)
    baseline = create_baseline(name, task)
    train, test = dataset.train, dataset.test
    baseline.fit(train.lonlat, train.target, num_classes=dataset.info.num_classes or None)
    scores = baseline.predict(test.lonlat)
    if task == "classification":
        if test.image_prior is not None:  # unlocated rows fall back to the image prior alone
            scores = combine_priors(test.image_prior, scores, test.has_location)
    else:
        scores[~test.has_location] = float("nan")  # as the encoder path: unlocated rows are not scored
    metrics, predictions = evaluate(scores, test, task, n_boot=config.n_boot, seed=config.seed)
    spec = {
        "task": task,
        "baseline": name,
        "num_classes": dataset.info.num_classes,
        "class_names": list(dataset.info.class_names or []),
    }
    return metrics, predictions, spec


def _record_failure(out: Path, err: BaseException, record: dict[str, Any]) -> None:
    (out / COMPLETE_MARKER).unlink(missing_ok=True)
    error = {
        "type": type(err).__name__,
        "message": str(err),
        "traceback": "".join(traceback.format_exception(err)),
        **record,
    }
    write_json(out / ERROR_FILE, error)


def run_one(
    dataset: Dataset,
    model_name: str,
    seed: int,
    out_dir: str | Path,
    *,
    config: TrainConfig,
    dataset_kwargs: Mapping[str, Any] | None = None,
    geobias: bool = True,
    progress: bool = False,
    callback: Callable[[dict[str, float]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Train (or fit) one model on ``dataset`` and save the run folder ``out_dir``.

    Args:
        dataset: the loaded dataset.
        model_name: an encoder registry name or ``baseline:<name>`` (``baseline:knn``, ``baseline:no_prior``).
        seed: the model seed (replaces ``config.seed``).
        out_dir: the run folder (re-running a folder replaces its run).
        config: the training config (``encoder`` and ``seed`` are set here).
        dataset_kwargs: how the dataset was loaded (recorded in ``config.json``).
        geobias: add the dataset-level Geo-Bias Scores (also needs ``config.geobias``).
        progress: show fit's progress bar.
        callback: per-epoch history rows (see :func:`engine.training.loop.fit`).
        should_stop: cancellation poll; a cancelled run raises :class:`TrainingCancelled` (not recorded).

    Returns:
        ``{"dataset", "model", "seed", "path", "status" ("ok" | "failed"), "seconds", "error", "metrics"}``
        with ``metrics`` ``{name: value}`` (empty when failed).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "dataset": dataset.info.name,
        "model": model_name,
        "seed": seed,
        "path": str(out),
    }
    t0 = time.perf_counter()
    cfg = config.replace(encoder=model_name, seed=seed)
    try:
        (out / COMPLETE_MARKER).unlink(missing_ok=True)
        torch.manual_seed(seed)
        model, history, extra = None, None, {}
        if is_baseline(model_name):
            metrics, predictions, spec = _fit_baseline(dataset, model_name, cfg)
        else:
            result = fit(dataset, cfg, progress=progress, callback=callback, should_stop=should_stop)
            metrics, predictions, spec = result.metrics, result.predictions, result.spec
            model, history, extra = result.model, result.history, {"best_epoch": result.best_epoch}
        note: dict[str, Any] = {"status": "off"}
        if geobias and cfg.geobias:
            gbs, note = geobias_metrics(predictions, max_points=cfg.geobias_max_points)
            metrics.update(gbs)
        seconds = time.perf_counter() - t0
        saved = run_config(dataset, cfg, spec, dict(dataset_kwargs or {}))
        saved["run"] = {"model": model_name, "seconds": seconds, "geobias": note, **extra}
        save_run(out, config=saved, metrics=metrics, history=history, predictions=predictions, model=model)
    except TrainingCancelled:
        raise
    except Exception as err:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # after an out-of-memory error, free the cache for the next run
        _record_failure(out, err, record)
        return {
            **record,
            "status": "failed",
            "seconds": time.perf_counter() - t0,
            "error": f"{type(err).__name__}: {err}",
            "metrics": {},
        }
    values = {k: v["value"] for k, v in metrics.items() if isinstance(v, dict) and "value" in v}
    return {**record, "status": "ok", "seconds": seconds, "error": "", "metrics": values}


def _check_available(name: str, root: str | None) -> None:
    """``FileNotFoundError`` naming the first missing file of a downloadable dataset (meta ``files``)."""
    meta = DATASETS.entry(name).meta
    files = meta.get("files")
    if meta.get("embedded") or not files:
        return
    if root is None:
        raise FileNotFoundError(f"dataset {name!r} needs its downloaded files: pass root (--root DIR)")
    missing = [f for f in files if not (Path(root).expanduser() / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"dataset {name!r}: {len(missing)} file(s) missing under {root}, e.g. {missing[0]} "
            "(see `python -m engine data download`)"
        )


def _task_of(name: str) -> str:
    return DATASETS.entry(name).meta.get("task", "classification")


def _dataset_kwargs(name: str, kwargs: Mapping[str, Any], split_seed: int) -> dict[str, Any]:
    """The loader's kwargs with ``seed=split_seed`` added when the loader takes a seed and none is given."""
    out = dict(kwargs)
    if "seed" not in out and "seed" in inspect.signature(DATASETS.entry(name).builder).parameters:
        out["seed"] = split_seed
    return out


def plan(
    datasets: Sequence[str],
    models: Sequence[str],
    seeds: Sequence[int],
    baselines: str | Sequence[str] | None = "default",
    baseline_seeds: Sequence[int] | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """The (model, seed) cells per dataset, baselines first; invalid names raise ``ValueError`` up front.

    Baselines run at ``baseline_seeds`` (default: the first seed only, since they are deterministic).
    """
    if not datasets or not seeds:
        raise ValueError("bench needs at least one dataset and one seed")
    cells: dict[str, list[tuple[str, int]]] = {}
    for ds in datasets:
        task = _task_of(ds)
        if baselines == "default":
            base = [BASELINE_PREFIX + b for b in DEFAULT_BASELINES[task]]
        else:
            base = [BASELINE_PREFIX + b.removeprefix(BASELINE_PREFIX) for b in (baselines or [])]
        base += [m for m in models if is_baseline(m) and m not in base]
        encoders = [m for m in models if not is_baseline(m)]
        for m in base:
            baseline_name(m, task)
        for m in encoders:
            ENCODERS.entry(m)
        if not base and not encoders:
            raise ValueError("bench needs at least one encoder or baseline")
        b_seeds = set(baseline_seeds) if baseline_seeds is not None else {seeds[0]}
        cells[ds] = [(m, s) for s in seeds for m in (base if s in b_seeds else []) + encoders]
    return cells


def bench(
    datasets: Sequence[str],
    models: Sequence[str],
    seeds: int | Sequence[int],
    out: str | Path,
    *,
    config: TrainConfig,
    dataset_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    root: str | None = None,
    hparams: Hparams | None = None,
    progress: bool = True,
    baselines: str | Sequence[str] | None = "default",
    split_seed: int | None = 0,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Run every dataset × model × seed into ``out`` and write ``summary.csv`` and ``summary.md``.

    Args:
        datasets: dataset registry names.
        models: encoder names (and optionally ``baseline:<name>`` entries).
        seeds: model seeds, or a count ``n`` meaning ``0 … n−1``.
        out: the sweep folder.
        config: the base training config (e.g. :func:`engine.training.profiles.profile_config`).
        dataset_kwargs: ``{dataset: loader kwargs}`` (sizes, split, ...).
        root: folder with downloaded data (LocBench).
        hparams: per-(encoder, dataset) overrides (:func:`engine.training.hparams.load_hparams`).
        progress: progress bars and one line per finished run (stderr).
        baselines: ``"default"`` (classification: no_prior, train_freq, knn, grid; regression: mean, knn),
            a list of baseline names, or ``None`` / ``[]`` for none.
        split_seed: the dataset split seed (fixed across model seeds); ``None`` re-splits with each seed.
        executor: where the runs execute (:mod:`engine.training.executors`); ``None`` runs them here, one
            after the other (:class:`~engine.training.executors.LocalExecutor`).

    Returns:
        The tidy results table (``dataset, model, seed, metric, value``) of every complete run of the grid;
        ``.attrs["failed"]`` lists the records of the runs that failed in this call.
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    # with a split per model seed, the baselines differ per seed too
    cells = plan(datasets, models, seed_list, baselines, seed_list if split_seed is None else None)
    for name in cells:  # a missing download fails now, not hours into the sweep
        _check_available(name, root)
    out = Path(out)
    total = sum(len(c) for c in cells.values())
    records: list[dict[str, Any]] = []
    todo: list[Cell] = []
    for ds_name, ds_cells in cells.items():
        base_kwargs = dict((dataset_kwargs or {}).get(ds_name, {}))
        for model, seed in ds_cells:
            path = run_dir(out, ds_name, model, seed)
            if is_complete(path):
                records.append({"dataset": ds_name, "model": model, "seed": seed, "status": "skipped"})
                if progress:
                    tqdm.write(
                        f"[{len(records)}/{total}] {ds_name}/{model}/seed_{seed} already complete",
                        file=sys.stderr,
                    )
                continue
            kwargs = _dataset_kwargs(ds_name, base_kwargs, seed if split_seed is None else split_seed)
            cfg = for_dataset(apply_hparams(config.replace(encoder=model), hparams, ds_name), ds_name)
            todo.append(Cell(ds_name, model, seed, path, kwargs, cfg, root))
    chosen = executor if executor is not None else LocalExecutor()
    records += chosen.run(todo, progress=progress, done=len(records), total=total)
    tidy = collect(out, [(ds, m, s) for ds, c in cells.items() for m, s in c])
    failed = [r for r in records if r["status"] == "failed"]
    write_summary(out, tidy, failed)
    tidy.attrs["failed"] = failed
    return tidy


def _line(i: int, total: int, rec: dict[str, Any]) -> str:
    head = f"[{i}/{total}] {rec['dataset']}/{rec['model']}/seed_{rec['seed']}"
    if rec["status"] == "failed":
        return f"{head} FAILED ({rec['error']})"
    shown = {k: v for k, v in rec["metrics"].items() if k in ("top1", "r2")}
    return f"{head} ok {rec['seconds']:.1f} s " + " ".join(f"{k}={v:.4f}" for k, v in shown.items())

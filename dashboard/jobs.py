"""Background training jobs for the dashboard: a registry of jobs, one worker thread each.

A :class:`Job` trains every (encoder, seed) pair of a :class:`JobSpec` (plus the non-neural baselines) one
run after the other and writes each finished run to the run store, so that the CLI, a reloaded page and a
second browser tab all see it. The worker makes no ``st.*`` call: it only updates the job under the job's
lock, and pages read consistent copies with :meth:`Job.view`. Jobs wait for a free slot (one at a time by
default), so two tabs that start jobs share the CPU instead of fighting over it.

Pure Python: no streamlit import (the process-wide registry is cached by ``data.job_registry``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import _paths  # noqa: F401  (repository root on sys.path)
import torch

import engine
from engine.datasets.base import Dataset
from engine.training.config import TrainConfig
from engine.training.loop import TrainingCancelled
from engine.training.runner import BASELINE_PREFIX, run_dir, run_one
from engine.training.store import default_run_store
from engine.training.summary import collect, write_summary

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
RunStatus = Literal["pending", "running", "done", "failed", "cancelled"]
FINISHED: tuple[str, ...] = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class DatasetSource:
    """Where a job's data comes from: a registered dataset or a user table (CSV / Parquet).

    Attributes:
        name: registry name (``engine.list_datasets()``), or the table's dataset name.
        kwargs: options for ``engine.load_dataset`` (sizes, split, seed) or ``engine.load_table``
            (``lon``, ``lat``, ``target``, ``task``, ``drop_invalid``, ...).
        root: folder with downloaded data (LocBench); ``None`` for embedded datasets.
        table_path: path of the user's table; ``None`` for registered datasets.
    """

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    root: str | None = None
    table_path: str | None = None

    def load(self) -> Dataset:
        """Load the dataset (``ValueError`` / ``FileNotFoundError`` say what is wrong)."""
        if self.table_path is not None:
            return engine.load_table(self.table_path, name=self.name, **self.kwargs)
        return engine.load_dataset(self.name, root=self.root, **self.kwargs)


@dataclass(frozen=True)
class JobSpec:
    """What to train: every encoder × seed on one dataset, plus baselines.

    Attributes:
        source: the dataset.
        encoders: encoder registry names.
        seeds: model seeds (the data split stays fixed).
        config: base training config; ``encoder`` and ``seed`` are set per run.
        baselines: baseline registry names (``engine.training.baselines.BASELINES``), fit once each.
        store: run store root; ``None`` = ``$LOCLAB_RUNS`` or ``./runs`` at submit time.
        label: a short description shown in the job list.
    """

    source: DatasetSource
    encoders: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    config: TrainConfig = field(default_factory=TrainConfig)
    baselines: tuple[str, ...] = ()
    store: Path | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not self.encoders and not self.baselines:
            raise ValueError("pick at least one encoder")
        if not self.seeds:
            raise ValueError("pick at least one seed")
        unknown = sorted(set(self.encoders) - set(engine.list_encoders()))
        if unknown:
            raise ValueError(f"unknown encoder(s) {unknown}; valid: {', '.join(engine.list_encoders())}")


@dataclass(frozen=True)
class RunState:
    """Progress of one run of a job (an immutable snapshot)."""

    model: str
    seed: int
    status: RunStatus = "pending"
    epoch: int = 0
    epochs: int = 0
    loss: float = float("nan")
    val: float = float("nan")
    seconds: float = 0.0
    path: str = ""
    error: str = ""

    @property
    def label(self) -> str:
        """``"encoder · seed 0"`` (baselines have no seed)."""
        return self.model if self.model.startswith(BASELINE_PREFIX) else f"{self.model} · seed {self.seed}"

    @property
    def detail(self) -> str:
        """Status in words: ``"epoch 3/20 · loss 0.912 · val 0.341"``, ``"evaluating"``, ``"done"``, ..."""
        if self.status == "running" and self.model.startswith(BASELINE_PREFIX):
            text = "fitting"
        elif self.status == "running":
            text = f"epoch {self.epoch}/{self.epochs}" if self.epoch < self.epochs else "evaluating"
        else:
            text = self.status
        if self.epoch:
            text += f" · loss {self.loss:.3f} · val {self.val:.3f}"
        return f"{text} · {self.error}" if self.error else text

    @property
    def fraction(self) -> float:
        """Share of this run that is done, in [0, 1]."""
        if self.status in FINISHED:
            return 1.0
        return min(self.epoch / self.epochs, 1.0) if self.epochs else 0.0


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job's state, for the UI."""

    id: str
    label: str
    status: JobStatus
    runs: tuple[RunState, ...]
    messages: tuple[str, ...]
    out_dir: str
    created: float
    seconds: float

    @property
    def running(self) -> bool:
        """True while the job is queued or training."""
        return self.status not in FINISHED

    @property
    def fraction(self) -> float:
        """Share of the whole job that is done, in [0, 1]."""
        return sum(r.fraction for r in self.runs) / len(self.runs) if self.runs else 0.0

    @property
    def result_paths(self) -> tuple[str, ...]:
        """Run folders written so far."""
        return tuple(r.path for r in self.runs if r.status == "done")


RunFn = Callable[["Job", Dataset, int], str]
"""Executes run ``i`` of a job on the loaded dataset and returns its run folder."""


class Job:
    """One background job. The worker changes it only through its methods, each under ``self._lock``.

    Args:
        spec: what to train.
        store: the run store; the job writes into ``<store>/<YYYYmmdd-HHMMSS>-<id>/`` (its sweep folder).
    """

    def __init__(self, spec: JobSpec, store: Path) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.spec = spec
        self.created = time.time()
        self.out_dir = store / f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(self.created))}-{self.id}"
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._status: JobStatus = "queued"
        self._started = 0.0
        self._finished = 0.0
        self._messages: list[str] = []
        epochs = spec.config.epochs
        runs = [RunState(e, s, epochs=epochs) for e in spec.encoders for s in spec.seeds]
        # baselines are deterministic: fit once, at the first seed (as ``engine.training.runner.bench``)
        runs = [RunState(BASELINE_PREFIX + b, spec.seeds[0], epochs=1) for b in spec.baselines] + runs
        self._runs = runs
        self.thread: threading.Thread | None = None

    def view(self) -> JobView:
        """A consistent snapshot of the job."""
        with self._lock:
            end = self._finished or time.time()
            return JobView(
                id=self.id,
                label=self.spec.label or self.spec.source.name,
                status=self._status,
                runs=tuple(self._runs),
                messages=tuple(self._messages),
                out_dir=str(self.out_dir),
                created=self.created,
                seconds=end - self._started if self._started else 0.0,
            )

    def cancel(self) -> None:
        """Ask the worker to stop after the current epoch (a queued job never starts)."""
        self._cancel.set()
        self.message("cancel requested")

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def message(self, text: str) -> None:
        """Append a line to the job's log."""
        with self._lock:
            self._messages.append(f"{time.strftime('%H:%M:%S')} {text}")

    def set_status(self, status: JobStatus) -> None:
        """Set the job status (and its start / end time)."""
        with self._lock:
            self._status = status
            if status == "running":
                self._started = time.time()
            if status in FINISHED:
                self._finished = time.time()

    def update_run(self, i: int, **changes: Any) -> None:
        """Replace fields of run ``i`` (e.g. ``epoch=3, loss=0.4``)."""
        with self._lock:
            self._runs[i] = dataclasses.replace(self._runs[i], **changes)

    def run(self, i: int) -> RunState:
        """The current state of run ``i``."""
        with self._lock:
            return self._runs[i]

    def __len__(self) -> int:
        return len(self._runs)


class RunFailed(RuntimeError):
    """A run that :func:`engine.training.runner.run_one` recorded as failed (its ``error.json`` says why)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def train_run(job: Job, ds: Dataset, i: int) -> str:
    """Train (or fit, for a baseline) run ``i`` of ``job`` with :func:`engine.training.runner.run_one`.

    The run folder is ``<job.out_dir>/<dataset>/<model>/seed_<seed>`` (the ``bench`` layout); per-epoch rows
    update the run's progress and :meth:`Job.cancel` stops it after the current epoch.
    """
    state = job.run(i)

    def on_epoch(row: dict[str, float]) -> None:
        job.update_run(i, epoch=int(row["epoch"]), loss=row["train_loss"], val=row["val_metric"])

    record = run_one(
        ds,
        state.model,
        state.seed,
        run_dir(job.out_dir, ds.info.name, state.model, state.seed),
        config=job.spec.config,
        dataset_kwargs=job.spec.source.kwargs,
        callback=on_epoch,
        should_stop=lambda: job.cancelled,
    )
    if record["status"] != "ok":
        raise RunFailed(record["error"], str(record["path"]))
    return str(record["path"])


def write_job_summary(job: Job, dataset: str) -> None:
    """``summary.csv`` / ``summary.md`` in the job folder, as ``python -m engine bench`` writes them."""
    runs = job.view().runs
    cells = [(dataset, r.model, r.seed) for r in runs if r.status == "done"]
    if not cells:
        return
    failed = [
        {"dataset": dataset, "model": r.model, "seed": r.seed, "error": r.error, "path": r.path}
        for r in runs
        if r.status == "failed"
    ]
    write_summary(job.out_dir, collect(job.out_dir, cells), failed)


def work(job: Job, slot: threading.Semaphore, run_fn: RunFn = train_run) -> None:
    """The worker: wait for a slot, then :func:`run_job`; an unexpected error fails the job (never hangs)."""
    with slot:
        if job.cancelled:
            job.set_status("cancelled")
            return
        job.set_status("running")
        try:
            status = run_job(job, run_fn)
        except Exception as err:
            job.message(f"job failed: {type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}")
            status = "failed"
        job.message(f"finished: {status}")
        job.set_status(status)


def run_job(job: Job, run_fn: RunFn = train_run) -> JobStatus:
    """Load the data and execute every run of ``job`` in order; returns the job's final status."""
    torch.set_num_threads(1)  # leave a core for the Streamlit server
    job.message(f"loading dataset {job.spec.source.name}")
    try:
        ds = job.spec.source.load()
    except Exception as err:
        job.message(f"could not load the dataset: {err}")
        return "failed"
    failed = 0
    for i in range(len(job)):
        if job.cancelled:
            job.update_run(i, status="cancelled")
            continue
        t0 = time.perf_counter()
        job.update_run(i, status="running")
        try:
            path = run_fn(job, ds, i)
        except TrainingCancelled:
            job.update_run(i, status="cancelled", seconds=time.perf_counter() - t0)
            job.message(f"{job.run(i).label}: cancelled")
            continue
        except Exception as err:
            failed += 1
            error = str(err) if isinstance(err, RunFailed) else f"{type(err).__name__}: {err}"
            job.update_run(i, status="failed", error=error, path=getattr(err, "path", ""))
            job.message(f"{job.run(i).label}: failed: {error}")
            continue
        job.update_run(i, status="done", path=path, seconds=time.perf_counter() - t0)
        job.message(f"{job.run(i).label}: done in {time.perf_counter() - t0:.1f} s")
    write_job_summary(job, ds.info.name)
    return "cancelled" if job.cancelled else ("failed" if failed else "done")


class JobRegistry:
    """Every job of this server process (kept in ``st.cache_resource`` so it survives reloads and tabs)."""

    def __init__(self, concurrent: int = 1) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._slot = threading.Semaphore(concurrent)

    def submit(self, spec: JobSpec, run_fn: RunFn = train_run) -> Job:
        """Queue ``spec`` and start its worker thread; returns the :class:`Job` at once."""
        job = Job(spec, Path(spec.store) if spec.store is not None else default_run_store())
        job.thread = threading.Thread(
            target=work, args=(job, self._slot, run_fn), name=f"loclab-job-{job.id}", daemon=True
        )
        with self._lock:
            self._jobs[job.id] = job
        job.thread.start()
        return job

    def get(self, job_id: str) -> Job:
        """The job with id ``job_id`` (``KeyError`` if unknown)."""
        with self._lock:
            return self._jobs[job_id]

    def jobs(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def active(self) -> list[Job]:
        """Jobs that are queued or running."""
        return [j for j in self.jobs() if j.view().running]

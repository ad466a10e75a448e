"""Where the benchmark's runs execute: in this process (:class:`LocalExecutor`) or as Ray tasks.

:func:`engine.training.runner.bench` builds the list of :class:`Cell` objects still to run (complete run
folders are skipped before anything is submitted, so an interrupted sweep resumes) and hands it to an
executor. Every executor returns one record per cell in the format of
:func:`engine.training.runner.run_one`; a failed run is recorded and the sweep goes on.

:class:`RayExecutor` submits each cell as a ``ray.remote`` task with declared resources
(``num_cpus_per_task``, ``num_gpus_per_task``). The task loads its dataset itself, by registry name and
loader kwargs, so no dataset is pickled, trains with :func:`~engine.training.runner.run_one` and returns the
record. Run folders:

* ``ship_files=False`` (default): the task writes its run folder straight into the sweep folder. On a
  remote cluster that folder must be on a filesystem shared by every node (NFS, a mounted bucket).
* ``ship_files=True``: the task trains into a temporary folder on its node and returns the folder's files
  as bytes; the driver writes them into the sweep folder atomically (a temporary sibling, then a rename).
  Use this when the nodes share no filesystem.

A task whose worker dies (a crash, the node lost) is recorded as failed by the driver, with an
``error.json`` in its run folder; Ray's own retries are off (``max_retries=0``) so a crashing run is not
repeated silently.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from engine.io import write_json
from engine.training.config import TrainConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (put on the Ray workers' ``PYTHONPATH`` so they can import ``engine``)."""


@dataclass(frozen=True)
class Cell:
    """One run of a sweep: everything a worker needs to reproduce it.

    Attributes:
        dataset: dataset registry name.
        model: encoder name or ``baseline:<name>``.
        seed: the model seed.
        path: the run folder.
        dataset_kwargs: the loader kwargs (split seed included).
        config: the fully resolved training config (profile, dataset and hyperparameter table applied).
        root: folder with downloaded data, or ``None``.
    """

    dataset: str
    model: str
    seed: int
    path: Path
    dataset_kwargs: dict[str, Any] = field(default_factory=dict)
    config: TrainConfig = field(default_factory=TrainConfig)
    root: str | None = None

    def record(self) -> dict[str, Any]:
        """The identifying part of a run record."""
        return {"dataset": self.dataset, "model": self.model, "seed": self.seed, "path": str(self.path)}


class Executor(Protocol):
    """Runs a list of cells and returns one record per cell (in any order)."""

    def run(self, cells: list[Cell], *, progress: bool, done: int, total: int) -> list[dict[str, Any]]:
        """Run ``cells``; ``done`` / ``total`` number the progress lines."""
        ...


def _load(cell: Cell) -> Any:
    from engine.datasets.base import DATASETS

    return DATASETS.entry(cell.dataset).builder(root=cell.root, **cell.dataset_kwargs)


def _report(rec: dict[str, Any], i: int, total: int, progress: bool) -> None:
    if progress:
        from engine.training.runner import _line

        tqdm.write(_line(i, total, rec), file=sys.stderr)


class LocalExecutor:
    """The sequential path: runs cell after cell in this process, one dataset in memory at a time."""

    def run(self, cells: list[Cell], *, progress: bool, done: int, total: int) -> list[dict[str, Any]]:
        """Run every cell in order (see :class:`Executor`)."""
        from engine.training import runner

        records: list[dict[str, Any]] = []
        loaded: dict[tuple[str, str], Any] = {}
        for cell in cells:
            key = (cell.dataset, repr(sorted(cell.dataset_kwargs.items())))
            if key not in loaded:
                loaded.clear()  # one dataset in memory at a time
                loaded[key] = _load(cell)
            rec = runner.run_one(
                loaded[key],
                cell.model,
                cell.seed,
                cell.path,
                config=cell.config,
                dataset_kwargs=cell.dataset_kwargs,
                progress=progress,
            )
            records.append(rec)
            _report(rec, done + len(records), total, progress)
        return records


def _run_cell(cell: Cell, ship_files: bool) -> dict[str, Any]:
    """The body of a Ray task: load the dataset, run, return the record (and the files when shipping)."""
    from engine.training.runner import run_one

    dataset = _load(cell)
    if not ship_files:
        return run_one(
            dataset, cell.model, cell.seed, cell.path, config=cell.config, dataset_kwargs=cell.dataset_kwargs
        )
    with tempfile.TemporaryDirectory(prefix="loclab-run-") as tmp:
        rec = run_one(
            dataset, cell.model, cell.seed, tmp, config=cell.config, dataset_kwargs=cell.dataset_kwargs
        )
        files = {str(p.relative_to(tmp)): p.read_bytes() for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
    return {**rec, "path": str(cell.path), "files": files}


def write_files_atomically(path: Path, files: dict[str, bytes]) -> None:
    """Write a run folder's ``files`` (relative path → bytes) to ``path`` via a temporary sibling + rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _crashed(cell: Cell, err: BaseException) -> dict[str, Any]:
    """Record a task that died without returning (worker crash, lost node) in the cell's run folder."""
    from engine.training.store import COMPLETE_MARKER, ERROR_FILE

    cell.path.mkdir(parents=True, exist_ok=True)
    (cell.path / COMPLETE_MARKER).unlink(missing_ok=True)
    error = {
        "type": type(err).__name__,
        "message": str(err),
        "traceback": "".join(traceback.format_exception(err)),
        **cell.record(),
    }
    write_json(cell.path / ERROR_FILE, error)
    return {
        **cell.record(),
        "status": "failed",
        "seconds": 0.0,
        "error": f"{type(err).__name__}: {err}",
        "metrics": {},
    }


class RayExecutor:
    """Runs every cell as a Ray task (see the module docstring for where run folders go).

    Args:
        address: ``None`` starts a Ray instance on this machine (unless one is already initialised),
            ``"auto"`` joins the running local cluster, ``"ray://host:port"`` a remote one (Ray Client).
        num_cpus_per_task: CPUs each task declares (torch in the task uses as many threads).
        num_gpus_per_task: GPUs each task declares (fractions share a GPU).
        ship_files: return the run folders to the driver as bytes instead of writing them on the worker.
        init_kwargs: extra ``ray.init`` arguments (``num_cpus``, ``include_dashboard``, ...).
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus_per_task: float = 1,
        num_gpus_per_task: float = 0,
        *,
        ship_files: bool = False,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        import ray  # fail now, with Ray's own message, when Ray is missing

        self._ray = ray
        self.address = address
        self.num_cpus_per_task = num_cpus_per_task
        self.num_gpus_per_task = num_gpus_per_task
        self.ship_files = ship_files
        self.init_kwargs = dict(init_kwargs or {})

    def _init(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        kwargs: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False, **self.init_kwargs}
        if self.address is None or not self.address.startswith("ray://"):
            kwargs.setdefault("runtime_env", {"env_vars": {"PYTHONPATH": path}})
        ray.init(address=self.address, **kwargs)

    def run(self, cells: list[Cell], *, progress: bool, done: int, total: int) -> list[dict[str, Any]]:
        """Submit every cell, collect records as tasks finish (see :class:`Executor`)."""
        if not cells:
            return []
        self._init()
        ray = self._ray
        task = ray.remote(_run_cell).options(
            num_cpus=self.num_cpus_per_task, num_gpus=self.num_gpus_per_task, max_retries=0
        )
        pending = {task.remote(cell, self.ship_files): cell for cell in cells}
        records: list[dict[str, Any]] = []
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            cell = pending.pop(ready[0])
            try:
                rec = ray.get(ready[0])
            except Exception as err:  # the task died: worker crash, lost node, unpicklable result
                rec = _crashed(cell, err)
            files = rec.pop("files", None)
            if files is not None:
                write_files_atomically(cell.path, files)
            records.append(rec)
            _report(rec, done + len(records), total, progress)
        return records

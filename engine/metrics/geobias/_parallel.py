"""Where the batches of centres run: forked worker processes where forking is safe, else threads.

Most of a batch is numpy work on mid-sized arrays interleaved with Python, so threads hardly overlap (the
GIL); processes do. Worker processes are forked (Linux) only from the main thread of a process that runs no
other Python thread (a script, the benchmark, pytest): forking a multi-threaded process (a Streamlit script
thread, a Ray worker) can copy a lock held by another thread into the child, so there the batches run on
threads. A forked worker inherits the job from the parent (nothing is pickled but the batch indices and
the per-batch results); the pool is always shut down and its workers joined before :func:`parallel_map`
returns, also on errors. Every batch is computed the same way wherever it runs, so results do not depend
on the number of workers or on processes versus threads.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

from tqdm._monitor import TMonitor

T = TypeVar("T")
R = TypeVar("R")

_STATE: dict[str, Any] = {}
"""The (function, shared argument) of a forked worker, set by :func:`_init_worker` in the child only."""


def default_workers() -> int:
    """The CPUs this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def fork_is_safe() -> bool:
    """Whether worker processes may be forked now: Linux, called from the main thread, and no other Python
    thread alive but tqdm's progress monitor (a lock held by another thread would stay held in the child;
    the monitor only locks tqdm's own bars, which the workers never touch).
    """
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.current_thread() is threading.main_thread()
        and all(isinstance(t, TMonitor) for t in others)
    )


def _init_worker(fn: Callable[[Any, Any], Any], shared: Any) -> None:
    """Pool initializer: remember the task function and its shared argument (inherited through fork)."""
    _STATE["fn"], _STATE["shared"] = fn, shared


def _call(item: Any) -> Any:
    """Run the remembered task function on one item (in a worker process)."""
    return _STATE["fn"](_STATE["shared"], item)


def parallel_map(
    fn: Callable[[Any, T], R], shared: Any, items: Sequence[T], workers: int, processes: bool
) -> Iterator[R]:
    """``fn(shared, item)`` for every item, results in order, on ``workers`` forked processes (when
    ``processes`` and :func:`fork_is_safe`), threads, or in this thread (``workers`` ≤ 1).

    ``fn`` must be a module-level function (it runs in the workers). The pool starts now (so that the
    fork-safety check sees the caller's threads as they are); its workers are joined when the returned
    iterator is exhausted or closed.
    """
    workers = max(1, min(workers, len(items)))
    if workers == 1:
        return (fn(shared, item) for item in items)
    pool: Executor
    if processes and fork_is_safe():
        fork = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(workers, mp_context=fork, initializer=_init_worker, initargs=(fn, shared))
        results = pool.map(_call, items)
    else:
        pool = ThreadPoolExecutor(workers)
        results = pool.map(lambda item: fn(shared, item), items)
    return _joined(pool, results)


def _joined(pool: Executor, results: Iterator[R]) -> Iterator[R]:
    """Yield ``results``, then (or on error, or when closed early) shut ``pool`` down and join it."""
    try:
        yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch


def time_call(
    fn: Callable[[], Any], *, min_time: float = 0.3, max_reps: int = 50, warmup: int = 1, sync: bool = False
) -> float:
    """Median wall time (s) of ``fn()`` over repetitions until ``min_time`` is spent (≥ 1, ≤ ``max_reps``)."""
    for _ in range(warmup):
        fn()
    if sync:
        torch.cuda.synchronize()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_reps and (not times or time.perf_counter() - start < min_time):
        t0 = time.perf_counter()
        fn()
        if sync:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times)


def _calls_per_block(fn: Callable[[], Any], block_s: float) -> int:
    t0 = time.perf_counter()
    fn()
    return max(1, min(10_000, math.ceil(block_s / max(time.perf_counter() - t0, 1e-7))))


def paired_ratio(
    fast: Callable[[], Any], slow: Callable[[], Any], *, reps: int = 15, block_s: float = 0.02
) -> dict[str, float]:
    """Time ``fast`` and ``slow`` in alternating blocks (same load for both) and report their speed ratio.

    Each block repeats one function back to back for about ``block_s`` seconds and counts the mean time
    per call: steady-state throughput, as in a training loop. (Single alternating calls would charge the
    fast function for the cold caches the slow one leaves behind: on the shared 2-core box the first call
    after a 6 ms pause costs 2–5× a warm one.) Returns the best per-call time of each and the median of the
    per-pair ratios ``t_slow / t_fast``.
    """
    n_fast, n_slow = _calls_per_block(fast, block_s), _calls_per_block(slow, block_s)
    t_fast, t_slow = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n_fast):
            fast()
        t1 = time.perf_counter()
        for _ in range(n_slow):
            slow()
        t2 = time.perf_counter()
        t_fast.append((t1 - t0) / n_fast)
        t_slow.append((t2 - t1) / n_slow)
    ratios = [s / f for f, s in zip(t_fast, t_slow, strict=True)]
    return {
        "fast_s": min(t_fast),
        "slow_s": min(t_slow),
        "ratio_median": statistics.median(ratios),
        "ratio_of_best": min(t_slow) / min(t_fast),
        "calls_per_block_fast": n_fast,
        "calls_per_block_slow": n_slow,
    }


def machine_info() -> dict[str, Any]:
    """Facts about the machine the numbers come from."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "cuda": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info

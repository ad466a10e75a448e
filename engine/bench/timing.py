"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

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


def paired_ratio(fast: Callable[[], Any], slow: Callable[[], Any], *, reps: int = 15) -> dict[str, float]:
    """Time ``fast`` and ``slow`` alternately (same load for both) and report their speed ratio.

    Returns the best time of each and the median of the per-pair ratios ``t_slow / t_fast``.
    """
    fast()
    slow()
    t_fast, t_slow = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        fast()
        t1 = time.perf_counter()
        slow()
        t2 = time.perf_counter()
        t_fast.append(t1 - t0)
        t_slow.append(t2 - t1)
    ratios = [s / f for f, s in zip(t_fast, t_slow, strict=True)]
    return {
        "fast_s": min(t_fast),
        "slow_s": min(t_slow),
        "ratio_median": statistics.median(ratios),
        "ratio_of_best": min(t_slow) / min(t_fast),
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

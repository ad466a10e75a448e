"""Training: losses, non-neural baselines, config, loop, evaluation, the run store and the benchmark runner.

Usage::

    import engine
    from engine.training import TrainConfig
    result = engine.train(engine.load_dataset("checkerboard"), TrainConfig(encoder="sphere_c_plus"))
    run = engine.load_run("runs/checkerboard/sphere_c_plus/seed_0")
    engine.predict(run, lonlat)                 # [N, C] location prior or [N] values
"""

from __future__ import annotations

from engine.training.config import TrainConfig
from engine.training.loop import TrainResult, fit
from engine.training.runner import bench, run_one
from engine.training.store import load_run, predict

train = fit
"""Alias of :func:`engine.training.loop.fit`."""

__all__ = ["TrainConfig", "TrainResult", "bench", "fit", "load_run", "predict", "run_one", "train"]

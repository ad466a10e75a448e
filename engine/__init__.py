"""
LocLab engine: location encoders ``Enc(x) = NN(PE(x))``, datasets, training, metrics (pure torch).

Public API (resolved lazily so that ``import engine`` stays cheap)::

    engine.list_encoders(), engine.create_encoder(name, **kw)
    engine.list_datasets(), engine.load_dataset(name, root=None, **kw), engine.load_table(path, ...)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "list_encoders": "engine.encoders",
    "create_encoder": "engine.encoders",
    "create_position_encoding": "engine.encoders",
    "list_datasets": "engine.datasets",
    "load_dataset": "engine.datasets",
    "load_table": "engine.datasets",
    "train": "engine.training",
    "load_run": "engine.training",
    "predict": "engine.training",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

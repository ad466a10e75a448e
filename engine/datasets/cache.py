"""On-disk cache of derived dataset arrays (one ``.npz`` per dataset build).

Files live under ``$LOCLAB_CACHE/datasets`` (default ``~/.cache/loclab/datasets``), named
``{dataset}-{source_version}-{params_hash}.npz``: a new source-package version or any change of the
builder's parameters (seed, sizes, split kind, …) gives a new file. Writes are atomic (temporary file then
rename, :mod:`engine.io`); reads use ``allow_pickle=False``. A cache that cannot be read is rebuilt, and one
that cannot be written only costs a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.io import write_atomic

CACHE_ENV = "LOCLAB_CACHE"
CACHE_FORMAT = 1
"""Bumped whenever the layout of cached arrays changes (it is part of every hash)."""

Arrays = dict[str, np.ndarray]


def cache_root() -> Path:
    """Return the cache folder: ``$LOCLAB_CACHE`` if set, else ``~/.cache/loclab``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "loclab"


def params_hash(params: Mapping[str, Any]) -> str:
    """Hash (16 hex digits) of JSON-serialisable builder parameters."""
    text = json.dumps({"format": CACHE_FORMAT, **params}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_file(name: str, *, source_version: str, params: Mapping[str, Any]) -> Path:
    """Path of the cache file for dataset ``name`` built from ``source_version`` with ``params``."""
    version = re.sub(r"[^A-Za-z0-9._+-]", "_", source_version)
    return cache_root() / "datasets" / f"{name}-{version}-{params_hash(params)}.npz"


def _save(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (np.savez into an open file keeps the temporary name)."""

    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    write_atomic(path, writer)


def _load(path: Path) -> Arrays:
    """Read every array of an ``.npz`` file into memory (no pickles)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def load_or_build(
    name: str,
    *,
    source_version: str,
    params: Mapping[str, Any],
    build: Callable[[], Arrays],
    enabled: bool = True,
) -> Arrays:
    """Return cached arrays for this build, or call ``build()`` and cache its result.

    Args:
        name: dataset name (first part of the file name).
        source_version: version of the source data (package version or file hash).
        params: every builder parameter that changes the arrays.
        build: computes the arrays (numpy, no object dtype) when the cache misses.
        enabled: ``False`` skips the cache entirely (always builds, writes nothing).

    Returns:
        ``{key: array}`` as returned by ``build``.

    """
    if not enabled:
        return build()
    path = cache_file(name, source_version=source_version, params=params)
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            warnings.warn(f"rebuilding unreadable dataset cache {path}: {err}", stacklevel=2)
    arrays = build()
    try:
        _save(path, arrays)
    except OSError as err:
        warnings.warn(f"could not write dataset cache {path}: {err}", stacklevel=2)
    return arrays

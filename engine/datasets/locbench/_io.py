"""Shared readers and validators for the LocBench file layouts (never unpickle anything).

Every reader names the dataset, the file and where the data is published when something is wrong: a
missing file raises :class:`FileNotFoundError`; an unreadable, truncated or mis-shaped file, a missing
column or key, or bad coordinates raise :class:`ValueError`. Arrays are read with ``allow_pickle=False``;
sparse matrices with :func:`scipy.sparse.load_npz` (which also refuses pickles).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse
import torch
from torch import Tensor

from engine.geo import check_lonlat

FIGSHARE_DOI = "10.6084/m9.figshare.26026798"
"""The DOI under which LocBench (TorchSpatial, Wu et al., NeurIPS 2024 D&B) publishes its data."""

PUBLISHED_AT = f"Figshare DOI {FIGSHARE_DOI} (https://doi.org/{FIGSHARE_DOI})"
LOCBENCH_CITATION = (
    "Wu, N., Cao, Q., Wang, Z., et al. TorchSpatial: A Location Encoding Framework and Benchmark for "
    "Spatial Representation Learning. NeurIPS 2024 Datasets and Benchmarks Track."
)
LOCBENCH_LICENCE = "see the Figshare record and the terms of the original dataset"

PriorFormat = Literal["auto", "sparse", "dense"]
PRIOR_FORMATS: tuple[str, ...] = ("auto", "sparse", "dense")


def download_hint(dataset: str) -> str:
    """Return the sentence telling a user how to get ``dataset``."""
    return (
        f"Download it with `python -m engine data download {dataset} --root DIR` (published at "
        f"{PUBLISHED_AT}) and pass root=DIR"
    )


def require_root(root: str | Path | None, dataset: str) -> Path:
    """``root`` as a :class:`Path`; a clear :class:`FileNotFoundError` when it is ``None`` or absent."""
    if root is None:
        raise FileNotFoundError(
            f"LocBench dataset {dataset!r} is not embedded and must be downloaded first. "
            f"{download_hint(dataset)}."
        )
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"{dataset}: data root {str(path)!r} is not a folder. {download_hint(dataset)}."
        )
    return path


def require_file(root: Path, rel: str, dataset: str) -> Path:
    """``root / rel``; :class:`FileNotFoundError` naming the expected path, the dataset and the source."""
    path = root / rel
    if not path.is_file():
        raise FileNotFoundError(
            f"{dataset}: missing file {rel!r} (expected at {str(path)!r}). {download_hint(dataset)}."
        )
    return path


def check_prior_format(prior_format: str) -> None:
    """Raise ``ValueError`` unless ``prior_format`` is one of :data:`PRIOR_FORMATS`."""
    if prior_format not in PRIOR_FORMATS:
        raise ValueError(f"unknown prior_format {prior_format!r}; valid: {', '.join(PRIOR_FORMATS)}")


def _corrupt(path: Path, dataset: str, err: BaseException) -> ValueError:
    return ValueError(
        f"{dataset}: could not read {str(path)!r} ({type(err).__name__}: {err}); the file looks truncated or "
        f"corrupt: download it again from {PUBLISHED_AT}"
    )


def read_json(path: Path, dataset: str) -> Any:
    """Parse a JSON file; a clear ``ValueError`` if it is not valid JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _corrupt(path, dataset, err) from err


def require_keys(obj: Any, keys: Iterable[str], what: str, path: Path, dataset: str) -> None:
    """Raise ``ValueError`` naming the missing keys if ``obj`` (a dict) lacks any of ``keys``."""
    if not isinstance(obj, dict):
        raise ValueError(
            f"{dataset}: {what} in {str(path)!r} must be a JSON object, got {type(obj).__name__}"
        )
    missing = [k for k in keys if k not in obj]
    if missing:
        found = ", ".join(map(str, list(obj)[:12]))
        raise ValueError(f"{dataset}: {what} in {str(path)!r} lacks key(s) {missing}; found: {found}")


def read_csv(path: Path, dataset: str, columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV; ``ValueError`` naming the required ``columns`` that are missing and those found."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise _corrupt(path, dataset, err) from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{dataset}: {str(path)!r} lacks column(s) {missing}; found columns: {list(frame.columns)}"
        )
    return frame


def numeric_column(frame: pd.DataFrame, column: str, path: Path, dataset: str) -> np.ndarray:
    """Column ``column`` as float64; ``ValueError`` if it holds non-numbers."""
    try:
        return frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{dataset}: column {column!r} of {str(path)!r} is not numeric ({err})") from err


def load_npy(path: Path, dataset: str, *, mmap: bool = False) -> np.ndarray:
    """``np.load(path, allow_pickle=False)`` (memory-mapped if ``mmap``), errors wrapped as ``ValueError``."""
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except (ValueError, OSError, EOFError) as err:
        raise _corrupt(path, dataset, err) from err


def check_matrix_shape(
    shape: tuple[int, ...], rows: int, cols: int | None, what: str, path: Path, dataset: str
) -> None:
    """Raise ``ValueError`` naming ``what`` unless ``shape == (rows, cols)`` (``cols=None``: any)."""
    if len(shape) != 2:
        raise ValueError(f"{dataset}: {what} {str(path)!r} must be 2-D, got shape {shape}")
    if shape[0] != rows:
        raise ValueError(
            f"{dataset}: {what} {str(path)!r} has {shape[0]} rows but the split has {rows} images/samples"
        )
    if cols is not None and shape[1] != cols:
        raise ValueError(f"{dataset}: {what} {str(path)!r} has {shape[1]} columns, expected {cols}")


def load_prior(path: Path, dataset: str, *, rows: int, num_classes: int, prior_format: PriorFormat) -> Tensor:
    """Image-model class probabilities ``[rows, num_classes]`` from ``*.npz`` (scipy sparse) or ``*.npy``.

    ``prior_format``: ``"auto"`` keeps the file's layout (npz -> sparse COO tensor, npy -> dense),
    ``"sparse"`` / ``"dense"`` force one. Values must be finite and non-negative.
    """
    check_prior_format(prior_format)
    if path.suffix == ".npz":
        try:
            matrix = scipy.sparse.load_npz(path)
        except Exception as err:  # zip, zlib, format and shape errors all mean "corrupt"
            raise _corrupt(path, dataset, err) from err
        check_matrix_shape(matrix.shape, rows, num_classes, "image prior", path, dataset)
        coo = matrix.tocoo()
        values = np.asarray(coo.data, dtype=np.float32)
        _check_probabilities(values, path, dataset)
        if prior_format == "dense":
            return torch.from_numpy(np.asarray(matrix.toarray(), dtype=np.float32))
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        try:  # check_invariants: out-of-range indices from a corrupt file must raise, not crash later
            prior = torch.sparse_coo_tensor(
                indices, torch.from_numpy(values), size=matrix.shape, check_invariants=True
            )
        except RuntimeError as err:
            raise _corrupt(path, dataset, err) from err
        return prior.coalesce()
    dense = load_npy(path, dataset)
    check_matrix_shape(dense.shape, rows, num_classes, "image prior", path, dataset)
    if not np.issubdtype(dense.dtype, np.number):
        raise ValueError(f"{dataset}: image prior {str(path)!r} has non-numeric dtype {dense.dtype}")
    values = np.ascontiguousarray(dense, dtype=np.float32)
    _check_probabilities(values, path, dataset)
    prior = torch.from_numpy(values)
    return prior.to_sparse_coo().coalesce() if prior_format == "sparse" else prior


def _check_probabilities(values: np.ndarray, path: Path, dataset: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"{dataset}: image prior {str(path)!r} contains NaN or infinite values")
    if (values < 0).any():
        raise ValueError(f"{dataset}: image prior {str(path)!r} contains negative probabilities")


def optional_prior(
    root: Path, rel: str, dataset: str, *, rows: int, num_classes: int, prior_format: PriorFormat
) -> Tensor | None:
    """Like :func:`load_prior` for a file that may be absent (returns ``None`` then)."""
    path = root / rel
    if not path.is_file():
        return None
    return load_prior(path, dataset, rows=rows, num_classes=num_classes, prior_format=prior_format)


def to_float(values: Sequence[Any], what: str, path: Path, dataset: str) -> np.ndarray:
    """Numbers (``None`` -> NaN) as float64; ``ValueError`` naming ``what`` on anything else."""
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{dataset}: {what} in {str(path)!r} must be numbers or null ({err})") from err


def lonlat_from(
    lon: np.ndarray, lat: np.ndarray, path: Path, dataset: str, *, allow_missing: bool
) -> np.ndarray:
    """Stack ``[N, 2]`` (lon, lat) degrees and validate them.

    With ``allow_missing`` a row whose lon and lat are both missing (NaN) means "no location" and is kept as
    NaN; a row with only one of them missing is an error. Without it any NaN is an error. Located rows must
    satisfy :func:`engine.geo.check_lonlat` (ranges, finite).
    """
    lonlat = np.stack([lon, lat], axis=1).astype(np.float64)
    nan = np.isnan(lonlat)
    half = nan.any(axis=1) & ~nan.all(axis=1)
    if half.any():
        raise ValueError(
            f"{dataset}: {int(half.sum())} rows of {str(path)!r} have NaN/missing coordinates in only one of "
            f"lon, lat (first at row {int(np.flatnonzero(half)[0])})"
        )
    missing = nan.all(axis=1)
    if missing.any() and not allow_missing:
        raise ValueError(
            f"{dataset}: {int(missing.sum())} rows of {str(path)!r} have NaN coordinates (lon, lat) "
            f"(first at row {int(np.flatnonzero(missing)[0])})"
        )
    check_lonlat(lonlat[~missing], name=f"{dataset}: coordinates in {str(path)!r}")
    return lonlat


def class_index(ids: Sequence[Any], path: Path, dataset: str) -> dict[int, int]:
    """Map published class ids (ints, unique) to contiguous indices 0..C-1 in sorted id order."""
    try:
        as_int = [int(i) for i in ids]
    except (TypeError, ValueError) as err:
        raise ValueError(f"{dataset}: class ids in {str(path)!r} must be integers ({err})") from err
    if len(set(as_int)) != len(as_int):
        raise ValueError(f"{dataset}: duplicate class ids in {str(path)!r}")
    if not as_int:
        raise ValueError(f"{dataset}: no classes in {str(path)!r}")
    return {cid: i for i, cid in enumerate(sorted(as_int))}


def map_targets(raw: Sequence[Any], index: dict[int, int], path: Path, dataset: str) -> np.ndarray:
    """Map published class ids to contiguous int64 indices; ``ValueError`` naming unknown ids."""
    try:
        ids = [int(v) for v in raw]
    except (TypeError, ValueError) as err:
        raise ValueError(f"{dataset}: class labels in {str(path)!r} must be integers ({err})") from err
    unknown = sorted({v for v in ids if v not in index})
    if unknown:
        raise ValueError(
            f"{dataset}: {str(path)!r} uses class id(s) {unknown[:10]} that are not among the "
            f"{len(index)} classes"
        )
    return np.array([index[v] for v in ids], dtype=np.int64)

"""Every LocBench loader fails clearly on a missing or corrupt file, never silently."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

import engine.datasets.locbench  # noqa: F401  (registers the loaders)
from engine.datasets.base import DATASETS
from tests.datasets.locbench.fakes import FAKES, matrix_shape, write_prior

NAMES = sorted(FAKES)
DOI = "10.6084/m9.figshare.26026798"


@pytest.mark.parametrize(("name", "rel"), [(n, f) for n in NAMES for f in DATASETS.entry(n).meta["files"]])
def test_missing_file(name: str, rel: str, tmp_path: Path) -> None:
    FAKES[name].write(tmp_path)
    (tmp_path / rel).unlink()
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(name, root=tmp_path)
    msg = str(err.value)
    assert rel in msg and name in msg and DOI in msg and f"data download {name} --root" in msg


@pytest.mark.parametrize("name", NAMES)
def test_root_none_or_absent(name: str, tmp_path: Path) -> None:
    hint = re.escape(f"python -m engine data download {name} --root DIR")
    with pytest.raises(FileNotFoundError, match=hint):
        DATASETS.build(name)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        DATASETS.build(name, root=tmp_path / "nowhere")


@pytest.mark.parametrize("name", [n for n in NAMES if FAKES[n].matrix])
def test_truncated_matrix(name: str, tmp_path: Path) -> None:
    FAKES[name].write(tmp_path)
    path = tmp_path / FAKES[name].matrix
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"{re.escape(path.name)}.*(truncated|corrupt)"):
        DATASETS.build(name, root=tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_column(name: str, tmp_path: Path) -> None:
    FAKES[name].write(tmp_path)
    column = FAKES[name].break_column(tmp_path)
    with pytest.raises(ValueError, match=re.escape(f"'{column}'")):
        DATASETS.build(name, root=tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_nan_coordinates(name: str, tmp_path: Path) -> None:
    FAKES[name].write(tmp_path)
    FAKES[name].nan_coords(tmp_path)
    with pytest.raises(ValueError, match="NaN"):
        DATASETS.build(name, root=tmp_path)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("name", [n for n in NAMES if FAKES[n].matrix])
def test_wrong_matrix_shape(name: str, axis: int, tmp_path: Path) -> None:
    """Prior (classification) or feature matrix (MOSAIKS): rows != images, or columns != classes / 2048."""
    FAKES[name].write(tmp_path)
    path = tmp_path / FAKES[name].matrix
    rows, cols = matrix_shape(path)
    rows, cols = (rows + 1, cols) if axis == 0 else (rows, cols - 1)
    if FAKES[name].prior:
        write_prior(path, rows, cols)
    else:
        np.save(path, np.zeros((rows, cols), dtype=np.float32))
    with pytest.raises(ValueError, match="rows" if axis == 0 else "columns"):
        DATASETS.build(name, root=tmp_path)


def test_negative_or_nan_probabilities(tmp_path: Path) -> None:
    FAKES["birdsnap"].write(tmp_path)
    path = tmp_path / FAKES["birdsnap"].prior
    matrix = scipy.sparse.load_npz(path).tocsr()
    matrix.data[0] = -0.5
    scipy.sparse.save_npz(path, matrix)
    with pytest.raises(ValueError, match="negative"):
        DATASETS.build("birdsnap", root=tmp_path)


def test_never_unpickles(tmp_path: Path) -> None:
    FAKES["yfcc"].write(tmp_path)
    path = tmp_path / FAKES["yfcc"].prior
    np.save(path, np.array([{"evil": 1}] * 10, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        DATASETS.build("yfcc", root=tmp_path)

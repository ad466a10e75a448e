"""Shared test settings: deterministic torch, small thread count, and the ``cuda`` marker."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``cuda`` when no GPU is present."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA GPU present")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache_and_runs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep tests away from the user's ~/.cache/loclab and ./runs (one shared cache per session)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LOCLAB_CACHE", str(tmp_path_factory.mktemp("loclab_cache")))
    mp.setenv("LOCLAB_RUNS", str(tmp_path_factory.mktemp("loclab_runs")))
    yield
    mp.undo()

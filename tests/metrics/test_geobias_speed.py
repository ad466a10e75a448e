"""Geo-Bias Score fast paths against the slow ones: worker processes / threads / serial, the ordered k-NN
prefixes against the brute-force fellow search, the packed group sort against lexsort, and the skipped
candidate windows against trying them. Every comparison is exact (bit for bit)."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

import engine.metrics.geobias._batches as batches_mod
import engine.metrics.geobias._candidates as candidates_mod
import engine.metrics.geobias._parallel as parallel_mod
import engine.metrics.geobias._prefix as prefix_mod
from engine.metrics.geobias import SSIScores, ssi_scores_multi
from engine.metrics.geobias._grid import key_distance, sort_keys
from engine.metrics.geobias._rows import _order_by

FIELDS = ("ssi", "n_neighbors", "n_background", "moran_i", "expected", "std", "z", "radius_km")


def _cloud(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Clustered points in both hemispheres and across the antimeridian, with exact duplicates, and marks."""
    rng = np.random.default_rng(seed)
    centres = np.array([[179.5, 10.0], [-179.0, -35.0], [20.0, 60.0], [-60.0, -5.0], [100.0, 0.5]])
    pick = rng.integers(0, len(centres), 500)
    pts = centres[pick] + rng.normal(scale=[2.0, 1.5], size=(500, 2))
    pts = np.concatenate([pts, rng.uniform([-180, -80], [180, 80], (100, 2)), pts[:30]])  # 30 duplicates
    pts[:, 0] = (pts[:, 0] + 180) % 360 - 180
    pts[:, 1] = np.clip(pts[:, 1], -89.0, 89.0)
    marks = np.where(rng.random(pts.shape[0]) < 0.7, 1.0, -1.0) * (1 + 0.25 * (np.arange(pts.shape[0]) % 3))
    return pts, marks


SCALES = [{"radius_km": 300.0}, {"radius_km": 1500.0, "max_neighbors": 60}, {"knn": 40}]


def _run(pts: np.ndarray, marks: np.ndarray, **kw: object) -> list[SSIScores]:
    return ssi_scores_multi(pts, [None, marks], **kw)


def _assert_same(a: list[SSIScores], b: list[SSIScores]) -> None:
    for x, y in zip(a, b, strict=True):
        for f in FIELDS:
            assert np.array_equal(getattr(x, f), getattr(y, f)), f


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small batches, and worker processes even for small jobs."""
    monkeypatch.setattr(batches_mod, "BATCH_POINTS", 2000)
    monkeypatch.setattr(batches_mod, "MIN_PROCESS_ENTRIES", 0)


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
def test_workers_processes_and_threads_give_identical_scores(
    scale: dict, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pts, marks = _cloud(0)
    serial = _run(pts, marks, workers=1, **scale)
    # earlier tests of this session may leave idle helper threads (torch.compile's pool) that make
    # fork_is_safe() say no; they hold no lock, so the process path is forced here
    monkeypatch.setattr(parallel_mod, "fork_is_safe", lambda: True)
    _assert_same(serial, _run(pts, marks, workers=2, **scale))  # forked processes
    _assert_same(serial, _run(pts, marks, workers=3, **scale))
    assert not multiprocessing.active_children()  # the pool was joined
    monkeypatch.setattr(parallel_mod, "fork_is_safe", lambda: False)
    _assert_same(serial, _run(pts, marks, workers=2, **scale))  # threads


def test_no_fork_from_a_non_main_thread(small_batches: None) -> None:
    pts, marks = _cloud(1)
    serial = _run(pts, marks, workers=1, radius_km=500.0)
    seen: dict[str, object] = {}

    def body() -> None:
        seen["safe"] = parallel_mod.fork_is_safe()
        seen["res"] = _run(pts, marks, workers=2, radius_km=500.0)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen["safe"] is False
    _assert_same(serial, seen["res"])  # type: ignore[arg-type]


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
@pytest.mark.parametrize("seed", [2, 3])
def test_knn_prefixes_match_the_brute_force_fellows(
    scale: dict, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every point a centre uses the ordered global k-NN prefixes (membership by bitmap, or by distance to
    the centre when the bitmap would be large); explicit centres search their fellows by brute force."""
    pts, marks = _cloud(seed)
    brute = _run(pts, marks, centres=np.arange(pts.shape[0]), **scale)
    _assert_same(brute, _run(pts, marks, **scale))
    monkeypatch.setattr(prefix_mod, "BITMAP_CELLS", 0)
    _assert_same(brute, _run(pts, marks, **scale))


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
def test_skipping_hopeless_windows_changes_nothing(scale: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    pts, marks = _cloud(4)
    skipped: list[int] = []
    real = candidates_mod._too_few

    def spy(*args: object) -> np.ndarray:
        out = real(*args)  # type: ignore[arg-type]
        skipped.append(int(out.sum()))
        return out

    monkeypatch.setattr(candidates_mod, "_too_few", spy)
    fast = _run(pts, marks, **scale)
    monkeypatch.setattr(candidates_mod, "_too_few", lambda _t, ratio, *_a: np.zeros(ratio.shape[0], bool))
    _assert_same(fast, _run(pts, marks, **scale))
    if "radius_km" in scale and scale["radius_km"] > 1000:
        assert sum(skipped) > 0  # the large scale does skip rows near the centre


def test_packed_group_order_matches_lexsort() -> None:
    rng = np.random.default_rng(5)
    n = 5000
    group = rng.integers(0, 300, n)
    d2 = rng.choice(rng.uniform(0, 4, 200), n)  # many exact distance ties within groups
    keys = sort_keys(d2, rng.permutation(n))  # distinct codes
    assert (np.diff(np.sort(key_distance(keys))) == 0).any()
    expect = np.lexsort((keys, group))
    assert np.array_equal(_order_by(group, keys, 300), expect)
    assert np.array_equal(_order_by(group, keys, 1 << 40), expect)  # too many groups to pack: lexsort
    assert _order_by(group[:0], keys[:0], 300).shape == (0,)

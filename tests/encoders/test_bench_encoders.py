"""The encoder benchmark's report structure (a smoke run on tiny batches; speed itself is not tested)."""

from __future__ import annotations

import json

import pytest
import torch

from engine.bench.encoders import run


def test_encoder_bench_reports_eager_fused_and_numpy_ratios(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch, "compile", lambda fn, **_kw: fn)  # structure only; compiling is slow
    report = run(["sphere_c", "wrap"], [64], [torch.device("cpu")], fwd_bwd=True, fused=True)
    json.dumps(report)
    rows = {r["encoder"]: r for r in report["results"]}
    assert set(rows) == {"sphere_c", "wrap"}
    for r in rows.values():
        assert r["pe_pts_per_s"] > 0 and r["pe_fused_pts_per_s"] > 0 and r["fwd_bwd_pts_per_s"] > 0
        assert r["fused_first_call_s"] >= 0
    ratios = report["numpy_baseline"]
    assert {(r["encoder"], r["variant"]) for r in ratios} == {("sphere_c", "eager"), ("sphere_c", "fused")}
    assert all(r["speedup"] > 0 and r["numpy_pts_per_s"] > 0 for r in ratios)


def test_encoder_bench_without_fused() -> None:
    report = run(["sphere_m"], [32], [torch.device("cpu")], fwd_bwd=False, fused=False)
    (row,) = report["results"]
    assert "pe_fused_pts_per_s" not in row and "fwd_bwd_pts_per_s" not in row
    assert [r["variant"] for r in report["numpy_baseline"]] == ["eager"]

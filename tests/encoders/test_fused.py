"""Fused position encodings: the polynomial sin/cos, the per-encoding angle bounds, the compiled path."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch

import engine.encoders.pe.base as pe_base
from engine.encoders import create_encoder, create_position_encoding, list_encoders
from engine.encoders.pe.fast_trig import POLY_MAX_ABS, poly_sincos, sincos
from engine.encoders.pe.fused import fused_available

# geoclip keeps its own published RFF code path; direct/tile/rbf/xyz have no sinusoids of their own
POLY_ENCODERS = [n for n in list_encoders() if n != "geoclip"]


def _points(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lon = torch.rand(n, generator=g, dtype=torch.float64) * 360 - 180
    lat = torch.rand(n, generator=g, dtype=torch.float64) * 180 - 90
    corners = torch.tensor([[-180, -90], [-180, 90], [180, -90], [180, 90], [0, 0], [179.999, 89.999]])
    return torch.cat([torch.stack([lon, lat], -1), corners.double()]).float()


@pytest.mark.parametrize("bound", [1.0, 10.0, 3e3, 1e5, POLY_MAX_ABS])
def test_poly_sincos_accuracy(bound: float) -> None:
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(200_000, generator=g) * 2 - 1) * bound
    special = torch.tensor([0.0, -0.0, math.pi / 4, -math.pi / 4, math.pi / 2, math.pi, 1.5 * math.pi])
    x = torch.cat([x, special, special * 1000, torch.tensor([bound, -bound])])
    s, c = poly_sincos(x)
    xd = x.double()
    assert (s - xd.sin()).abs().max() < 2e-7
    assert (c - xd.cos()).abs().max() < 2e-7
    assert s.dtype == c.dtype == torch.float32


def test_poly_sincos_gradient() -> None:
    x = torch.linspace(-50, 50, 10_001, requires_grad=True)
    s, c = poly_sincos(x)
    (s.sum() + 2 * c.sum()).backward()
    expected = torch.cos(x.detach().double()) - 2 * torch.sin(x.detach().double())
    assert (x.grad.double() - expected).abs().max() < 2e-6


@pytest.fixture
def tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make eager calls take the path that ``torch.compile`` traces (the polynomial), to test its formulas."""
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)


def test_sincos_eager_calls_keep_torch_trig() -> None:
    """Outside tracing (also when dynamo falls back to Python) fused encodings use torch's sin/cos."""
    x = torch.linspace(-3, 3, 101)
    assert torch.equal(sincos(x, fused=True, max_abs=3.0)[0], torch.sin(x))
    pe = create_position_encoding("sphere_c")
    fused = copy.deepcopy(pe)
    fused.fused = True
    assert torch.equal(fused.encode(_points(50)), pe.encode(_points(50)))


def test_sincos_dispatch(tracing: None) -> None:
    x32, x64 = torch.linspace(-3, 3, 101), torch.linspace(-3, 3, 101, dtype=torch.float64)
    assert torch.equal(sincos(x32)[0], torch.sin(x32))  # not fused: torch's
    assert torch.equal(sincos(x64, fused=True)[0], torch.sin(x64))  # float64: torch's
    assert torch.equal(sincos(x32, fused=True, max_abs=2 * POLY_MAX_ABS)[1], torch.cos(x32))  # beyond bound
    assert not torch.equal(sincos(x32, fused=True, max_abs=3.0)[0], torch.sin(x32))  # polynomial


@pytest.mark.parametrize("name", POLY_ENCODERS)
def test_fused_formula_matches_eager(name: str, tracing: None) -> None:
    """The fused formulas (run eagerly here) equal the reference ones to float32 rounding."""
    x = _points(500)
    pe = create_position_encoding(name)
    fused = copy.deepcopy(pe)
    fused.fused = True  # the polynomial path without compiling (``tracing``)
    with torch.no_grad():
        ref, out = pe.encode(x), fused.encode(x)
    tol = 2e-6 * max(1.0, float(ref.abs().max()))
    assert (out - ref).abs().max() <= tol
    # float64 never takes the polynomial
    assert torch.equal(fused.encode(x.double()), pe.encode(x.double()))


@pytest.mark.parametrize("name", POLY_ENCODERS)
def test_max_angle_bounds_every_sincos_argument(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``max_angle`` is a true bound on |x| of every sin/cos call, so the polynomial is never out of range."""
    seen: list[float] = []

    def spy(x: torch.Tensor, fused: bool = False, max_abs: float = math.inf) -> tuple[torch.Tensor, ...]:
        seen.append(float(x.abs().max()))
        return torch.sin(x), torch.cos(x)

    def spy_cos(x: torch.Tensor, fused: bool = False, max_abs: float = math.inf) -> torch.Tensor:
        return spy(x)[1]

    monkeypatch.setattr(pe_base, "sincos", spy)
    monkeypatch.setattr(pe_base, "cos", spy_cos)
    pe = create_position_encoding(name)
    pe.encode(_points(2000).double())
    if seen:
        assert max(seen) <= pe.max_angle * (1 + 1e-9)


def test_large_angle_encoders_keep_torch_trig(tracing: None) -> None:
    pe = create_position_encoding("nerf", frequency_num=64)
    assert pe.max_angle > POLY_MAX_ABS
    fused = copy.deepcopy(pe)
    fused.fused = True
    x = _points(100)
    assert torch.equal(fused.encode(x), pe.encode(x))


def test_fuse_flags_and_copies() -> None:
    enc = create_encoder("sphere_c", fused=True)
    assert enc.pe.fused and "fused=True" in repr(enc.pe)
    clone = copy.deepcopy(enc)
    assert clone.pe.fused and "_compiled_encode" not in clone.pe.__dict__
    assert set(enc.state_dict()) == set(create_encoder("sphere_c").state_dict())


def test_compile_failure_falls_back_with_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_compile(fn, **_kw):
        def run(*_a, **_k):
            raise RuntimeError("no C++ compiler")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    pe = create_position_encoding("sphere_c", fused=True)
    x = _points(64)
    with pytest.warns(RuntimeWarning, match="could not compile SphereCPE"):
        out = pe(x)
    assert torch.equal(out, create_position_encoding("sphere_c")(x))
    assert not pe.fused
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pe(x)  # no second warning


def test_genuine_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    pe = create_position_encoding("sphere_c", fused=True)

    def bad_encode(_x: torch.Tensor) -> torch.Tensor:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(torch, "compile", lambda fn, **_kw: fn)
    monkeypatch.setattr(pe, "encode", bad_encode)
    with pytest.raises(ZeroDivisionError):
        pe(_points(4))
    assert pe.fused


def test_compiled_encoder_matches_eager_and_trains() -> None:
    """One compiled PE through the public API: shapes [N,2], [B,T,2], a new batch size, a training step."""
    if not fused_available():  # checked lazily: compiling at collection would slow every pytest run
        pytest.skip("torch.compile unavailable here (no C++ compiler?)")
    ref = create_encoder("sphere_c", frequency_num=16, hidden_dim=32, dropout=0.0)
    enc = create_encoder("sphere_c", frequency_num=16, hidden_dim=32, dropout=0.0, fused=True)
    enc.load_state_dict(ref.state_dict())
    for x in (_points(300), _points(44).reshape(5, 10, 2), _points(1000, seed=3)):
        with torch.no_grad():
            assert (enc(x) - ref(x)).abs().max() < 1e-5
            assert (enc.pe(x) - ref.pe(x)).abs().max() < 2e-6
    x = _points(256)
    loss = enc(x).square().mean()
    loss.backward()
    ref(x).square().mean().backward()
    for (name, p), q in zip(enc.named_parameters(), ref.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, atol=1e-5, rtol=1e-4), name
    with pytest.raises(ValueError, match="NaN"):
        enc(torch.tensor([[float("nan"), 0.0]]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU present")
def test_fused_on_cuda() -> None:
    pe = create_position_encoding("sphere_m", fused=True).cuda()
    x = _points(4096).cuda()
    out = pe(x)
    ref = create_position_encoding("sphere_m").cuda()(x)
    assert (out - ref).abs().max() < 1e-5

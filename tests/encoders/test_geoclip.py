"""GeoCLIP encoder: shapes, dtypes, state dict, gradients, and agreement with the wheel's own module."""

from __future__ import annotations

import importlib.util
import math
import sys

import pytest
import torch

from engine.encoders import geoclip_pretrained
from engine.encoders.geoclip import (
    DISPLAY_NAME,
    PAPER,
    PE_DIM,
    GeoCLIPEncoder,
    GeoCLIPPositionEncoding,
    build_geoclip,
    equal_earth_projection,
    load_reference_geoclip_location_encoder,
)

HAS_WHEEL = importlib.util.find_spec("geoclip") is not None
requires_wheel = pytest.mark.skipif(
    not HAS_WHEEL, reason="geoclip wheel not installed (pip install --no-deps geoclip==1.3.0)"
)
SMALL = {"rff_dim": 8, "hidden_dim": 16, "num_hidden_layer": 2, "out_dim": 12}


def sample_lonlat(n: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Sphere-uniform points plus both hemispheres' edge cases: antimeridian, poles, origin."""
    g = torch.Generator().manual_seed(seed)
    lon = torch.rand(n, generator=g, dtype=torch.float64) * 360 - 180
    lat = torch.rad2deg(torch.asin(torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1))
    edges = torch.tensor(
        [
            [180, 0],
            [-180, 0],
            [179.999, 35.5],
            [-179.999, -35.5],
            [0, 90],
            [0, -90],
            [137, 89.999],
            [-60, -89.999],
            [0, 0],
            [-73.99, 40.73],
            [151.21, -33.87],
            [-0.13, 51.51],
        ],
        dtype=torch.float64,
    )
    return torch.cat([torch.stack([lon, lat], dim=-1), edges]).to(dtype)


@pytest.fixture(scope="module")
def small() -> GeoCLIPEncoder:
    torch.manual_seed(0)
    return build_geoclip(seed=0, **SMALL)


@pytest.fixture(scope="module")
def pretrained_pair() -> tuple[GeoCLIPEncoder, torch.nn.Module]:
    if not HAS_WHEEL:
        pytest.skip("geoclip wheel not installed (pip install --no-deps geoclip==1.3.0)")
    return build_geoclip(pretrained=True).eval(), load_reference_geoclip_location_encoder()


def test_metadata() -> None:
    assert DISPLAY_NAME == "GeoCLIP"
    assert "NeurIPS 2023" in PAPER and "Vivanco Cepeda" in PAPER
    assert PE_DIM == "3 × 512 (RFF per σ)"


def test_default_architecture() -> None:
    enc = build_geoclip()
    assert (enc.pe.n_branches, enc.pe.branch_dim, enc.pe.out_dim, enc.out_dim) == (3, 512, 1536, 512)
    assert enc.pe.sigmas == (1.0, 16.0, 256.0)
    assert sum(p.numel() for p in enc.parameters()) == 9_447_936  # 9.45 M, as the release
    out = enc(sample_lonlat(5))
    assert out.shape == (17, 512) and torch.isfinite(out).all()


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 1, 4)])
def test_shapes(small: GeoCLIPEncoder, shape: tuple[int, ...]) -> None:
    lonlat = sample_lonlat(math.prod(shape))[: math.prod(shape)].reshape(*shape, 2)
    pe = small.pe(lonlat)
    assert pe.shape == (*shape, small.pe.out_dim) and small.pe.out_dim == 3 * 16
    out = small(lonlat)
    assert out.shape == (*shape, 12)
    torch.testing.assert_close(out.reshape(-1, 12), small(lonlat.reshape(-1, 2)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes(dtype: torch.dtype) -> None:
    enc = build_geoclip(**SMALL).to(dtype)
    lonlat = sample_lonlat(50, dtype=dtype)
    out = enc(lonlat)
    assert out.dtype == dtype and torch.isfinite(out).all()
    pe = GeoCLIPPositionEncoding(rff_dim=8)  # float32 buffers, any input dtype
    assert pe(lonlat).dtype == dtype
    proj = equal_earth_projection(lonlat)
    assert proj[..., 0].abs().max() <= 1 + 1e-6 and proj[..., 1].abs().max() < 0.5


def test_seeded_buffers_and_state_dict_round_trip() -> None:
    a, b = build_geoclip(seed=0, **SMALL), build_geoclip(seed=1, **SMALL)
    again = GeoCLIPPositionEncoding(seed=0, rff_dim=8)
    assert all(torch.equal(x.b, y.b) for x, y in zip(a.pe.branches, again.branches, strict=True))
    assert not torch.equal(a.pe.branches[0].b, b.pe.branches[0].b)
    state = a.state_dict()
    assert {f"pe.branches.{i}.b" for i in range(3)} <= set(state)  # persistent buffers
    b.load_state_dict(state)
    lonlat = sample_lonlat(30)
    assert torch.equal(a(lonlat), b(lonlat))


def test_rff_scales() -> None:
    pe = GeoCLIPPositionEncoding(seed=3)
    for branch, sigma in zip(pe.branches, (1, 16, 256), strict=True):
        assert branch.b.shape == (256, 2)
        assert abs(branch.b.std().item() / sigma - 1) < 0.15


def test_gradients(small: GeoCLIPEncoder) -> None:
    small.zero_grad()
    lonlat = sample_lonlat(40).requires_grad_(True)
    small(lonlat).square().sum().backward()
    assert lonlat.grad is not None and torch.isfinite(lonlat.grad).all() and lonlat.grad.abs().sum() > 0
    for name, param in small.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_bad_keywords() -> None:
    with pytest.raises(ValueError, match="unknown keywords"):
        build_geoclip(dropout=0.5)
    with pytest.raises(ValueError, match="fixes the GeoCLIP architecture"):
        build_geoclip(pretrained=True, hidden_dim=64)


def test_key_map_errors() -> None:
    key_map = geoclip_pretrained.geoclip_key_map()
    assert len(key_map) == 27 and key_map["LocEnc0.capsule.0.b"] == "pe.branches.0.b"
    assert set(key_map.values()) == set(build_geoclip().state_dict())
    state = {key: torch.zeros(1) for key in key_map if key != "LocEnc2.head.0.bias"}
    state["LocEnc3.capsule.0.b"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"missing=\['LocEnc2.head.0.bias'\], unexpected=\['LocEnc3"):
        geoclip_pretrained.remap_geoclip_state_dict(state)


def test_missing_wheel_message(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name == "geoclip" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    hint = "pip install --no-deps geoclip==1.3.0"
    with pytest.raises(ModuleNotFoundError, match=hint):
        build_geoclip(pretrained=True)
    with pytest.raises(ModuleNotFoundError, match=hint):
        load_reference_geoclip_location_encoder()


@requires_wheel
def test_reference_loader_leaves_no_trace() -> None:
    before = {k for k in sys.modules if k.split(".")[0] in ("geoclip", "transformers")}
    state = torch.random.get_rng_state()
    ref = load_reference_geoclip_location_encoder()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert {k for k in sys.modules if k.split(".")[0] in ("geoclip", "transformers")} == before
    assert type(ref).__name__ == "LocationEncoder" and not ref.training


@requires_wheel
def test_pretrained_matches_wheel(pretrained_pair: tuple[GeoCLIPEncoder, torch.nn.Module]) -> None:
    ours, ref = pretrained_pair
    lonlat = sample_lonlat(500, seed=1)
    with torch.no_grad():
        expected = ref(lonlat.flip(-1))  # the wheel takes (lat, lon)
        got = ours(lonlat)
        ref_projection = ref.forward.__globals__["equal_earth_projection"]
        assert torch.equal(equal_earth_projection(lonlat), ref_projection(lonlat.flip(-1)))
    max_abs = (got - expected).abs().max().item()
    print(f"GeoCLIP vs wheel: max abs diff {max_abs:.3g} (max |ref| {expected.abs().max().item():.3g})")
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())


@requires_wheel
def test_pretrained_batched_shape(pretrained_pair: tuple[GeoCLIPEncoder, torch.nn.Module]) -> None:
    ours, ref = pretrained_pair
    lonlat = sample_lonlat(48, seed=2).reshape(4, 15, 2)
    with torch.no_grad():
        expected = ref(lonlat.reshape(-1, 2).flip(-1)).reshape(4, 15, 512)
        got = ours(lonlat)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())

"""Contract tests parametrised over the whole encoder registry."""

from __future__ import annotations

import math

import pytest
import torch

import engine
from engine.encoders import ENCODERS, create_position_encoding, list_encoders

REQUIRED = {
    "tile",
    "wrap",
    "wrap_ffn",
    "rbf",
    "rff",
    "space2vec_grid",
    "space2vec_theory",
    "xyz",
    "nerf",
    "sphere_c",
    "sphere_c_plus",
    "sphere_m",
    "sphere_m_plus",
    "dfs",
    "spherical_harmonics",
    "siren_sh",
    "geoclip",
    "direct",
}
# Small settings so the suite stays fast; every encoder is still built through the public API.
SMALL = {"dfs": {"frequency_num": 4}, "geoclip": {}}
NAMES = list_encoders()


def make(name: str, **kw):
    return engine.create_encoder(name, **{**SMALL.get(name, {}), **kw})


def points(*shape: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(*shape, 2, generator=g, dtype=torch.float64)
    lon = u[..., 0] * 360 - 180
    lat = torch.rad2deg(torch.asin(u[..., 1] * 2 - 1))
    return torch.stack([lon, lat], -1).to(dtype)


def test_registry_has_all_required_names():
    assert REQUIRED <= set(NAMES), REQUIRED - set(NAMES)


def test_every_encoder_has_catalogue_metadata():
    for entry in ENCODERS:
        for key in ("display_name", "paper", "pe_dim", "net", "pe"):
            assert entry.meta.get(key), (entry.name, key)
    assert ENCODERS.entry("sphere_c_plus").meta["display_name"] == "Sphere2Vec-sphereC+"


def test_unknown_and_duplicate_names_raise():
    with pytest.raises(ValueError, match=r"valid: .*sphere_c"):
        engine.create_encoder("sphere_x")
    with pytest.raises(ValueError, match="duplicate"):
        ENCODERS.register("xyz")(lambda: None)


def test_unknown_hyperparameter_is_named():
    with pytest.raises(ValueError, match="frequncy_num"):
        engine.create_encoder("sphere_c", frequncy_num=3)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(7,), (3, 5)])
def test_shapes_and_finite(name, shape):
    enc = make(name).eval()
    out = enc(points(*shape))
    assert out.shape == (*shape, enc.out_dim)
    assert torch.isfinite(out).all()
    pe = create_position_encoding(name, **SMALL.get(name, {}))
    assert pe(points(*shape)).shape == (*shape, pe.out_dim)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_input_and_every_parameter(name):
    enc = make(name).train()
    x = points(16).requires_grad_(True)
    enc(x).square().sum().backward()
    for pname, p in enc.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{name}: parameter {pname} got a zero gradient"
    if getattr(enc.pe, "differentiable", True):
        assert x.grad is not None and x.grad.abs().sum() > 0
    else:  # tile: piecewise constant, documented
        assert x.grad is None or x.grad.abs().sum() == 0


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_is_exact(name):
    torch.manual_seed(1)
    a = make(name, seed=1) if "seed" in _pe_params(name) else make(name)
    torch.manual_seed(2)
    b = make(name, seed=2) if "seed" in _pe_params(name) else make(name)
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    x = points(9)
    assert torch.equal(a(x), b(x))


def _pe_params(name: str) -> set[str]:
    import inspect

    return set(inspect.signature(ENCODERS.entry(name).meta["pe"]).parameters)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes(name, dtype):
    enc = make(name).to(dtype).eval()
    out = enc(points(4, dtype=dtype))
    assert out.dtype == dtype and torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_input_not_mutated(name):
    enc = make(name).eval()
    x = points(6)
    before = x.clone()
    enc(x)
    assert torch.equal(x, before)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (torch.zeros(4, 3), r"\[\.\.\., 2\]"),
        (torch.tensor([[0.0, float("nan")]]), "NaN"),
        (torch.tensor([[0.0, 91.0]]), "latitudes outside"),
        (torch.tensor([[181.0, 0.0]]), "longitudes outside"),
        (torch.tensor([[10.0, 100.0]]), "swapped"),
    ],
)
def test_bad_input_raises_value_error(name, bad, match):
    enc = make(name)
    with pytest.raises(ValueError, match=match):
        enc(bad)
    with pytest.raises(ValueError, match=match):
        create_position_encoding(name, **SMALL.get(name, {}))(bad)


@pytest.mark.parametrize("net", ["mlp", "fcnet", "siren", "linear"])
def test_any_net_with_any_pe(net):
    enc = engine.create_encoder("sphere_c", net=net, out_dim=32)
    assert enc(points(5)).shape == (5, 32)


@pytest.mark.cuda
@pytest.mark.parametrize("name", NAMES)
def test_cuda(name):
    enc = make(name).eval()
    x = points(8)
    ref = enc(x)
    out = enc.to("cuda")(x.to("cuda"))
    # sin(ωu) amplifies a 1-ulp difference of u between devices by ω|u|: NeRF's top scale (ω = π·2^15)
    # turns float32 rounding into ~1e-2, so the tolerance grows with the encoding's largest angle
    max_angle = getattr(enc.pe, "max_angle", 0.0)
    tol = 1e-3 + (8 * torch.finfo(torch.float32).eps * max_angle if math.isfinite(max_angle) else 0.0)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-3, atol=tol)

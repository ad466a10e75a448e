"""Each position encoding against its formula in ``shared/docs/encoders.md`` on hand-computed points."""

from __future__ import annotations

import math

import pytest
import torch

from engine.encoders import create_position_encoding
from engine.encoders.pe.frequencies import geometric_frequencies, nerf_frequencies

D = torch.float64
s, c = math.sin, math.cos
rad = math.radians


def pe(name, **kw):
    return create_position_encoding(name, **kw).to(D)


def x(lon, lat):
    return torch.tensor([[lon, lat]], dtype=D)


def close(a, b):
    torch.testing.assert_close(a.reshape(-1), torch.tensor(b, dtype=D), rtol=1e-12, atol=1e-12)


def test_geometric_schedule():
    close(geometric_frequencies(3, 0.01, 1.0), [100.0, 10.0, 1.0])
    close(nerf_frequencies(3), [math.pi, 2 * math.pi, 4 * math.pi])
    with pytest.raises(ValueError):
        geometric_frequencies(3, 0.0, 1.0)


def test_direct_and_wrap_and_xyz():
    close(pe("direct")(x(90, 45)), [0.5, 0.5])
    close(pe("wrap")(x(90, 45)), [1.0, 1.0, 0.0, 0.0])
    # the lat term is 2φ: the poles coincide (documented property of wrap)
    torch.testing.assert_close(pe("wrap")(x(30, 90)), pe("wrap")(x(30, -90)))
    close(pe("xyz")(x(90, 0)), [0.0, 1.0, 0.0])
    close(pe("xyz")(x(-45, 30)), [c(rad(30)) * c(rad(-45)), c(rad(30)) * s(rad(-45)), s(rad(30))])


def test_nerf_honours_frequency_num():
    for S in (1, 3, 7):
        assert pe("nerf", frequency_num=S).out_dim == 6 * S
    p = [c(rad(20)) * c(rad(10)), c(rad(20)) * s(rad(10)), s(rad(20))]
    w = [math.pi, 2 * math.pi]
    sines = [s(wi * pk) for wi in w for pk in p]
    cosines = [c(wi * pk) for wi in w for pk in p]
    close(pe("nerf", frequency_num=2)(x(10, 20)), sines + cosines)


def test_space2vec_grid_and_theory():
    w = [1.0, 0.1]  # r_min = 1, r_max = 10, S = 2
    lon, lat = 30.0, 60.0
    expect = [f(wi * d) for f in (s, c) for wi in w for d in (lon, lat)]
    close(pe("space2vec_grid", frequency_num=2, min_radius=1.0, max_radius=10.0)(x(lon, lat)), expect)
    h = math.sqrt(3) / 2
    u = [lon, -0.5 * lon + h * lat, -0.5 * lon - h * lat]
    expect = [f(wi * uj) for f in (s, c) for wi in w for uj in u]
    close(pe("space2vec_theory", frequency_num=2, min_radius=1.0, max_radius=10.0)(x(lon, lat)), expect)


LON, LAT = 40.0, -25.0
L, P = rad(LON), rad(LAT)
W = [2.0, 1.0]  # S = 2, r_min = 0.5, r_max = 1


def _sphere(name):
    return pe(name, frequency_num=2, min_radius=0.5, max_radius=1.0)(x(LON, LAT))


def test_sphere_c():
    terms = (lambda w: s(P * w), lambda w: c(P * w) * c(L * w), lambda w: c(P * w) * s(L * w))
    close(_sphere("sphere_c"), [f(w) for f in terms for w in W])


def test_sphere_c_plus():
    per_scale = [
        (s(P * w), c(P * w), s(L * w), c(L * w), c(P * w) * c(L * w), c(P * w) * s(L * w)) for w in W
    ]
    expect = [per_scale[i][k] for k in range(6) for i in range(2)]
    close(_sphere("sphere_c_plus"), expect)


def _sphere_m_terms(w):
    return [s(P * w), c(P * w) * c(L), c(P) * c(L * w), c(P * w) * s(L), c(P) * s(L * w)]


def test_sphere_m_and_m_plus():
    m = [_sphere_m_terms(w) for w in W]
    close(_sphere("sphere_m"), [m[i][k] for k in range(5) for i in range(2)])
    mp = [(*_sphere_m_terms(w), c(P * w), s(L * w), c(L * w)) for w in W]
    close(_sphere("sphere_m_plus"), [mp[i][k] for k in range(8) for i in range(2)])


def test_dfs():
    out = _sphere("dfs")
    prods = [fl(L * wi) * fp(P * wj) for wi in W for wj in W for fl in (s, c) for fp in (s, c)]
    single = [t for w in W for t in (s(P * w), c(P * w), s(L * w), c(L * w))]
    assert out.shape[-1] == 4 * 4 + 4 * 2
    close(out, prods + single)


@pytest.mark.parametrize("name", ["sphere_c", "sphere_c_plus", "sphere_m", "sphere_m_plus", "dfs"])
def test_min_radius_gives_multi_scale_rank(name):
    """sphereM+/dfs honour min_radius (the reference collapses them to a single scale)."""
    g = torch.Generator().manual_seed(0)
    pts = torch.stack(
        [
            torch.rand(400, generator=g, dtype=D) * 360 - 180,
            torch.rad2deg(torch.asin(torch.rand(400, generator=g, dtype=D) * 2 - 1)),
        ],
        -1,
    )
    single = pe(name, frequency_num=4, min_radius=1.0, max_radius=1.0)(pts)
    multi = pe(name, frequency_num=4, min_radius=0.05, max_radius=1.0)(pts)
    assert torch.linalg.matrix_rank(multi) > torch.linalg.matrix_rank(single)


def test_rbf_formula_and_anchor_sampling():
    anchors = torch.tensor([[0.0, 0.0], [10.0, 5.0]])
    enc = pe("rbf", anchors=anchors, sigma=3.0)
    d2 = [(4.0 - 0) ** 2 + (2.0 - 0) ** 2, (4.0 - 10) ** 2 + (2.0 - 5) ** 2]
    close(enc(x(4, 2)), [math.exp(-v / 18.0) for v in d2])
    train = torch.tensor([[float(i), float(i) / 2] for i in range(50)])
    a = create_position_encoding("rbf", train_lonlat=train, num_anchors=10, seed=3)
    b = create_position_encoding("rbf", train_lonlat=train, num_anchors=10, seed=3)
    assert torch.equal(a.anchors, b.anchors) and a.out_dim == 10
    assert {tuple(r) for r in a.anchors.tolist()} <= {tuple(r) for r in train.tolist()}
    assert "anchors" in a.state_dict()


def test_rff_formula_global_extent():
    enc = pe("rff", frequency_num=8, sigma=1.5, seed=4)
    pt = x(90, -45)
    xt = torch.tensor([0.5, -0.5], dtype=D)
    expect = math.sqrt(2 / 8) * torch.cos(enc.omega @ xt + enc.phase)
    torch.testing.assert_close(enc(pt)[0], expect)
    assert {"omega", "phase"} <= set(enc.state_dict())


@pytest.mark.parametrize("name", ["wrap", "xyz", "nerf", "spherical_harmonics", "tile"])
def test_longitude_periodicity(name):
    enc = pe(name)
    a = torch.tensor([[-170.0, 12.0], [35.0, -60.0]], dtype=D)
    b = a + torch.tensor([360.0, 0.0], dtype=D)
    torch.testing.assert_close(enc.encode(a), enc.encode(b), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(enc(x(-180, 10)), enc(x(180, 10)), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["xyz", "nerf", "spherical_harmonics", "siren_sh"])
def test_continuity_across_antimeridian(name):
    enc = pe(name, frequency_num=4) if name == "nerf" else pe(name)
    for lat in (-60.0, 0.0, 45.0):
        west, east = enc(x(179.9999, lat)), enc(x(-179.9999, lat))
        assert (west - east).abs().max() < 1e-3 * max(1.0, west.abs().max().item())


def test_tile_gives_distinct_cells():
    enc = create_position_encoding("tile", cell_size=10.0)
    lon = torch.arange(-175.0, 180.0, 10.0)
    lat = torch.arange(-85.0, 90.0, 10.0)
    grid = torch.cartesian_prod(lon, lat)
    ids = enc.cell_index(grid)
    assert ids.unique().numel() == grid.shape[0] == enc.n_lon * enc.n_lat
    edges = enc.cell_index(torch.tensor([[180.0, 90.0], [-180.0, 90.0], [0.0, -90.0]]))
    assert edges[0] == edges[1] and 0 <= edges.min() and edges.max() < enc.n_lon * enc.n_lat
    with pytest.raises(ValueError):
        create_position_encoding("tile", cell_size=0)


@pytest.mark.parametrize("name", ["sphere_c", "sphere_m", "space2vec_theory"])
def test_numpy_reference_baseline_agrees_up_to_order(name):
    """The benchmark's numpy baseline computes the same features (reference scale-major order)."""
    from engine.bench.numpy_reference import NUMPY_BASELINES

    g = torch.Generator().manual_seed(0)
    pts = torch.stack([torch.rand(50, generator=g) * 360 - 180, torch.rand(50, generator=g) * 180 - 90], -1)
    ours = pe(name)(pts.double())
    ref = NUMPY_BASELINES[name](pts.double()).double()
    assert ours.shape == ref.shape
    key = lambda t: torch.sort(t, dim=-1).values  # noqa: E731 - same multiset of features per point
    torch.testing.assert_close(key(ours), key(ref), rtol=0, atol=1e-5)

"""Spherical harmonics: orthonormality by quadrature, agreement with scipy, large L."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import special

from engine.encoders import create_position_encoding


def gauss_sphere_grid(L: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact quadrature for degree < 2L: Gauss–Legendre in cos θ, uniform in ϕ."""
    xg, wg = np.polynomial.legendre.leggauss(L + 1)
    n_phi = 2 * L + 1
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    theta = np.arccos(xg)
    # our convention: θ = lat + π/2, ϕ = lon + π
    lat = np.degrees(theta - np.pi / 2)
    lon = np.degrees(phi - np.pi)
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    W = np.repeat(wg[:, None] * (2 * np.pi / n_phi), n_phi, axis=1)
    pts = torch.tensor(np.stack([LON.ravel(), LAT.ravel()], -1))
    return pts, torch.tensor(W.ravel())


@pytest.mark.parametrize("L", [1, 5, 20, 40])
def test_orthonormal_by_quadrature(L):
    pts, w = gauss_sphere_grid(L)
    Y = create_position_encoding("spherical_harmonics", legendre_polys=L).double()(pts)
    gram = Y.T @ (Y * w[:, None])
    torch.testing.assert_close(gram, torch.eye(L * L, dtype=torch.float64), atol=1e-10, rtol=0)


def real_sh_scipy(L: int, lonlat: np.ndarray) -> np.ndarray:
    theta = np.radians(lonlat[:, 1]) + np.pi / 2
    az = np.radians(lonlat[:, 0]) + np.pi
    out = np.zeros((len(lonlat), L * L))
    for l in range(L):
        for m in range(-l, l + 1):
            y = special.sph_harm_y(l, abs(m), theta, az)
            if m > 0:
                v = math.sqrt(2) * (-1) ** m * y.real
            elif m < 0:
                v = math.sqrt(2) * (-1) ** m * y.imag
            else:
                v = y.real
            out[:, l * l + l + m] = v
    return out


@pytest.mark.skipif(not hasattr(special, "sph_harm_y"), reason="scipy without sph_harm_y")
@pytest.mark.parametrize("L", [3, 25, 100])
def test_matches_scipy_sph_harm_y(L):
    rng = np.random.default_rng(L)
    ll = np.c_[rng.uniform(-180, 180, 40), np.degrees(np.arcsin(rng.uniform(-1, 1, 40)))]
    ll = np.vstack([ll, [[0, 90], [0, -90], [180, 0], [-180, 45]]])
    ours = (
        create_position_encoding("spherical_harmonics", legendre_polys=L).double()(torch.tensor(ll)).numpy()
    )
    np.testing.assert_allclose(ours, real_sh_scipy(L, ll), atol=1e-10)


def test_float32_accuracy_at_large_L():
    L = 100
    pts, _ = gauss_sphere_grid(8)
    y64 = create_position_encoding("spherical_harmonics", legendre_polys=L).double()(pts)
    y32 = create_position_encoding("spherical_harmonics", legendre_polys=L)(pts.float())
    assert (y32.double() - y64).abs().max() < 1e-4
    assert create_position_encoding("spherical_harmonics", legendre_polys=L).out_dim == L * L

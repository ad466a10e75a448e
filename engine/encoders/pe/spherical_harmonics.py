"""
Real spherical harmonics (Rußwurm et al., "Geographic Location Encoding with Spherical Harmonics and
Sinusoidal Representation Networks", ICLR 2024).

Evaluation without a recurrence in ``forward``: the normalised associated Legendre function of degree l,
order m, as a function of the polar angle θ, is a trigonometric polynomial of degree l,

    P̄_l^m(cos θ) = Σ_{k=0}^{l} a_{lmk} cos(kθ)   (m even),      Σ_{k=1}^{l} b_{lmk} sin(kθ)   (m odd),

whose coefficients are bounded (|a|, |b| ≲ √(2l+1)), unlike monomial closed forms that cancel
catastrophically past L ≈ 50. The coefficients are computed once per L (exact discrete cosine/sine
transforms of scipy's normalised Legendre values) and forward is two small matmuls — stable for any L
(tested to L = 100), vectorised over batch, degree and order, and GPU-friendly.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from scipy import special
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding


@lru_cache(maxsize=16)
def _theta_coefficients(L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Fourier coefficients ``C [2L, L²]`` of P̄_l^|m|(cos θ) (no Condon–Shortley phase) per SH column.

    Returns ``(C, m_abs [L²], is_sin [L²])``; columns are ordered l = 0…L−1, m = −l…l (index l² + l + m).
    """
    K = 2 * L + 2  # grid θ_j = πj/K, j = 0…K; exact for degrees < K
    theta = np.pi * np.arange(K + 1) / K
    # P[l, m] (m >= 0) with orthonormal normalisation; remove the Condon–Shortley phase (-1)^m.
    p_all = special.sph_legendre_p_all(L - 1, L - 1, theta)[0]  # [L, 2L-1, K+1]
    ms = np.arange(L)
    p = p_all[:, :L, :] * ((-1.0) ** ms)[None, :, None]  # [L, L, K+1]
    k = np.arange(L)
    cos_kj = np.cos(np.outer(k, theta))  # [L, K+1]
    sin_kj = np.sin(np.outer(k, theta))
    w = np.ones(K + 1)
    w[0] = w[-1] = 0.5  # trapezoid / DCT-I end weights
    a = (2.0 / K) * np.einsum("lmj,kj->lmk", p * w, cos_kj)  # cosine coefficients
    a[:, :, 0] /= 2.0
    b = (2.0 / K) * np.einsum("lmj,kj->lmk", p * w, sin_kj)  # sine coefficients
    # every (l, m) column at once: l = 0…L−1, m = −l…l, column l² + l + m
    l_idx = np.repeat(np.arange(L), 2 * np.arange(L) + 1)
    m_idx = np.arange(L * L) - l_idx**2 - l_idx
    m_abs = np.abs(m_idx)
    upto_l = k[None, :] <= l_idx[:, None]  # a trig polynomial of degree l: drop round-off above it
    even = (m_abs % 2 == 0)[:, None]
    scale = np.where(m_idx == 0, 1.0, np.sqrt(2.0))[:, None]
    cos_part = np.where(even & upto_l, a[l_idx, m_abs], 0.0) * scale  # [L², L]
    sin_part = np.where(~even & upto_l & (k[None, :] > 0), b[l_idx, m_abs], 0.0) * scale
    C = np.concatenate([cos_part, sin_part], axis=1).T  # [2L, L²]
    is_sin = m_idx < 0
    return C, m_abs, is_sin


class SphericalHarmonicsPE(PositionEncoding):
    """
    Real, orthonormal spherical harmonics ``Y_lm(θ, ϕ)``, l = 0 … L−1, m = −l … l (L² dims).

    θ = φ + π/2, ϕ = λ + π (the convention of Rußwurm et al.). Real basis:
    ``Y_lm = √2 N_lm P_l^|m|(cos θ) sin(|m| ϕ)`` (m < 0), ``N_l0 P_l(cos θ)`` (m = 0),
    ``√2 N_lm P_l^m(cos θ) cos(m ϕ)`` (m > 0), with ``N_lm = √((2l+1)/(4π) · (l−m)!/(l+m)!)`` and no
    Condon–Shortley phase; ∫ Y_i Y_j dΩ = δ_ij. Resolution ≈ 20 000 km / L.

    Args:
        legendre_polys: number of degrees L (any value ≥ 1; tested to 100).

    """

    lon_periodic = True

    def __init__(self, legendre_polys: int = 10) -> None:
        super().__init__()
        if legendre_polys < 1:
            raise ValueError(f"legendre_polys must be >= 1, got {legendre_polys}")
        self.legendre_polys = L = int(legendre_polys)
        C, m_abs, is_sin = _theta_coefficients(L)
        # Deterministic from L: not persistent (checkpoints stay small), float64 kept until cast in forward.
        self.register_buffer("coef", torch.from_numpy(C), persistent=False)
        self.register_buffer("k", torch.arange(L, dtype=torch.float64), persistent=False)
        self.register_buffer("m_abs", torch.from_numpy(m_abs), persistent=False)
        self.register_buffer("is_sin", torch.from_numpy(is_sin), persistent=False)
        self.out_dim = L * L
        self.max_angle = 2 * math.pi * max(L - 1, 0)  # k ≤ L − 1, θ ≤ π, azimuth ≤ 2π

    def encode(self, lonlat: Tensor) -> Tensor:
        """``[..., 2]`` degrees -> ``[..., L²]`` real SH values."""
        dt = lonlat.dtype
        lam, phi = torch.deg2rad(lonlat).unbind(-1)
        theta = phi + math.pi / 2
        azim = lam + math.pi
        k = self.k.to(dt)
        kt = theta[..., None] * k  # [..., L]
        sin_kt, cos_kt = self.sincos(kt)
        polar = torch.cat([cos_kt, sin_kt], dim=-1) @ self.coef.to(dt)  # [..., L²]
        ka = azim[..., None] * k
        sin_ka, cos_ka = self.sincos(ka)
        cos_m = cos_ka.index_select(-1, self.m_abs)  # [..., L²]
        sin_m = sin_ka.index_select(-1, self.m_abs)
        return polar * torch.where(self.is_sin, sin_m, cos_m)

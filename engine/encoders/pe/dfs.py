"""Sphere2Vec-dfs: the double-Fourier-sphere basis (Mai et al., ISPRS J. 2023)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding
from engine.encoders.pe.frequencies import geometric_frequencies


class DFSPE(PositionEncoding):
    """
    dfs: all products ``{sin, cos}(λ_i) · {sin, cos}(φ_j)`` for i, j < S, then
    ``[sin φ_s, cos φ_s, sin λ_s, cos λ_s]`` for s < S (4S² + 4S dims).

    λ_i = λ·ω_i, φ_j = φ·ω_j (radians, geometric schedule). Product block order: (i, j, [sin λ sin φ,
    sin λ cos φ, cos λ sin φ, cos λ cos φ]). Unlike the reference, ``min_radius`` is honoured.

    Args:
        frequency_num: scales S (output grows as 4S²).
        min_radius: r_min (highest frequency 1/r_min).
        max_radius: r_max (reference: 1).

    """

    def __init__(self, frequency_num: int = 8, min_radius: float = 0.01, max_radius: float = 1.0) -> None:
        super().__init__()
        self.frequency_num = frequency_num
        self.min_radius = min_radius
        self.max_radius = max_radius
        self.register_buffer("freqs", geometric_frequencies(frequency_num, min_radius, max_radius))
        self.out_dim = 4 * frequency_num**2 + 4 * frequency_num
        self.max_angle = math.pi * float(self.freqs.max())  # |λ| ≤ π

    def encode(self, lonlat: Tensor) -> Tensor:
        """Outer products of the lon and lat sinusoids plus the single-axis sinusoids."""
        lam, phi = torch.deg2rad(lonlat).unbind(-1)
        w = self.freqs.to(lonlat.dtype)
        lam_s, phi_s = lam[..., None] * w, phi[..., None] * w  # [..., S]
        fl = torch.stack(self.sincos(lam_s), dim=-1)  # [..., S, 2]
        fp = torch.stack(self.sincos(phi_s), dim=-1)  # [..., S, 2]
        prod = fl[..., :, None, :, None] * fp[..., None, :, None, :]  # [..., S, S, 2, 2]
        single = torch.cat([fp, fl], dim=-1).flatten(-2)  # [..., S*4]: sinφ, cosφ, sinλ, cosλ per scale
        return torch.cat([prod.flatten(-4), single], dim=-1)

"""
Sphere2Vec multi-scale spherical encodings (Mai et al., "Sphere2Vec: A General-Purpose Location
Representation Learning over a Spherical Surface for Large-Scale Geospatial Predictions", ISPRS J. 2023).

λ, φ in radians; φ_s = φ·ω_s, λ_s = λ·ω_s with the geometric schedule of
:func:`~engine.encoders.pe.frequencies.geometric_frequencies` (reference: r_max = 1, r_min 1e-4 … 1e-2, so
ω ∈ [1, 1/r_min]). Outputs are ordered term-major: the S values (s = 0 … S−1) of the first listed term, then
those of the second, and so on (contiguous blocks: a concatenation, much faster than interleaving).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding
from engine.encoders.pe.frequencies import geometric_frequencies


class _SpherePE(PositionEncoding):
    """Shared machinery: radians, per-scale angles, stacking of per-scale terms."""

    terms_per_scale: int = 0

    def __init__(self, frequency_num: int, min_radius: float, max_radius: float) -> None:
        super().__init__()
        self.frequency_num = frequency_num
        self.min_radius = min_radius
        self.max_radius = max_radius
        self.register_buffer("freqs", geometric_frequencies(frequency_num, min_radius, max_radius))
        self.out_dim = self.terms_per_scale * frequency_num
        self.max_angle = math.pi * float(self.freqs.max())  # |λ| ≤ π

    def _angles(self, lonlat: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """λ, φ ``[..., 1]`` and λ_s, φ_s ``[..., S]``."""
        lam, phi = torch.deg2rad(lonlat).unbind(-1)
        w = self.freqs.to(lonlat.dtype)
        return lam[..., None], phi[..., None], lam[..., None] * w, phi[..., None] * w

    @staticmethod
    def _stack(*terms: Tensor) -> Tensor:
        """``[..., S]`` terms -> ``[..., T * S]`` (term-major)."""
        return torch.cat(terms, dim=-1)


class SphereCPE(_SpherePE):
    """sphereC: ``[sin φ_s, cos φ_s cos λ_s, cos φ_s sin λ_s]`` (3S dims)."""

    terms_per_scale = 3

    def __init__(self, frequency_num: int = 64, min_radius: float = 0.001, max_radius: float = 1.0) -> None:
        super().__init__(frequency_num, min_radius, max_radius)

    def encode(self, lonlat: Tensor) -> Tensor:
        """Multi-scale xyz-like terms."""
        _, _, lam_s, phi_s = self._angles(lonlat)
        sp, cp = self.sincos(phi_s)
        sl, cl = self.sincos(lam_s)
        return self._stack(sp, cp * cl, cp * sl)


class SphereCPlusPE(_SpherePE):
    """sphereC+: ``[sin φ_s, cos φ_s, sin λ_s, cos λ_s, cos φ_s cos λ_s, cos φ_s sin λ_s]`` (6S dims)."""

    terms_per_scale = 6

    def __init__(self, frequency_num: int = 64, min_radius: float = 0.0001, max_radius: float = 1.0) -> None:
        super().__init__(frequency_num, min_radius, max_radius)

    def encode(self, lonlat: Tensor) -> Tensor:
        """SphereC terms plus the separate lat/lon sinusoids."""
        _, _, lam_s, phi_s = self._angles(lonlat)
        (sp, cp), (sl, cl) = self.sincos(phi_s), self.sincos(lam_s)
        return self._stack(sp, cp, sl, cl, cp * cl, cp * sl)


class SphereMPE(_SpherePE):
    """sphereM: ``[sin φ_s, cos φ_s cos λ, cos φ cos λ_s, cos φ_s sin λ, cos φ sin λ_s]`` (5S dims)."""

    terms_per_scale = 5

    def __init__(self, frequency_num: int = 64, min_radius: float = 0.001, max_radius: float = 1.0) -> None:
        super().__init__(frequency_num, min_radius, max_radius)

    def encode(self, lonlat: Tensor) -> Tensor:
        """Mixed single-scale / multi-scale terms."""
        lam, phi, lam_s, phi_s = self._angles(lonlat)
        cp, (sl, cl) = self.cos(phi), self.sincos(lam)
        (sp_s, cp_s), (sl_s, cl_s) = self.sincos(phi_s), self.sincos(lam_s)
        return self._stack(sp_s, cp_s * cl, cp * cl_s, cp_s * sl, cp * sl_s)


class SphereMPlusPE(_SpherePE):
    """
    sphereM+: the sphereM terms plus ``[cos φ_s, sin λ_s, cos λ_s]`` (8S dims).

    The reference ignores ``min_radius`` (with r_max = 1 every ω_s = 1); here the schedule is multi-scale.
    """

    terms_per_scale = 8

    def __init__(self, frequency_num: int = 64, min_radius: float = 0.001, max_radius: float = 1.0) -> None:
        super().__init__(frequency_num, min_radius, max_radius)

    def encode(self, lonlat: Tensor) -> Tensor:
        """SphereM terms plus the separate multi-scale sinusoids."""
        lam, phi, lam_s, phi_s = self._angles(lonlat)
        cp, (sl, cl) = self.cos(phi), self.sincos(lam)
        (sp_s, cp_s), (sl_s, cl_s) = self.sincos(phi_s), self.sincos(lam_s)
        return self._stack(sp_s, cp_s * cl, cp * cl_s, cp_s * sl, cp * sl_s, cp_s, sl_s, cl_s)

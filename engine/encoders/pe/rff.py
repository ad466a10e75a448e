"""``rff``: random Fourier features (Rahimi & Recht, NeurIPS 2007) of the normalised coordinates."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding


class RFFPE(PositionEncoding):
    """
    ``PE(x) = √(2/D) · cos(ω_kᵀ x̃ + b_k)``, k = 1…D, with x̃ = lon/lat scaled to [−1, 1] over ``extent``,
    ω_k ~ N(0, σ² I), b_k ~ U[0, 2π) (seeded buffers).

    The default extent is the whole globe (the reference defaulted to a North-America box).

    Args:
        frequency_num: number of features D.
        sigma: ω standard deviation (kernel bandwidth) in units of the normalised coordinates.
        extent: (lon_min, lon_max, lat_min, lat_max) in degrees mapped to [−1, 1].
        seed: seed of ω and b.

    """

    def __init__(
        self,
        frequency_num: int = 64,
        sigma: float = 2.0,
        extent: tuple[float, float, float, float] = (-180.0, 180.0, -90.0, 90.0),
        seed: int = 0,
    ) -> None:
        super().__init__()
        lon0, lon1, lat0, lat1 = extent
        if not (lon1 > lon0 and lat1 > lat0):
            raise ValueError(f"extent must be (lon_min, lon_max, lat_min, lat_max) increasing, got {extent}")
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("omega", torch.randn(frequency_num, 2, generator=g) * sigma)  # [D, 2]
        self.register_buffer("phase", torch.rand(frequency_num, generator=g) * 2 * math.pi)  # [D]
        self.register_buffer(
            "center", torch.tensor([(lon0 + lon1) / 2, (lat0 + lat1) / 2], dtype=torch.float64)
        )
        self.register_buffer(
            "half_span", torch.tensor([(lon1 - lon0) / 2, (lat1 - lat0) / 2], dtype=torch.float64)
        )
        self.sigma = float(sigma)
        self.out_dim = frequency_num
        # |x_d| ≤ (coordinate bound + |centre_d|) / half-span_d, |phase| < 2π
        x_max = (torch.tensor([180.0, 90.0], dtype=torch.float64) + self.center.abs()) / self.half_span
        self.max_angle = float((self.omega.double().abs() @ x_max).max()) + 2 * math.pi

    def encode(self, lonlat: Tensor) -> Tensor:
        """Random cosine features."""
        dt = lonlat.dtype
        x = (lonlat - self.center.to(dt)) / self.half_span.to(dt)
        proj = x @ self.omega.to(dt).T + self.phase.to(dt)
        return math.sqrt(2.0 / self.out_dim) * self.cos(proj)

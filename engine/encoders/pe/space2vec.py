"""
Space2Vec encodings on raw degrees (Mai et al., "Multi-Scale Representation Learning for Spatial Feature
Distributions using Grid Cells", ICLR 2020): ``grid`` and ``theory``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding
from engine.encoders.pe.frequencies import geometric_frequencies


class _Space2VecPE(PositionEncoding):
    """Shared machinery: project (lon°, lat°) on unit directions a_j, then sin/cos at S scales."""

    def __init__(self, directions: Tensor, frequency_num: int, min_radius: float, max_radius: float) -> None:
        super().__init__()
        self.frequency_num = frequency_num
        self.min_radius = min_radius
        self.max_radius = max_radius
        self.register_buffer("freqs", geometric_frequencies(frequency_num, min_radius, max_radius))
        self.register_buffer("directions", directions.double())  # [J, 2]
        # ω_s a_j flattened to [S*J] per coordinate: the angles are two broadcast products of contiguous
        # vectors (one vectorised loop when fused); derived, so not saved in checkpoints
        m = (self.freqs[:, None, None] * self.directions[None]).reshape(-1, 2)
        self.register_buffer("m_lon", m[:, 0].contiguous(), persistent=False)
        self.register_buffer("m_lat", m[:, 1].contiguous(), persistent=False)
        self.out_dim = 2 * directions.shape[0] * frequency_num
        # |u_j| ≤ 180 |a_j0| + 90 |a_j1|
        u_max = float((directions.double().abs() @ torch.tensor([180.0, 90.0], dtype=torch.float64)).max())
        self.max_angle = u_max * float(self.freqs.max())

    def encode(self, lonlat: Tensor) -> Tensor:
        """``[sin(u_j ω_s)] ++ [cos(u_j ω_s)]``, u_j = ⟨(lon°, lat°), a_j⟩ (order sin|cos, s, j)."""
        dt = lonlat.dtype
        a = lonlat[..., :1] * self.m_lon.to(dt) + lonlat[..., 1:] * self.m_lat.to(dt)  # [..., S*J]
        return torch.cat(self.sincos(a), dim=-1)


class Space2VecGridPE(_Space2VecPE):
    """
    Space2Vec-grid: for d ∈ {lon°, lat°}: ``[sin(d·ω_s), cos(d·ω_s)]`` (4S dims).

    Args:
        frequency_num: scales S.
        min_radius: r_min in degrees (highest frequency 1/r_min).
        max_radius: r_max in degrees (reference: 360).

    """

    def __init__(self, frequency_num: int = 64, min_radius: float = 0.1, max_radius: float = 360.0) -> None:
        super().__init__(torch.eye(2), frequency_num, min_radius, max_radius)


class Space2VecTheoryPE(_Space2VecPE):
    """
    Space2Vec-theory: three directions 120° apart, a_1=(1,0), a_2=(−½,√3/2), a_3=(−½,−√3/2) (6S dims).

    Args:
        frequency_num: scales S.
        min_radius: r_min in degrees.
        max_radius: r_max in degrees (reference: 360).

    """

    def __init__(self, frequency_num: int = 64, min_radius: float = 0.05, max_radius: float = 360.0) -> None:
        h = math.sqrt(3.0) / 2.0
        dirs = torch.tensor([[1.0, 0.0], [-0.5, h], [-0.5, -h]], dtype=torch.float64)
        super().__init__(dirs, frequency_num, min_radius, max_radius)

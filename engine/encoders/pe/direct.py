"""Direct (naive) encoding: the normalised coordinates themselves."""

from __future__ import annotations

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding


class DirectPE(PositionEncoding):
    """``PE(x) = [lon/180, lat/90]`` (2 dims) — the no-encoding baseline."""

    def __init__(self) -> None:
        super().__init__()
        self.out_dim = 2
        self.register_buffer("scale", torch.tensor([1.0 / 180.0, 1.0 / 90.0], dtype=torch.float64))

    def encode(self, lonlat: Tensor) -> Tensor:
        """Scale lon/lat to [-1, 1]."""
        return lonlat * self.scale.to(lonlat.dtype)

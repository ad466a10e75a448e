"""3-D unit-vector encoding ``xyz``."""

from __future__ import annotations

from torch import Tensor

from engine.encoders.pe.base import PositionEncoding
from engine.geo import lonlat_to_xyz


class XYZPE(PositionEncoding):
    """``PE(x) = [cosφ cosλ, cosφ sinλ, sinφ]`` (3 dims): continuous over the poles and the antimeridian."""

    lon_periodic = True

    def __init__(self) -> None:
        super().__init__()
        self.out_dim = 3

    def encode(self, lonlat: Tensor) -> Tensor:
        """Point on the unit sphere."""
        return lonlat_to_xyz(lonlat)

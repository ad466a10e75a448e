"""
``tile``: a learned embedding per lon/lat grid cell (the discretisation baseline of Mac Aodha et al. 2019,
Tang et al. ICCV 2015).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from engine.encoders.pe.base import PositionEncoding


class TilePE(PositionEncoding):
    """
    ``PE(x) = E[cell(x)]``: a trainable table row per ``cell_size``° × ``cell_size``° cell.

    cell(x) = ⌊(lat + 90)/c⌋ · n_lon + (⌊(lon + 180)/c⌋ mod n_lon), n_lon = ⌈360/c⌉, n_lat = ⌈180/c⌉; lat = 90
    falls in the top row and lon = ±180 in the same column. The reference passes no cell size (the whole
    globe is one cell, a constant embedding); here ``cell_size`` is explicit. Piecewise constant: the input
    gradient is zero (``differentiable = False``).

    Args:
        cell_size: cell side in degrees.
        embed_dim: table width (the PE's ``out_dim``).

    """

    differentiable = False
    lon_periodic = True

    def __init__(self, cell_size: float = 5.0, embed_dim: int = 64) -> None:
        super().__init__()
        if not 0 < cell_size <= 180:
            raise ValueError(f"cell_size must be in (0, 180] degrees, got {cell_size}")
        self.cell_size = float(cell_size)
        self.n_lon = math.ceil(360.0 / cell_size)
        self.n_lat = math.ceil(180.0 / cell_size)
        self.embedding = nn.Embedding(self.n_lon * self.n_lat, embed_dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.out_dim = embed_dim

    def cell_index(self, lonlat: Tensor) -> Tensor:
        """Integer cell id ``[...]`` of each point."""
        lon, lat = lonlat.detach().unbind(-1)
        col = torch.remainder(torch.floor((lon + 180.0) / self.cell_size).long(), self.n_lon)
        row = torch.floor((lat + 90.0) / self.cell_size).long().clamp(0, self.n_lat - 1)
        return row * self.n_lon + col

    def encode(self, lonlat: Tensor) -> Tensor:
        """Look up the cell embeddings (cast to the input dtype)."""
        return self.embedding(self.cell_index(lonlat)).to(lonlat.dtype)

"""
``wrap`` encoding of Mac Aodha, Cole & Perona, "Presence-Only Geographical Priors for Fine-Grained Image
Classification", ICCV 2019.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding


class WrapPE(PositionEncoding):
    """
    ``PE(x) = [sin(π·lon/180), sin(π·lat/90), cos(π·lon/180), cos(π·lat/90)]`` (4 dims).

    Faithful to the paper: the latitude term is 2φ, so the North and South poles (φ = ±90°) encode alike
    (sin(±π) = 0, cos(±π) = −1) — a known property of ``wrap``, documented rather than fixed.
    """

    lon_periodic = True

    def __init__(self) -> None:
        super().__init__()
        self.out_dim = 4
        self.max_angle = math.pi

    def encode(self, lonlat: Tensor) -> Tensor:
        """Sin/cos of lon (period 360°) and of lat (period 180°)."""
        a = lonlat * lonlat.new_tensor([math.pi / 180.0, math.pi / 90.0])
        return torch.cat(self.sincos(a), dim=-1)

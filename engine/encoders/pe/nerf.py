"""NeRF positional encoding of the 3-D point (Mildenhall et al., ECCV 2020) as used by TorchSpatial."""

from __future__ import annotations

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding
from engine.encoders.pe.frequencies import nerf_frequencies
from engine.geo import lonlat_to_xyz


class NeRFPE(PositionEncoding):
    """
    ``p = xyz(x)``; ``PE(x) = [sin(p_k ω_s)]_{s,k} ++ [cos(p_k ω_s)]_{s,k}`` with ω_s = π·2^s (6S dims).

    Order: all sines (scale-major: s = 0 … S−1, then k = x, y, z), then all cosines in the same order.
    Unlike the reference (always 16 scales), ``frequency_num`` is honoured.

    Args:
        frequency_num: number of scales S.

    """

    lon_periodic = True

    def __init__(self, frequency_num: int = 16) -> None:
        super().__init__()
        self.frequency_num = frequency_num
        self.register_buffer("freqs", nerf_frequencies(frequency_num))
        self.out_dim = 6 * frequency_num
        self.max_angle = float(self.freqs.max())  # |p_k| ≤ 1

    def encode(self, lonlat: Tensor) -> Tensor:
        """Sin/cos of every xyz coordinate at every scale."""
        p = lonlat_to_xyz(lonlat)  # [..., 3]
        a = (self.freqs.to(p.dtype)[:, None] * p[..., None, :]).flatten(-2)  # [..., S*3]
        return torch.cat(self.sincos(a), dim=-1)

"""Frequency schedules shared by the multi-scale encodings (one place, never copied)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def geometric_frequencies(frequency_num: int, min_radius: float, max_radius: float) -> Tensor:
    """
    Space2Vec / Sphere2Vec schedule ``ω_s = 1 / (r_min · (r_max / r_min)^(s / (S − 1)))``, s = 0…S−1.

    The highest frequency is 1/r_min, the lowest 1/r_max; there is no 2π factor (Mai et al., ICLR 2020;
    Mai et al., ISPRS 2023). Unlike the reference sphereM+/dfs code, ``min_radius`` is always honoured.

    Returns:
        float64 tensor ``[S]`` (highest frequency first).

    """
    if frequency_num < 1:
        raise ValueError(f"frequency_num must be >= 1, got {frequency_num}")
    if not 0 < min_radius <= max_radius:
        raise ValueError(f"need 0 < min_radius <= max_radius, got {min_radius}, {max_radius}")
    if frequency_num == 1:
        return torch.tensor([1.0 / min_radius], dtype=torch.float64)
    s = torch.arange(frequency_num, dtype=torch.float64)
    log_ratio = math.log(max_radius / min_radius)
    return 1.0 / (min_radius * torch.exp(log_ratio * s / (frequency_num - 1)))


def nerf_frequencies(frequency_num: int) -> Tensor:
    """NeRF schedule ``ω_s = π · 2^s`` (Mildenhall et al., ECCV 2020), float64 ``[S]``."""
    if frequency_num < 1:
        raise ValueError(f"frequency_num must be >= 1, got {frequency_num}")
    return math.pi * 2.0 ** torch.arange(frequency_num, dtype=torch.float64)

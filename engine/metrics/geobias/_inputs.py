"""Input checks shared by the Geo-Bias functions: coordinates, marks and options (one-line ValueErrors)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from engine.geo import EARTH_RADIUS_KM, check_lonlat

Method = Literal["pygbs", "exact"]
Ties = Literal["reference", "stable"]
Density = Literal["auto"] | float
MAX_RADIUS_KM = EARTH_RADIUS_KM * math.pi / 2
"""Largest neighbourhood radius (a hemisphere), as the reference's grid construction requires."""


def as_lonlat(lonlat: torch.Tensor | np.ndarray, name: str = "lonlat") -> np.ndarray:
    """Validated ``[N, 2]`` float64 numpy copy of (lon, lat) degrees (numpy or torch input)."""
    if isinstance(lonlat, torch.Tensor):
        check_lonlat(lonlat if lonlat.is_floating_point() else lonlat.double(), name)
        arr = lonlat.detach().cpu().double().numpy()
    else:
        arr = np.asarray(lonlat, dtype=np.float64)
        check_lonlat(arr, name)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [N, 2] array of (lon, lat) degrees, got {arr.shape}")
    return arr


def as_marks(marks: torch.Tensor | np.ndarray | None, n: int) -> np.ndarray | None:
    """Validated float64 marks (finite, non-zero, one per point) or None."""
    if marks is None:
        return None
    if isinstance(marks, torch.Tensor):
        marks = marks.detach().cpu().double().numpy()
    arr = np.asarray(marks, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"marks has {arr.shape[0]} values for {n} points")
    if not np.isfinite(arr).all():
        raise ValueError(f"marks contain {int((~np.isfinite(arr)).sum())} NaN or infinite values")
    if (arr == 0).any():
        raise ValueError(
            f"marks must be non-zero ({int((arr == 0).sum())} zeros): 0 is the background value; "
            "use +1 correct / -1 wrong"
        )
    return arr


def check_options(weight_k: int, density: Density, method: str, ties: str) -> None:
    """Raise ``ValueError`` for an invalid option."""
    if int(weight_k) != weight_k or weight_k < 1:
        raise ValueError(f"weight_k must be a positive integer, got {weight_k}")
    if density != "auto" and not (
        isinstance(density, int | float) and math.isfinite(density) and density > 0
    ):
        raise ValueError(
            f"density must be 'auto' or a positive number (points per square radian), got {density!r}"
        )
    if method not in ("pygbs", "exact"):
        raise ValueError(f"method must be 'pygbs' or 'exact', got {method!r}")
    if ties not in ("reference", "stable"):
        raise ValueError(f"ties must be 'reference' or 'stable', got {ties!r}")


def check_radius(radius_km: float) -> float:
    """The radius in radians; raise unless 0 < radius_km ≤ a quarter circumference."""
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise ValueError(f"radius_km must be in (0, {MAX_RADIUS_KM:.0f}], got {radius_km}")
    return radius_km / EARTH_RADIUS_KM


def unit_vectors(latlon: np.ndarray) -> np.ndarray:
    """Unit vectors ``[N, 3]`` from (lat, lon) radians."""
    cl = np.cos(latlon[:, 0])
    return np.stack([cl * np.cos(latlon[:, 1]), cl * np.sin(latlon[:, 1]), np.sin(latlon[:, 0])], axis=-1)

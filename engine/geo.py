"""
Coordinate contract and spherical geometry shared by the whole engine.

Every public entry point takes ``lonlat`` as ``[..., 2]`` (longitude, latitude) in **degrees** and checks it
once with :func:`check_lonlat`. Helpers here work on torch tensors and numpy arrays alike where noted.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

EARTH_RADIUS_KM = 6371.0
"""Mean Earth radius used for all great-circle distances (the Geo-Bias reference uses 6371.0)."""


def check_lonlat(lonlat: Tensor | np.ndarray, name: str = "lonlat") -> None:
    """
    Validate a ``[..., 2]`` (lon, lat) array in degrees; raise ``ValueError`` naming the problem.

    Rules: last dimension is 2; no NaN/inf; lon in [-180, 180]; lat in [-90, 90]. A likely lon/lat swap
    (second column outside ±90 but first inside) is named as such.
    """
    shape = tuple(lonlat.shape)
    if len(shape) == 0 or shape[-1] != 2:
        raise ValueError(f"{name} must have shape [..., 2] (lon, lat) in degrees, got shape {shape}")
    if isinstance(lonlat, Tensor):
        if not lonlat.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got dtype {lonlat.dtype}")
        x = lonlat.detach()
        if x.numel() == 0:
            return
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            bad = int((~finite.all(dim=-1)).sum())
            raise ValueError(f"{name} contains NaN or infinite values ({bad} points)")
        lon_bad = int((x[..., 0].abs() > 180).sum())
        lat_bad = int((x[..., 1].abs() > 90).sum())
    else:
        x = np.asarray(lonlat, dtype=float)
        if x.size == 0:
            return
        finite = np.isfinite(x)
        if not finite.all():
            raise ValueError(
                f"{name} contains NaN or infinite values ({int((~finite.all(-1)).sum())} points)"
            )
        lon_bad = int((np.abs(x[..., 0]) > 180).sum())
        lat_bad = int((np.abs(x[..., 1]) > 90).sum())
    if lat_bad:
        hint = " (looks like lon and lat are swapped: expected (lon, lat) order)" if lon_bad == 0 else ""
        raise ValueError(f"{name}: {lat_bad} latitudes outside [-90, 90]{hint}")
    if lon_bad:
        raise ValueError(f"{name}: {lon_bad} longitudes outside [-180, 180]")


def wrap_lon(lon: Tensor) -> Tensor:
    """Wrap longitudes in degrees to [-180, 180)."""
    return torch.remainder(lon + 180.0, 360.0) - 180.0


def lonlat_to_xyz(lonlat: Tensor) -> Tensor:
    """Unit vectors ``[..., 3]`` = [cosφ cosλ, cosφ sinλ, sinφ] from degrees ``[..., 2]``."""
    lam, phi = torch.deg2rad(lonlat).unbind(-1)
    cos_phi = torch.cos(phi)
    return torch.stack([cos_phi * torch.cos(lam), cos_phi * torch.sin(lam), torch.sin(phi)], dim=-1)


def xyz_to_lonlat(xyz: Tensor) -> Tensor:
    """Inverse of :func:`lonlat_to_xyz` (input need not be normalised)."""
    x, y, z = xyz.unbind(-1)
    lon = torch.rad2deg(torch.atan2(y, x))
    lat = torch.rad2deg(torch.atan2(z, torch.hypot(x, y)))
    return torch.stack([lon, lat], dim=-1)


def haversine_km(a: Tensor, b: Tensor, radius_km: float = EARTH_RADIUS_KM) -> Tensor:
    """
    Great-circle distance in km between broadcastable (lon, lat) degree tensors.

    d = 2R·asin(√(sin²(Δφ/2) + cosφ₁cosφ₂ sin²(Δλ/2))).
    """
    lam1, phi1 = torch.deg2rad(a).unbind(-1)
    lam2, phi2 = torch.deg2rad(b).unbind(-1)
    h = (
        torch.sin((phi2 - phi1) / 2) ** 2
        + torch.cos(phi1) * torch.cos(phi2) * torch.sin((lam2 - lam1) / 2) ** 2
    )
    return 2 * radius_km * torch.asin(torch.sqrt(h.clamp(0.0, 1.0)))


def sample_sphere_uniform(n: int, seed: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``n`` points uniform on the sphere: lon ~ U(-180, 180), lat = asin(U(-1, 1)) (degrees), seeded."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=g, dtype=torch.float64)
    lon = u[:, 0] * 360.0 - 180.0
    lat = torch.rad2deg(torch.asin(u[:, 1] * 2.0 - 1.0))
    return torch.stack([lon, lat], dim=-1).to(dtype)


def fibonacci_lattice(n: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """
    ``n`` near-equal-area points on the sphere (Fibonacci / golden-spiral lattice), (lon, lat) degrees.

    z_i = 1 − (2i + 1)/n, λ_i = 2π i / ϕ (ϕ the golden ratio), wrapped to [-180, 180).
    """
    i = torch.arange(n, dtype=torch.float64)
    golden = (1 + math.sqrt(5)) / 2
    lat = torch.rad2deg(torch.asin(1 - (2 * i + 1) / n))
    lon = wrap_lon(torch.rad2deg(2 * math.pi * i / golden))
    return torch.stack([lon, lat], dim=-1).to(dtype)


def equal_area_grid(spacing_km: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """
    Points on an (approximately) equal-area grid with about ``spacing_km`` between neighbours.

    A Fibonacci lattice with n = 4πR² / spacing² points (each point owns one spacing² of surface).
    """
    if spacing_km <= 0:
        raise ValueError(f"spacing_km must be positive, got {spacing_km}")
    n = max(1, round(4 * math.pi * EARTH_RADIUS_KM**2 / spacing_km**2))
    return fibonacci_lattice(n, dtype=dtype)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> cuda, then mps, then cpu; anything else is passed to ``torch.device``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)

"""
One channel of a position encoding on the globe, with a human label per channel (the teaching view).

Labels follow each PE's documented output order (see the PE classes in ``engine/encoders/pe/``); PEs whose
channels have no closed-form meaning (``tile``, learned; ``rbf``, ``rff`` and GeoCLIP, random) get an
index-based label.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor, nn

from engine.encoders import ENCODERS, create_position_encoding
from engine.encoders.geoclip import GeoCLIPNet, GeoCLIPPositionEncoding
from engine.encoders.nets import NETS
from engine.encoders.pe.dfs import DFSPE
from engine.encoders.pe.direct import DirectPE
from engine.encoders.pe.nerf import NeRFPE
from engine.encoders.pe.rbf import RBFPE
from engine.encoders.pe.rff import RFFPE
from engine.encoders.pe.space2vec import Space2VecGridPE, Space2VecTheoryPE
from engine.encoders.pe.sphere2vec import SphereCPE, SphereCPlusPE, SphereMPE, SphereMPlusPE
from engine.encoders.pe.spherical_harmonics import SphericalHarmonicsPE
from engine.encoders.pe.tile import TilePE
from engine.encoders.pe.wrap import WrapPE
from engine.encoders.pe.xyz import XYZPE
from engine.geo import EARTH_RADIUS_KM


@dataclass(frozen=True)
class ChannelInfo:
    """What one output column of a PE is.

    Attributes:
        index: column index in the PE output.
        label: human label, e.g. ``"sin φ_s, s=3 (ω=21.5, wavelength ≈ 1,862 km)"``.
        term: the formula the column belongs to (e.g. ``"sin φ_s"``, ``"Y_l^m"``); columns of one term
            differ only by ``scale`` / ``order``.
        scale: the scale (frequency) index s, or the degree l for spherical harmonics; ``None`` if none.
        order: a second index (order m for spherical harmonics, j for dfs products, the direction for
            Space2Vec); ``None`` if none.
        frequency: the angular frequency ω_s of the column, when it has one.
        wavelength_km: ground wavelength 2π/ω_s of the sinusoid along its angle (at the equator for λ
            terms), when it has one; a map at cells larger than half of it aliases into noise.

    """

    index: int
    label: str
    term: str
    scale: int | None = None
    order: int | None = None
    frequency: float | None = None
    wavelength_km: float | None = None


def _scaled(
    term: str, s: int, omega: float, unit_km: float, index: int, order: int | None = None
) -> ChannelInfo:
    wavelength = 2 * math.pi / omega * unit_km
    label = f"{term}, s={s} (ω={omega:.4g}, wavelength ≈ {wavelength:,.0f} km)"
    return ChannelInfo(index, label, term, s, order, omega, wavelength)


_SPHERE_TERMS: dict[type, tuple[str, ...]] = {
    SphereCPE: ("sin φ_s", "cos φ_s cos λ_s", "cos φ_s sin λ_s"),
    SphereCPlusPE: ("sin φ_s", "cos φ_s", "sin λ_s", "cos λ_s", "cos φ_s cos λ_s", "cos φ_s sin λ_s"),
    SphereMPE: ("sin φ_s", "cos φ_s cos λ", "cos φ cos λ_s", "cos φ_s sin λ", "cos φ sin λ_s"),
    SphereMPlusPE: (
        "sin φ_s",
        "cos φ_s cos λ",
        "cos φ cos λ_s",
        "cos φ_s sin λ",
        "cos φ sin λ_s",
        "cos φ_s",
        "sin λ_s",
        "cos λ_s",
    ),
}


def _sphere(pe: nn.Module) -> list[ChannelInfo]:
    """Term-major: column t·S + s (λ, φ in radians: one radian of arc is R km)."""
    freqs = pe.freqs.tolist()
    terms = _SPHERE_TERMS[type(pe)]
    return [
        _scaled(t, s, w, EARTH_RADIUS_KM, i * len(freqs) + s)
        for i, t in enumerate(terms)
        for s, w in enumerate(freqs)
    ]


def _space2vec(pe: nn.Module) -> list[ChannelInfo]:
    """Order (sin|cos, s, j): column f·S·J + s·J + j; u_j in degrees (one degree ≈ 111 km)."""
    freqs = pe.freqs.tolist()
    names = ("lon°", "lat°") if isinstance(pe, Space2VecGridPE) else ("u₁", "u₂", "u₃")
    out = []
    for f, fn in enumerate(("sin", "cos")):
        for s, w in enumerate(freqs):
            for j, u in enumerate(names):
                idx = f * len(freqs) * len(names) + s * len(names) + j
                out.append(_scaled(f"{fn}(ω_s·{u})", s, w, EARTH_RADIUS_KM * math.pi / 180, idx, j))
    return out


def _nerf(pe: nn.Module) -> list[ChannelInfo]:
    """All sines then all cosines, each scale-major (s, k) over the unit-sphere point (x, y, z)."""
    freqs = pe.freqs.tolist()
    out = []
    for f, fn in enumerate(("sin", "cos")):
        for s, w in enumerate(freqs):
            for k, axis in enumerate("xyz"):
                idx = f * 3 * len(freqs) + 3 * s + k
                out.append(_scaled(f"{fn}(ω_s·{axis})", s, w, EARTH_RADIUS_KM, idx, k))
    return out


def _dfs(pe: nn.Module) -> list[ChannelInfo]:
    """Products ((i·S + j)·2 + a)·2 + b, then the single-axis block 4S² + 4s + t."""
    freqs = pe.freqs.tolist()
    n = len(freqs)
    out = []
    for i, wi in enumerate(freqs):
        for j in range(n):
            for a, fl in enumerate(("sin λ_i", "cos λ_i")):
                for b, fp in enumerate(("sin φ_j", "cos φ_j")):
                    idx = ((i * n + j) * 2 + a) * 2 + b
                    label = f"{fl} {fp}, i={i}, j={j} (ω_i={wi:.4g}, ω_j={freqs[j]:.4g})"
                    finest = 2 * math.pi / max(wi, freqs[j]) * EARTH_RADIUS_KM
                    out.append(ChannelInfo(idx, label, f"{fl} {fp}", i, j, wi, finest))
    for s, w in enumerate(freqs):
        for t, term in enumerate(("sin φ_s", "cos φ_s", "sin λ_s", "cos λ_s")):
            out.append(_scaled(term, s, w, EARTH_RADIUS_KM, 4 * n * n + 4 * s + t))
    return sorted(out, key=lambda c: c.index)


def _sh(pe: nn.Module) -> list[ChannelInfo]:
    """Column l² + l + m; resolution ≈ 20,000 km / l."""
    out = []
    for l in range(pe.legendre_polys):
        for m in range(-l, l + 1):
            extra = f" (≈ {20_000 / l:,.0f} km)" if l else " (constant)"
            wavelength = 2 * math.pi * EARTH_RADIUS_KM / l if l else None
            out.append(
                ChannelInfo(l * l + l + m, f"Y_l^m, l={l}, m={m}{extra}", "Y_l^m", l, m, None, wavelength)
            )
    return out


def _fixed(labels: tuple[str, ...]) -> Callable[[nn.Module], list[ChannelInfo]]:
    return lambda pe: [ChannelInfo(i, t, t) for i, t in enumerate(labels)]


def _indexed(term: str) -> Callable[[nn.Module], list[ChannelInfo]]:
    return lambda pe: [ChannelInfo(i, f"{term} {i}", term, None, i) for i in range(pe.out_dim)]


def _geoclip(pe: nn.Module) -> list[ChannelInfo]:
    """Per σ branch: ``rff_dim`` cosines then ``rff_dim`` sines of 2π b_k·v."""
    out, half = [], pe.branch_dim // 2
    for s, sigma in enumerate(pe.sigmas):
        for f, fn in enumerate(("cos", "sin")):
            for k in range(half):
                idx = s * pe.branch_dim + f * half + k
                out.append(ChannelInfo(idx, f"{fn}(2π b_k·v), σ={sigma:g}, k={k}", f"{fn}(2π b_k·v)", s, k))
    return out


_LABELLERS: dict[type, Callable[[nn.Module], list[ChannelInfo]]] = {
    **dict.fromkeys(_SPHERE_TERMS, _sphere),
    Space2VecGridPE: _space2vec,
    Space2VecTheoryPE: _space2vec,
    NeRFPE: _nerf,
    DFSPE: _dfs,
    SphericalHarmonicsPE: _sh,
    WrapPE: _fixed(("sin(π·lon/180)", "sin(π·lat/90)", "cos(π·lon/180)", "cos(π·lat/90)")),
    XYZPE: _fixed(("x = cos φ cos λ", "y = cos φ sin λ", "z = sin φ")),
    DirectPE: _fixed(("lon / 180", "lat / 90")),
    RFFPE: _indexed("random Fourier feature"),
    RBFPE: _indexed("RBF anchor"),
    TilePE: _indexed("tile embedding dim (random init)"),
    GeoCLIPPositionEncoding: _geoclip,
}


@lru_cache(maxsize=32)
def _cached_pe(name: str, items: tuple[tuple[str, Any], ...]) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # PEs with a random table (tile) are reproducible
        return create_position_encoding(name, **dict(items)).eval()


def build_pe(name: str, **pe_kwargs: Any) -> nn.Module:
    """The (cached, seeded, eval-mode) position encoding of encoder ``name``; do not modify it in place."""
    return _cached_pe(name, tuple(sorted(pe_kwargs.items())))


def pe_defaults(name: str) -> dict[str, int | float]:
    """The scalar (int / float) hyperparameters of encoder ``name``'s PE with their defaults."""
    pe_cls = ENCODERS.entry(name).meta["pe"]
    params = inspect.signature(pe_cls).parameters.values()
    return {
        p.name: p.default
        for p in params
        if isinstance(p.default, int | float) and not isinstance(p.default, bool) and p.name != "seed"
    }


def encoder_hyperparameters(name: str) -> dict[str, int | float]:
    """:func:`pe_defaults` plus the network's ``hidden_dim`` / ``num_hidden_layer`` defaults (if any)."""
    meta = ENCODERS.entry(name).meta
    net = NETS.entry(meta["net"]).builder if meta["net"] in NETS else GeoCLIPNet
    params = inspect.signature(net).parameters
    out: dict[str, int | float] = dict(pe_defaults(name))
    for key in ("hidden_dim", "num_hidden_layer"):
        if key in params and isinstance(params[key].default, int):
            out[key] = params[key].default
    return out


def pe_channel_info(name: str, **pe_kwargs: Any) -> list[ChannelInfo]:
    """A :class:`ChannelInfo` per output column of the PE of encoder ``name`` (length ``out_dim``)."""
    pe = build_pe(name, **pe_kwargs)
    labeller = _LABELLERS.get(type(pe), _indexed("channel"))
    return labeller(pe)


@torch.no_grad()
def pe_channel(name: str, channel: int, lonlat: Tensor, batch_size: int = 8192, **pe_kwargs: Any) -> Tensor:
    """Column ``channel`` of the PE of encoder ``name`` at ``lonlat`` ``[N, 2]`` -> float32 ``[N]``.

    Encoded in batches, so the memory stays bounded by ``batch_size × out_dim`` whatever N.

    Raises:
        ValueError: when ``channel`` is outside ``[0, out_dim)``.

    """
    pe = build_pe(name, **pe_kwargs)
    if not 0 <= channel < pe.out_dim:
        raise ValueError(f"channel must be in [0, {pe.out_dim}) for {name!r}, got {channel}")
    x = torch.as_tensor(lonlat, dtype=torch.float32).reshape(-1, 2)
    parts = [pe(chunk)[:, channel].float() for chunk in x.split(batch_size)]
    return torch.cat(parts) if parts else torch.zeros(0)


@dataclass(frozen=True)
class Continuity:
    """How a channel behaves where the lon/lat chart is singular.

    Attributes:
        dateline_jump: max |f(−180°, φ) − f(+180°, φ)| over φ ∈ [−80°, 80°]; 0 means no seam (the two
            longitudes are the same place).
        pole_spread: max over both poles of (max − min) of f over 13 longitudes at φ = ±90°; 0 means a single
            value at each pole (where every longitude is the same point).

    """

    dateline_jump: float
    pole_spread: float


def channel_continuity(name: str, channel: int, *, tol: float = 1e-4, **pe_kwargs: Any) -> Continuity:
    """Measure the seam at the dateline and the spread at the poles of one PE channel (:class:`Continuity`).

    Evaluated in float64; values below ``tol`` are reported as 0.
    """
    pe = build_pe(name, **pe_kwargs)
    if not 0 <= channel < pe.out_dim:
        raise ValueError(f"channel must be in [0, {pe.out_dim}) for {name!r}, got {channel}")
    lat = torch.linspace(-80.0, 80.0, 17, dtype=torch.float64)
    lon = torch.linspace(-180.0, 180.0, 13, dtype=torch.float64)
    with torch.no_grad():
        west = pe(torch.stack([torch.full_like(lat, -180.0), lat], dim=-1))[:, channel]
        east = pe(torch.stack([torch.full_like(lat, 180.0), lat], dim=-1))[:, channel]
        poles = [pe(torch.stack([lon, torch.full_like(lon, p)], dim=-1))[:, channel] for p in (90.0, -90.0)]
    jump = float((west - east).abs().max())
    spread = max(float(v.max() - v.min()) for v in poles)
    return Continuity(jump if jump > tol else 0.0, spread if spread > tol else 0.0)

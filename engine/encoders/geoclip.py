"""GeoCLIP location encoder in pure torch, optionally with the released pretrained weights.

Vivanco Cepeda, Nayak & Shah, "GeoCLIP: Clip-Inspired Alignment between Locations and Images for
Effective Worldwide Geo-localization", NeurIPS 2023::

    v      = EqualEarth(lat, lon) · SF / 180                      (2-d, |v| ≲ 1)
    PE(x)  = concat_σ [cos 2π B_σ v, sin 2π B_σ v],  B_σ ~ N(0, σ²), 256 × 2, σ ∈ {2⁰, 2⁴, 2⁸}
    Enc(x) = Σ_σ MLP_σ(PE_σ(x)),  MLP_σ: 512 → 1024 → 1024 → 1024 (ReLU) → 512

Usage::

    enc = build_geoclip(pretrained=True)      # weights from the installed `geoclip` wheel, no download
    enc(lonlat)                               # [..., 2] (lon, lat) degrees -> [..., 512]

The operations reproduce the wheel's ``geoclip.model.location_encoder`` op for op, so that float32 outputs
match it (the σ = 256 branch amplifies any rounding difference in the projection by about 10⁴).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from engine.encoders.geoclip_pretrained import (
    load_geoclip_state_dict,
    load_reference_geoclip_location_encoder,
)
from engine.encoders.pe.base import PositionEncoding

__all__ = [
    "DISPLAY_NAME",
    "NET",
    "PAPER",
    "PE_DIM",
    "GaussianFourierFeatures",
    "GeoCLIPEncoder",
    "GeoCLIPNet",
    "GeoCLIPPositionEncoding",
    "build_geoclip",
    "equal_earth_projection",
    "load_reference_geoclip_location_encoder",
]

DISPLAY_NAME = "GeoCLIP"
PAPER = (
    "Vivanco Cepeda, Nayak & Shah, GeoCLIP: Clip-Inspired Alignment between Locations and Images for "
    "Effective Worldwide Geo-localization, NeurIPS 2023"
)
PE_DIM = "3 × 512 (RFF per σ)"
NET = "one MLP per σ (512 → 1024 → 1024 → 1024 → 512), outputs summed"

DEFAULT_SIGMAS: tuple[float, ...] = (2**0, 2**4, 2**8)
# Equal Earth polynomial coefficients (Šavrič, Patterson & Jenny 2018) and GeoCLIP's scale factor.
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_SF = 66.50336
_SQRT3 = math.sqrt(3.0)
_PE_KWARGS = ("sigmas", "rff_dim")
_NET_KWARGS = ("hidden_dim", "num_hidden_layer", "out_dim")


def equal_earth_projection(lonlat: Tensor) -> Tensor:
    """Project (lon, lat) degrees with the Equal Earth projection, scaled as in GeoCLIP.

    θ = asin(√3/2 · sin φ); x = 2√3 λ cos θ / (3(9A₄θ⁸ + 7A₃θ⁶ + 3A₂θ² + A₁));
    y = A₄θ⁹ + A₃θ⁷ + A₂θ³ + A₁θ; output (x, y) · SF / 180, so x ∈ [-1, 1], y ∈ [-0.49, 0.49].
    Not continuous across the antimeridian (x jumps from 1 to -1), as in the paper.

    Args:
        lonlat: ``[..., 2]`` (lon, lat) in degrees.

    Returns:
        ``[..., 2]`` projected (x, y).

    """
    lon = torch.deg2rad(lonlat[..., 0])
    lat = torch.deg2rad(lonlat[..., 1])
    # Same operation order as the wheel, so that float32 results agree bit for bit.
    theta = torch.asin((_SQRT3 / 2) * torch.sin(lat))
    denominator = 3 * (9 * _A4 * theta**8 + 7 * _A3 * theta**6 + 3 * _A2 * theta**2 + _A1)
    x = (2 * _SQRT3 * lon * torch.cos(theta)) / denominator
    y = _A4 * theta**9 + _A3 * theta**7 + _A2 * theta**3 + _A1 * theta
    return (torch.stack((x, y), dim=-1) * _SF) / 180


class GaussianFourierFeatures(nn.Module):
    """Random Fourier features γ(v) = [cos 2πBv, sin 2πBv], B ~ N(0, σ²) (Tancik et al., NeurIPS 2020).

    Attributes:
        b: persistent buffer ``[rff_dim, in_dim]``, the random matrix B.
        out_dim: ``2 * rff_dim``.

    """

    def __init__(
        self, *, sigma: float, rff_dim: int = 256, in_dim: int = 2, generator: torch.Generator | None = None
    ):
        super().__init__()
        self.sigma = float(sigma)
        self.out_dim = 2 * rff_dim
        self.register_buffer("b", torch.randn(rff_dim, in_dim, generator=generator) * self.sigma)

    def forward(self, v: Tensor) -> Tensor:
        """Map ``[..., in_dim]`` to ``[..., 2 * rff_dim]`` (cosines first)."""
        vp = 2 * math.pi * v @ self.b.to(v.dtype).T  # [..., rff_dim]
        return torch.cat((torch.cos(vp), torch.sin(vp)), dim=-1)


class GeoCLIPPositionEncoding(PositionEncoding):
    """GeoCLIP position encoding: Equal Earth projection, then one RFF branch per σ, concatenated.

    PE(x) = concat_σ [cos 2πB_σ v, sin 2πB_σ v] with v the scaled Equal Earth projection of (lat, lon)
    (see :func:`equal_earth_projection`) and B_σ ~ N(0, σ²) of shape ``[rff_dim, 2]``.
    Branch ``i`` occupies ``[..., i * branch_dim:(i + 1) * branch_dim]`` of the output.

    Attributes:
        sigmas: the RFF scales, one branch each.
        n_branches: ``len(sigmas)``.
        branch_dim: ``2 * rff_dim`` (512 by default).
        out_dim: ``n_branches * branch_dim`` (1536 by default).
        branches: one :class:`GaussianFourierFeatures` per σ.

    """

    def __init__(self, *, sigmas: Sequence[float] = DEFAULT_SIGMAS, rff_dim: int = 256, seed: int = 0):
        """Sample B_σ for every σ in order from a ``torch.Generator`` seeded with ``seed``."""
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.sigmas = tuple(float(s) for s in sigmas)
        self.branches = nn.ModuleList(
            GaussianFourierFeatures(sigma=s, rff_dim=rff_dim, generator=generator) for s in self.sigmas
        )
        self.n_branches = len(self.sigmas)
        self.branch_dim = 2 * rff_dim
        self.out_dim = self.n_branches * self.branch_dim

    def encode(self, lonlat: Tensor) -> Tensor:
        """Encode ``[..., 2]`` (lon, lat) degrees to ``[..., n_branches * branch_dim]``."""
        v = equal_earth_projection(lonlat)  # [..., 2]
        return torch.cat([branch(v) for branch in self.branches], dim=-1)


class GeoCLIPNet(nn.Module):
    """One MLP per RFF branch, outputs summed: NN(p) = Σ_i MLP_i(p_i).

    MLP_i = Linear(branch_dim → hidden) → ReLU → (Linear(hidden → hidden) → ReLU) × (num_hidden_layer − 1)
    → Linear(hidden → out_dim); defaults 512 → 1024 → 1024 → 1024 → 512 as in GeoCLIP.

    Attributes:
        n_branches, branch_dim: layout of the input ``[..., n_branches * branch_dim]``.
        out_dim: output width.
        branches: the per-branch MLPs (``nn.Sequential``).

    """

    def __init__(
        self,
        *,
        n_branches: int = 3,
        branch_dim: int = 512,
        hidden_dim: int = 1024,
        num_hidden_layer: int = 3,
        out_dim: int = 512,
    ):
        super().__init__()
        self.n_branches = n_branches
        self.branch_dim = branch_dim
        self.out_dim = out_dim
        self.branches = nn.ModuleList(
            self._mlp(branch_dim, hidden_dim, num_hidden_layer, out_dim) for _ in range(n_branches)
        )

    @staticmethod
    def _mlp(in_dim: int, hidden_dim: int, num_hidden_layer: int, out_dim: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i in range(num_hidden_layer):
            layers += [nn.Linear(in_dim if i == 0 else hidden_dim, hidden_dim), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(hidden_dim, out_dim))

    def forward(self, pe: Tensor) -> Tensor:
        """Map ``[..., n_branches * branch_dim]`` to ``[..., out_dim]``."""
        if pe.shape[-1] != self.n_branches * self.branch_dim:
            raise ValueError(f"expected last dim {self.n_branches * self.branch_dim}, got {pe.shape[-1]}")
        chunks = pe.split(self.branch_dim, dim=-1)
        out = self.branches[0](chunks[0])
        for mlp, chunk in zip(self.branches[1:], chunks[1:], strict=True):
            out = out + mlp(chunk)
        return out


class GeoCLIPEncoder(nn.Module):
    """GeoCLIP location encoder Enc(x) = NN(PE(x)): ``[..., 2]`` (lon, lat) degrees → ``[..., 512]``.

    The output is not normalised (GeoCLIP L2-normalises it only for the image–location similarity).

    Attributes:
        pe: :class:`GeoCLIPPositionEncoding`.
        net: :class:`GeoCLIPNet`.
        out_dim: ``net.out_dim``.

    """

    def __init__(self, pe: GeoCLIPPositionEncoding, net: GeoCLIPNet):
        super().__init__()
        if (net.n_branches, net.branch_dim) != (pe.n_branches, pe.branch_dim):
            raise ValueError(
                f"net expects {net.n_branches} branches of {net.branch_dim}, "
                f"PE gives {pe.n_branches} of {pe.branch_dim}"
            )
        self.pe = pe
        self.net = net
        self.out_dim = net.out_dim

    def forward(self, lonlat: Tensor) -> Tensor:
        """Encode ``[..., 2]`` (lon, lat) degrees to ``[..., out_dim]``."""
        return self.net(self.pe(lonlat))


def build_geoclip(*, pretrained: bool = False, seed: int = 0, **kw: Any) -> GeoCLIPEncoder:
    """Build the GeoCLIP encoder, optionally with the released weights from the ``geoclip`` wheel.

    Args:
        pretrained: load ``geoclip/model/weights/location_encoder_weights.pth`` from the installed wheel
            (``pip install --no-deps geoclip==1.3.0``); never downloads. Requires the default architecture.
        seed: seed of the RFF matrices B_σ (overwritten when ``pretrained``). The MLP initialisation
            follows torch's global RNG (``torch.manual_seed``), like every ``nn.Linear``.
        **kw: ``sigmas``, ``rff_dim`` (PE); ``hidden_dim``, ``num_hidden_layer``, ``out_dim`` (net).

    Returns:
        A :class:`GeoCLIPEncoder`.

    Raises:
        ValueError: on an unknown keyword, or when ``pretrained`` is combined with architecture keywords.
        ModuleNotFoundError: when ``pretrained`` and the wheel is not installed.

    """
    unknown = sorted(set(kw) - set(_PE_KWARGS) - set(_NET_KWARGS))
    if unknown:
        raise ValueError(
            f"build_geoclip got unknown keywords {unknown}; valid: {[*_PE_KWARGS, *_NET_KWARGS]}"
        )
    if pretrained and kw:
        raise ValueError(f"pretrained=True fixes the GeoCLIP architecture; drop {sorted(kw)}")
    pe = GeoCLIPPositionEncoding(seed=seed, **{k: v for k, v in kw.items() if k in _PE_KWARGS})
    net_kw = {k: v for k, v in kw.items() if k in _NET_KWARGS}
    net = GeoCLIPNet(n_branches=pe.n_branches, branch_dim=pe.branch_dim, **net_kw)
    encoder = GeoCLIPEncoder(pe, net)
    if pretrained:
        encoder.load_state_dict(load_geoclip_state_dict(), strict=True)
    return encoder

"""Base class of every position encoding (PE): a fixed or buffer-backed map lon/lat -> features."""

from __future__ import annotations

from torch import Tensor, nn

from engine.geo import check_lonlat


class PositionEncoding(nn.Module):
    """
    A position encoding ``PE: [..., 2] (lon, lat) degrees -> [..., out_dim]``.

    Subclasses implement :meth:`encode` (pure torch, no input checks, never in place) and set ``out_dim``.
    ``forward`` is the public boundary: it validates the coordinates once with
    :func:`engine.geo.check_lonlat`, then encodes. Composite encoders call :meth:`encode` directly so the
    check runs only once.

    Class attributes:
        lon_periodic: True when the formula is 2π-periodic in longitude (lon and lon ± 360 encode alike).
        differentiable: False for piecewise-constant encodings (``tile``), whose input gradient is zero.
    """

    out_dim: int
    lon_periodic: bool = False
    differentiable: bool = True

    def encode(self, lonlat: Tensor) -> Tensor:
        """Encode validated ``lonlat`` ``[..., 2]`` (degrees) to ``[..., out_dim]``."""
        raise NotImplementedError

    def forward(self, lonlat: Tensor) -> Tensor:
        """Validate ``lonlat`` then encode it."""
        check_lonlat(lonlat)
        return self.encode(lonlat)

    def extra_repr(self) -> str:
        return f"out_dim={self.out_dim}"

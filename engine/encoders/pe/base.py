"""Base class of every position encoding (PE): a fixed or buffer-backed map lon/lat -> features."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

from engine.encoders.pe.fast_trig import cos, sincos
from engine.geo import check_lonlat


class PositionEncoding(nn.Module):
    """
    A position encoding ``PE: [..., 2] (lon, lat) degrees -> [..., out_dim]``.

    Subclasses implement :meth:`encode` (pure torch, no input checks, never in place) and set ``out_dim``.
    ``forward`` is the public boundary: it validates the coordinates once with
    :func:`engine.geo.check_lonlat`, then encodes. Composite encoders call :meth:`encode_fn` directly so
    the check runs only once.

    Sinusoids go through :meth:`sincos`; after :meth:`fuse` the encoding runs as one ``torch.compile``d
    kernel with the polynomial sin/cos of :mod:`~engine.encoders.pe.fast_trig` (float32 CPU), see
    :mod:`~engine.encoders.pe.fused`.

    Class attributes:
        lon_periodic: True when the formula is 2π-periodic in longitude (lon and lon ± 360 encode alike).
        differentiable: False for piecewise-constant encodings (``tile``), whose input gradient is zero.
        fused: True after :meth:`fuse` (per instance).
        max_angle: an upper bound on |x| of every :meth:`sincos` call (radians), set by encodings from
            their frequencies; the fused polynomial is used only where it is accurate for that range.
    """

    out_dim: int
    lon_periodic: bool = False
    differentiable: bool = True
    fused: bool = False
    max_angle: float = math.inf

    def encode(self, lonlat: Tensor) -> Tensor:
        """Encode validated ``lonlat`` ``[..., 2]`` (degrees) to ``[..., out_dim]``."""
        raise NotImplementedError

    def sincos(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(sin x, cos x)``: torch's, or the fused polynomial where ``max_angle`` allows."""
        return sincos(x, self.fused, self.max_angle)

    def cos(self, x: Tensor) -> Tensor:
        """``cos x`` alone, under the same rule as :meth:`sincos`."""
        return cos(x, self.fused, self.max_angle)

    def fuse(self, enabled: bool = True) -> PositionEncoding:
        """Run :meth:`encode` compiled (one fused kernel) from now on; returns ``self``.

        Compilation happens lazily at the first call (seconds; a C++ compiler is needed on CPU). Where
        it fails, a warning is issued once and the eager encoding is used instead.
        """
        self.fused = enabled
        self.__dict__.pop("_compiled_encode", None)
        return self

    def encode_fn(self) -> Callable[[Tensor], Tensor]:
        """The callable that encodes validated input: :meth:`encode`, or its compiled form when fused."""
        if not self.fused:
            return self.encode
        compiled = self.__dict__.get("_compiled_encode")
        if compiled is None:
            from engine.encoders.pe.fused import compile_encode

            compiled = compile_encode(self)
            self.__dict__["_compiled_encode"] = compiled
        return compiled

    def forward(self, lonlat: Tensor) -> Tensor:
        """Validate ``lonlat`` then encode it."""
        check_lonlat(lonlat)
        return self.encode_fn()(lonlat)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle / deepcopy without the compiled function (it is rebuilt lazily for the copy)."""
        state = self.__dict__.copy()
        state.pop("_compiled_encode", None)
        return state

    def extra_repr(self) -> str:
        return f"out_dim={self.out_dim}" + (", fused=True" if self.fused else "")

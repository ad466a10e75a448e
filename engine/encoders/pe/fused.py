"""
Fused position encodings: ``PositionEncoding.encode`` through ``torch.compile`` (inductor).

Eager PyTorch runs one kernel per operation, each reading and writing the whole ``[B, S]`` tensor, and its
float32 sin/cos cost ≈ 2 ns per element on CPU, so a multi-scale encoding is bound by memory passes and
library transcendentals. Compiled, the reduction + polynomial sin/cos of
:mod:`~engine.encoders.pe.fast_trig`, the products and the concatenation become one vectorised C++ loop
(Triton kernel on CUDA) that writes each output once. ``python -m engine.bench encoders`` reports the
eager and fused speeds side by side.

If compilation is impossible (no C++ compiler, unsupported platform), the first call warns once and the
PE falls back to its eager encoding for good; genuine errors of the encoding itself are re-raised.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from engine.encoders.pe.base import PositionEncoding


def compile_encode(pe: PositionEncoding) -> Callable[[Tensor], Tensor]:
    """A callable equal to ``pe.encode`` (to float tolerance) that runs compiled, with eager fallback."""
    compiled = torch.compile(pe.encode)

    def encode(lonlat: Tensor) -> Tensor:
        if not pe.fused:  # fell back earlier
            return pe.encode(lonlat)
        try:
            return compiled(lonlat)
        except Exception as exc:  # a compile failure, unless eager fails the same way
            pe.fused = False
            try:
                out = pe.encode(lonlat)
            except Exception:
                pe.fused = True
                raise
            warnings.warn(
                f"could not compile {type(pe).__name__} ({type(exc).__name__}: {str(exc)[:200]}); "
                "using the eager encoding",
                RuntimeWarning,
                stacklevel=2,
            )
            return out

    return encode


@functools.cache
def fused_available() -> bool:
    """True when ``torch.compile`` works here (tested once per process on a tiny CPU function)."""
    from engine.encoders.pe.fast_trig import poly_sincos

    try:
        s, _ = torch.compile(poly_sincos)(torch.zeros(4))
        return bool(torch.all(s == 0))
    except Exception:
        return False

"""
Joint sin/cos for fused (``torch.compile``) position encodings.

``sincos(x)`` returns ``(sin x, cos x)``. In eager mode and wherever the library functions are already
fast (float64, CUDA) it calls ``torch.sin`` / ``torch.cos``. For float32 on CPU it evaluates both from one
shared range reduction and two short polynomials, written as plain tensor arithmetic so that inductor fuses
them with the rest of the encoding into one vectorised loop (the library's SLEEF/VML sin costs ≈ 2 ns per
element on a 2-core AVX2 box; fused sphere_c spends ≈ 1.3 ns per sin/cos pair, products and stores included).

Method (Cody & Waite, "Software Manual for the Elementary Functions", 1980; coefficients of Cephes
``sinf``/``cosf``, S. L. Moshier):

* q = round(x · 2/π); r = x − q·π/2 with π/2 split into four float32 constants, three of 6 significant
  bits and the rounded rest, so every product q·Cᵢ is exact for |q| < 2¹⁸: r is accurate to ≈ 1e-7 for
  |x| ≤ :data:`POLY_MAX_ABS` = 4·10⁵ rad;
* on |r| ≤ π/4: sin r ≈ r + r³(s₁ + r²(s₂ + r² s₃)), cos r ≈ 1 − r²/2 + r⁴(c₁ + r²(c₂ + r² c₃));
* quadrant k = q mod 4 (int32 bit tests): (sin x, cos x) = (s, c), (c, −s), (−s, −c), (−c, s).

(A variant with one odd polynomial on |r| ≤ π/2 and no quadrant swap, so each output needs only its own
polynomial, measured 1.4× slower once compiled: the degree-11 polynomial outweighs the swap.)

Max abs error ≈ 1.1e-7 (torch.sin: 4e-8) for float32 |x| ≤ 4·10⁵, checked in the tests. Beyond that bound
the reduction degrades, so each encoding declares the largest angle its frequencies can produce
(``max_angle``) and keeps torch's sin/cos when it exceeds the bound (e.g. NeRF with 64 scales). Gradients
flow through the polynomial (d/dx of the reduction is 1), so it trains like sin/cos.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_S = (-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4)
_C = (4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5)
_HALF_PI = (1.5625, 0.008056640625, 0.00023651123046875, 3.1749393656355096e-06)
"""π/2 = Σ Cᵢ to 30 bits beyond float32: three 6-bit constants and the float32-rounded rest."""
POLY_MAX_ABS = 4.0e5
"""Largest |x| (rad) for which :func:`poly_sincos` is used (error ≤ ≈ 1.1e-7 up to here)."""


def poly_sincos(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(sin x, cos x)`` by Cody–Waite reduction and two polynomials (module docstring); |x| ≤ 4e5."""
    q = torch.round(x * (2.0 / math.pi))
    r = x - q * _HALF_PI[0]
    r = r - q * _HALF_PI[1]
    r = r - q * _HALF_PI[2]
    r = r - q * _HALF_PI[3]
    r2 = r * r
    s = r + r * r2 * (_S[0] + r2 * (_S[1] + r2 * _S[2]))
    c = 1.0 - 0.5 * r2 + r2 * r2 * (_C[0] + r2 * (_C[1] + r2 * _C[2]))
    k = q.to(torch.int32)
    swap = (k & 1) == 1
    sin_x = torch.where(swap, c, s)
    cos_x = torch.where(swap, s, c)
    sin_x = torch.where((k & 2) == 2, -sin_x, sin_x)
    cos_x = torch.where(((k + 1) & 2) == 2, -cos_x, cos_x)
    return sin_x, cos_x


def use_poly(x: Tensor, fused: bool, max_abs: float) -> bool:
    """Whether :func:`poly_sincos` serves ``x``: ``fused``, ``x`` float32 on CPU, ``max_abs`` (a bound on |x|
    known from the encoding's frequencies) within :data:`POLY_MAX_ABS`, and the call traced by
    ``torch.compile``.

    The tracing condition matters: run eagerly (e.g. when dynamo gives up after too many recompilations and
    falls back to the Python function) the polynomial would cost ≈ 20 separate passes, slower than
    ``torch.sin``.
    """
    return (
        fused
        and max_abs <= POLY_MAX_ABS
        and x.dtype == torch.float32
        and x.device.type == "cpu"
        and torch.compiler.is_compiling()
    )


def sincos(x: Tensor, fused: bool = False, max_abs: float = math.inf) -> tuple[Tensor, Tensor]:
    """``(sin x, cos x)``: the polynomial where :func:`use_poly` says so, torch's otherwise."""
    if use_poly(x, fused, max_abs):
        return poly_sincos(x)
    return torch.sin(x), torch.cos(x)


def cos(x: Tensor, fused: bool = False, max_abs: float = math.inf) -> Tensor:
    """``cos x`` alone (no eager ``torch.sin`` computed only to be dropped)."""
    return poly_sincos(x)[1] if use_poly(x, fused, max_abs) else torch.cos(x)

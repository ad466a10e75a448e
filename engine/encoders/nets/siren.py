"""
``siren``: sinusoidal representation network (Sitzmann et al., "Implicit Neural Representations with
Periodic Activation Functions", NeurIPS 2020), as paired with spherical harmonics by Rußwurm et al. 2024.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class SineLayer(nn.Module):
    """``sin(w0 · (W x + b))``; init U(±1/d) on the first layer, U(±√(6/d)/w0) elsewhere (d = fan-in)."""

    def __init__(self, in_dim: int, out_dim: int, w0: float, is_first: bool, dropout: float = 0.0) -> None:
        super().__init__()
        self.w0 = w0
        self.linear = nn.Linear(in_dim, out_dim)
        bound = 1.0 / in_dim if is_first else math.sqrt(6.0 / in_dim) / w0
        nn.init.uniform_(self.linear.weight, -bound, bound)
        nn.init.uniform_(self.linear.bias, -bound, bound)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(torch.sin(self.w0 * self.linear(x)))


class SIREN(nn.Module):
    """
    ``num_hidden_layer`` sine layers (w0 = ``w0_initial`` on the first, ``w0`` elsewhere), then a linear
    output layer (init U(±√(6/d)/w0)).

    Args:
        in_dim: input width.
        out_dim: embedding width.
        hidden_dim: hidden width.
        num_hidden_layer: number of sine layers (≥ 1).
        w0: frequency factor of the hidden layers after the first (Sitzmann: 1 with the scaled init).
        w0_initial: frequency factor of the first layer (Sitzmann: 30).
        dropout: dropout after each sine layer.

    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 256,
        hidden_dim: int = 256,
        num_hidden_layer: int = 2,
        w0: float = 1.0,
        w0_initial: float = 30.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if num_hidden_layer < 1:
            raise ValueError(f"siren needs num_hidden_layer >= 1, got {num_hidden_layer}")
        layers = [SineLayer(in_dim, hidden_dim, w0_initial, True, dropout)]
        layers += [SineLayer(hidden_dim, hidden_dim, w0, False, dropout) for _ in range(num_hidden_layer - 1)]
        self.layers = nn.Sequential(*layers)
        self.out = nn.Linear(hidden_dim, out_dim)
        bound = math.sqrt(6.0 / hidden_dim) / max(w0, 1e-12)
        nn.init.uniform_(self.out.weight, -bound, bound)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """``[..., in_dim] -> [..., out_dim]``."""
        return self.out(self.layers(x))

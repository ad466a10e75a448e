"""
``fcnet``: the residual fully-connected network of Mac Aodha et al. (ICCV 2019) and SINR (Cole et al.,
ICML 2023).
"""

from __future__ import annotations

from torch import Tensor, nn


class _ResBlock(nn.Module):
    """``x + ReLU(W2 · Dropout(ReLU(W1 · x)))``."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.w1 = nn.Linear(width, width)
        self.w2 = nn.Linear(width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.w2(self.dropout(self.w1(x).relu())).relu()


class FCNet(nn.Module):
    """
    Linear(in → hidden) + ReLU, then ``num_hidden_layer`` residual blocks
    ``x + ReLU(W2·Dropout(ReLU(W1·x)))``; a final Linear only if ``out_dim`` ≠ ``hidden_dim``.

    Args:
        in_dim: input width.
        out_dim: embedding width (reference 256 = hidden width).
        hidden_dim: residual width (reference 256).
        num_hidden_layer: number of residual blocks (reference 4).
        dropout: dropout inside each block (reference 0.5).

    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 256,
        hidden_dim: int = 256,
        num_hidden_layer: int = 4,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU())
        self.blocks = nn.Sequential(*[_ResBlock(hidden_dim, dropout) for _ in range(num_hidden_layer)])
        self.out = nn.Identity() if out_dim == hidden_dim else nn.Linear(hidden_dim, out_dim)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """``[..., in_dim] -> [..., out_dim]``."""
        return self.out(self.blocks(self.inp(x)))

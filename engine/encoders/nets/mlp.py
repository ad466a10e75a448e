"""``mlp``: the TorchSpatial feed-forward network (Mai et al., ICLR 2020 "MultiLayerFeedForwardNN")."""

from __future__ import annotations

import itertools

from torch import Tensor, nn

from engine.encoders.nets.activations import Activation, make_activation


class _FFNLayer(nn.Module):
    """Linear → activation → Dropout → (+input if same width) → LayerNorm."""

    def __init__(self, in_dim: int, out_dim: int, activation: str, dropout: float, skip: bool, norm: bool):
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)
        nn.init.xavier_uniform_(self.linear.weight)
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout)
        self.skip = skip and in_dim == out_dim
        self.norm = nn.LayerNorm(out_dim) if norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.dropout(self.act(self.linear(x)))
        if self.skip:
            h = h + x
        return self.norm(h)


class MLP(nn.Module):
    """
    ``num_hidden_layer`` × [Linear → act → Dropout → (+skip) → LayerNorm], then Linear to ``out_dim``.

    Reference defaults: 1 hidden layer of 512, dropout 0.5, LayerNorm and skip on, Xavier-uniform init,
    embedding 256.

    Args:
        in_dim: input width (the PE's ``out_dim``).
        out_dim: output (embedding) width.
        hidden_dim: hidden width.
        num_hidden_layer: number of hidden layers (0 = a single Linear).
        dropout: dropout probability.
        activation: nonlinearity.
        layernorm: apply LayerNorm after each hidden layer.
        skip: residual connection where widths match.

    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 256,
        hidden_dim: int = 512,
        num_hidden_layer: int = 1,
        dropout: float = 0.5,
        activation: Activation = "leakyrelu",
        layernorm: bool = True,
        skip: bool = True,
    ) -> None:
        super().__init__()
        dims = [in_dim] + [hidden_dim] * num_hidden_layer
        self.hidden = nn.Sequential(
            *[_FFNLayer(a, b, activation, dropout, skip, layernorm) for a, b in itertools.pairwise(dims)]
        )
        self.out = nn.Linear(dims[-1], out_dim)
        nn.init.xavier_uniform_(self.out.weight)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """``[..., in_dim] -> [..., out_dim]``."""
        return self.out(self.hidden(x))


class Linear(nn.Module):
    """``linear``: a single affine map (probe / ablation)."""

    def __init__(self, in_dim: int, out_dim: int = 256) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """``[..., in_dim] -> [..., out_dim]``."""
        return self.linear(x)

"""Activation choices shared by the networks."""

from __future__ import annotations

from typing import Literal

from torch import nn

Activation = Literal["relu", "leakyrelu", "sigmoid", "tanh", "gelu", "silu"]
ACTIVATIONS: tuple[str, ...] = ("relu", "leakyrelu", "sigmoid", "tanh", "gelu", "silu")


def make_activation(name: str) -> nn.Module:
    """A fresh activation module; ``leakyrelu`` uses slope 0.2 as the reference."""
    table = {
        "relu": nn.ReLU,
        "leakyrelu": lambda: nn.LeakyReLU(0.2),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return table[name]()

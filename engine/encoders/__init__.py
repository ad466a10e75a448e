"""
The location-encoder library: ``Enc(x) = NN(PE(x))``.

>>> import torch, engine
>>> enc = engine.create_encoder("sphere_c_plus", frequency_num=32, min_radius=1e-3)
>>> enc(torch.tensor([[2.35, 48.85]])).shape
torch.Size([1, 256])
"""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.encoders.base import LocationEncoder
from engine.encoders.nets import NETS
from engine.encoders.pe.base import PositionEncoding
from engine.encoders.zoo import ENCODERS


def list_encoders() -> list[str]:
    """Names of every registered encoder, in catalogue order."""
    return ENCODERS.names()


def create_encoder(name: str, *, fused: bool = False, **kwargs: Any) -> LocationEncoder:
    """
    Build the encoder ``name`` (``ValueError`` listing valid names if unknown).

    Keyword arguments are the PE's hyperparameters (``frequency_num``, ``min_radius``, ``max_radius``,
    ``legendre_polys``, ``cell_size``, ...) and the network's (``net``, ``num_hidden_layer``, ``hidden_dim``,
    ``out_dim``, ``dropout``, ``activation``, ...); unknown keywords raise ``ValueError``.
    ``fused=True`` compiles the position encoding into one kernel (:mod:`engine.encoders.pe.fused`).
    """
    enc = ENCODERS.build(name, **kwargs)
    if fused:
        _fuse(enc.pe)
    return enc


def create_position_encoding(name: str, *, fused: bool = False, **kwargs: Any) -> nn.Module:
    """Build the bare position encoding owned by encoder ``name`` (it exposes ``out_dim``).

    ``fused=True``: see :func:`create_encoder`.
    """
    pe = ENCODERS.entry(name).meta["pe"](**kwargs)
    if fused:
        _fuse(pe)
    return pe


def _fuse(pe: nn.Module) -> None:
    if not isinstance(pe, PositionEncoding):
        raise ValueError(f"{type(pe).__name__} cannot be fused (not a PositionEncoding)")
    pe.fuse()


def encoder_info(name: str) -> dict[str, str]:
    """Catalogue row of ``name``: display name, paper, PE dim formula and default network."""
    meta = ENCODERS.entry(name).meta
    return {k: str(meta[k]) for k in ("display_name", "paper", "pe_dim", "net")}


__all__ = [
    "ENCODERS",
    "NETS",
    "LocationEncoder",
    "PositionEncoding",
    "create_encoder",
    "create_position_encoding",
    "encoder_info",
    "list_encoders",
]

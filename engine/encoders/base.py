"""``LocationEncoder``: ``Enc(x) = NN(PE(x))`` with the coordinate check at the public boundary."""

from __future__ import annotations

from torch import Tensor, nn

from engine.geo import check_lonlat


class LocationEncoder(nn.Module):
    """
    Compose a position encoding and a network: ``forward(lonlat) = net(pe.encode(lonlat))``.

    The PE runs through its ``encode_fn()`` (compiled when the PE is fused, see ``PositionEncoding.fuse``).

    Args:
        pe: a position encoding with ``out_dim`` (and ``encode``; a plain module is called instead).
        net: a network whose input width is ``pe.out_dim``, exposing ``out_dim``.
        name: registry name, kept for checkpoints and tables.
        check_input: validate coordinates in ``forward`` (the training loop turns this off after
            validating its data once, to avoid a device sync per batch).

    """

    def __init__(self, pe: nn.Module, net: nn.Module, name: str = "", check_input: bool = True) -> None:
        super().__init__()
        self.pe = pe
        self.net = net
        self.name = name
        self.check_input = check_input
        self.out_dim: int = int(net.out_dim)

    def forward(self, lonlat: Tensor) -> Tensor:
        """``[..., 2]`` (lon, lat) degrees -> ``[..., out_dim]``."""
        if self.check_input:
            check_lonlat(lonlat)
        encode_fn = getattr(self.pe, "encode_fn", None)
        features = encode_fn()(lonlat) if encode_fn is not None else self.pe(lonlat)
        return self.net(features)

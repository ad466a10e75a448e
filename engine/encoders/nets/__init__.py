"""
Networks ``NN`` of ``Enc(x) = NN(PE(x))``: ``mlp``, ``fcnet``, ``siren``, ``linear``.

Each takes ``in_dim`` (the PE's ``out_dim``) first and exposes ``out_dim``.
"""

from __future__ import annotations

from torch import nn

from engine.encoders.nets.fcnet import FCNet
from engine.encoders.nets.mlp import MLP, Linear
from engine.encoders.nets.siren import SIREN
from engine.registry import Registry

NETS: Registry[nn.Module] = Registry("network")
NETS.register("mlp", paper="TorchSpatial FFN (Mai et al. 2020)")(MLP)
NETS.register("fcnet", paper="Residual FCNet (Mac Aodha et al. 2019)")(FCNet)
NETS.register("siren", paper="SIREN (Sitzmann et al. 2020)")(SIREN)
NETS.register("linear", paper="single Linear layer")(Linear)

__all__ = ["MLP", "NETS", "SIREN", "FCNet", "Linear"]

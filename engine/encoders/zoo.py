"""
The named encoders: one registered line each, ``NET(PE(x))`` with the reference defaults.

Keyword arguments are routed by name: those of the PE class go to the PE, the rest to the network
(``net=`` picks ``mlp | fcnet | siren | linear``). Unknown names raise ``ValueError`` listing the valid ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

from engine.encoders.base import LocationEncoder
from engine.encoders.geoclip import DISPLAY_NAME as GEOCLIP_DISPLAY_NAME
from engine.encoders.geoclip import PAPER as GEOCLIP_PAPER
from engine.encoders.geoclip import PE_DIM as GEOCLIP_PE_DIM
from engine.encoders.geoclip import GeoCLIPPositionEncoding, build_geoclip
from engine.encoders.nets import NETS
from engine.encoders.pe.dfs import DFSPE
from engine.encoders.pe.direct import DirectPE
from engine.encoders.pe.nerf import NeRFPE
from engine.encoders.pe.rbf import RBFPE
from engine.encoders.pe.rff import RFFPE
from engine.encoders.pe.space2vec import Space2VecGridPE, Space2VecTheoryPE
from engine.encoders.pe.sphere2vec import SphereCPE, SphereCPlusPE, SphereMPE, SphereMPlusPE
from engine.encoders.pe.spherical_harmonics import SphericalHarmonicsPE
from engine.encoders.pe.tile import TilePE
from engine.encoders.pe.wrap import WrapPE
from engine.encoders.pe.xyz import XYZPE
from engine.registry import Registry

ENCODERS: Registry[LocationEncoder] = Registry("encoder")
"""name -> builder(**kwargs) -> LocationEncoder; meta: display_name, paper, pe_dim, net, pe (PE builder)."""


def _params(fn: Callable[..., Any]) -> set[str]:
    return {p for p in inspect.signature(fn).parameters if p not in ("self", "in_dim")}


def compose(
    name: str,
    pe_builder: Callable[..., nn.Module],
    net: str,
    kwargs: dict[str, Any],
    net_defaults: dict[str, Any],
) -> LocationEncoder:
    """Build ``LocationEncoder(pe, net)`` routing ``kwargs`` between the PE and the network by name."""
    net_cls = NETS.entry(net).builder
    pe_keys, net_keys = _params(pe_builder), _params(net_cls)
    unknown = set(kwargs) - pe_keys - net_keys
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {sorted(unknown)} for encoder {name!r} with net {net!r}; "
            f"PE takes {sorted(pe_keys)}, net takes {sorted(net_keys)}"
        )
    pe = pe_builder(**{k: v for k, v in kwargs.items() if k in pe_keys})
    net_kw = {k: v for k, v in net_defaults.items() if k in net_keys}
    net_kw.update({k: v for k, v in kwargs.items() if k in net_keys and k not in pe_keys})
    return LocationEncoder(pe, net_cls(pe.out_dim, **net_kw), name=name)


def _add(
    name: str,
    pe_builder: Callable[..., nn.Module],
    *,
    display_name: str,
    paper: str,
    pe_dim: str,
    net: str = "mlp",
    **net_defaults: Any,
) -> None:
    """Register ``name`` as ``net(pe_builder(...))`` with per-encoder network defaults."""
    default_net = net

    def builder(*, net: str = default_net, **kwargs: Any) -> LocationEncoder:
        return compose(name, pe_builder, net, kwargs, net_defaults)

    builder.__doc__ = f"{display_name} — {paper}. PE dim {pe_dim}; default net {default_net}."
    ENCODERS.register(
        name, display_name=display_name, paper=paper, pe_dim=pe_dim, net=default_net, pe=pe_builder
    )(builder)


MAI20 = "Mai et al., Multi-Scale Representation Learning for Spatial Feature Distributions (ICLR 2020)"
MAI23 = "Mai et al., Sphere2Vec (ISPRS J. Photogramm. Remote Sens. 2023)"
MACAODHA19 = "Mac Aodha, Cole & Perona, Presence-Only Geographical Priors (ICCV 2019)"
RUSSWURM24 = "Rußwurm et al., Geographic Location Encoding with Spherical Harmonics and SIREN (ICLR 2024)"

_add(
    "tile", TilePE, display_name="tile", paper=MACAODHA19, pe_dim="embed_dim (table)", activation="leakyrelu"
)
_add("wrap", WrapPE, display_name="wrap", paper=MACAODHA19, pe_dim="4", net="fcnet")
_add("wrap_ffn", WrapPE, display_name="wrap + ffn", paper=MACAODHA19, pe_dim="4", activation="relu")
_add("rbf", RBFPE, display_name="rbf", paper=MAI20, pe_dim="M (num_anchors)", activation="relu")
_add(
    "rff",
    RFFPE,
    display_name="rff",
    paper="Rahimi & Recht, Random Features (NeurIPS 2007)",
    pe_dim="D (frequency_num)",
    activation="relu",
)
_add(
    "space2vec_grid",
    Space2VecGridPE,
    display_name="Space2Vec-grid",
    paper=MAI20,
    pe_dim="4S",
    activation="leakyrelu",
)
_add(
    "space2vec_theory",
    Space2VecTheoryPE,
    display_name="Space2Vec-theory",
    paper=MAI20,
    pe_dim="6S",
    activation="leakyrelu",
)
_add("xyz", XYZPE, display_name="xyz", paper=MAI23, pe_dim="3", activation="relu")
_add(
    "nerf",
    NeRFPE,
    display_name="NeRF",
    paper="Mildenhall et al., NeRF (ECCV 2020)",
    pe_dim="6S",
    activation="leakyrelu",
)
_add("sphere_c", SphereCPE, display_name="Sphere2Vec-sphereC", paper=MAI23, pe_dim="3S", activation="relu")
_add(
    "sphere_c_plus",
    SphereCPlusPE,
    display_name="Sphere2Vec-sphereC+",
    paper=MAI23,
    pe_dim="6S",
    activation="relu",
)
_add("sphere_m", SphereMPE, display_name="Sphere2Vec-sphereM", paper=MAI23, pe_dim="5S", activation="relu")
_add(
    "sphere_m_plus",
    SphereMPlusPE,
    display_name="Sphere2Vec-sphereM+",
    paper=MAI23,
    pe_dim="8S",
    activation="relu",
)
_add("dfs", DFSPE, display_name="Sphere2Vec-dfs", paper=MAI23, pe_dim="4S² + 4S", activation="leakyrelu")
_add(
    "spherical_harmonics",
    SphericalHarmonicsPE,
    display_name="SH (+MLP)",
    paper=RUSSWURM24,
    pe_dim="L²",
    activation="relu",
)
_add("siren_sh", SphericalHarmonicsPE, display_name="SH + SIREN", paper=RUSSWURM24, pe_dim="L²", net="siren")
_add(
    "direct",
    DirectPE,
    display_name="direct",
    paper="naive baseline: normalised lon/lat",
    pe_dim="2",
    activation="relu",
)


def _geoclip(
    *, pretrained: bool = False, seed: int = 0, net: str = "geoclip", **kwargs: Any
) -> LocationEncoder:
    """
    GeoCLIP location encoder (its own per-σ MLPs, or any registered ``net``); ``pretrained=True`` loads
    the released weights from the installed ``geoclip`` wheel (offline, explicit opt-in).
    """
    if net != "geoclip":
        if pretrained:
            raise ValueError("pretrained GeoCLIP weights exist only for net='geoclip'")
        return compose(
            "geoclip", GeoCLIPPositionEncoding, net, {"seed": seed, **kwargs}, {"activation": "relu"}
        )
    enc = build_geoclip(pretrained=pretrained, seed=seed, **kwargs)
    return LocationEncoder(enc.pe, enc.net, name="geoclip")


ENCODERS.register(
    "geoclip",
    display_name=GEOCLIP_DISPLAY_NAME,
    paper=GEOCLIP_PAPER,
    pe_dim=GEOCLIP_PE_DIM,
    net="geoclip (per-σ MLPs, summed)",
    pe=GeoCLIPPositionEncoding,
)(_geoclip)

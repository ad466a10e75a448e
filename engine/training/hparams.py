"""Per-(encoder, dataset) hyperparameters: the tuned LocBench table and user tables of the same shape.

The table (``locbench_hparams.csv`` beside this file, a copy of the TorchSpatial tuning results) has columns
``encoder, dataset, lr, frequency_num, min_radius, max_radius, num_hidden_layer, hidden_dim, batch_size,
activation, rbf_or_rff``. Names may be TorchSpatial display names (``Sphere2Vec-sphereC+``,
``birdsnap_ebird_meta``) or our registry names (``sphere_c_plus``, ``birdsnap_ebird``). ``rbf_or_rff`` holds
``"<num_anchors> <sigma>"`` for rbf and ``"<sigma>"`` for rff. Empty cells mean "use the default".

:func:`apply_hparams` turns one row into a :class:`~engine.training.config.TrainConfig`: ``lr`` and
``batch_size`` directly, the rest into ``encoder_kwargs`` restricted to the keys the encoder accepts
(``xyz`` takes no ``frequency_num``, ``wrap``'s fcnet no ``activation``, ...).
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

import pandas as pd

from engine.encoders import ENCODERS, NETS
from engine.training.config import TrainConfig

LOCBENCH_HPARAMS = Path(__file__).resolve().with_name("locbench_hparams.csv")
"""The tuned LocBench table shipped with the package."""

ENCODER_NAMES: dict[str, str] = {
    "NeRF": "nerf",
    "Space2Vec-grid": "space2vec_grid",
    "Space2Vec-theory": "space2vec_theory",
    "Sphere2Vec-dfs": "dfs",
    "Sphere2Vec-sphereC": "sphere_c",
    "Sphere2Vec-sphereC+": "sphere_c_plus",
    "Sphere2Vec-sphereM": "sphere_m",
    "Sphere2Vec-sphereM+": "sphere_m_plus",
    "rbf": "rbf",
    "rff": "rff",
    "tile_ffn": "tile",  # our ``tile`` is the tile embedding followed by the MLP ("tile + ffn")
    "wrap": "wrap",
    "wrap_ffn": "wrap_ffn",
    "xyz": "xyz",
    "SH (+MLP)": "spherical_harmonics",
}
"""TorchSpatial display name → encoder registry name."""

DATASET_NAMES: dict[str, str] = {
    "birdsnap_orig_meta": "birdsnap",
    "birdsnap_ebird_meta": "birdsnap_ebird",
    "nabirds_ebird_meta": "nabirds_ebird",
    "inat_2017": "inat2017",
    "inat_2018": "inat2018",
    "yfcc": "yfcc",
    "fmow": "fmow",
}
"""TorchSpatial dataset name → dataset registry name."""

KWARG_COLUMNS = (
    "frequency_num",
    "min_radius",
    "max_radius",
    "num_hidden_layer",
    "hidden_dim",
    "activation",
    "dropout",
    "legendre_polys",
)
"""Encoder-kwarg columns (``dropout`` and ``legendre_polys`` are optional: tables of ``engine tune``)."""
INT_KWARGS = ("frequency_num", "num_hidden_layer", "hidden_dim", "legendre_polys")
Hparams = dict[tuple[str, str], dict[str, Any]]
"""``{(encoder, dataset): {"lr": float, "batch_size": int, "encoder_kwargs": {...}}}`` (registry names)."""


def encoder_accepts(name: str) -> set[str]:
    """Keyword arguments encoder ``name`` accepts: its PE's and its default network's parameters."""
    meta = ENCODERS.entry(name).meta
    keys = set(inspect.signature(meta["pe"]).parameters)
    if meta["net"] in NETS:
        keys |= set(inspect.signature(NETS.entry(meta["net"]).builder).parameters)
    return keys - {"self", "in_dim", "anchors", "train_lonlat", "seed"}


def _registry_name(name: str, mapping: dict[str, str], valid: list[str], kind: str) -> str:
    name = name.strip()
    if name in mapping:
        return mapping[name]
    if name in valid:
        return name
    raise ValueError(f"unknown {kind} {name!r} in hparams table; valid: {', '.join([*mapping, *valid])}")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _encoder_kwargs(encoder: str, row: pd.Series) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for col in KWARG_COLUMNS:
        if col in row and not _missing(row[col]):
            value = row[col]
            cast = int if col in INT_KWARGS else (str if col == "activation" else float)
            kwargs[col] = cast(value)
    extra = row.get("rbf_or_rff")
    if not _missing(extra):
        parts = [float(p) for p in str(extra).split()]
        if encoder == "rbf" and len(parts) == 2:
            kwargs["num_anchors"], kwargs["sigma"] = int(parts[0]), parts[1]
        elif encoder == "rff" and len(parts) == 1:
            kwargs["sigma"] = parts[0]
        else:
            raise ValueError(f"cannot read rbf_or_rff {extra!r} for encoder {encoder!r}")
    return kwargs


def load_hparams(path: str | Path | None = None) -> Hparams:
    """Read a hyperparameter table (default: the shipped LocBench table) keyed by registry names.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: on missing ``encoder``/``dataset`` columns, unknown names or duplicate rows.
    """
    from engine.datasets import list_datasets

    path = Path(path) if path is not None else LOCBENCH_HPARAMS
    if not path.is_file():
        raise FileNotFoundError(f"hyperparameter table {path} does not exist")
    table = pd.read_csv(path, dtype={"rbf_or_rff": str, "activation": str})
    for col in ("encoder", "dataset"):
        if col not in table.columns:
            raise ValueError(f"{path}: column {col!r} is missing (columns: {', '.join(table.columns)})")
    out: Hparams = {}
    for _, row in table.iterrows():
        enc = _registry_name(str(row["encoder"]), ENCODER_NAMES, ENCODERS.names(), "encoder")
        ds = _registry_name(str(row["dataset"]), DATASET_NAMES, list_datasets(), "dataset")
        if (enc, ds) in out:
            raise ValueError(f"{path}: duplicate row for encoder {enc!r}, dataset {ds!r}")
        hp: dict[str, Any] = {"encoder_kwargs": _encoder_kwargs(enc, row)}
        if "lr" in row and not _missing(row["lr"]):
            hp["lr"] = float(row["lr"])
        if "batch_size" in row and not _missing(row["batch_size"]):
            hp["batch_size"] = int(row["batch_size"])
        out[(enc, ds)] = hp
    return out


def apply_hparams(config: TrainConfig, hparams: Hparams | None, dataset: str) -> TrainConfig:
    """``config`` with the row for ``(config.encoder, dataset)`` applied (unchanged when there is none).

    ``lr`` and ``batch_size`` replace the config's; encoder kwargs the encoder does not accept are dropped,
    and the config's own ``encoder_kwargs`` win over the table's.
    """
    hp = (hparams or {}).get((config.encoder, dataset))
    if hp is None:
        return config
    accepts = encoder_accepts(config.encoder)
    kwargs = {k: v for k, v in hp["encoder_kwargs"].items() if k in accepts}
    kwargs.update(config.encoder_kwargs)
    changes: dict[str, Any] = {"encoder_kwargs": kwargs}
    for key in ("lr", "batch_size"):
        if key in hp:
            changes[key] = hp[key]
    return config.replace(**changes)

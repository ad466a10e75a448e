"""
The one dataset abstraction: three disjoint splits of located samples plus metadata.

Every dataset (embedded, LocBench, a user table) is returned as a :class:`Dataset` with ``train``, ``val``
and ``test`` :class:`Split` objects that never overlap. Model selection uses ``val`` only; ``test`` is
touched once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

from engine.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

Task = Literal["classification", "regression"]
SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """
    One split of a dataset.

    Attributes:
        lonlat: ``[N, 2]`` float (lon, lat) degrees. Rows without a location (LocBench eval images) are NaN
            and flagged False in ``has_location``; they keep their image prior and stay in evaluation.
        target: ``[N]`` int64 class index (classification) or float32 value (regression).
        image_prior: optional ``[N, C]`` image-model class probabilities (dense or sparse COO/CSR tensor).
        image_features: optional ``[N, D]`` float image features (regression with images).
        has_location: ``[N]`` bool; all True unless some samples have no location.
        index: ``[N]`` int64 row ids into the source file(s), so splits can be saved and audited.

    """

    lonlat: Tensor
    target: Tensor
    image_prior: Tensor | None = None
    image_features: Tensor | None = None
    has_location: Tensor | None = None
    index: Tensor | None = None

    def __post_init__(self) -> None:
        n = self.lonlat.shape[0]
        if self.lonlat.ndim != 2 or self.lonlat.shape[1] != 2:
            raise ValueError(f"lonlat must be [N, 2], got {tuple(self.lonlat.shape)}")
        for name in ("target", "image_prior", "image_features", "has_location", "index"):
            value = getattr(self, name)
            if value is not None and value.shape[0] != n:
                raise ValueError(f"{name} has {value.shape[0]} rows but lonlat has {n}")
        if self.has_location is None:
            object.__setattr__(self, "has_location", ~torch.isnan(self.lonlat).any(dim=1))
        if self.index is None:
            object.__setattr__(self, "index", torch.arange(n))

    def __len__(self) -> int:
        return int(self.lonlat.shape[0])

    def subset(self, rows: Tensor) -> Split:
        """Return a new split holding ``rows`` (int64 indices or a bool mask) of this one."""

        def take(t: Tensor | None) -> Tensor | None:
            if t is None:
                return None
            if t.is_sparse or t.layout != torch.strided:
                idx = rows.nonzero().squeeze(1) if rows.dtype == torch.bool else rows
                return t.to_sparse_coo().index_select(0, idx).coalesce()
            return t[rows]

        return Split(
            lonlat=self.lonlat[rows],
            target=self.target[rows],
            image_prior=take(self.image_prior),
            image_features=take(self.image_features),
            has_location=take(self.has_location),
            index=take(self.index),
        )


@dataclass(frozen=True)
class DatasetInfo:
    """
    Descriptive metadata of a dataset.

    Attributes:
        name: registry name, e.g. ``"checkerboard"``.
        display_name: name for tables, e.g. ``"BirdSnap†"``.
        task: ``"classification"`` or ``"regression"``.
        class_names: class labels (classification) or ``None``.
        target_name: what the target is (e.g. ``"log10 population"``).
        coverage: geographic coverage in words ("global", "North America").
        citation: paper / source citation.
        licence: data licence.
        source: where the data is published (URL or package path).
        notes: split provenance and anything a user must know (e.g. "val carved from train, seed 0, 10 %").
        embedded: True when the data ships with the installation (no download).

    """

    name: str
    display_name: str
    task: Task
    class_names: tuple[str, ...] | None = None
    target_name: str = ""
    coverage: str = "global"
    citation: str = ""
    licence: str = ""
    source: str = ""
    notes: str = ""
    embedded: bool = False

    @property
    def num_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.class_names is not None else 0


@dataclass(frozen=True)
class Dataset:
    """A dataset: metadata plus disjoint ``train``/``val``/``test`` splits and how they were made."""

    info: DatasetInfo
    train: Split
    val: Split
    test: Split
    split_config: dict[str, Any] = field(default_factory=dict)

    def splits(self) -> dict[str, Split]:
        """Return the three splits by name."""
        return {"train": self.train, "val": self.val, "test": self.test}

    def __getitem__(self, split: str) -> Split:
        if split not in SPLIT_NAMES:
            raise KeyError(f"unknown split {split!r}; valid: {', '.join(SPLIT_NAMES)}")
        return getattr(self, split)

    def sizes(self) -> dict[str, int]:
        """Count the samples per split, e.g. ``{"train": 7000, "val": 1000, "test": 2000}``."""
        return {name: len(split) for name, split in self.splits().items()}

    def split_assignment(self) -> dict[str, Any]:
        """
        Describe how the splits were made, as a JSON-ready record to save with a run.

        Returns:
            ``{"dataset": name, "config": split_config, "index": {"train": [...], "val": [...],
            "test": [...]}}`` where ``index`` lists each split's row ids into the source (see
            :attr:`Split.index`). Loading the dataset again with ``config`` reproduces it exactly.

        """
        index = {name: [int(i) for i in split.index.tolist()] for name, split in self.splits().items()}
        return {"dataset": self.info.name, "config": dict(self.split_config), "index": index}

    def split_table(self) -> pd.DataFrame:
        """Return the split assignment as a table with columns ``index`` (source row id) and ``split``."""
        import pandas as pd

        frames = [
            pd.DataFrame({"index": s.index.numpy(), "split": name}) for name, s in self.splits().items()
        ]
        return pd.concat(frames, ignore_index=True)


DATASETS: Registry[Dataset] = Registry("dataset")
"""Registry of dataset builders ``builder(root=None, **kw) -> Dataset``; meta: ``task``, ``display_name``,
``embedded`` (bool), ``group`` ("embedded" | "locbench"). Optional meta read by ``python -m engine datasets``
without loading the data: ``check`` (``callable(root) -> list[str]`` of missing files, empty when present),
``files`` (required paths relative to ``root``; ``optional_files`` may list more) and ``sizes``
(``{"train": n, ...}`` as published)."""

"""Training configuration: one frozen dataclass, JSON round-trippable, saved with every run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Optimizer = Literal["adam", "adamw"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (together with the dataset and its split).

    Attributes:
        encoder: encoder registry name (``engine.list_encoders()``).
        encoder_kwargs: hyperparameters passed to ``engine.create_encoder``.
        loss: ``ce`` | ``presence_absence`` | ``an_full`` (classification) or ``mse`` (regression);
            ``None`` picks ``ce`` / ``mse`` by task.
        loss_kwargs: loss options (e.g. ``pos_weight``).
        optimizer: ``adam`` or ``adamw``.
        lr: learning rate.
        lr_decay: multiplicative decay per epoch (reference 0.98).
        weight_decay: L2 / decoupled weight decay.
        epochs: maximum number of epochs.
        batch_size: training batch size (up to 8192 is fine; data lives on the device).
        max_steps_per_epoch: cap on optimizer steps per epoch (0 = a full pass); each epoch then sees a
            fresh random subset of ``max_steps_per_epoch · batch_size`` training rows (quick benchmarks).
        balanced: cap each class at ``max_per_class`` examples per epoch (reference: 100; not YFCC).
        max_per_class: the cap of the balanced sampler.
        val_max_points: validate on at most this many validation rows, a fixed random subset (seed 0, the same
            for every model; 0 = all rows). Test metrics always use the whole test split.
        patience: early stopping after this many epochs without a better validation metric (0 = off).
        seed: seeds initialisation, shuffling and background sampling.
        device: ``auto`` (cuda, then mps, then cpu) or a torch device string.
        amp: mixed precision (bf16 autocast) on CUDA; ignored on CPU.
        use_image_features: regression: concatenate the dataset's image features when present.
        head_hidden: width of the regression heads.
        eval_batch_size: rows per evaluation batch.
        n_boot: bootstrap resamples for the test intervals.
        geobias: add the Geo-Bias Scores to the test metrics (done by :mod:`engine.training.runner`).
        geobias_max_points: score at most this many located test points, a seeded random subset (0 = all;
            a subset is sparser, so 100 km neighbourhoods hold fewer points than on the full test set).
        num_threads: CPU threads for torch (0 = leave torch's default).
    """

    encoder: str = "sphere_c_plus"
    encoder_kwargs: dict[str, Any] = field(default_factory=dict)
    loss: str | None = None
    loss_kwargs: dict[str, Any] = field(default_factory=dict)
    optimizer: Optimizer = "adam"
    lr: float = 1e-3
    lr_decay: float = 0.98
    weight_decay: float = 0.0
    epochs: int = 20
    batch_size: int = 1024
    max_steps_per_epoch: int = 0
    balanced: bool = False
    max_per_class: int = 100
    val_max_points: int = 0
    patience: int = 5
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    use_image_features: bool = True
    head_hidden: int = 256
    eval_batch_size: int = 8192
    n_boot: int = 1000
    geobias: bool = True
    geobias_max_points: int = 0
    num_threads: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if not 1 <= self.batch_size <= 1 << 20:
            raise ValueError(f"batch_size must be in [1, 2^20], got {self.batch_size}")
        if min(self.max_steps_per_epoch, self.val_max_points, self.geobias_max_points) < 0:
            raise ValueError("max_steps_per_epoch, val_max_points, geobias_max_points must be >= 0 (0 = off)")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")

    def resolved_loss(self, task: str) -> str:
        """The loss actually used for ``task``."""
        return self.loss or ("ce" if task == "classification" else "mse")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {sorted(unknown)}")
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

"""Training losses: softmax cross-entropy, presence–absence ("full") losses with background points, MSE.

Every loss has the signature ``loss(logits_pos, target, logits_bg=None, **options) -> scalar Tensor``:

- ``logits_pos`` ``[B, C]``: class logits at the B training locations (regression: predictions ``[B]`` or
  ``[B, 1]``);
- ``target`` ``[B]``: class indices (int64) or regression targets;
- ``logits_bg`` ``[B', C]``: class logits at B' background points drawn **uniformly on the sphere** with
  :func:`sample_background` (only the presence–absence losses use them).

The presence–absence losses use the elementary terms

    ℓ⁺(z) = −log(σ(z) + ε),   ℓ⁻(z) = −log(1 − σ(z) + ε) = ℓ⁺(−z)   (since 1 − σ(z) = σ(−z)),

evaluated as ``−logaddexp(logsigmoid(±z), log ε)``, which is the same number as the ε formula of the
reference code (ε = 1e-5) but without the cancellation of ``1 − σ(z)`` in floating point for large z.
``eps=0`` gives the plain ``−logsigmoid``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.geo import sample_sphere_uniform
from engine.registry import Registry

LossFn = Callable[..., Tensor]
"""``(logits_pos [B, C] | pred [B], target [B], logits_bg [B', C] | None) -> scalar``."""

LOSSES: Registry[LossFn] = Registry("loss")
"""Registry of loss functions (the builder *is* the loss; bind options with :func:`get_loss`).

Meta: ``task`` ("classification" | "regression"), ``needs_background`` (bool: the caller must pass logits at
:func:`sample_background` points).
"""

EPS = 1e-5
"""ε inside the logs of the presence–absence losses, as in Mac Aodha et al. (2019) and SINR."""


def sample_background(
    n: int, seed: int, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
) -> Tensor:
    """``n`` background points ``[n, 2]`` (lon, lat) in degrees, uniform on the sphere, seeded.

    lon ~ U(−180, 180), lat = asin(U(−1, 1)), so that the density is uniform in area (both hemispheres, all
    longitudes). The TorchSpatial reference draws every background point in lon 0…180, lat 0…90 (one
    eighth of the globe) by a bug; this is not reproduced. Use a different ``seed`` per batch (e.g. a
    base seed plus the step number).
    """
    return sample_sphere_uniform(n, seed, dtype=dtype).to(device)


def neg_log_sigmoid(z: Tensor, eps: float = EPS) -> Tensor:
    """Elementwise ``−log(σ(z) + ε)``, computed stably as ``−logaddexp(logsigmoid(z), log ε)``."""
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    log_p = F.logsigmoid(z)
    if eps == 0:
        return -log_p
    return -torch.logaddexp(log_p, torch.full_like(log_p, math.log(eps)))


def _check_classification(logits_pos: Tensor, target: Tensor, logits_bg: Tensor | None, name: str) -> None:
    if logits_pos.ndim != 2:
        raise ValueError(f"{name}: logits_pos must be [B, C], got {tuple(logits_pos.shape)}")
    if target.shape != logits_pos.shape[:1]:
        raise ValueError(f"{name}: target must be [B] = [{logits_pos.shape[0]}], got {tuple(target.shape)}")
    if logits_bg is not None and (logits_bg.ndim != 2 or logits_bg.shape[1] != logits_pos.shape[1]):
        raise ValueError(
            f"{name}: logits_bg must be [B', {logits_pos.shape[1]}], got {tuple(logits_bg.shape)}"
        )


def full_presence_loss(
    logits_pos: Tensor, target: Tensor, logits_bg: Tensor | None, pos_weight: float, eps: float = EPS
) -> Tensor:
    """Compute the "full" presence–absence loss shared by :func:`presence_absence` and :func:`an_full`.

    With ``λ = pos_weight``, z the logits at the data points x_i and z' those at background points r_i::

        L = 1/(B·C) Σ_i [ λ·ℓ⁺(z_{i,y_i}) + Σ_{c≠y_i} ℓ⁻(z_{ic}) ] + 1/(B'·C) Σ_i Σ_c ℓ⁻(z'_{ic})

    i.e. the mean over (i, c) of the data matrix plus the mean over (i, c) of the background matrix, exactly
    as ``loss_pos.mean() + loss_bg.mean()`` in the reference implementations.
    """
    _check_classification(logits_pos, target, logits_bg, "full_presence_loss")
    if logits_bg is None:
        raise ValueError("presence-absence losses need logits_bg at sample_background() points")
    rows = torch.arange(logits_pos.shape[0], device=logits_pos.device)
    loss_pos = neg_log_sigmoid(-logits_pos, eps)  # [B, C]: ℓ⁻ everywhere ("assume negative") ...
    positive = pos_weight * neg_log_sigmoid(logits_pos[rows, target], eps)  # [B]: ... but λ·ℓ⁺ at y_i
    loss_pos = loss_pos.index_put((rows, target), positive)
    loss_bg = neg_log_sigmoid(-logits_bg, eps)  # [B', C]
    return loss_pos.mean() + loss_bg.mean()


@LOSSES.register("ce", task="classification", needs_background=False)
def ce(logits_pos: Tensor, target: Tensor, logits_bg: Tensor | None = None) -> Tensor:
    """Softmax cross-entropy ``−(1/B) Σ_i log softmax(z_i)_{y_i}``; ``logits_bg`` is ignored."""
    _check_classification(logits_pos, target, None, "ce")
    return F.cross_entropy(logits_pos, target)


@LOSSES.register("presence_absence", task="classification", needs_background=True)
def presence_absence(
    logits_pos: Tensor,
    target: Tensor,
    logits_bg: Tensor | None = None,
    *,
    pos_weight: float | None = None,
    eps: float = EPS,
) -> Tensor:
    """Presence-only "full" loss of Mac Aodha et al. (ICCV 2019), as used by TorchSpatial.

    Mac Aodha, Cole & Perona, "Presence-Only Geographical Priors for Fine-Grained Image Classification".
    See :func:`full_presence_loss` for the formula; ``pos_weight`` (λ) defaults to the number of classes C.
    The classifier head is p = σ(z) per class (no softmax). ``logits_bg`` is required.
    """
    weight = float(logits_pos.shape[-1]) if pos_weight is None else float(pos_weight)
    return full_presence_loss(logits_pos, target, logits_bg, weight, eps)


@LOSSES.register("an_full", task="classification", needs_background=True)
def an_full(
    logits_pos: Tensor,
    target: Tensor,
    logits_bg: Tensor | None = None,
    *,
    pos_weight: float = 2048.0,
    eps: float = EPS,
) -> Tensor:
    """SINR "assume negative, full" loss L_AN-full of Cole et al. (ICML 2023).

    Cole et al., "Spatial Implicit Neural Representations for Global-Scale Species Mapping". Same structure
    as the Mac Aodha loss (:func:`full_presence_loss`): at each presence x_i every other class is assumed
    absent, every class is assumed absent at a uniform background point r_i, and the positive term is
    up-weighted by λ::

        L = 1/(B·C) Σ_i [ λ·ℓ⁺(z_{i,y_i}) + Σ_{c≠y_i} ℓ⁻(z_{ic}) ] + 1/(B'·C) Σ_{i,c} ℓ⁻(z'_{ic})

    with λ = ``pos_weight`` = 2048 by default (SINR's default ``pos_weight``), ε = 1e-5.
    """
    return full_presence_loss(logits_pos, target, logits_bg, float(pos_weight), eps)


@LOSSES.register("mse", task="regression", needs_background=False)
def mse(logits_pos: Tensor, target: Tensor, logits_bg: Tensor | None = None) -> Tensor:
    """Mean squared error ``(1/B) Σ_i (ŷ_i − y_i)²`` for predictions ``[B]`` or ``[B, 1]``."""
    pred = logits_pos.reshape(-1) if logits_pos.ndim == 2 and logits_pos.shape[1] == 1 else logits_pos
    if pred.shape != target.shape:
        raise ValueError(
            f"mse: predictions {tuple(logits_pos.shape)} do not match target {tuple(target.shape)}"
        )
    return F.mse_loss(pred, target.to(pred.dtype))


def get_loss(name: str, **options: float) -> LossFn:
    """Return the loss registered as ``name`` with keyword ``options`` bound (e.g. ``pos_weight=2048``)."""
    fn = LOSSES.entry(name).builder
    return functools.partial(fn, **options) if options else fn


def check_loss_task(loss: str, task: str) -> None:
    """Raise ``ValueError`` when ``loss`` is unknown or is not meant for ``task``.

    Example: ``check_loss_task("mse", "classification")`` raises, naming the classification losses.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"unknown task {task!r}; valid: classification, regression")
    loss_task = LOSSES.entry(loss).meta["task"]
    if loss_task != task:
        valid = ", ".join(e.name for e in LOSSES if e.meta["task"] == task)
        raise ValueError(f"loss {loss!r} is a {loss_task} loss but the task is {task}; valid: {valid}")

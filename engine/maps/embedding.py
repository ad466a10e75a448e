"""Whole-globe inference of an encoder (or a bare PE) and its reduction to RGB colours."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from engine.maps.h3grid import h3_cells

RgbMethod = Literal["pca", "ica"]


def module_device(module: nn.Module) -> torch.device:
    """The device of the module's first parameter or buffer (CPU for a stateless module)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


@torch.no_grad()
def embed_points(module: nn.Module, lonlat: Tensor, batch_size: int = 65_536) -> Tensor:
    """Run ``module`` on ``lonlat`` ``[N, 2]`` in batches (no grad, eval mode), output on the CPU.

    A :class:`~engine.encoders.pe.base.PositionEncoding` is called through ``encode`` (the coordinates
    are valid by construction); any other module through ``forward``. The module's train/eval mode is
    restored afterwards. Peak memory is one batch of outputs on the module's device plus the ``[N, D]``
    result on the CPU.

    Args:
        module: a location encoder, a PE, or a task model taking ``[B, 2]`` (lon, lat) degrees.
        lonlat: ``[N, 2]`` (lon, lat) degrees.
        batch_size: points per forward pass.

    Returns:
        float32 ``[N, D]`` on the CPU.

    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = module_device(module)
    encode = getattr(module, "encode", None)
    call = encode if callable(encode) else module
    was_training = module.training
    module.eval()
    try:
        parts = [
            call(chunk.to(device)).float().reshape(chunk.shape[0], -1).cpu()
            for chunk in lonlat.float().split(batch_size)
        ]
    finally:
        module.train(was_training)
    if not parts:
        return torch.zeros(0, 0)
    return torch.cat(parts)


def embed_globe(encoder_or_pe: nn.Module, res: int, batch_size: int = 65_536) -> Tensor:
    """Embed every H3 cell centre of the globe at ``res`` (rows in :func:`~engine.maps.h3_cells` order).

    Args:
        encoder_or_pe: a location encoder or a position encoding.
        res: H3 resolution (res 2: 5,882 cells; res 3: 41,162).
        batch_size: points per forward pass (bounds the memory).

    Returns:
        float32 ``[N, D]`` on the CPU.

    """
    _, lonlat = h3_cells(res)
    return embed_points(encoder_or_pe, lonlat, batch_size)


def _robust_uint8(components: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Scale each column so its ``low``–``high`` percentiles span 0–255 (clipped); constant -> 128."""
    lo = np.percentile(components, low, axis=0)
    hi = np.percentile(components, high, axis=0)
    span = hi - lo
    flat = span <= 1e-12 * np.maximum(1.0, np.abs(hi))
    scaled = (components - lo) / np.where(flat, 1.0, span)
    scaled = np.where(flat, 0.5, np.clip(scaled, 0.0, 1.0))
    return np.rint(scaled * 255.0).astype(np.uint8)


def _pca3(x: np.ndarray) -> np.ndarray:
    """Scores on the top-3 principal axes (eigh of the D×D covariance; signs fixed for determinism)."""
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / max(x.shape[0] - 1, 1)
    _, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    axes = vecs[:, ::-1][:, :3]  # [D, k]
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    return centred @ (axes * np.where(signs == 0, 1.0, signs))


def _ica3(x: np.ndarray, seed: int, max_fit: int = 20_000) -> np.ndarray:
    """FastICA to 3 components (fitted on at most ``max_fit`` seeded rows after a PCA to ≤ 32 dims)."""
    from sklearn.decomposition import PCA, FastICA

    k = min(32, x.shape[1], x.shape[0])
    reduced = PCA(n_components=k, random_state=seed).fit_transform(x) if x.shape[1] > k else x
    rng = np.random.default_rng(seed)
    fit_rows = (
        reduced if len(reduced) <= max_fit else reduced[rng.choice(len(reduced), max_fit, replace=False)]
    )
    ica = FastICA(n_components=3, random_state=seed, whiten="unit-variance", max_iter=400, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on nearly degenerate embeddings is harmless
        ica.fit(fit_rows)
    comps = ica.transform(reduced)
    signs = np.sign(np.median(comps**3, axis=0))  # make each component's skew positive (deterministic look)
    return comps * np.where(signs == 0, 1.0, signs)


def to_rgb(embeddings: Tensor | np.ndarray, method: RgbMethod = "pca", seed: int = 0) -> np.ndarray:
    """Reduce ``[N, D]`` embeddings to colours: 3 PCA or FastICA components, robustly scaled to 0–255.

    Each component is mapped so that its 1st–99th percentiles span 0–255 (values outside are clipped);
    a constant component becomes 128. With D < 3 the missing channels are constant (128). Non-finite
    embedding values are replaced by 0.

    Args:
        embeddings: ``[N, D]`` (torch or numpy).
        method: ``"pca"`` (deterministic) or ``"ica"`` (sklearn FastICA, seeded).
        seed: seed of FastICA (and of its fitting subsample).

    Returns:
        ``[N, 3]`` uint8 RGB.

    Raises:
        ValueError: for an unknown method or a non-2-D input.

    """
    x = embeddings.detach().cpu().double().numpy() if isinstance(embeddings, Tensor) else embeddings
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be [N, D], got shape {x.shape}")
    if method not in ("pca", "ica"):
        raise ValueError(f"unknown method {method!r}; valid: pca, ica")
    n, d = x.shape
    if n == 0:
        return np.zeros((0, 3), dtype=np.uint8)
    if d >= 3 and n >= 3:
        comps = _pca3(x) if method == "pca" else _ica3(x, seed)
    else:
        comps = np.zeros((n, 3))
        comps[:, : min(d, 3)] = x[:, :3] - x[:, :3].mean(axis=0)
    return _robust_uint8(comps)

"""Classification metrics: rank of the true class, top-k accuracy, MRR, and prior combination.

Scores are ``[N, C]`` (any monotone score: probabilities, logits, products of priors). Ranking is vectorised
and chunked over rows, so 24,426 images × 8,142 classes (iNat2018 val) ranks in seconds on a CPU, where the
TorchSpatial reference loops one image at a time (about 14 ms per image).

Ties are broken **by order** (class index), deterministically:

    rank_i = 1 + #{c : s_ic > s_iy} + #{c : s_ic = s_iy and c < y},   y = target_i.

So among equally scored classes the one with the lowest index ranks first. This is what a stable descending
sort gives, and it matters for sparse image priors where many classes share a score of exactly 0.

Scores may be dense, sparse COO or sparse CSR tensors; sparse rows are densified one chunk at a time.
"""

from __future__ import annotations

import torch
from torch import Tensor

DEFAULT_CHUNK_ELEMENTS = 1 << 23
"""Default number of score elements (rows × classes) processed per chunk (~32 MB of float32)."""


def _auto_rows(num_classes: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive number of rows, got {chunk_size}")
        return chunk_size
    return max(1, DEFAULT_CHUNK_ELEMENTS // max(1, num_classes))


def _row_blocks(scores: Tensor, rows: int):
    """Yield ``(start, dense_block)`` over row chunks of a dense, COO or CSR ``[N, C]`` tensor."""
    n, c = scores.shape
    if scores.layout == torch.strided:
        for start in range(0, n, rows):
            yield start, scores[start : start + rows]
        return
    if scores.layout == torch.sparse_coo:
        coo = scores.coalesce()  # row-major sorted indices
        row_idx, col_idx = coo.indices()
        values = coo.values()
        bounds = torch.searchsorted(
            row_idx, torch.arange(0, n + rows, rows, device=row_idx.device).clamp(max=n)
        )
    elif scores.layout == torch.sparse_csr:
        crow = scores.crow_indices()
        col_idx = scores.col_indices()
        values = scores.values()
        row_idx = torch.repeat_interleave(torch.arange(n, device=crow.device), crow.diff())
        bounds = crow[torch.arange(0, n + rows, rows, device=crow.device).clamp(max=n)]
    else:
        raise ValueError(f"unsupported score layout {scores.layout}; use dense, sparse COO or sparse CSR")
    for i, start in enumerate(range(0, n, rows)):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        m = min(rows, n - start)
        block = torch.zeros(m, c, dtype=values.dtype, device=values.device)
        block[row_idx[lo:hi] - start, col_idx[lo:hi]] = values[lo:hi]
        yield start, block


def true_class_rank(scores: Tensor, target: Tensor, chunk_size: int | None = None) -> Tensor:
    """1-based rank of the true class in each row of ``scores``, ties broken by class order.

    ``rank_i = 1 + #{c : s_ic > s_iy} + #{c : s_ic = s_iy, c < y_i}`` (see the module docstring).

    Args:
        scores: ``[N, C]`` scores, higher is better; dense, sparse COO or sparse CSR.
        target: ``[N]`` int64 true class indices in ``[0, C)``.
        chunk_size: rows per chunk; ``None`` picks about 8M score elements per chunk.

    Returns:
        ``[N]`` int64 ranks in ``[1, C]``.

    Raises:
        ValueError: on shape mismatch, out-of-range targets or NaN scores.

    """
    if scores.ndim != 2:
        raise ValueError(f"scores must be [N, C], got shape {tuple(scores.shape)}")
    n, c = scores.shape
    target = torch.as_tensor(target, device=scores.device).long().reshape(-1)
    if target.shape[0] != n:
        raise ValueError(f"target has {target.shape[0]} rows but scores has {n}")
    if n and (int(target.min()) < 0 or int(target.max()) >= c):
        raise ValueError(f"target must lie in [0, {c}), got range [{int(target.min())}, {int(target.max())}]")
    ranks = torch.empty(n, dtype=torch.long, device=scores.device)
    cls = torch.arange(c, device=scores.device)
    for start, block in _row_blocks(scores, _auto_rows(c, chunk_size)):
        if torch.isnan(block).any():
            raise ValueError("scores contain NaN; ranks would be undefined")
        y = target[start : start + block.shape[0], None]  # [m, 1]
        s_y = block.gather(1, y)  # [m, 1]
        # int32 reductions of bool are several times faster than the default int64 ones on CPU
        rank = 1 + (block > s_y).sum(dim=1, dtype=torch.int32)
        equal = block == s_y  # [m, C] bool
        tied = equal.sum(dim=1, dtype=torch.int32) > 1  # rows where another class ties the true one
        if tied.any():
            rank[tied] += (equal[tied] & (cls < y[tied])).sum(dim=1, dtype=torch.int32)
        ranks[start : start + block.shape[0]] = rank
    return ranks


def topk_correct(ranks: Tensor, k: int) -> Tensor:
    """Per-sample top-k correctness ``1[rank ≤ k]`` as float ``[N]`` (input of the bootstrap)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return (ranks <= k).double()


def reciprocal_rank(ranks: Tensor) -> Tensor:
    """Per-sample reciprocal rank ``1 / rank`` as float ``[N]`` (input of the bootstrap)."""
    return 1.0 / ranks.double()


def topk_accuracy(ranks: Tensor, k: int) -> float:
    """Top-k accuracy ``(1/N) Σ_i 1[rank_i ≤ k]`` from ranks of :func:`true_class_rank`."""
    if ranks.numel() == 0:
        raise ValueError("topk_accuracy of an empty set is undefined")
    return float(topk_correct(ranks, k).mean())


def mrr(ranks: Tensor) -> float:
    """Mean reciprocal rank ``(1/N) Σ_i 1/rank_i`` from ranks of :func:`true_class_rank`."""
    if ranks.numel() == 0:
        raise ValueError("mrr of an empty set is undefined")
    return float(reciprocal_rank(ranks).mean())


def classification_metrics(
    scores: Tensor, target: Tensor, ks: tuple[int, ...] = (1, 3), chunk_size: int | None = None
) -> dict[str, float]:
    """Top-k accuracies and MRR of ``scores`` against ``target``.

    Args:
        scores: ``[N, C]`` scores (dense or sparse), e.g. the output of :func:`combine_priors`.
        target: ``[N]`` true class indices.
        ks: the k of each reported top-k accuracy.
        chunk_size: rows per ranking chunk (see :func:`true_class_rank`).

    Returns:
        ``{"top1": ..., "top3": ..., "mrr": ...}`` (fractions in [0, 1], not percent).

    """
    ranks = true_class_rank(scores, target, chunk_size=chunk_size)
    out = {f"top{k}": topk_accuracy(ranks, k) for k in ks}
    out["mrr"] = mrr(ranks)
    return out


def combine_priors(image_prior: Tensor, loc_prior: Tensor, has_location: Tensor | None = None) -> Tensor:
    """Combine image and location priors: ``s_ic = P_img(c | image_i) · P_loc(c | x_i)``.

    Elementwise product without renormalisation (Mac Aodha et al., ICCV 2019; TorchSpatial). Rows without a
    location (``has_location`` False) fall back to the image prior alone: their location prior is replaced by
    ones, so they stay in the evaluation set with ``s_i = P_img(· | image_i)``.

    Args:
        image_prior: ``[N, C]`` image-model probabilities, dense or sparse (COO/CSR). A sparse image prior
            gives a sparse COO result (the structural zeros stay 0, exactly as the dense product would give).
        loc_prior: ``[N, C]`` dense location prior (rows without location may hold anything, even NaN).
        has_location: ``[N]`` bool; ``None`` means every row has a location.

    Returns:
        ``[N, C]`` combined scores, dense if ``image_prior`` is dense, sparse COO otherwise.

    """
    if tuple(image_prior.shape) != tuple(loc_prior.shape):
        raise ValueError(
            f"image_prior {tuple(image_prior.shape)} and loc_prior {tuple(loc_prior.shape)} differ"
        )
    if loc_prior.layout != torch.strided:
        raise ValueError("loc_prior must be a dense tensor")
    if has_location is not None:
        keep = has_location.to(device=loc_prior.device, dtype=torch.bool).reshape(-1, 1)
        loc_prior = torch.where(
            keep, loc_prior, torch.ones((), dtype=loc_prior.dtype, device=loc_prior.device)
        )
    if image_prior.layout == torch.strided:
        return image_prior * loc_prior
    return image_prior.to_sparse_coo().coalesce() * loc_prior  # sparse * dense stays sparse

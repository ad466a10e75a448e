"""Non-neural baselines: location priors from training-set statistics, and simple regressors.

Every baseline is fit on a training split and predicts for ``lonlat`` ``[N, 2]`` (degrees):

- classification priors return ``[N, C]`` float32 probabilities P(c | x) (rows sum to 1), to be multiplied
  with the image prior by :func:`engine.metrics.classification.combine_priors`;
- regressors return ``[N]`` float32 values.

Rows of ``lonlat`` that are NaN (images without a location) get the baseline's location-free answer (the
training class frequencies, or the training mean); the training rows without a location are ignored by the
spatial baselines. Nearest neighbours are exact great-circle neighbours: a KD-tree on unit vectors xyz, since
the chord ‖a − b‖ = 2 sin(d / 2R) is monotone in the great-circle distance d. Predictions are computed in
chunks of rows, so that only the ``[N, C]`` output itself is ever of full size.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from scipy.spatial import cKDTree
from torch import Tensor

from engine.datasets.base import Task
from engine.geo import check_lonlat, lonlat_to_xyz
from engine.registry import Registry

CHUNK_ELEMENTS = 1 << 22
"""Output elements (rows × classes) computed per chunk."""


class Baseline:
    """Common interface: ``fit(lonlat, target, num_classes=None) -> self``, ``predict(lonlat) -> Tensor``."""

    task: ClassVar[Task]

    def fit(self, lonlat: Tensor, target: Tensor, num_classes: int | None = None) -> Baseline:
        """Fit on training locations ``[N, 2]`` and targets ``[N]``; returns ``self``."""
        lonlat, target = _check_fit(lonlat, target)
        if self.task == "classification":
            target = target.long()
            c = int(target.max()) + 1 if num_classes is None else int(num_classes)
            if int(target.min()) < 0 or int(target.max()) >= c:
                raise ValueError(f"class targets must lie in [0, {c})")
            self.num_classes = c
            counts = torch.bincount(target, minlength=c).double()
            # location-free P(c); the 1e-6 pseudo-count keeps classes absent from training above zero
            self.frequency = ((counts + 1e-6) / (counts.sum() + 1e-6 * c)).float()
        else:
            self.mean = float(target.double().mean())
        located = ~torch.isnan(lonlat).any(dim=1)
        self._fit_located(lonlat[located].double(), target[located])
        self.fitted = True
        return self

    def _fit_located(self, lonlat: Tensor, target: Tensor) -> None:
        """Fit the spatial part on the training rows that have a location (default: nothing)."""

    def _predict_located(self, lonlat: Tensor) -> Tensor:
        """Predict for located query rows ``[M, 2]`` (float64); default: the location-free answer."""
        return self._fallback(lonlat.shape[0])

    def _fallback(self, n: int) -> Tensor:
        if self.task == "classification":
            return self.frequency.expand(n, -1).clone()
        return torch.full((n,), self.mean, dtype=torch.float32)

    def predict(self, lonlat: Tensor) -> Tensor:
        """Predict ``[N, C]`` class probabilities or ``[N]`` values for ``lonlat`` ``[N, 2]`` degrees."""
        if not getattr(self, "fitted", False):
            raise RuntimeError(f"{type(self).__name__} must be fit before predict")
        lonlat = torch.as_tensor(lonlat).double()
        if lonlat.ndim != 2 or lonlat.shape[1] != 2:
            raise ValueError(f"lonlat must be [N, 2] (lon, lat) degrees, got {tuple(lonlat.shape)}")
        located = ~torch.isnan(lonlat).any(dim=1)
        check_lonlat(lonlat[located], "lonlat")
        out = self._fallback(lonlat.shape[0])
        if bool(located.any()):
            out[located] = self._predict_located(lonlat[located]).to(out.dtype)
        return out


def _check_fit(lonlat: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    lonlat, target = torch.as_tensor(lonlat), torch.as_tensor(target).reshape(-1)
    if lonlat.ndim != 2 or lonlat.shape[0] != target.shape[0]:
        raise ValueError(
            f"lonlat {tuple(lonlat.shape)} must be [N, 2] with N = len(target) = {target.shape[0]}"
        )
    if target.shape[0] == 0:
        raise ValueError("cannot fit a baseline on an empty training set")
    finite = ~torch.isnan(lonlat).any(dim=1)
    check_lonlat(lonlat[finite].double(), "lonlat")
    return lonlat, target


def _chunk_rows(width: int) -> int:
    return max(1, CHUNK_ELEMENTS // max(1, width))


class _Neighbours:
    """Exact k-nearest great-circle neighbours of query points among training points."""

    def __init__(self, lonlat: Tensor) -> None:
        if lonlat.shape[0] == 0:
            raise ValueError("no training points with a location")
        self.tree = cKDTree(lonlat_to_xyz(lonlat.double()).numpy())
        self.n = lonlat.shape[0]

    def query(self, lonlat: Tensor, k: int) -> Tensor:
        """``[M, min(k, n)]`` int64 indices of the nearest training points, nearest first."""
        k = min(k, self.n)
        _, idx = self.tree.query(lonlat_to_xyz(lonlat.double()).numpy(), k=k, workers=-1)
        return torch.from_numpy(idx).long().reshape(lonlat.shape[0], k)


BASELINES: Registry[Baseline] = Registry("baseline")
"""Registry of baseline classes ``builder(**options) -> Baseline``; meta: ``task``."""


@BASELINES.register("no_prior", task="classification")
class NoPrior(Baseline):
    """Uniform location prior P(c | x) = 1/C: combined with an image prior this is the image-only model."""

    task = "classification"

    def _fallback(self, n: int) -> Tensor:
        return torch.full((n, self.num_classes), 1.0 / self.num_classes)


@BASELINES.register("train_freq", task="classification")
class TrainFrequency(Baseline):
    """Location-independent prior P(c | x) = f_c = (n_c + δ) / (N + C·δ), δ = 1e-6: the class frequencies."""

    task = "classification"


@BASELINES.register("knn", task="classification")
class KNNPrior(Baseline):
    """Class histogram of the k nearest training points by great-circle distance, additively smoothed.

    P(c | x) = (h_c(x) + ε) / (k + C·ε), h_c(x) = #{training points of class c among the k nearest to x}.
    A nearest-neighbour prior in the spirit of the baselines of Mac Aodha et al. (ICCV 2019).

    Args:
        k: number of neighbours (capped at the number of training points).
        eps: pseudo-count added to every class.

    """

    task = "classification"

    def __init__(self, k: int = 50, eps: float = 1e-2) -> None:
        if k < 1 or eps <= 0:
            raise ValueError(f"need k >= 1 and eps > 0, got k={k}, eps={eps}")
        self.k, self.eps = k, eps

    def _fit_located(self, lonlat: Tensor, target: Tensor) -> None:
        self.neighbours = _Neighbours(lonlat)
        self.labels = target

    def _predict_located(self, lonlat: Tensor) -> Tensor:
        c, rows = self.num_classes, _chunk_rows(self.num_classes)
        out = torch.empty(lonlat.shape[0], c)
        for start in range(0, lonlat.shape[0], rows):
            labels = self.labels[self.neighbours.query(lonlat[start : start + rows], self.k)]  # [m, k]
            hist = torch.zeros(labels.shape[0], c).scatter_add_(1, labels, torch.ones(labels.shape))
            out[start : start + labels.shape[0]] = (hist + self.eps) / (labels.shape[1] + c * self.eps)
        return out


@BASELINES.register("grid", task="classification")
class GridPrior(Baseline):
    """Class histogram per lon/lat cell of ``cell_deg`` degrees, smoothed toward the global frequency.

    P(c | x) = (n_{g,c} + α·f_c) / (n_g + α), g the cell containing x, n_g its training count and f_c the
    training class frequency; an empty cell (n_g = 0) falls back to P(c | x) = f_c exactly. Cells are
    equal-angle (narrower in area towards the poles). Only occupied (cell, class) pairs are stored.

    Args:
        cell_deg: cell size in degrees (both lon and lat).
        alpha: strength α of the smoothing toward the global frequency (pseudo-count, > 0).

    """

    task = "classification"

    def __init__(self, cell_deg: float = 1.0, alpha: float = 1.0) -> None:
        if not 0 < cell_deg <= 180 or alpha <= 0:
            raise ValueError(f"need 0 < cell_deg <= 180 and alpha > 0, got {cell_deg}, {alpha}")
        self.cell_deg, self.alpha = cell_deg, alpha
        self.n_lon, self.n_lat = math.ceil(360 / cell_deg), math.ceil(180 / cell_deg)

    def cell_index(self, lonlat: Tensor) -> Tensor:
        """Row-major cell id ``i_lat · n_lon + i_lon`` of each (lon, lat) point, int64 ``[N]``."""
        i_lon = torch.floor((lonlat[:, 0] + 180) / self.cell_deg).long().clamp(0, self.n_lon - 1)
        i_lat = torch.floor((lonlat[:, 1] + 90) / self.cell_deg).long().clamp(0, self.n_lat - 1)
        return i_lat * self.n_lon + i_lon

    def _fit_located(self, lonlat: Tensor, target: Tensor) -> None:
        c = self.num_classes
        if lonlat.shape[0] == 0:
            raise ValueError("no training points with a location")
        pairs, counts = torch.unique(self.cell_index(lonlat) * c + target, return_counts=True)  # sorted
        self.pair_cell, self.pair_class, self.pair_count = pairs // c, pairs % c, counts.float()
        self.cells, inverse = torch.unique(self.pair_cell, return_inverse=True)  # occupied cells, sorted
        self.cell_count = torch.zeros(self.cells.shape[0]).index_add_(0, inverse, self.pair_count)

    def _predict_located(self, lonlat: Tensor) -> Tensor:
        c, rows = self.num_classes, _chunk_rows(self.num_classes)
        out = torch.empty(lonlat.shape[0], c)
        for start in range(0, lonlat.shape[0], rows):
            cell = self.cell_index(lonlat[start : start + rows])  # [m]
            m = cell.shape[0]
            # training count n_g of each query's cell (0 for empty cells)
            pos = torch.searchsorted(self.cells, cell).clamp(max=self.cells.shape[0] - 1)
            n_g = torch.where(self.cells[pos] == cell, self.cell_count[pos], 0.0)
            block = self.alpha * self.frequency.expand(m, c).clone()
            # add n_{g,c}: each query's cell owns the contiguous pair segment [lo, hi) (pairs sorted by cell)
            lo = torch.searchsorted(self.pair_cell, cell)
            length = torch.searchsorted(self.pair_cell, cell, right=True) - lo
            rows = torch.repeat_interleave(torch.arange(m), length)
            first = torch.repeat_interleave(lo - (length.cumsum(0) - length), length)
            pair = first + torch.arange(rows.shape[0])
            block.index_put_((rows, self.pair_class[pair]), self.pair_count[pair], accumulate=True)
            out[start : start + m] = block / (n_g + self.alpha)[:, None]
        return out


@BASELINES.register("mean", task="regression")
class MeanRegressor(Baseline):
    """Constant prediction ŷ(x) = mean of the training targets (R² = 0 on the training targets)."""

    task = "regression"


@BASELINES.register("knn_regressor", task="regression")
class KNNRegressor(Baseline):
    """ŷ(x) = mean of the targets of the k nearest training points by great-circle distance.

    Args:
        k: number of neighbours (capped at the number of training points).

    """

    task = "regression"

    def __init__(self, k: int = 50) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k

    def _fit_located(self, lonlat: Tensor, target: Tensor) -> None:
        self.neighbours = _Neighbours(lonlat)
        self.values = target.double()

    def _predict_located(self, lonlat: Tensor) -> Tensor:
        rows = _chunk_rows(self.k)
        parts = [
            self.values[self.neighbours.query(lonlat[s : s + rows], self.k)].mean(dim=1)
            for s in range(0, lonlat.shape[0], rows)
        ]
        return torch.cat(parts).float()


def create_baseline(name: str, task: Task | None = None, **options: float) -> Baseline:
    """Build the baseline registered as ``name``; with ``task`` given, a mismatch raises ``ValueError``."""
    entry = BASELINES.entry(name)
    if task is not None and entry.meta["task"] != task:
        valid = ", ".join(e.name for e in BASELINES if e.meta["task"] == task)
        raise ValueError(f"baseline {name!r} is for {entry.meta['task']}, not {task}; valid: {valid}")
    return entry.builder(**options)

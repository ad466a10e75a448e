"""``rbf``: Gaussian radial basis functions around anchor points (Mai et al., ICLR 2020 baseline)."""

from __future__ import annotations

import torch
from torch import Tensor

from engine.encoders.pe.base import PositionEncoding
from engine.geo import check_lonlat, sample_sphere_uniform


class RBFPE(PositionEncoding):
    """
    ``PE(x) = [exp(−‖x° − a_m‖² / (2σ²))]_{m=1…M}`` on raw (lon°, lat°) (M dims).

    Anchors a_m are sampled (seeded, without replacement) from the training locations when
    ``train_lonlat`` is given, taken verbatim from ``anchors``, or else drawn uniformly on the sphere
    (seeded). They are a persistent buffer, so checkpoints carry them (the reference saved none).

    Args:
        anchors: explicit ``[M, 2]`` anchor (lon, lat) degrees.
        train_lonlat: training locations to sample anchors from.
        num_anchors: M when sampling.
        sigma: kernel width σ in degrees (reference kernel size 2.0).
        seed: sampling seed.

    """

    def __init__(
        self,
        anchors: Tensor | None = None,
        *,
        train_lonlat: Tensor | None = None,
        num_anchors: int = 200,
        sigma: float = 2.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        if anchors is None:
            if train_lonlat is not None:
                train_lonlat = torch.as_tensor(train_lonlat, dtype=torch.float64)
                check_lonlat(train_lonlat, "train_lonlat")
                g = torch.Generator().manual_seed(seed)
                n = train_lonlat.shape[0]
                if n == 0:
                    raise ValueError("train_lonlat is empty: cannot sample rbf anchors")
                idx = torch.randperm(n, generator=g)[: min(num_anchors, n)]
                anchors = train_lonlat[idx]
            else:
                anchors = sample_sphere_uniform(num_anchors, seed, dtype=torch.float64)
        anchors = torch.as_tensor(anchors, dtype=torch.float64)
        check_lonlat(anchors, "anchors")
        if anchors.ndim != 2 or anchors.shape[0] == 0:
            raise ValueError(f"anchors must be a non-empty [M, 2] tensor, got {tuple(anchors.shape)}")
        self.sigma = float(sigma)
        self.register_buffer("anchors", anchors)
        self.out_dim = anchors.shape[0]

    def encode(self, lonlat: Tensor) -> Tensor:
        """Gaussian kernel of the Euclidean degree distance to every anchor."""
        diff = lonlat[..., None, :] - self.anchors.to(lonlat.dtype)  # [..., M, 2]
        return torch.exp(-(diff**2).sum(-1) / (2.0 * self.sigma**2))

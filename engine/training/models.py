"""Task models around a location encoder: the classification prior and the regressors."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from engine.encoders import create_encoder


class LocationClassifier(nn.Module):
    """Location prior ``P(c | x)``: logits ``z = W · Enc(x)`` with W ``[C, d]`` and no bias (Mac Aodha 2019).

    ``prior="softmax"`` (trained with ``ce``) gives P = softmax(z); ``prior="sigmoid"`` (presence–absence
    losses) gives independent P_c = σ(z_c).
    """

    def __init__(self, encoder: nn.Module, num_classes: int, prior: str = "softmax") -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.out_dim, num_classes, bias=False)
        self.prior = prior

    def forward(self, lonlat: Tensor, features: Tensor | None = None) -> Tensor:
        """Class logits ``[..., C]``."""
        return self.head(self.encoder(lonlat))

    def probabilities(self, logits: Tensor) -> Tensor:
        """Location prior from logits."""
        return torch.softmax(logits, -1) if self.prior == "softmax" else torch.sigmoid(logits)


class LocationRegressor(nn.Module):
    """``ŷ = MLP([Enc(x), MLP_img(f)])`` (TorchSpatial / LocBench regression); without image features
    ``ŷ = MLP(Enc(x))``.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int = 0, hidden: int = 256) -> None:
        super().__init__()
        self.encoder = encoder
        self.feature_dim = feature_dim
        self.features = (
            nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
            if feature_dim
            else None
        )
        width = encoder.out_dim + (hidden if feature_dim else 0)
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, lonlat: Tensor, features: Tensor | None = None) -> Tensor:
        """Predictions ``[...]``."""
        h = self.encoder(lonlat)
        if self.features is not None:
            if features is None:
                raise ValueError(f"this regressor needs image features of width {self.feature_dim}")
            h = torch.cat([h, self.features(features)], dim=-1)
        return self.head(h).squeeze(-1)


def build_model(
    task: str,
    encoder: str,
    encoder_kwargs: dict,
    *,
    num_classes: int = 0,
    prior: str = "softmax",
    feature_dim: int = 0,
    head_hidden: int = 256,
) -> nn.Module:
    """Build the task model for ``task`` around ``create_encoder(encoder, **encoder_kwargs)``."""
    enc = create_encoder(encoder, **encoder_kwargs)
    if task == "classification":
        if num_classes < 1:
            raise ValueError("classification needs num_classes >= 1")
        return LocationClassifier(enc, num_classes, prior)
    if task == "regression":
        return LocationRegressor(enc, feature_dim, head_hidden)
    raise ValueError(f"unknown task {task!r}; valid: classification, regression")

"""``cities_country_simulated_prior``: ``cities_country`` plus a **simulated** image prior, for teaching.

No real image predictions exist offline, so this variant invents them with a seeded noisy confusion model
of the true label (documented in the dataset's notes). It exercises the LocBench code path
``score_c = P_img(c | image) · P_loc(c | x)`` without a download; numbers obtained on it say nothing about
real image models.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from engine.datasets.base import DATASETS, SPLIT_NAMES, Dataset, Split
from engine.datasets.cities_country import cities_country


def simulate_prior(
    target: np.ndarray, num_classes: int, *, accuracy: float, margin: float, noise: float, seed: int
) -> np.ndarray:
    """Seeded noisy-confusion image prior ``[N, C]`` (float32 rows summing to 1).

    For sample i with true class y_i: the simulated image model's favourite class ŷ_i is y_i with
    probability ``accuracy``, else uniform over the other C − 1 classes; logits z_ic = ``noise`` · ε_ic with
    ε ~ N(0, 1), plus ``margin`` at ŷ_i; the prior is softmax(z_i).
    """
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be in [0, 1], got {accuracy}")
    rng = np.random.default_rng(seed)
    n = len(target)
    wrong = rng.random(n) >= accuracy
    shift = rng.integers(1, num_classes, size=n)  # a different class, uniform over the other C - 1
    favourite = np.where(wrong, (target + shift) % num_classes, target)
    logits = noise * rng.standard_normal((n, num_classes), dtype=np.float32)
    logits[np.arange(n), favourite] += margin
    logits -= logits.max(axis=1, keepdims=True)
    prior = np.exp(logits)
    return prior / prior.sum(axis=1, keepdims=True)


@DATASETS.register(
    "cities_country_simulated_prior",
    task="classification",
    display_name="Country of a city (simulated image prior)",
    embedded=True,
    group="embedded",
)
def cities_country_simulated_prior(
    root: str | None = None,
    *,
    accuracy: float = 0.6,
    margin: float = 4.0,
    noise: float = 1.0,
    prior_seed: int = 0,
    **kwargs: object,
) -> Dataset:
    """``cities_country`` with a simulated ``image_prior`` on every split (see :func:`simulate_prior`).

    Args:
        root: unused.
        accuracy: probability that the simulated image model favours the true class.
        margin: logit bonus of the favoured class.
        noise: standard deviation of the Gaussian logit noise.
        prior_seed: seed of the simulation (split k uses ``prior_seed * 3 + k``).
        **kwargs: passed to :func:`~engine.datasets.cities_country.cities_country` (``seed``, ``split``, …).

    """
    base = cities_country(root, **kwargs)  # type: ignore[arg-type]
    c = base.info.num_classes
    splits: dict[str, Split] = {}
    top1: list[str] = []
    for k, name in enumerate(SPLIT_NAMES):
        split = base[name]
        prior = simulate_prior(
            split.target.numpy(), c, accuracy=accuracy, margin=margin, noise=noise, seed=prior_seed * 3 + k
        )
        splits[name] = replace(split, image_prior=torch.from_numpy(prior))
        top1.append(f"{name} {float((prior.argmax(1) == split.target.numpy()).mean()):.3f}")
    notes = (
        f"SIMULATED image prior (no real images): favourite class = true class with probability {accuracy}, "
        f"else uniform over the other {c - 1}; logits = {noise} * N(0, 1) noise + {margin} at the favourite; "
        f"prior = softmax(logits); seed {prior_seed} (split k uses {prior_seed} * 3 + k). "
        f"Measured image-only top-1: {', '.join(top1)}. " + base.info.notes
    )
    info = replace(
        base.info,
        name="cities_country_simulated_prior",
        display_name="Country of a city (simulated image prior)",
        notes=notes,
    )
    config = {
        **base.split_config,
        "simulated_prior": {"accuracy": accuracy, "margin": margin, "noise": noise, "seed": prior_seed},
    }
    return Dataset(info=info, split_config=config, **splits)

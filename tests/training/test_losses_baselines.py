"""Losses (hand computations, background sampling, registry) and the non-neural baselines."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from engine.metrics.regression import r2
from engine.training.baselines import BASELINES, GridPrior, KNNPrior, create_baseline
from engine.training.losses import (
    LOSSES,
    an_full,
    ce,
    check_loss_task,
    get_loss,
    mse,
    neg_log_sigmoid,
    presence_absence,
    sample_background,
)

# ---------------------------------------------------------------- presence–absence losses


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def hand_full_loss(pos: list[list[float]], target: list[int], bg: list[list[float]], weight: float) -> float:
    """Reference ε formula written out element by element: −log(p + ε), −log(1 − p + ε)."""
    eps = 1e-5
    data_terms = [
        weight * -math.log(sig(z) + eps) if c == y else -math.log(1 - sig(z) + eps)
        for row, y in zip(pos, target, strict=True)
        for c, z in enumerate(row)
    ]
    bg_terms = [-math.log(1 - sig(z) + eps) for row in bg for z in row]
    return sum(data_terms) / len(data_terms) + sum(bg_terms) / len(bg_terms)


POS = [[2.0, -1.0, 0.5], [-0.3, 1.5, -2.0]]
TARGET = [0, 2]
BG = [[0.1, -0.4, 3.0], [-1.2, 0.0, 0.7]]


def test_presence_absence_matches_hand_computation() -> None:
    pos, bg = torch.tensor(POS, dtype=torch.float64), torch.tensor(BG, dtype=torch.float64)
    loss = presence_absence(pos, torch.tensor(TARGET), bg)  # pos_weight defaults to C = 3
    assert float(loss) == pytest.approx(hand_full_loss(POS, TARGET, BG, weight=3.0), rel=1e-12)
    explicit = presence_absence(pos, torch.tensor(TARGET), bg, pos_weight=7.0)
    assert float(explicit) == pytest.approx(hand_full_loss(POS, TARGET, BG, weight=7.0), rel=1e-12)


def test_an_full_formula() -> None:
    pos, bg = torch.tensor(POS, dtype=torch.float64), torch.tensor(BG, dtype=torch.float64)
    target = torch.tensor(TARGET)
    assert float(an_full(pos, target, bg)) == pytest.approx(
        hand_full_loss(POS, TARGET, BG, 2048.0), rel=1e-12
    )
    # same structure as Mac Aodha's loss, only the default λ differs (2048 instead of C)
    assert float(an_full(pos, target, bg, pos_weight=3.0)) == pytest.approx(
        float(presence_absence(pos, target, bg))
    )


def test_eps_form_is_stable_and_bounded() -> None:
    z = torch.tensor([-200.0, -20.0, 0.0, 20.0, 200.0], dtype=torch.float32, requires_grad=True)
    value = neg_log_sigmoid(z)
    expected = -torch.log(torch.sigmoid(z.detach().double()) + 1e-5)
    assert torch.allclose(value.double(), expected, rtol=1e-6)
    assert float(value.detach().max()) <= -math.log(1e-5) + 1e-4  # ε caps the loss at −log ε ≈ 11.5
    value.sum().backward()
    assert torch.isfinite(z.grad).all()
    # ε = 0 is the exact BCE-with-logits form
    assert torch.allclose(neg_log_sigmoid(z.detach(), eps=0.0), -F.logsigmoid(z.detach()))


def test_presence_absence_needs_background() -> None:
    with pytest.raises(ValueError, match="logits_bg"):
        presence_absence(torch.zeros(2, 3), torch.tensor([0, 1]), None)
    with pytest.raises(ValueError, match="logits_bg"):
        an_full(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 4))


def test_background_points_are_uniform_on_the_sphere() -> None:
    pts = sample_background(200_000, seed=0)
    lon, lat = pts[:, 0].double(), pts[:, 1].double()
    assert pts.shape == (200_000, 2)
    assert float(lon.min()) < -179 and float(lon.max()) > 179  # both signs of longitude
    assert float(lat.min()) < -89 and float(lat.max()) > 89  # both hemispheres (the reference: lat 0…90)
    sin_lat = torch.sin(torch.deg2rad(lat))
    assert abs(float(sin_lat.mean())) < 0.01  # uniform area: sin(lat) ~ U(−1, 1)
    assert abs(float((lat > 0).double().mean()) - 0.5) < 0.01
    assert abs(float((lon < 0).double().mean()) - 0.5) < 0.01
    assert abs(float((lat.abs() < 30).double().mean()) - 0.5) < 0.01  # sin 30° = 1/2 of the area
    hist = torch.histc(sin_lat, bins=10, min=-1, max=1) / len(sin_lat)
    assert torch.allclose(hist, torch.full_like(hist, 0.1), atol=0.005)
    assert not torch.equal(sample_background(10, seed=1), sample_background(10, seed=2))
    assert torch.equal(sample_background(10, seed=1), sample_background(10, seed=1))


def test_ce_and_mse() -> None:
    logits, target = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 0])
    assert torch.allclose(ce(logits, target), F.cross_entropy(logits, target))
    pred, y = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.0, 3.0, 2.0])
    assert float(mse(pred, y)) == pytest.approx((0 + 1 + 4) / 3)
    with pytest.raises(ValueError):
        mse(torch.zeros(3, 2), y)


def test_loss_registry_matches_code() -> None:
    assert LOSSES.names() == ["ce", "presence_absence", "an_full", "mse"]
    assert {e.name: e.meta["task"] for e in LOSSES} == {
        "ce": "classification",
        "presence_absence": "classification",
        "an_full": "classification",
        "mse": "regression",
    }
    assert get_loss("an_full", pos_weight=3.0).keywords == {"pos_weight": 3.0}
    with pytest.raises(ValueError, match="valid"):
        get_loss("focal")


def test_check_loss_task() -> None:
    check_loss_task("presence_absence", "classification")
    check_loss_task("mse", "regression")
    with pytest.raises(ValueError, match="regression loss"):
        check_loss_task("mse", "classification")
    with pytest.raises(ValueError, match="valid: mse"):
        check_loss_task("ce", "regression")
    with pytest.raises(ValueError, match="unknown task"):
        check_loss_task("ce", "ranking")


@pytest.mark.parametrize("name", LOSSES.names())
def test_every_loss_gives_finite_gradients(name: str) -> None:
    regression = LOSSES.entry(name).meta["task"] == "regression"
    logits = torch.randn(8, 1 if regression else 5, requires_grad=True)
    target = torch.randn(8) if regression else torch.randint(0, 5, (8,))
    bg = torch.randn(8, 5) if LOSSES.entry(name).meta["needs_background"] else None
    loss = get_loss(name)(logits, target, bg)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


# ---------------------------------------------------------------- baselines


CENTRES = torch.tensor([[-100.0, 40.0], [10.0, 50.0], [140.0, -30.0], [20.0, -10.0]])


def clustered(n_per: int, seed: int, spread: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lonlat = CENTRES.repeat_interleave(n_per, 0) + spread * torch.randn(4 * n_per, 2, generator=g)
    return lonlat, torch.arange(4).repeat_interleave(n_per)


@pytest.mark.parametrize("name", BASELINES.names())
def test_baseline_contract(name: str) -> None:
    lonlat, labels = clustered(30, seed=0)
    task = BASELINES.entry(name).meta["task"]
    target = labels if task == "classification" else labels.float() * 2.0
    model = create_baseline(name, task=task)
    with pytest.raises(RuntimeError):
        model.predict(lonlat)
    model.fit(lonlat, target, num_classes=5 if task == "classification" else None)
    query = torch.cat([clustered(3, seed=1)[0], torch.full((2, 2), float("nan"))])
    out = model.predict(query)
    assert torch.isfinite(out).all()
    if task == "classification":
        assert out.shape == (14, 5)
        assert torch.allclose(out.sum(dim=1), torch.ones(14), atol=1e-5)
        assert (out > 0).all()  # smoothed: no class is impossible
    else:
        assert out.shape == (14,)
        assert torch.allclose(out[-2:], torch.full((2,), float(target.mean())))  # no location: train mean


def test_knn_recovers_clustered_labels() -> None:
    lonlat, labels = clustered(100, seed=0)
    query, truth = clustered(20, seed=1)
    prior = KNNPrior(k=10).fit(lonlat, labels).predict(query)
    assert torch.equal(prior.argmax(dim=1), truth)
    assert float(prior.max()) == pytest.approx((10 + 0.01) / (10 + 4 * 0.01))


def test_knn_uses_great_circle_distance_across_the_dateline() -> None:
    lonlat = torch.tensor([[179.5, 0.0], [179.8, 0.5], [-170.0, 0.0], [-170.5, 0.5]])
    labels = torch.tensor([0, 0, 1, 1])
    prior = KNNPrior(k=2).fit(lonlat, labels).predict(torch.tensor([[-179.9, 0.2]]))
    assert int(prior.argmax()) == 0  # 0.3° away across ±180, not the class 10° away on the same side


def test_grid_prior_formula_and_empty_cell_fallback() -> None:
    lonlat = torch.tensor([[0.5, 0.5], [0.2, 0.7], [0.9, 0.1], [50.5, 10.5]])
    labels = torch.tensor([0, 0, 1, 2])
    model = GridPrior(cell_deg=1.0, alpha=1.0).fit(lonlat, labels)
    freq = model.frequency.double()
    assert freq.tolist() == pytest.approx([0.5, 0.25, 0.25], rel=1e-5)
    out = model.predict(torch.tensor([[0.4, 0.4], [-120.0, 60.0], [180.0, 90.0]])).double()
    counts = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    assert out[0].tolist() == pytest.approx(((counts + freq) / (3 + 1)).tolist(), rel=1e-5)
    assert out[1].tolist() == pytest.approx(freq.tolist(), rel=1e-5)  # empty cell: global frequency
    assert out[2].tolist() == pytest.approx(freq.tolist(), rel=1e-5)  # lon 180 / lat 90 clamp to a valid cell


def test_regression_baselines() -> None:
    lonlat, labels = clustered(50, seed=0)
    target = labels.float() * 3.0 + 1.0
    mean_pred = create_baseline("mean").fit(lonlat, target).predict(lonlat)
    assert r2(mean_pred, target) == pytest.approx(0.0, abs=1e-6)
    knn_pred = create_baseline("knn_regressor", k=5).fit(lonlat, target).predict(lonlat)
    assert r2(knn_pred, target) == pytest.approx(1.0)  # clusters are far apart


def test_create_baseline_checks_task() -> None:
    with pytest.raises(ValueError, match="regression"):
        create_baseline("mean", task="classification")
    with pytest.raises(ValueError, match="valid"):
        create_baseline("random_forest")
    assert {e.name for e in BASELINES} == {"no_prior", "train_freq", "knn", "grid", "mean", "knn_regressor"}

"""Known-answer tests for the task metrics, prior combination and bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from engine.metrics.bootstrap import (
    bootstrap_ci,
    bootstrap_distribution,
    bootstrap_indices,
    mean_std,
    metrics_with_ci,
    percentile_interval,
)
from engine.metrics.classification import (
    classification_metrics,
    combine_priors,
    mrr,
    topk_accuracy,
    true_class_rank,
)
from engine.metrics.regression import mae, r2, r2_batched, regression_metrics, rmse


def stable_sort_rank(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Reference: position of the true class in a stable descending sort (ties by class order), 1-based."""
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return (order == target[:, None]).nonzero()[:, 1] + 1


# ---------------------------------------------------------------- ranks, top-k, MRR


def test_rank_known_answer_with_ties() -> None:
    scores = torch.tensor([[0.1, 0.5, 0.5, 0.2]] * 4)
    target = torch.tensor([0, 1, 2, 3])
    # class 1 and 2 tie at 0.5: the lower index ranks first ("ties by order")
    assert true_class_rank(scores, target).tolist() == [4, 1, 2, 3]


def test_rank_all_equal_scores_is_index_plus_one() -> None:
    scores = torch.zeros(5, 5)
    target = torch.arange(5)
    assert true_class_rank(scores, target).tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 1000])
def test_rank_matches_stable_sort_with_many_ties(chunk_size: int | None) -> None:
    g = torch.Generator().manual_seed(1)
    scores = torch.randint(0, 4, (53, 20), generator=g).float()  # heavy ties
    target = torch.randint(0, 20, (53,), generator=g)
    ranks = true_class_rank(scores, target, chunk_size=chunk_size)
    assert torch.equal(ranks, stable_sort_rank(scores, target))


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state")
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_rank_sparse_equals_dense(layout: str) -> None:
    g = torch.Generator().manual_seed(2)
    dense = torch.rand(40, 30, generator=g)
    dense = dense * (dense > 0.8)  # mostly zeros: ties at 0
    target = torch.randint(0, 30, (40,), generator=g)
    sparse = dense.to_sparse() if layout == "coo" else dense.to_sparse_csr()
    expected = true_class_rank(dense, target)
    assert torch.equal(true_class_rank(sparse, target, chunk_size=7), expected)
    assert torch.equal(expected, stable_sort_rank(dense, target))


def test_rank_rejects_nan_and_bad_targets() -> None:
    scores = torch.rand(3, 4)
    with pytest.raises(ValueError, match="target"):
        true_class_rank(scores, torch.tensor([0, 1, 4]))
    scores[1, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        true_class_rank(scores, torch.tensor([0, 1, 2]))


def test_topk_and_mrr_known_answer() -> None:
    ranks = torch.tensor([1, 2, 3, 5])
    assert topk_accuracy(ranks, 1) == pytest.approx(0.25)
    assert topk_accuracy(ranks, 3) == pytest.approx(0.75)
    assert mrr(ranks) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 5) / 4)


def test_classification_metrics_dict() -> None:
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
    target = torch.tensor([0, 0, 1])  # ranks 1, 3, 2
    out = classification_metrics(scores, target)
    assert out == pytest.approx({"top1": 1 / 3, "top3": 1.0, "mrr": (1 + 1 / 3 + 1 / 2) / 3})


def test_inat2018_sized_ranking_runs() -> None:
    n, c = 24_426, 8_142  # iNat2018 val × classes
    g = torch.Generator().manual_seed(3)
    scores = torch.rand(n, c, generator=g)
    target = torch.randint(0, c, (n,), generator=g)
    ranks = true_class_rank(scores, target)
    assert ranks.shape == (n,)
    assert int(ranks.min()) >= 1 and int(ranks.max()) <= c
    rows = torch.arange(0, n, 997)
    assert torch.equal(ranks[rows], stable_sort_rank(scores[rows], target[rows]))


# ---------------------------------------------------------------- prior combination


def test_combine_priors_product_and_fallback() -> None:
    image = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    loc = torch.tensor([[0.1, 0.9], [float("nan"), 0.0], [0.2, 0.8]])
    has_location = torch.tensor([True, False, True])
    out = combine_priors(image, loc, has_location)
    expected = torch.tensor([[0.06, 0.36], [0.3, 0.7], [0.1, 0.4]])
    assert torch.allclose(out, expected)


def test_combine_priors_sparse_image_prior_matches_dense() -> None:
    g = torch.Generator().manual_seed(4)
    image = torch.rand(20, 10, generator=g)
    image = image * (image > 0.5)
    loc = torch.rand(20, 10, generator=g)
    has_location = torch.rand(20, generator=g) > 0.3
    dense = combine_priors(image, loc, has_location)
    sparse = combine_priors(image.to_sparse(), loc, has_location)
    assert sparse.layout == torch.sparse_coo
    assert torch.allclose(sparse.to_dense(), dense)
    target = torch.randint(0, 10, (20,), generator=g)
    assert torch.equal(true_class_rank(sparse, target), true_class_rank(dense, target))


# ---------------------------------------------------------------- regression


def test_regression_known_answers() -> None:
    pred = torch.tensor([1.0, 2.0, 3.0])
    target = torch.tensor([2.0, 2.0, 5.0])  # errors 1, 0, 2; mean 3, SS_tot 6, SS_res 5
    assert mae(pred, target) == pytest.approx(1.0)
    assert rmse(pred, target) == pytest.approx(math.sqrt(5 / 3))
    assert r2(pred, target) == pytest.approx(1 / 6)
    assert r2(pred, target) == pytest.approx(r2_score(target.numpy(), pred.numpy()))
    assert regression_metrics(pred[:, None], target) == pytest.approx(
        {"r2": 1 / 6, "mae": 1.0, "rmse": math.sqrt(5 / 3)}
    )


def test_r2_perfect_and_mean_predictor() -> None:
    target = torch.randn(100, generator=torch.Generator().manual_seed(5))
    assert r2(target, target) == pytest.approx(1.0)
    assert mae(target, target) == 0.0 and rmse(target, target) == 0.0
    assert r2(torch.full_like(target, float(target.double().mean())), target) == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(r2(target, torch.ones(100)))  # constant target: undefined


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_ci_contains_estimate_and_shrinks_with_n() -> None:
    g = torch.Generator().manual_seed(6)
    widths = []
    for n in (100, 10_000):
        values = (torch.rand(n, generator=g) < 0.7).double()
        low, high = bootstrap_ci(values, n_boot=500, seed=0)
        assert low <= float(values.mean()) <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 5  # width ∝ 1/√N: about 10× narrower


def test_bootstrap_is_seeded() -> None:
    values = torch.rand(300, generator=torch.Generator().manual_seed(7))
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


def test_bootstrap_statistic_form_equals_value_form() -> None:
    values = torch.rand(257, generator=torch.Generator().manual_seed(8)).double()
    by_index = bootstrap_ci(lambda idx: values[idx].mean(dim=1), 257, n_boot=200, seed=1)
    assert by_index == pytest.approx(bootstrap_ci(values, n_boot=200, seed=1), rel=1e-12)
    chunks = list(bootstrap_indices(257, 200, seed=1))
    assert sum(c.shape[0] for c in chunks) == 200 and all(c.shape[1] == 257 for c in chunks)


def test_percentile_interval_is_the_quantiles() -> None:
    reps = torch.arange(101, dtype=torch.float64)
    assert percentile_interval(reps, 0.1).tolist() == pytest.approx([5.0, 95.0])
    with pytest.raises(ValueError):
        percentile_interval(reps, 1.5)


def test_metrics_with_ci_classification() -> None:
    g = torch.Generator().manual_seed(9)
    scores = torch.rand(500, 6, generator=g)
    target = torch.randint(0, 6, (500,), generator=g)
    out = metrics_with_ci("classification", target, scores=scores, n_boot=300)
    assert set(out) == {"top1", "top3", "mrr"}
    point = classification_metrics(scores, target)
    for name, entry in out.items():
        assert entry["value"] == pytest.approx(point[name])
        assert entry["low"] <= entry["value"] <= entry["high"]


def test_metrics_with_ci_regression_matches_pair_bootstrap() -> None:
    g = torch.Generator().manual_seed(10)
    target = torch.randn(400, generator=g, dtype=torch.float64)
    pred = target + 0.5 * torch.randn(400, generator=g, dtype=torch.float64)
    out = metrics_with_ci("regression", target, pred=pred, n_boot=300, seed=2)
    assert set(out) == {"r2", "mae", "rmse"}
    assert out["r2"]["value"] == pytest.approx(r2(pred, target))
    # the closed-form weighted sums equal scoring every resampled (pred, target) pair explicitly
    low, high = bootstrap_ci(lambda idx: r2_batched(pred[idx], target[idx]), 400, n_boot=300, seed=2)
    assert (out["r2"]["low"], out["r2"]["high"]) == pytest.approx((low, high), rel=1e-9)
    reps = bootstrap_distribution(
        lambda idx: (target[idx] - pred[idx]).abs().mean(1), 400, n_boot=300, seed=2
    )
    assert out["mae"]["low"] == pytest.approx(float(np.quantile(reps.numpy(), 0.025)), rel=1e-9)
    for entry in out.values():
        assert entry["low"] <= entry["value"] <= entry["high"]


def test_metrics_with_ci_rejects_bad_task() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        metrics_with_ci("segmentation", torch.zeros(3), pred=torch.zeros(3))  # type: ignore[arg-type]


def test_mean_std() -> None:
    mean, std = mean_std([0.70, 0.72, 0.74])
    assert mean == pytest.approx(0.72)
    assert std == pytest.approx(0.02)
    assert math.isnan(mean_std([0.5])[1])

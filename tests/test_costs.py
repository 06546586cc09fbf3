"""The canonical nansum cost and the stable cost from logits."""

import math

import numpy as np
import pytest

from course_utils import (
    compute_cost,
    compute_cost_from_logits,
    forward_propagation,
    initialize_parameters,
)


def _cross_entropy_by_hand(logits, labels):
    """A second implementation on Python floats, one example at a time."""
    total = 0.0
    for z, y in zip(logits, labels, strict=True):
        p = 1.0 / (1.0 + math.exp(-z))
        total += -(y * math.log(p) + (1 - y) * math.log(1 - p))
    return total / len(logits)


def test_both_costs_agree_with_a_hand_computation():
    rng = np.random.RandomState(0)
    Z = rng.randn(1, 50) * 3
    Y = (rng.rand(1, 50) > 0.5).astype(int)
    expected = _cross_entropy_by_hand(Z.ravel(), Y.ravel())
    assert compute_cost(1 / (1 + np.exp(-Z)), Y) == pytest.approx(expected, rel=1e-12)
    assert compute_cost_from_logits(Z, Y) == pytest.approx(expected, rel=1e-12)


def test_probability_one_half_costs_ln2():
    assert compute_cost(np.full((1, 4), 0.5), np.array([[0, 1, 1, 0]])) == \
        pytest.approx(math.log(2), rel=1e-15)


def test_stable_cost_for_huge_logits_is_the_margin():
    # For |z| >> 1 the loss of a wrong prediction is |z| (log1p(exp(-|z|)) ~ 0).
    Z = np.array([[800.0, -900.0]])
    Y = np.array([[0, 1]])
    assert compute_cost_from_logits(Z, Y) == pytest.approx((800 + 900) / 2)


def test_large_random_iteration_zero(dataset):
    X_train, Y_train, _, _ = dataset
    params = initialize_parameters("random", [2, 10, 5, 1], seed=3)
    AL, caches = forward_propagation(X_train, params)
    # Every one of the 300 outputs has rounded to exactly 1.0 ...
    assert np.all(AL == 1.0)
    # ... so log(1 - AL) is -inf for the 150 examples labelled 0: the cost is inf.
    assert compute_cost(AL, Y_train) == math.inf
    # The reference value for the stable cost at iteration 0.
    assert compute_cost_from_logits(caches[-1].Z, Y_train) == pytest.approx(
        1773.59, abs=0.01)


def test_final_cost_is_the_cost_after_the_last_update(dataset):
    # The cost recorded at iteration n is taken before update n; so the final
    # cost of an n-iteration run is what an (n + 1)-iteration run records at n.
    from course_utils import train

    X_train, Y_train, _, _ = dataset
    short = train(X_train, Y_train, initialization="he", num_iterations=3,
                  record_every=1)
    longer = train(X_train, Y_train, initialization="he", num_iterations=4,
                   record_every=1)
    assert [iteration for iteration, _ in short.costs] == [0, 1, 2]
    assert short.final_cost == longer.costs[3][1]
    assert short.final_cost != short.costs[-1][1]

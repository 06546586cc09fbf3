"""Initializer statistics against their defining variance formulas."""

import numpy as np
import pytest

from course_utils import available_initializers, initialize_parameters
from course_utils.initializers import register_initializer

N_IN, N_OUT = 800, 1200


@pytest.mark.parametrize(("name", "expected_variance"), [
    ("he", 2 / N_IN),
    ("lecun", 1 / N_IN),
    ("xavier", 2 / (N_IN + N_OUT)),
    ("random", 100.0),
])
def test_weight_variance_follows_the_formula(name, expected_variance):
    W = initialize_parameters(name, [N_IN, N_OUT], seed=11)["W1"]
    # 960 000 draws: the sample variance is within 0.5 % of the truth with
    # overwhelming probability (its relative standard error is sqrt(2/n) = 0.14 %).
    assert W.var() == pytest.approx(expected_variance, rel=5e-3)
    assert abs(W.mean()) < 5 * np.sqrt(expected_variance / W.size)


def test_random_scale_multiplies_standard_normal_draws():
    W = initialize_parameters("random", [3, 4], seed=5, scale=0.01)["W1"]
    np.testing.assert_array_equal(W, np.random.RandomState(5).randn(4, 3) * 0.01)


def test_registry_lists_the_course_initializers():
    assert {"zeros", "random", "he", "lecun", "xavier"} <= set(available_initializers())


def test_a_registered_initializer_is_used_by_name():
    def ones(n_out, n_in, rng):
        return np.ones((n_out, n_in))

    register_initializer("ones_for_test", ones)
    params = initialize_parameters("ones_for_test", [2, 3, 1])
    assert params["W1"].shape == (3, 2) and np.all(params["W1"] == 1)


def test_register_rejects_non_callables():
    with pytest.raises(TypeError, match="draw must be callable"):
        register_initializer("broken", 42)

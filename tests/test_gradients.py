"""Backward propagation against centred finite differences of the cost."""

import numpy as np
import pytest

from course_utils import (
    backward_propagation,
    compute_cost,
    forward_propagation,
    initialize_parameters,
)

EPSILON = 1e-6


def _cost(X, Y, parameters, hidden_activation):
    AL, _ = forward_propagation(X, parameters, hidden_activation)
    return compute_cost(AL, Y)


def _numerical_gradient(X, Y, parameters, name, hidden_activation):
    gradient = np.zeros_like(parameters[name])
    for index in np.ndindex(gradient.shape):
        shifted = {key: value.copy() for key, value in parameters.items()}
        shifted[name][index] += EPSILON
        cost_plus = _cost(X, Y, shifted, hidden_activation)
        shifted[name][index] -= 2 * EPSILON
        cost_minus = _cost(X, Y, shifted, hidden_activation)
        gradient[index] = (cost_plus - cost_minus) / (2 * EPSILON)
    return gradient


@pytest.mark.parametrize("hidden_activation", ["relu", "tanh"])
@pytest.mark.parametrize("layers_dims", [
    [3, 1], [2, 4, 1], [2, 10, 5, 1], [4, 7, 6, 5, 1], [5, 16, 1],
    [3, 6, 6, 6, 6, 6, 1],
])
def test_backward_matches_finite_differences(layers_dims, hidden_activation):
    rng = np.random.RandomState(len(layers_dims) * 100 + layers_dims[1])
    m = 12
    X = rng.randn(layers_dims[0], m)
    Y = (rng.rand(1, m) > 0.5).astype(int)
    parameters = initialize_parameters("he", layers_dims, seed=7)
    # Non-zero biases, so that the bias gradients are exercised too.
    for key in parameters:
        if key.startswith("b"):
            parameters[key] = rng.randn(*parameters[key].shape) * 0.1
    _, caches = forward_propagation(X, parameters, hidden_activation)
    grads = backward_propagation(Y, parameters, caches, hidden_activation)
    analytic = np.concatenate([grads[f"d{key}"].ravel() for key in parameters])
    numeric = np.concatenate([
        _numerical_gradient(X, Y, parameters, key, hidden_activation).ravel()
        for key in parameters])
    relative_error = (np.linalg.norm(analytic - numeric)
                      / (np.linalg.norm(analytic) + np.linalg.norm(numeric)))
    assert relative_error < 1e-7

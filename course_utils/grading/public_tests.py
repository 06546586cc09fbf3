"""Public self-checks for the "initialization" assignment.

Introduced in the chapter "Graded exercise: initialization". Students call
them from the notebook, e.g.
``public_tests.check_initialize_parameters_he(initialize_parameters_he)``.
Each prints "All tests passed." or raises an ``AssertionError`` that says what
is wrong and how to fix it. The expected numbers are the original
assignment's published outputs. Passing them is a good sign, not a grade: the
grader runs further, hidden checks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Published outputs of the original assignment (seed 3).
PUBLISHED_RANDOM_3_2_1 = {
    "W1": [[17.88628473, 4.36509851, 0.96497468],
           [-18.63492703, -2.77388203, -3.54758979]],
    "W2": [[-0.82741481, -6.27000677]],
}
PUBLISHED_HE_2_4_1 = {
    "W1": [[1.78862847, 0.43650985], [0.09649747, -1.8634927],
           [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]],
    "W2": [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]],
}
PRINTED_PRECISION = 5e-9  # the published numbers have 8 decimals


def check_initialize_parameters_zeros(function: Callable) -> None:
    """Self-check for ``initialize_parameters_zeros``.

    Introduced in the chapter "Graded exercise: initialization".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_zeros(layers_dims)``.
    """
    parameters = _call(function, [3, 2, 1])
    _check_structure(parameters, [3, 2, 1])
    for name, value in parameters.items():
        assert not np.any(value), f"{name} should contain only zeros."
    print("All tests passed.")


def check_initialize_parameters_random(function: Callable) -> None:
    """Self-check for ``initialize_parameters_random``.

    Introduced in the chapter "Graded exercise: initialization".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_random(layers_dims)``.
    """
    _check_drawn_weights(
        function, [3, 2, 1], PUBLISHED_RANDOM_3_2_1,
        "Draw each W with np.random.RandomState(3).randn(n_l, n_prev), "
        "one generator for all layers, layer by layer, and multiply by 10.")


def check_initialize_parameters_he(function: Callable) -> None:
    """Self-check for ``initialize_parameters_he``.

    Introduced in the chapter "Graded exercise: initialization".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_he(layers_dims)``.
    """
    _check_drawn_weights(
        function, [2, 4, 1], PUBLISHED_HE_2_4_1,
        "Multiply randn(n_l, n_prev) by np.sqrt(2 / n_prev), where n_prev "
        "= layers_dims[l - 1] is the number of inputs of layer l.")


def _check_drawn_weights(function: Callable, layers_dims: list[int],
                         published: dict, hint: str) -> None:
    parameters = _call(function, layers_dims)
    _check_structure(parameters, layers_dims)
    _check_values(parameters, published, hint)
    _check_zero_biases(parameters)
    print("All tests passed.")


def _call(function: Callable, layers_dims: list[int]) -> dict:
    assert callable(function), "Pass the function itself, without calling it."
    parameters = function(list(layers_dims))
    assert isinstance(parameters, dict), (
        f"The function should return a dict; it returned "
        f"{type(parameters).__name__}.")
    return parameters


def _check_structure(parameters: dict, layers_dims: list[int]) -> None:
    expected_keys = {f"{kind}{layer}" for layer in range(1, len(layers_dims))
                     for kind in "Wb"}
    assert set(parameters) == expected_keys, (
        f"Expected the keys {sorted(expected_keys)}; got {sorted(parameters)}.")
    for layer in range(1, len(layers_dims)):
        W, b = parameters[f"W{layer}"], parameters[f"b{layer}"]
        assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray), (
            f"W{layer} and b{layer} should be NumPy arrays.")
        want = (layers_dims[layer], layers_dims[layer - 1])
        assert W.shape == want, (
            f"W{layer} should have shape {want} = (layers_dims[{layer}], "
            f"layers_dims[{layer - 1}]); it has shape {W.shape}.")
        assert b.shape == (layers_dims[layer], 1), (
            f"b{layer} should have shape {(layers_dims[layer], 1)}; "
            f"it has shape {b.shape}.")


def _check_values(parameters: dict, published: dict, hint: str) -> None:
    for name, values in published.items():
        assert np.allclose(parameters[name], values, rtol=0, atol=PRINTED_PRECISION), (
            f"{name} has the right shape but the wrong values. {hint}")


def _check_zero_biases(parameters: dict) -> None:
    for name, value in parameters.items():
        if name.startswith("b"):
            assert not np.any(value), f"{name} should start at zero."

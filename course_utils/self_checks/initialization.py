"""Public self-checks for the "initialization" assignment.

Introduced in the chapter "Graded exercise: initialization". Students call
them from the notebook, e.g.
``initialization.check_initialize_parameters_he(initialize_parameters_he)``.
Each prints "All tests passed." or raises an ``AssertionError`` that says what
is wrong and how to fix it. The expected numbers are the original
assignment's published outputs. Passing them is a good sign, not a grade: the
grader runs further, hidden checks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.self_checks._common import check_structure, warn_if_header_missing

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
    check_structure(parameters, [3, 2, 1])
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
    _check_drawn_weights(function, [3, 2, 1], PUBLISHED_RANDOM_3_2_1,
                         _random_scale, "multiply by 10")
    _check_drawn_weights(function, [2, 5, 3, 1], None, _random_scale,
                         "multiply by 10")
    print("All tests passed.")


def check_initialize_parameters_he(function: Callable) -> None:
    """Self-check for ``initialize_parameters_he``.

    Introduced in the chapter "Graded exercise: initialization".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_he(layers_dims)``.
    """
    scale_hint = ("multiply randn(n_l, n_prev) by np.sqrt(2 / n_prev), where "
                  "n_prev = layers_dims[l - 1] is the number of inputs of layer l")
    _check_drawn_weights(function, [2, 4, 1], PUBLISHED_HE_2_4_1, _he_scale,
                         scale_hint)
    # With 3 inputs a missing or misplaced sqrt(2 / n_prev) shows in W1 too
    # (with 2 inputs it is sqrt(2 / 2) = 1 and cannot be seen there).
    _check_drawn_weights(function, [3, 5, 2, 1], None, _he_scale, scale_hint)
    print("All tests passed.")


def _he_scale(n_out: int, n_in: int) -> float:
    return float(np.sqrt(2 / n_in))


def _random_scale(n_out: int, n_in: int) -> float:
    return 10.0


# Scales students often use instead of the right one, and what to tell them.
_WRONG_SCALES = {
    "no scale at all": lambda n_out, n_in: 1.0,
    "sqrt(1 / n_prev) (LeCun's factor)": lambda n_out, n_in: np.sqrt(1 / n_in),
    "sqrt(2 / n_l), with the number of units instead of inputs":
        lambda n_out, n_in: np.sqrt(2 / n_out),
    "2 / n_prev without the square root": lambda n_out, n_in: 2 / n_in,
}


def _check_drawn_weights(function: Callable, layers_dims: list[int],
                         published: dict | None, scale_of: Callable,
                         scale_hint: str) -> None:
    parameters = _call(function, layers_dims)
    check_structure(parameters, layers_dims)
    _check_zero_biases(parameters)
    expected = _draws(layers_dims, scale_of)
    if published is not None:  # the numbers the original assignment printed
        for name, values in published.items():
            assert np.allclose(expected[name], values, atol=PRINTED_PRECISION)
    for name, want in expected.items():
        got = parameters[name]
        assert got.dtype == np.float64, (
            f"{name} has dtype {got.dtype}; it should be float64, which is what "
            f"rng.randn gives: do not convert the draws.")
        if not np.allclose(got, want, rtol=1e-12, atol=0):
            raise AssertionError(
                f"{name} has the right shape but the wrong values. "
                + _diagnose(function, parameters, layers_dims, scale_of, scale_hint))


def _diagnose(function: Callable, parameters: dict, layers_dims: list[int],
              scale_of: Callable, scale_hint: str) -> str:
    """Name the likely cause of wrong weights, by recomputing the usual mistakes.

    A mistake is named only if it explains every weight matrix: one matrix
    alone can fit two mistakes (sqrt(1 / n_prev) equals sqrt(2 / n_l) when
    n_l = 2 n_prev).
    """
    if _depends_on_global_state(function):
        return ("The weights change when numpy's global random state changes: "
                "the function draws with np.random.randn without seeding inside "
                "it (seeding in another cell works once, then fails on a re-run "
                "and in the grader, which runs only the graded cells). Draw from "
                "rng = np.random.RandomState(3), created inside the function.")
    weights = {name: value for name, value in parameters.items()
               if name.startswith("W")}
    # The right scale with a new generator per layer, then wrong scales.
    if _same(weights, _draws(layers_dims, scale_of, reseed=True)):
        return ("Each layer repeats the first numbers of the stream: create the "
                "generator once, rng = np.random.RandomState(3), before the loop, "
                "and draw every layer from that one rng.")
    for mistake, wrong_scale in _WRONG_SCALES.items():
        if _same(weights, _draws(layers_dims, wrong_scale)):
            return f"The draws are right but scaled by {mistake}: {scale_hint}."
    return ("Draw each W with rng.randn(layers_dims[l], layers_dims[l - 1]) from "
            "one rng = np.random.RandomState(3), layer by layer, in order, and "
            f"{scale_hint}.")


def _same(weights: dict, candidate: dict) -> bool:
    return all(np.allclose(weights[name], value, rtol=1e-12, atol=0)
               for name, value in candidate.items())


def _draws(layers_dims: list[int], scale_of: Callable, reseed: bool = False
           ) -> dict[str, np.ndarray]:
    """The expected weights, computed here from the rule (a second implementation)."""
    rng = np.random.RandomState(3)
    weights = {}
    for layer in range(1, len(layers_dims)):
        if reseed:
            rng = np.random.RandomState(3)
        n_out, n_in = layers_dims[layer], layers_dims[layer - 1]
        weights[f"W{layer}"] = rng.randn(n_out, n_in) * scale_of(n_out, n_in)
    return weights


def _depends_on_global_state(function: Callable) -> bool:
    """Whether the weights change with numpy's global random state.

    The caller's global state is restored afterwards.
    """
    saved = np.random.get_state()
    try:
        results = []
        for outside_seed in (0, 1):
            np.random.seed(outside_seed)
            results.append(function([2, 3, 1]).get("W1"))
    finally:
        np.random.set_state(saved)
    return not np.array_equal(results[0], results[1])


def _call(function: Callable, layers_dims: list[int]) -> dict:
    assert callable(function), "Pass the function itself, without calling it."
    warn_if_header_missing(function)
    parameters = function(list(layers_dims))
    assert isinstance(parameters, dict), (
        f"The function should return a dict; it returned "
        f"{type(parameters).__name__}.")
    return parameters


def _check_zero_biases(parameters: dict) -> None:
    for name, value in parameters.items():
        if name.startswith("b"):
            assert not np.any(value), f"{name} should start at zero."

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

from course_utils.self_checks._common import (
    GLOBAL_DRAWS_HINT,
    GLOBAL_SEED_NOTE,
    call_initializer,
    check_float64,
    check_structure,
    depends_on_global_state,
    diagnose_weights,
)

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
    parameters, _ = call_initializer(function, [3, 2, 1])
    check_structure(parameters, [3, 2, 1])
    check_float64(parameters)
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
    reseeded = _check_drawn_weights(function, [3, 2, 1], PUBLISHED_RANDOM_3_2_1,
                                    "random")
    reseeded |= _check_drawn_weights(function, [2, 5, 3, 1], None, "random")
    _passed(reseeded)


def check_initialize_parameters_he(function: Callable) -> None:
    """Self-check for ``initialize_parameters_he``.

    Introduced in the chapter "Graded exercise: initialization".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_he(layers_dims)``.
    """
    reseeded = _check_drawn_weights(function, [2, 4, 1], PUBLISHED_HE_2_4_1, "he")
    # With 3 inputs a missing or misplaced sqrt(2 / n_prev) shows in W1 too
    # (with 2 inputs it is sqrt(2 / 2) = 1 and cannot be seen there).
    reseeded |= _check_drawn_weights(function, [3, 5, 2, 1], None, "he")
    _passed(reseeded)


def _passed(reseeded: bool) -> None:
    if reseeded:
        print(GLOBAL_SEED_NOTE)
    print("All tests passed.")


# How to compute each kind's factor, as the hints write it.
_RIGHT = {"random": "multiply by 10",
          "he": "multiply randn(n_l, n_prev) by np.sqrt(2 / n_prev), where "
                "n_prev = layers_dims[l - 1] is the number of inputs of layer l"}


def _scale(kind: str, n_out: int, n_in: int) -> float:
    return 10.0 if kind == "random" else float(np.sqrt(2 / n_in))


# Scales students often use instead of the right one, and what to tell them.
_WRONG_SCALES = {
    "no scale at all": lambda n_out, n_in: 1.0,
    "sqrt(1 / n_prev) (LeCun's factor)": lambda n_out, n_in: np.sqrt(1 / n_in),
    "sqrt(2 / n_l), with the number of units instead of inputs":
        lambda n_out, n_in: np.sqrt(2 / n_out),
    "2 / n_prev without the square root": lambda n_out, n_in: 2 / n_in,
    "sqrt(2 / (n_prev + n_l)) (Xavier's factor)":
        lambda n_out, n_in: np.sqrt(2 / (n_in + n_out)),
    "sqrt(6 / n_prev), the bound of a uniform draw with He's variance (a uniform "
    "draw on [-a, a] has variance a**2 / 3); randn is a standard normal, so "
    "multiply it by the standard deviation":
        lambda n_out, n_in: np.sqrt(6 / n_in),
    "0.01, the small random start": lambda n_out, n_in: 0.01,
}


def _check_drawn_weights(function: Callable, layers_dims: list[int],
                         published: dict | None, kind: str) -> bool:
    """Check one call; return whether it changed NumPy's global random state."""
    parameters, reseeded = call_initializer(function, layers_dims)
    check_structure(parameters, layers_dims)
    _check_zero_biases(parameters)
    check_float64(parameters)
    expected = _draws(layers_dims, lambda n_out, n_in: _scale(kind, n_out, n_in))
    if published is not None:  # the numbers the original assignment printed
        for name, values in published.items():
            assert np.allclose(expected[name], values, atol=PRINTED_PRECISION)
    for name, want in expected.items():
        if not np.allclose(parameters[name], want, rtol=1e-12, atol=0):
            raise AssertionError(
                f"{name} has the right shape but the wrong values. "
                + _diagnose(function, parameters, layers_dims, kind))
    return reseeded


def _diagnose(function: Callable, parameters: dict, layers_dims: list[int],
              kind: str) -> str:
    """Name the likely cause of wrong weights, by recomputing the usual mistakes.

    A named mistake must explain every weight matrix: one matrix alone can fit
    two mistakes (sqrt(1 / n_prev) equals sqrt(2 / n_l) when n_l = 2 n_prev).
    Otherwise the first wrong matrix is diagnosed on its own (a wrong factor,
    transposed draws, or draws that are not the generator's).
    """
    if depends_on_global_state(function, layers_dims):
        return GLOBAL_DRAWS_HINT
    right = _RIGHT[kind]
    weights = {name: value for name, value in parameters.items()
               if name.startswith("W")}
    scale = lambda n_out, n_in: _scale(kind, n_out, n_in)  # noqa: E731
    if _same(weights, _draws(layers_dims, scale, reseed=True)):
        return ("Each layer repeats the first numbers of the stream: create the "
                "generator once, rng = np.random.RandomState(3), before the loop, "
                "and draw every layer from that one rng.")
    for mistake, wrong_scale in _WRONG_SCALES.items():
        if _same(weights, _draws(layers_dims, wrong_scale)):
            return f"The draws are right but scaled by {mistake}: {right}."
    rng = np.random.RandomState(3)
    for layer in range(1, len(layers_dims)):
        n_out, n_in = layers_dims[layer], layers_dims[layer - 1]
        draws = rng.randn(n_out, n_in)
        W = weights[f"W{layer}"]
        if not np.allclose(W, draws * scale(n_out, n_in), rtol=1e-12, atol=0):
            hint = diagnose_weights(W, draws, layer, scale(n_out, n_in), right, [])
            return f"In W{layer}, {hint}"
    return right + "."


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


def _check_zero_biases(parameters: dict) -> None:
    for name, value in parameters.items():
        if name.startswith("b"):
            assert not np.any(value), f"{name} should start at zero."

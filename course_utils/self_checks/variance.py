"""Public self-checks for the "variance" assignment.

Introduced in the chapter "Graded exercise: keeping the variance". Students
call them from the notebook, e.g.
``variance.check_activation_statistics(activation_statistics)``.
Each prints "All tests passed." or raises an ``AssertionError`` that names the
likely cause. The expected numbers are computed here, independently of the
course library: the weights from ``np.random.RandomState(3)`` and the formula,
the statistics by a plain loop. Passing them is a good sign, not a grade: the
grader runs further, hidden checks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# The keys-and-shapes check is the same for both assignments' initializers.
from course_utils.self_checks._common import (
    GLOBAL_DRAWS_HINT,
    GLOBAL_SEED_NOTE,
    call_initializer,
    check_float64,
    check_structure,
    depends_on_global_state,
    diagnose_weights,
    uniform_bound_mistake,
    warn_if_header_missing,
)

SEED = 3
# Sizes whose layers have n_in != n_out, n_in > 1 and n_in + n_out != 2, so
# that every usual mistake (n_out for n_in, a missing 2, He's factor, the
# variance for the standard deviation) gives a different factor in each layer,
# and with three layers a generator created anew per layer shows in W2 and W3.
INITIALIZER_DIMS = (8, 5, 3, 2)
RELATIVE_TOLERANCE = 1e-7
POINTS = {"initialize_parameters_xavier": 2, "initialize_parameters_lecun": 2,
          "activation_statistics": 3}

def check_initialize_parameters_xavier(function: Callable) -> None:
    """Self-check for ``initialize_parameters_xavier``.

    Introduced in the chapter "Graded exercise: keeping the variance".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_xavier(layers_dims)``: Glorot
        normal weights, variance 2 / (n_in + n_out), zero biases.
    """
    _check_initializer(function, "xavier")


def check_initialize_parameters_lecun(function: Callable) -> None:
    """Self-check for ``initialize_parameters_lecun``.

    Introduced in the chapter "Graded exercise: keeping the variance".

    Parameters
    ----------
    function : callable
        The student's ``initialize_parameters_lecun(layers_dims)``: normal
        weights, variance 1 / n_in, zero biases.
    """
    _check_initializer(function, "lecun")


def check_activation_statistics(function: Callable) -> None:
    """Self-check for ``activation_statistics``.

    Introduced in the chapter "Graded exercise: keeping the variance".

    Parameters
    ----------
    function : callable
        The student's ``activation_statistics(parameters, X)``, which returns a
        list with one ``[mean, std]`` pair per hidden layer: the mean and the
        population standard deviation of all entries of that layer's ReLU
        output.
    """
    _check_header(function)
    parameters, X = _statistics_example()
    result = function({key: value.copy() for key, value in parameters.items()},
                      X.copy())
    _check_statistics(result, parameters, X)
    as_lists = {key: value.tolist() for key, value in parameters.items()}
    try:
        from_lists = function(as_lists, X.tolist())
    except (TypeError, ValueError, AttributeError, IndexError) as error:
        raise AssertionError(
            f"Called with nested lists instead of arrays, your function raised "
            f"{type(error).__name__}: {error}. The grader passes lists: convert X "
            f"and every W and b with np.asarray(..., dtype=float) first.") from error
    _check_statistics(from_lists, parameters, X, "Called with nested lists, ")
    print("All tests passed.")


def _check_header(function: Callable) -> None:
    """Warn, as the first assignment's checks do, if the cell lost its header.

    The grader finds a graded function by its cell id, its header or its
    definition, so an edited header costs nothing; the warning asks to keep it.
    """
    assert callable(function), "Pass the function itself, without calling it."
    warn_if_header_missing(function)


# --- The initializers ----------------------------------------------------------

def _factor(kind: str, n_in: int, n_out: int) -> float:
    variance = 2 / (n_in + n_out) if kind == "xavier" else 1 / n_in
    return float(np.sqrt(variance))


_NAMES = {"xavier": "Xavier: np.sqrt(2 / (n_in + n_out))",
          "lecun": "LeCun: np.sqrt(1 / n_in)"}


def _mistaken_factors(kind: str, n_in: int, n_out: int) -> list[tuple[float, str]]:
    """Factors of the usual mistakes, each with the hint that names its cause."""
    right = _NAMES[kind]
    mistakes = [
        (np.sqrt(2 / n_in), f"this is He's factor np.sqrt(2 / n_in); use {right}."),
        (np.sqrt(1 / n_out), f"this is np.sqrt(1 / n_out): n_out = layers_dims[l] "
                             f"is the number of outputs; use {right}, where n_in = "
                             f"layers_dims[l - 1]."),
        (np.sqrt(2 / n_out), f"this is np.sqrt(2 / n_out): it uses n_out = "
                             f"layers_dims[l] only; use {right}."),
        (2 / (n_in + n_out), f"this is the variance 2 / (n_in + n_out), not its "
                             f"square root; randn has standard deviation 1, so "
                             f"multiply by the standard deviation: {right}."),
        (1 / n_in, f"this is the variance 1 / n_in, not its square root; randn "
                   f"has standard deviation 1, so multiply by the standard "
                   f"deviation: {right}."),
    ]
    if kind == "xavier":
        mistakes += [
            uniform_bound_mistake(_factor(kind, n_in, n_out),
                                  "np.sqrt(6 / (n_in + n_out))"),
            (np.sqrt(1 / (n_in + n_out)), "the factor 2 is missing: Xavier's "
                                          "variance is 2 / (n_in + n_out)."),
            (np.sqrt(1 / n_in), f"this is LeCun's factor np.sqrt(1 / n_in); "
                                f"use {right}."),
        ]
    else:
        mistakes += [
            uniform_bound_mistake(_factor(kind, n_in, n_out), "np.sqrt(3 / n_in)"),
            (np.sqrt(2 / (n_in + n_out)), f"this is Xavier's factor; use {right}."),
        ]
    # A factor that two mistakes share (LeCun's uniform bound sqrt(3 / n_in) is
    # sqrt(2 / n_out) when n_in = 3 and n_out = 2) names the first of them.
    kept: list[tuple[float, str]] = []
    for factor, hint in mistakes:
        if not any(np.isclose(factor, other, rtol=1e-6)
                   for other in [_factor(kind, n_in, n_out)]
                   + [seen for seen, _ in kept]):
            kept.append((float(factor), hint))
    return kept


def _check_initializer(function: Callable, kind: str) -> None:
    layers_dims = list(INITIALIZER_DIMS)
    parameters, reseeded = call_initializer(function, layers_dims)
    check_structure(parameters, layers_dims)
    check_float64(parameters)
    for layer in range(1, len(layers_dims)):
        assert not np.any(parameters[f"b{layer}"]), f"b{layer} should start at zero."
    rng = np.random.RandomState(SEED)
    for layer in range(1, len(layers_dims)):
        n_in, n_out = layers_dims[layer - 1], layers_dims[layer]
        draws = rng.randn(n_out, n_in)
        W = parameters[f"W{layer}"]
        expected = draws * _factor(kind, n_in, n_out)
        if np.allclose(W, expected, rtol=RELATIVE_TOLERANCE, atol=0):
            continue
        if depends_on_global_state(function, layers_dims):
            raise AssertionError(f"W{layer} has the right shape but the wrong "
                                 f"values. {GLOBAL_DRAWS_HINT}")
        raise AssertionError(
            f"W{layer} has the right shape but the wrong values: "
            + diagnose_weights(W, draws, layer, _factor(kind, n_in, n_out),
                               f"{_NAMES[kind]} with n_in = {n_in}, n_out = "
                               f"{n_out}", _mistaken_factors(kind, n_in, n_out)))
    if reseeded:
        print(GLOBAL_SEED_NOTE)
    print("All tests passed.")


# --- The statistics ------------------------------------------------------------

def _statistics_example() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Two hidden layers of different widths, nonzero biases, 6 examples.

    Small sizes make the sample and population standard deviations differ by
    several per cent; the biases make a forgotten ``+ b`` visible.
    """
    rng = np.random.RandomState(1)
    layers_dims = [4, 5, 3, 1]
    parameters = {}
    for layer in range(1, len(layers_dims)):
        parameters[f"W{layer}"] = rng.randn(layers_dims[layer], layers_dims[layer - 1])
        parameters[f"b{layer}"] = 0.5 * rng.randn(layers_dims[layer], 1)
    return parameters, rng.randn(4, 6)


def _plain_statistics(parameters: dict, X: np.ndarray, activation: str = "relu",
                      bias: bool = True, of: str = "A", ddof: int = 0,
                      axis: int | None = None, output: bool = False,
                      inputs: bool = False) -> list[list[float]]:
    """The statistics of each layer, written out with plain NumPy.

    The keyword arguments describe the usual mistakes; the defaults give the
    right answer.
    """
    functions = {"relu": lambda Z: np.maximum(0, Z), "tanh": np.tanh,
                 "sigmoid": lambda Z: 1 / (1 + np.exp(-Z)), "none": lambda Z: Z}
    n_layers = len(parameters) // 2
    A = X
    result = [[float(np.mean(X)), float(np.std(X, ddof=ddof))]] if inputs else []
    for layer in range(1, n_layers + 1):
        Z = parameters[f"W{layer}"] @ A + (parameters[f"b{layer}"] if bias else 0)
        last = layer == n_layers
        if last and not output:
            break
        A = functions["sigmoid" if last else activation](Z)
        measured = Z if of == "Z" else A
        std = np.std(measured, ddof=ddof, axis=axis)
        result.append([float(np.mean(measured)), float(np.mean(std))])
    return result


def _statistics_mistakes(parameters: dict, X: np.ndarray
                         ) -> list[tuple[list[list[float]], str]]:
    plain = _plain_statistics
    return [
        (plain(parameters, X, output=True),
         "it includes the output layer. Return one pair per HIDDEN layer: for "
         "L = len(parameters) // 2 layers, the layers 1 to L - 1, not the "
         "sigmoid output layer L."),
        (plain(parameters, X, inputs=True),
         "it starts with the statistics of the input X. Return one pair per "
         "hidden layer, starting with layer 1's output."),
        (plain(parameters, X, activation="tanh"),
         "these are the statistics of a tanh network. The course's hidden "
         "layers use ReLU: A = np.maximum(0, Z)."),
        (plain(parameters, X, activation="sigmoid"),
         "these are the statistics of a sigmoid network. The hidden layers use "
         "ReLU: A = np.maximum(0, Z); only the output layer is a sigmoid."),
        (plain(parameters, X, of="Z"),
         "these are the statistics of the pre-activations Z. Measure each "
         "layer's output A = np.maximum(0, Z)."),
        (plain(parameters, X, activation="none"),
         "no activation was applied. Each hidden layer's output is "
         "A = np.maximum(0, W @ A_prev + b)."),
        (plain(parameters, X, bias=False),
         "the biases are missing: Z = W @ A_prev + b."),
        (plain(parameters, X, ddof=1),
         "this is the sample standard deviation (ddof=1). Use the population "
         "standard deviation, np.std(A) with its default ddof=0."),
        (plain(parameters, X, axis=1),
         "the standard deviation is taken per unit (axis=1) and averaged. Take "
         "it over all entries of A together: np.std(A)."),
        (plain(parameters, X, axis=0),
         "the standard deviation is taken per example (axis=0) and averaged. "
         "Take it over all entries of A together: np.std(A)."),
        ([[mean, std ** 2] for mean, std in plain(parameters, X)],
         "the second number is the variance; return the standard deviation, "
         "np.std(A)."),
        ([[std, mean] for mean, std in plain(parameters, X)],
         "each pair is [std, mean]; return [mean, std]."),
    ]


def _check_statistics(result: object, parameters: dict, X: np.ndarray,
                      prefix: str = "") -> None:
    n_hidden = len(parameters) // 2 - 1
    assert not isinstance(result, np.ndarray), _sentence(
        prefix, "your function returned a NumPy array. Return a list with one "
        "[mean, std] pair per hidden layer, e.g. [[m1, s1], [m2, s2]] (use "
        "float(...) or .tolist()): the grader compares lists.")
    assert isinstance(result, (list, tuple)), _sentence(
        prefix, f"your function returned {type(result).__name__}; return a list "
        f"with one [mean, std] pair per hidden layer.")
    for pair in result:
        assert isinstance(pair, (list, tuple)) and len(pair) == 2 and all(
            _is_number(value) for value in pair), _sentence(
            prefix, f"each item should be a pair [mean, std] of two numbers "
            f"(float(np.mean(A)), float(np.std(A))); got {pair!r}.")
    result = [[float(mean), float(std)] for mean, std in result]
    expected = _plain_statistics(parameters, X)
    if _close(result, expected):
        return
    for mistaken, hint in _statistics_mistakes(parameters, X):
        if _close(result, mistaken):
            raise AssertionError(_sentence(prefix,
                                           f"the statistics are wrong: {hint}"))
    assert len(result) == n_hidden, _sentence(
        prefix, f"expected {n_hidden} pairs for a network with {n_hidden} hidden "
        f"layers (len(parameters) // 2 - 1); got {len(result)}.")
    layer = next(index for index, (got, want) in enumerate(
        zip(result, expected, strict=True), start=1) if not _close([got], [want]))
    raise AssertionError(_sentence(
        prefix, f"the pair for hidden layer {layer} is wrong. Each hidden layer's "
        f"output is A = np.maximum(0, W @ A_prev + b), starting from A_prev = X; "
        f"its pair is [np.mean(A), np.std(A)] over all entries of A."))


def _sentence(prefix: str, text: str) -> str:
    sentence = prefix + text
    return sentence[0].upper() + sentence[1:]


def _is_number(value: object) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _close(result: list, expected: list) -> bool:
    return len(result) == len(expected) and np.allclose(
        np.array(result, dtype=float), np.array(expected, dtype=float),
        rtol=RELATIVE_TOLERANCE, atol=1e-10)

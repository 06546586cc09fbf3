"""What the self-checks of every assignment share.

Private to :mod:`course_utils.self_checks`; an assignment's module imports
what it needs from here.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable

import numpy as np

from course_utils._graded_header import header_name


def warn_if_header_missing(function: Callable) -> None:
    """Print a warning if the notebook cell defining ``function`` lost its header.

    Only for functions defined in a Jupyter cell (IPython keeps the cell's
    text in ``linecache``); the grader finds the function by its name anyway.
    """
    code = getattr(function, "__code__", None)
    filename = getattr(code, "co_filename", "")
    if not ("ipykernel_" in filename or filename.startswith("<ipython-input-")):
        return
    name = function.__name__
    if header_name("".join(linecache.getlines(filename))) != name:
        print(f"Warning: the cell that defines {name} should start with the line "
              f"'# GRADED FUNCTION: {name} (N points)' as it was given. The "
              f"grader still finds {name} by its name; keep the line anyway.")


def check_structure(parameters: dict, layers_dims: list[int]) -> None:
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


GLOBAL_SEED_NOTE = (
    "Note: your function seeds NumPy's global generator (np.random.seed). It "
    "returns the right numbers, so it passes here and in the grader, but it "
    "also changes the random numbers of every cell after it; a local "
    "rng = np.random.RandomState(3) does not.")
GLOBAL_DRAWS_HINT = (
    "The weights change when NumPy's global random state changes: the function "
    "draws with np.random.randn without seeding inside it (a seed set in another "
    "cell works once, then fails on a re-run and in the grader, which runs only "
    "the imports cell and the graded cells). Draw from "
    "rng = np.random.RandomState(3), created inside the function.")


def call_initializer(function: Callable, layers_dims: list[int]
                     ) -> tuple[dict, bool]:
    """Call a student's initializer, leaving NumPy's global random state alone.

    Returns
    -------
    parameters : dict
    reseeded : bool
        Whether the call changed the global random state (``np.random.seed``
        or a global draw inside the function).
    """
    assert callable(function), "Pass the function itself, without calling it."
    warn_if_header_missing(function)
    saved = np.random.get_state()
    try:
        parameters = function(list(layers_dims))
        reseeded = not same_state(saved, np.random.get_state())
    finally:
        np.random.set_state(saved)
    assert isinstance(parameters, dict), (
        f"The function should return a dict; it returned "
        f"{type(parameters).__name__}.")
    return parameters, reseeded


def depends_on_global_state(function: Callable, layers_dims: list[int]) -> bool:
    """Whether the weights change with NumPy's global random state.

    The caller's global state is restored afterwards.
    """
    saved = np.random.get_state()
    try:
        results = []
        for outside_seed in (0, 1):
            np.random.seed(outside_seed)
            results.append(function(list(layers_dims)).get("W1"))
    finally:
        np.random.set_state(saved)
    return not np.array_equal(results[0], results[1])


def same_state(before: tuple, after: tuple) -> bool:
    """Whether two ``np.random.get_state()`` tuples are the same state."""
    return (before[0] == after[0] and np.array_equal(before[1], after[1])
            and before[2:] == after[2:])


def check_float64(parameters: dict) -> None:
    """One dtype rule for every initializer: what ``randn`` and ``np.zeros`` give."""
    for name, value in parameters.items():
        assert value.dtype == np.float64, (
            f"{name} has dtype {value.dtype}; it should be float64. rng.randn and "
            f"np.zeros give float64: do not convert with astype or dtype=.")


def proportional(W: np.ndarray, draws: np.ndarray) -> float | None:
    """The factor c with W == c * draws, or None if there is none."""
    c = float(np.sum(W * draws) / np.sum(draws * draws))
    if np.allclose(W, c * draws, rtol=1e-6, atol=0):
        return c
    return None


def uniform_bound_mistake(std: float, formula: str) -> tuple[float, str]:
    """The factor of a student who multiplies ``randn`` by a uniform bound.

    A uniform draw on [-a, a] has variance a**2 / 3, so the bound with the
    right variance is sqrt(3) times the standard deviation.
    """
    return (float(np.sqrt(3) * std),
            f"this is the uniform bound {formula} (sqrt(3) times the standard "
            f"deviation, for rng.uniform(-bound, bound)); randn is a standard "
            f"normal, so multiply it by the standard deviation instead.")


def diagnose_weights(W: np.ndarray, draws: np.ndarray, layer: int,
                     right_factor: float, right_text: str,
                     mistakes: list[tuple[float, str]]) -> str:
    """Name the likely cause of one wrong weight matrix.

    Parameters
    ----------
    W : ndarray
        The student's ``W{layer}`` (already of the right shape).
    draws : ndarray
        ``RandomState(3)``'s draws for this layer, in order.
    layer : int
    right_factor : float
        The factor the draws should be multiplied by.
    right_text : str
        How to compute it, e.g. ``"np.sqrt(2 / n_in)"``.
    mistakes : list of (float, str)
        Factors of the usual mistakes, each with the hint that names its cause.

    Returns
    -------
    str
    """
    factor = proportional(W, draws)
    if factor is not None:
        for mistaken, hint in mistakes:
            if not np.isclose(mistaken, right_factor, rtol=1e-6) \
                    and np.isclose(factor, mistaken, rtol=1e-6):
                return f"the draws are right, but their factor is wrong: {hint}"
        return (f"the draws are right, but they are multiplied by {factor:.6g} "
                f"instead of {right_factor:.6g} ({right_text}).")
    n_out, n_in = W.shape
    fresh = np.random.RandomState(3).randn(n_out, n_in)
    if layer > 1 and proportional(W, fresh) is not None:
        return ("these are the first numbers of a new generator: create "
                "rng = np.random.RandomState(3) once, before the loop, and draw "
                "every layer from it in order; a new generator per layer repeats "
                "the same numbers.")
    if layer == 1 and proportional(
            W, np.random.RandomState(3).randn(n_in, n_out).T) is not None:
        return ("the draws are transposed: draw rng.randn(n_out, n_in) (one row "
                "per unit of layer l), not rng.randn(n_in, n_out).T.")
    return ("the weights are not the generator's numbers in order. Draw each W "
            "with rng.randn(layers_dims[l], layers_dims[l - 1]) from the one "
            f"rng = np.random.RandomState(3), layer by layer, times {right_text}; "
            "use randn (standard normal), not rand or uniform.")

"""Weight initializers, kept in a registry by name.

Introduced in the chapters "Zero initialization", "Large random initialization"
and "He initialization". Every initializer draws a layer's weight matrix of
shape ``(n_out, n_in)`` from a local ``numpy.random.RandomState``; biases always
start at zero. Layers are drawn in order W1, W2, ..., so with the canonical
seed 3 the numbers match the original assignment exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from course_utils._checks import check_layers_dims, check_seed

WeightDraw = Callable[[int, int, np.random.RandomState], np.ndarray]

DEFAULT_SEED = 3
LARGE_RANDOM_SCALE = 10.0

_REGISTRY: dict[str, WeightDraw] = {}


def register_initializer(name: str, draw: WeightDraw) -> None:
    """Add a weight initializer to the registry under ``name``.

    Introduced in the chapter "He initialization".

    Parameters
    ----------
    name : str
        Name to pass to :func:`initialize_parameters`.
    draw : callable
        ``draw(n_out, n_in, rng)`` returns an ``(n_out, n_in)`` weight matrix,
        drawing any randomness from ``rng`` (a ``numpy.random.RandomState``).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str; got {name!r}")
    if not callable(draw):
        raise TypeError(f"draw must be callable; got {type(draw).__name__}")
    _REGISTRY[name] = draw


def available_initializers() -> tuple[str, ...]:
    """Return the registered initializer names, sorted.

    Introduced in the chapter "He initialization".
    """
    return tuple(sorted(_REGISTRY))


def initialize_parameters(name: str, layers_dims: Sequence[int],
                          seed: int = DEFAULT_SEED, scale: float | None = None
                          ) -> dict[str, np.ndarray]:
    """Create the weights and biases of a fully connected network.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    name : str
        A registered initializer: ``"zeros"``, ``"random"`` (standard normal
        times 10, the assignment's "large random"), ``"he"`` (times
        sqrt(2 / n_in)), ``"lecun"`` (times sqrt(1 / n_in)) or ``"xavier"``
        (Glorot normal, times sqrt(2 / (n_in + n_out))).
    layers_dims : sequence of int
        Layer sizes from input to output, e.g. ``[2, 10, 5, 1]``.
    seed : int, default 3
        Seed of the local ``RandomState`` the weights are drawn from.
    scale : float, optional
        Only for ``"random"``: the factor multiplying the standard normal draws
        (default 10). Used by the scale sweep.

    Returns
    -------
    dict of str to numpy.ndarray
        ``W1, b1, ..., WL, bL`` with ``W{l}`` of shape
        ``(layers_dims[l], layers_dims[l-1])`` and ``b{l}`` of shape
        ``(layers_dims[l], 1)``.

    Examples
    --------
    >>> params = initialize_parameters("he", [2, 4, 1], seed=3)
    >>> params["W2"].round(8)
    array([[-0.03098412, -0.33744411, -0.92904268,  0.62552248]])
    """
    draw = _lookup(name)
    layers_dims = check_layers_dims(layers_dims)
    seed = check_seed(seed)
    if scale is not None:
        if name != "random":
            raise ValueError(f"scale applies only to the 'random' initializer, "
                             f"not to {name!r}")
        draw = _scaled_normal(_check_scale(scale))
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layers_dims)):
        n_in, n_out = layers_dims[layer - 1], layers_dims[layer]
        parameters[f"W{layer}"] = draw(n_out, n_in, rng)
        parameters[f"b{layer}"] = np.zeros((n_out, 1))
    return parameters


def _lookup(name: object) -> WeightDraw:
    if not isinstance(name, str):
        raise TypeError(f"initialization must be an initializer name (str); "
                        f"got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown initialization {name!r}; choose one of "
                         f"{', '.join(available_initializers())}")
    return _REGISTRY[name]


def _check_scale(scale: object) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating)):
        raise TypeError(f"scale must be a number; got {scale!r}")
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a finite number >= 0; got {scale}")
    return float(scale)


def _scaled_normal(scale: float) -> WeightDraw:
    def draw(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
        return rng.randn(n_out, n_in) * scale
    return draw


def _zeros(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    # Draws nothing from rng: the assignment's zero initialization is not random.
    return np.zeros((n_out, n_in))


def _he_normal(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    return rng.randn(n_out, n_in) * np.sqrt(2.0 / n_in)


def _lecun_normal(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    return rng.randn(n_out, n_in) * np.sqrt(1.0 / n_in)


def _xavier_normal(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    return rng.randn(n_out, n_in) * np.sqrt(2.0 / (n_in + n_out))


register_initializer("zeros", _zeros)
register_initializer("random", _scaled_normal(LARGE_RANDOM_SCALE))
register_initializer("he", _he_normal)
register_initializer("lecun", _lecun_normal)
register_initializer("xavier", _xavier_normal)

"""Weight initializers, kept in a registry by name.

Introduced in the chapters "Zero initialization", "Large random initialization"
and "He initialization". Biases start at zero, except in ``"pytorch_default"``.
Two kinds of initializer share one registry:

- *per-layer draws* (``"zeros"``, ``"random"``, ``"he"``, ``"lecun"``,
  ``"xavier"``, ``"xavier_uniform"``, ``"he_uniform"``, ``"orthogonal"``) make
  one layer's weight matrix of shape ``(n_out, n_in)`` at a time;
- *network initializers* (``"lsuv"``) see the whole list of layer sizes and may
  need a batch of data (:func:`needs_data`), and ``"pytorch_default"``, which
  draws nonzero biases as well.

Every random number comes from one local ``numpy.random.RandomState(seed)``,
drawn layer by layer in order W1, W2, ..., so with the canonical seed 3 the
numbers match the original assignment exactly. numpy's global random state is
never touched.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from course_utils._engine import ACTIVATIONS, Activation
from course_utils._validation import (
    check_features,
    check_layers_dims,
    check_positive_int,
    check_seed,
)

WeightDraw = Callable[..., np.ndarray]
"""``draw(n_out, n_in, rng, **options)`` returns an ``(n_out, n_in)`` matrix."""

NetworkInitializer = Callable[..., dict[str, np.ndarray]]
"""``build(layers_dims, rng, **options)`` returns ``{"W1": ..., "b1": ..., ...}``."""

DEFAULT_SEED = 3
LARGE_RANDOM_SCALE = 10.0
LSUV_TOLERANCE = 0.1
LSUV_MAX_PASSES = 10

# Gains that keep the variance of a signal through a layer followed by the
# nonlinearity, as tabulated by torch.nn.init.calculate_gain: tanh 5/3 (an
# empirical value), ReLU sqrt(2) (He et al. 2015), 1 for linear and sigmoid.
_RECOMMENDED_GAINS = {
    "linear": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
}

@dataclass(frozen=True)
class _Entry:
    build: NetworkInitializer
    options: frozenset[str]
    needs_data: bool


_REGISTRY: dict[str, _Entry] = {}


def register_initializer(name: str, draw: WeightDraw, *,
                         options: Iterable[str] = ()) -> None:
    """Add a per-layer weight initializer to the registry under ``name``.

    Introduced in the chapter "He initialization".

    Parameters
    ----------
    name : str
        Name to pass to :func:`initialize_parameters`.
    draw : callable
        ``draw(n_out, n_in, rng, **options)`` returns an ``(n_out, n_in)``
        weight matrix, drawing any randomness from ``rng`` (a
        ``numpy.random.RandomState``). It is called once per layer, in order.
    options : iterable of str, default ()
        Keyword options ``draw`` accepts; :func:`initialize_parameters` passes
        those the caller gives and rejects any other. ``draw`` checks their
        values.
    """
    if not callable(draw):
        raise TypeError(f"draw must be callable; got {type(draw).__name__}")
    _add(name, _layer_by_layer(draw), options, needs_data=False)


def register_network_initializer(name: str, build: NetworkInitializer, *,
                                 options: Iterable[str] = (),
                                 needs_data: bool = False) -> None:
    """Add an initializer that builds all layers at once, possibly from data.

    Introduced in the chapter "He initialization".

    Parameters
    ----------
    name : str
        Name to pass to :func:`initialize_parameters`.
    build : callable
        ``build(layers_dims, rng, **options)`` returns the dict ``W1, b1, ...,
        WL, bL``, drawing any randomness from ``rng`` in layer order.
        ``layers_dims`` is a checked tuple of positive ints.
    options : iterable of str, default ()
        Keyword options ``build`` accepts (besides ``X``); ``build`` checks
        their values.
    needs_data : bool, default False
        If true, the caller must pass a batch ``X`` of shape
        ``(layers_dims[0], m)``; it is checked and given to ``build`` as the
        keyword ``X``.
    """
    if not callable(build):
        raise TypeError(f"build must be callable; got {type(build).__name__}")
    if not isinstance(needs_data, bool):
        raise TypeError(f"needs_data must be a bool; got {needs_data!r}")
    options = set(_check_option_names(options))
    if needs_data:
        options.add("X")
    _add(name, build, options, needs_data)


def available_initializers() -> tuple[str, ...]:
    """Return the registered initializer names, sorted.

    Introduced in the chapter "He initialization".
    """
    return tuple(sorted(_REGISTRY))


def needs_data(name: str) -> bool:
    """Tell whether an initializer needs a data batch ``X`` (as ``"lsuv"`` does).

    Introduced in the chapter "He initialization".

    Parameters
    ----------
    name : str
        A registered initializer name.

    Returns
    -------
    bool
        True if :func:`initialize_parameters` must be called with ``X=batch``.

    Examples
    --------
    >>> needs_data("lsuv"), needs_data("he")
    (True, False)
    """
    return _lookup(name).needs_data


def recommended_gain(nonlinearity: str) -> float:
    """The weight gain recommended for a layer followed by ``nonlinearity``.

    Introduced in the chapter "He initialization".

    The values of the literature, as in PyTorch's ``calculate_gain``: ``"relu"``
    sqrt(2) (He et al. 2015: ReLU halves the second moment), ``"tanh"`` 5/3,
    ``"linear"`` and ``"sigmoid"`` 1.

    Parameters
    ----------
    nonlinearity : str
        ``"linear"``, ``"sigmoid"``, ``"tanh"`` or ``"relu"``.

    Returns
    -------
    float

    Examples
    --------
    >>> recommended_gain("relu") == 2 ** 0.5, recommended_gain("tanh") == 5 / 3
    (True, True)
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(f"nonlinearity must be a name (str); got {nonlinearity!r}")
    if nonlinearity not in _RECOMMENDED_GAINS:
        raise ValueError(f"nonlinearity must be one of "
                         f"{', '.join(sorted(_RECOMMENDED_GAINS))}; "
                         f"got {nonlinearity!r}")
    return _RECOMMENDED_GAINS[nonlinearity]


def initialize_parameters(name: str, layers_dims: Sequence[int],
                          seed: int = DEFAULT_SEED, **options: object
                          ) -> dict[str, np.ndarray]:
    """Create the weights and biases of a fully connected network.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    name : str
        A registered initializer (see :func:`available_initializers`):

        - ``"zeros"``: all zero, draws nothing;
        - ``"random"``: standard normal times 10, the assignment's "large
          random" (option ``scale`` replaces the 10);
        - ``"he"``: normal with variance 2 / n_in;
        - ``"lecun"``: normal with variance 1 / n_in;
        - ``"xavier"``: Glorot normal, variance 2 / (n_in + n_out);
        - ``"xavier_uniform"``: uniform on [-b, b], b = sqrt(6 / (n_in + n_out));
        - ``"he_uniform"``: uniform on [-b, b], b = sqrt(6 / n_in);
        - ``"orthogonal"``: Saxe, McClelland and Ganguli (2014),
          orthonormal rows (if n_out <= n_in) or columns (if n_out > n_in)
          times ``gain``;
        - ``"pytorch_default"``: what ``torch.nn.Linear`` draws when given no
          initializer (chapter "Deep networks: the result of He et al."):
          ``kaiming_uniform_(a=sqrt(5))``, i.e. uniform on [-b, b] with
          b = 1 / sqrt(n_in) (variance 1 / (3 n_in)), and the biases uniform
          on the same interval; per layer, W then b;
        - ``"lsuv"``: Mishkin and Matas (2015), orthogonal, then each layer in
          turn divided by the standard deviation of its pre-activations on the
          batch ``X`` until their variance is within ``tol`` of 1.
    layers_dims : sequence of int
        Layer sizes from input to output, e.g. ``[2, 10, 5, 1]``.
    seed : int, default 3
        Seed of the local ``RandomState`` the weights are drawn from.
    **options
        Options of the chosen initializer; any other raises ``ValueError``.
        An option given as ``None`` takes its default.

        - ``scale`` (``"random"``): factor multiplying the standard normal
          draws, a number >= 0, default 10. Used by the scale sweep.
        - ``gain`` (``"orthogonal"``): a number > 0 or a nonlinearity name for
          :func:`recommended_gain`, default 1.
        - ``X`` (``"lsuv"``, required): the data batch, shape
          ``(layers_dims[0], m)``, finite.
        - ``tol`` (``"lsuv"``): accepted distance of each variance from 1,
          a number > 0, default 0.1 (the paper's value).
        - ``max_passes`` (``"lsuv"``): most rescalings per layer, default 10.
        - ``activation`` (``"lsuv"``): the hidden layers' nonlinearity,
          ``"relu"`` (the course's network, default) or ``"tanh"``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``W1, b1, ..., WL, bL`` with ``W{l}`` of shape
        ``(layers_dims[l], layers_dims[l-1])`` and ``b{l}`` of shape
        ``(layers_dims[l], 1)``.

    Raises
    ------
    TypeError
        If ``name``, ``layers_dims``, ``seed`` or an option has the wrong type,
        or ``X`` is missing for an initializer that needs data.
    ValueError
        If ``name`` is unknown, an option does not apply to ``name``, or a value
        is out of range; each message names the argument.

    Examples
    --------
    >>> params = initialize_parameters("he", [2, 4, 1], seed=3)
    >>> params["W2"].round(8)
    array([[-0.03098412, -0.33744411, -0.92904268,  0.62552248]])
    >>> W = initialize_parameters("orthogonal", [5, 3], seed=3, gain="relu")["W1"]
    >>> bool(np.allclose(W @ W.T, 2 * np.eye(3)))
    True
    """
    entry = _lookup(name)
    layers_dims = check_layers_dims(layers_dims)
    seed = check_seed(seed)
    # None means "the default", as ``scale=None`` always has.
    options = {key: value for key, value in options.items() if value is not None}
    _check_options_apply(name, entry, options)
    if entry.needs_data:
        options["X"] = _check_batch(options, name, layers_dims)
    rng = np.random.RandomState(seed)
    parameters = entry.build(layers_dims, rng, **options)
    _check_built(parameters, name, layers_dims)
    return parameters


# --- The registry --------------------------------------------------------------


def _add(name: object, build: NetworkInitializer, options: Iterable[str],
         needs_data: bool) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str; got {name!r}")
    _REGISTRY[name] = _Entry(build=build, options=frozenset(
        _check_option_names(options)), needs_data=needs_data)


def _check_option_names(options: object) -> tuple[str, ...]:
    if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
        raise TypeError(f"options must be an iterable of option names; "
                        f"got {options!r}")
    names = tuple(options)
    for option in names:
        if not isinstance(option, str) or not option.isidentifier():
            raise TypeError(f"options must hold keyword names (str); got {option!r}")
    return names


def _lookup(name: object) -> _Entry:
    if not isinstance(name, str):
        raise TypeError(f"initialization must be an initializer name (str); "
                        f"got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown initialization {name!r}; choose one of "
                         f"{', '.join(available_initializers())}")
    return _REGISTRY[name]


def _check_options_apply(name: str, entry: _Entry, options: dict) -> None:
    for option in options:
        if option in entry.options:
            continue
        owners = [other for other in available_initializers()
                  if option in _REGISTRY[other].options]
        if owners:
            raise ValueError(f"{option} applies only to the "
                             f"{', '.join(map(repr, owners))} initializer"
                             f"{'s' if len(owners) > 1 else ''}, not to {name!r}")
        accepted = ", ".join(sorted(entry.options)) or "none"
        raise ValueError(f"unknown option {option!r} for the {name!r} initializer "
                         f"(its options: {accepted})")


def _check_batch(options: dict, name: str, layers_dims: tuple[int, ...]
                 ) -> np.ndarray:
    if "X" not in options:
        raise TypeError(f"the {name!r} initializer needs a data batch: pass "
                        f"X=<array of shape ({layers_dims[0]}, m)>")
    X = check_features(options["X"], "X")
    if X.shape[0] != layers_dims[0]:
        raise ValueError(f"X has {X.shape[0]} features (rows) but layers_dims[0] "
                         f"is {layers_dims[0]}")
    return X


def _check_built(parameters: object, name: str, layers_dims: tuple[int, ...]
                 ) -> None:
    # A registered initializer written by someone else must still honour the shapes.
    for layer in range(1, len(layers_dims)):
        shapes = {"W": (layers_dims[layer], layers_dims[layer - 1]),
                  "b": (layers_dims[layer], 1)}
        for kind, shape in shapes.items():
            value = parameters.get(f"{kind}{layer}") if isinstance(
                parameters, dict) else None
            if np.shape(value) != shape:
                raise ValueError(f"initializer {name!r} returned {kind}{layer} of "
                                 f"shape {np.shape(value)}; expected {shape}")


def _layer_by_layer(draw: WeightDraw) -> NetworkInitializer:
    def build(layers_dims: tuple[int, ...], rng: np.random.RandomState,
              **options: object) -> dict[str, np.ndarray]:
        parameters = {}
        for layer in range(1, len(layers_dims)):
            n_in, n_out = layers_dims[layer - 1], layers_dims[layer]
            parameters[f"W{layer}"] = draw(n_out, n_in, rng, **options)
            parameters[f"b{layer}"] = np.zeros((n_out, 1))
        return parameters
    return build


# --- Option values -------------------------------------------------------------


def _check_number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}")
    return float(value)


def _check_scale(scale: object) -> float:
    scale = _check_number(scale, "scale")
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a finite number >= 0; got {scale}")
    return scale


def _check_gain(gain: object) -> float:
    if isinstance(gain, str):
        if gain not in _RECOMMENDED_GAINS:
            raise ValueError(f"gain must be a number > 0 or one of "
                             f"{', '.join(sorted(_RECOMMENDED_GAINS))}; "
                             f"got {gain!r}")
        return _RECOMMENDED_GAINS[gain]
    gain = _check_number(gain, "gain")
    if not np.isfinite(gain) or gain <= 0:
        raise ValueError(f"gain must be a finite number > 0; got {gain}")
    return gain


def _check_tol(tol: object) -> float:
    tol = _check_number(tol, "tol")
    if not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"tol must be a finite number > 0; got {tol}")
    return tol


def _check_activation(activation: object) -> Activation:
    # The training engine's activations; the option is named ``activation``.
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of "
                         f"{', '.join(sorted(ACTIVATIONS))}; "
                         f"got {activation!r}")
    return ACTIVATIONS[activation]


# --- Per-layer draws -----------------------------------------------------------


def _zeros(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    # Draws nothing from rng: the assignment's zero initialization is not random.
    return np.zeros((n_out, n_in))


def _large_random(n_out: int, n_in: int, rng: np.random.RandomState,
                  scale: object = LARGE_RANDOM_SCALE) -> np.ndarray:
    scale = _check_scale(scale)
    return rng.randn(n_out, n_in) * scale


def _he_normal(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    return rng.randn(n_out, n_in) * np.sqrt(2.0 / n_in)


def _lecun_normal(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    return rng.randn(n_out, n_in) * np.sqrt(1.0 / n_in)


def _xavier_normal(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    return rng.randn(n_out, n_in) * np.sqrt(2.0 / (n_in + n_out))


def _xavier_uniform(n_out: int, n_in: int, rng: np.random.RandomState
                    ) -> np.ndarray:
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_out, n_in))


def _he_uniform(n_out: int, n_in: int, rng: np.random.RandomState) -> np.ndarray:
    bound = np.sqrt(6.0 / n_in)
    return rng.uniform(-bound, bound, size=(n_out, n_in))


def _orthogonal(n_out: int, n_in: int, rng: np.random.RandomState,
                gain: object = 1.0) -> np.ndarray:
    gain = _check_gain(gain)
    gaussian = rng.randn(n_out, n_in)
    # QR needs the tall orientation: (larger, smaller), orthonormal columns.
    tall = gaussian if n_out >= n_in else gaussian.T
    q, r = np.linalg.qr(tall)
    # QR is unique only up to the signs of R's diagonal, which LAPACK builds
    # choose differently; fixing diag(R) > 0 makes Q a function of the draw
    # alone (and Haar-distributed, Mezzadri 2007).
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q = q * signs
    return gain * (q if n_out >= n_in else q.T)


def _pytorch_default(layers_dims: tuple[int, ...], rng: np.random.RandomState
                     ) -> dict[str, np.ndarray]:
    # torch/nn/modules/linear.py, Linear.reset_parameters: the weight from
    # kaiming_uniform_(a=sqrt(5)), whose bound sqrt(3) * gain / sqrt(fan_in)
    # with gain sqrt(2 / (1 + 5)) is 1 / sqrt(fan_in); then the bias, uniform
    # on [-1 / sqrt(fan_in), 1 / sqrt(fan_in)].
    parameters = {}
    for layer in range(1, len(layers_dims)):
        n_in, n_out = layers_dims[layer - 1], layers_dims[layer]
        bound = 1.0 / np.sqrt(n_in)
        parameters[f"W{layer}"] = rng.uniform(-bound, bound, size=(n_out, n_in))
        parameters[f"b{layer}"] = rng.uniform(-bound, bound, size=(n_out, 1))
    return parameters


# --- LSUV ----------------------------------------------------------------------


def _lsuv(layers_dims: tuple[int, ...], rng: np.random.RandomState, *,
          X: np.ndarray, tol: object = LSUV_TOLERANCE,
          max_passes: object = LSUV_MAX_PASSES,
          activation: object = "relu") -> dict[str, np.ndarray]:
    tol = _check_tol(tol)
    max_passes = check_positive_int(max_passes, "max_passes")
    hidden_activation = _check_activation(activation)
    parameters = _layer_by_layer(_orthogonal)(layers_dims, rng)
    n_layers = len(layers_dims) - 1
    A = X
    for layer in range(1, n_layers + 1):
        W = _unit_variance_weights(parameters[f"W{layer}"], parameters[f"b{layer}"],
                                   A, tol, max_passes, layer)
        parameters[f"W{layer}"] = W
        if layer < n_layers:
            A = np.dot(W, A) + parameters[f"b{layer}"]
            hidden_activation.forward(A, A)
    return parameters


def _unit_variance_weights(W: np.ndarray, b: np.ndarray, A_prev: np.ndarray,
                           tol: float, max_passes: int, layer: int) -> np.ndarray:
    """Rescale W until Var(W A_prev + b) is within tol of 1 (Mishkin & Matas)."""
    passes = 0
    while True:
        variance = float(np.var(np.dot(W, A_prev) + b))
        if not variance > 0 or not np.isfinite(variance):
            raise ValueError(
                f"LSUV cannot rescale layer {layer}: its pre-activations on the "
                f"batch X have variance {variance}; pass an X whose examples "
                "differ (and more than one example)")
        if abs(variance - 1.0) < tol:
            return W
        if passes == max_passes:
            warnings.warn(f"LSUV: layer {layer} has pre-activation variance "
                          f"{variance:.4g} after max_passes={max_passes} "
                          "rescalings", RuntimeWarning, stacklevel=4)
            return W
        W = W / np.sqrt(variance)
        passes += 1


register_initializer("zeros", _zeros)
register_initializer("random", _large_random, options=("scale",))
register_initializer("he", _he_normal)
register_initializer("lecun", _lecun_normal)
register_initializer("xavier", _xavier_normal)
register_initializer("xavier_uniform", _xavier_uniform)
register_initializer("he_uniform", _he_uniform)
register_initializer("orthogonal", _orthogonal, options=("gain",))
register_network_initializer("pytorch_default", _pytorch_default)
register_network_initializer("lsuv", _lsuv, options=("tol", "max_passes",
                                                     "activation"),
                             needs_data=True)

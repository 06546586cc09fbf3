"""Input validation shared by the public functions of ``course_utils``.

Every public function checks its arguments here, so that bad input fails with a
message naming the argument instead of a shape error deep inside numpy.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np


def check_features(X: object, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float array of shape (n_features, m)."""
    array = _as_numeric_array(X, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_features, m_examples); "
            f"got an array with shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature and one example; "
                         f"got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; every entry "
                         "must be a finite number")
    return array.astype(float, copy=False)


def check_labels(Y: object, m_examples: int, name: str = "Y") -> np.ndarray:
    """Return ``Y`` as an array of shape (1, m) holding only 0 and 1."""
    array = _as_numeric_array(Y, name)
    if array.ndim != 2 or array.shape[0] != 1:
        raise ValueError(f"{name} must be a 2-D array of shape (1, m_examples); "
                         f"got an array with shape {array.shape}")
    if array.shape[1] != m_examples:
        raise ValueError(
            f"{name} has {array.shape[1]} examples but X has {m_examples}; "
            "X and Y must have the same number of columns"
        )
    if not np.all((array == 0) | (array == 1)):
        raise ValueError(f"{name} must contain only the labels 0 and 1")
    return array


def check_layers_dims(layers_dims: object,
                      name: str = "layers_dims") -> tuple[int, ...]:
    """Return ``layers_dims`` as a tuple of at least two positive ints."""
    if isinstance(layers_dims, (str, bytes)) or not isinstance(layers_dims, Sequence):
        raise TypeError(f"{name} must be a sequence of layer sizes such as "
                        f"[2, 10, 5, 1]; got {type(layers_dims).__name__}")
    if len(layers_dims) < 2:
        raise ValueError(f"{name} needs at least an input and an output size; "
                         f"got {list(layers_dims)}")
    sizes = []
    for index, size in enumerate(layers_dims):
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"{name}[{index}] must be an int; got {size!r}")
        if size <= 0:
            raise ValueError(f"{name}[{index}] must be a positive layer size; "
                             f"got {size}")
        sizes.append(int(size))
    return tuple(sizes)


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an int greater than zero."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


def check_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` if numpy's RandomState accepts it (an int in [0, 2**32))."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"{name} must be between 0 and 2**32 - 1; got {seed}")
    return int(seed)


def check_seeds(seeds: object, name: str = "seeds") -> list[int]:
    """Return ``seeds`` as a non-empty list of valid seeds (repeats allowed)."""
    if isinstance(seeds, (str, bytes)) or np.ndim(seeds) != 1:
        raise TypeError(f"{name} must be a sequence of ints such as [1, 2, 3]; "
                        f"got {seeds!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError(f"{name} must hold at least one seed; got an empty "
                         "sequence")
    return [check_seed(seed, f"{name}[{index}]") for index, seed in enumerate(seeds)]


def check_non_negative_float(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value}")
    return float(value)


def check_parameters(parameters: object, name: str = "parameters") -> int:
    """Check a ``{"W1", "b1", ...}`` dict for consistent shapes; return its depth."""
    if not isinstance(parameters, Mapping):
        raise TypeError(f"{name} must be a dict with keys 'W1', 'b1', ...; "
                        f"got {type(parameters).__name__}")
    n_layers = len(parameters) // 2
    expected = {f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in "Wb"}
    if n_layers == 0 or set(parameters) != expected:
        raise ValueError(f"{name} must hold W1, b1, ..., WL, bL for some depth L; "
                         f"got keys {sorted(parameters)}")
    weights, biases = [], []
    for layer in range(1, n_layers + 1):
        W = _as_numeric_array(parameters[f"W{layer}"], f"{name}['W{layer}']")
        b = _as_numeric_array(parameters[f"b{layer}"], f"{name}['b{layer}']")
        if W.ndim != 2:
            raise ValueError(f"{name}['W{layer}'] must be 2-D; got shape {W.shape}")
        weights.append(W.shape)
        biases.append(b.shape)
    for layer in range(1, n_layers + 1):
        _check_layer_shapes(weights, biases, layer, name)
    return n_layers


def _check_layer_shapes(weights: list[tuple[int, ...]], biases: list[tuple[int, ...]],
                        layer: int, name: str) -> None:
    """Check layer ``layer``'s W and b against each other and their neighbours.

    When ``W`` and ``b`` disagree on the number of units, the neighbours decide
    which of the two is wrong: a transposed ``W1`` is named as ``W1``, not as
    the ``b1`` that no longer matches it.
    """
    W, b = weights[layer - 1], biases[layer - 1]
    units_in = weights[layer - 2][0] if layer > 1 else None
    units_next = weights[layer][1] if layer < len(weights) else None
    b_units = b[0] if len(b) == 2 and b[1] == 1 else None
    if W[0] != b_units:
        # b's rows are the units if W is the odd one out: its rows disagree
        # with the next layer's columns, or its columns with the previous
        # layer's units.
        w_is_wrong = b_units is not None and (
            units_next == b_units if units_next is not None
            else units_in is not None and W[1] != units_in)
        if not w_is_wrong:
            raise ValueError(f"{name}['b{layer}'] must have shape {(W[0], 1)} to "
                             f"match W{layer}; got {b}")
        if units_in is None:  # layer 1: its inputs are W's other dimension
            units_in = W[0] if W[1] == b_units else W[1]
        expected = (b_units, units_in)
        hint = "; it looks transposed" if expected[::-1] == W else ""
        raise ValueError(f"{name}['W{layer}'] has shape {W} but layer {layer} has "
                         f"{b_units} unit{'s' * (b_units != 1)} (the rows of b{layer}) "
                         f"and {expected[1]} input{'s' * (expected[1] != 1)}: "
                         f"expected shape {expected}{hint}")
    if units_in is not None and W[1] != units_in:
        raise ValueError(f"{name}['W{layer}'] has {W[1]} columns but "
                         f"layer {layer - 1} has {units_in} units")


def check_input_width(X: np.ndarray, parameters: Mapping, name: str = "X") -> None:
    """Check that ``X`` has as many rows as ``W1`` has columns."""
    n_inputs = np.shape(parameters["W1"])[1]
    if X.shape[0] != n_inputs:
        raise ValueError(f"{name} has {X.shape[0]} features (rows) but the network "
                         f"expects {n_inputs}")


def _as_numeric_array(value: object, name: str) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array; got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{name} must be a numeric array; numpy could not convert "
                        f"it ({error})") from None
    if array.dtype == bool:
        array = array.astype(int)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    return array

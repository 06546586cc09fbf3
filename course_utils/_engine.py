"""The training engine behind ``train``: preallocated buffers and a flat step plan.

Private. ``train`` used to rebuild dicts, caches and temporaries at every
iteration; profiling showed that for the canonical network (arrays of at most
3000 numbers) the arithmetic is a small part of an iteration and the rest is
Python and numpy call overhead. The engine keeps the *same numpy calls on the
same shapes, layouts and transposes in the same order* (so the results are
bitwise those of the straightforward code: ``np.dot(W, A)``,
``np.dot(dZ, A_prev.T)``, ``np.dot(W.T, dZ)``, ``np.add.reduce`` over the
contiguous axis, ``W - (lr * dW)``) and only removes the overhead:

- every array is allocated once; each call writes into its buffer (``out=``);
- the parameters and the gradients are views into two flat arrays, so the
  update of all layers is two ufunc calls;
- one iteration is a precomputed list of ``functools.partial`` objects
  (a "plan"), run by a loop with no dicts, f-strings or named tuples in it;
- the cost is computed only at the iterations where it is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

# Offsets in the flat arrays are rounded up to this many float64 (64 bytes), so
# that every parameter view is at least as aligned as a freshly allocated array.
_ALIGN = 8


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation: its forward map and its derivative.

    ``forward(Z, out)`` writes ``g(Z)`` into ``out``. ``backward(dA, A, scratch)``
    multiplies ``dA`` in place by ``g'`` expressed through the layer's output
    ``A`` (both ReLU and tanh have that form). ``scratch`` is a buffer of
    ``scratch_dtype`` shaped like ``A``.
    """

    name: str
    forward: Callable[[np.ndarray, np.ndarray], object]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], object]
    scratch_dtype: type
    # A pre-activation whose activation is exactly 1.0 (used by the batched
    # engine for a constant unit that carries the next layer's bias).
    input_for_one: float


def _relu_forward(Z: np.ndarray, out: np.ndarray) -> None:
    np.maximum(0, Z, out=out)


def _relu_backward(dA: np.ndarray, A: np.ndarray, mask: np.ndarray) -> None:
    # ReLU's derivative is 1 where its output is positive, else 0. Multiplying
    # by the 0/1 mask (not selecting) keeps -0.0 and nan exactly as dA * 0.
    np.greater(A, 0, out=mask)
    np.multiply(dA, mask, out=dA)


def _tanh_forward(Z: np.ndarray, out: np.ndarray) -> None:
    np.tanh(Z, out=out)


def _tanh_backward(dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> None:
    # tanh'(Z) = 1 - tanh(Z)**2 = 1 - A * A.
    np.multiply(A, A, out=scratch)
    np.subtract(1, scratch, out=scratch)
    np.multiply(dA, scratch, out=dA)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", _relu_forward, _relu_backward, np.bool_, 1.0),
    # tanh(40) rounds to exactly 1.0 (1 - tanh(40) is about 4e-35).
    "tanh": Activation("tanh", _tanh_forward, _tanh_backward, np.float64, 40.0),
}


def check_activation(name: object) -> Activation:
    """Return the activation called ``name``; bad names name the argument."""
    if not isinstance(name, str):
        raise TypeError(f"hidden_activation must be a str such as 'relu'; "
                        f"got {type(name).__name__}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown hidden_activation {name!r}; choose one of "
                         f"{', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[name]


def sigmoid_into(Z: np.ndarray, out: np.ndarray) -> None:
    """``out = 1 / (1 + exp(-Z))`` in the same four operations as the formula."""
    np.negative(Z, out=out)
    np.exp(out, out=out)
    np.add(1, out, out=out)
    np.divide(1, out, out=out)


def _flat_views(shapes: list[tuple[int, int]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One zeroed flat array and a C-contiguous view into it per shape."""
    offsets = []
    size = 0
    for rows, columns in shapes:
        offsets.append(size)
        size += -(-rows * columns // _ALIGN) * _ALIGN
    # Over-allocate so that the first element can sit on a 64-byte boundary.
    raw = np.zeros(size + _ALIGN)
    start = (-raw.ctypes.data % 64) // 8
    flat = raw[start:start + size]
    views = [flat[offset:offset + rows * columns].reshape(rows, columns)
             for offset, (rows, columns) in zip(offsets, shapes, strict=True)]
    return flat, views


class Network:
    """Buffers and step plans for training one network on fixed ``X`` and ``Y``.

    ``parameters`` is copied into the engine's flat storage; read the trained
    values back with :meth:`parameters`.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray,
                 parameters: Mapping[str, np.ndarray], activation: Activation,
                 learning_rate: float) -> None:
        n_layers = len(parameters) // 2
        names = [f"{kind}{layer}" for layer in range(1, n_layers + 1)
                 for kind in "Wb"]
        shapes = [np.shape(parameters[name]) for name in names]
        self._names = names
        self.flat, views = _flat_views(shapes)
        self._views = views
        grad_flat, grad_views = _flat_views(shapes)
        for view, name in zip(views, names, strict=True):
            view[...] = parameters[name]
        self.X, self.Y = X, Y
        m = X.shape[1]
        Ws, bs = views[0::2], views[1::2]
        dWs, dbs = grad_views[0::2], grad_views[1::2]
        Zs = [np.empty((W.shape[0], m)) for W in Ws]
        As = [np.empty((W.shape[0], m)) for W in Ws]
        self.AL = As[-1]
        inputs = [X, *As[:-1]]

        forward: list[Callable[[], object]] = []
        for layer, (W, b, Z, A, A_prev) in enumerate(
                zip(Ws, bs, Zs, As, inputs, strict=True), start=1):
            forward.append(partial(np.dot, W, A_prev, out=Z))
            forward.append(partial(np.add, Z, b, out=Z))
            if layer == n_layers:
                forward.append(partial(sigmoid_into, Z, A))
            else:
                forward.append(partial(activation.forward, Z, A))

        backward: list[Callable[[], object]] = []
        # Sigmoid and cross-entropy together give dZ = (1/m) * (AL - Y).
        dZ = np.empty_like(As[-1])
        backward.append(partial(np.subtract, As[-1], Y, out=dZ))
        backward.append(partial(np.multiply, 1.0 / m, dZ, out=dZ))
        for index in range(n_layers - 1, -1, -1):
            A_prev = inputs[index]
            backward.append(partial(np.dot, dZ, A_prev.T, out=dWs[index]))
            # np.sum(dZ, axis=1, keepdims=True) is this reduction.
            backward.append(partial(np.add.reduce, dZ, axis=1, keepdims=True,
                                    out=dbs[index]))
            if index > 0:
                dA_prev = np.empty_like(A_prev)
                scratch = np.empty(A_prev.shape, dtype=activation.scratch_dtype)
                backward.append(partial(np.dot, Ws[index].T, dZ, out=dA_prev))
                backward.append(partial(activation.backward, dA_prev, A_prev,
                                        scratch))
                dZ = dA_prev
        step = np.empty_like(self.flat)
        update = [partial(np.multiply, learning_rate, grad_flat, out=step),
                  partial(np.subtract, self.flat, step, out=self.flat)]
        self.forward_plan = tuple(forward)
        self.backward_plan = tuple(backward + update)
        self.step_plan = tuple(forward + backward + update)

    def forward(self) -> np.ndarray:
        """Run the forward pass; return the output buffer ``AL``."""
        for call in self.forward_plan:
            call()
        return self.AL

    def backward_and_update(self) -> None:
        """Finish the step whose forward pass :meth:`forward` just ran."""
        for call in self.backward_plan:
            call()

    def run(self, iterations: int) -> None:
        """Do ``iterations`` full gradient-descent steps."""
        plan = self.step_plan
        for _ in range(iterations):
            for call in plan:
                call()

    def parameters(self) -> dict[str, np.ndarray]:
        """A copy of the current parameters as ``{"W1": ..., "b1": ...}``."""
        return {name: view.copy()
                for name, view in zip(self._names, self._views, strict=True)}


def _float_mask_relu_backward(dA: np.ndarray, A: np.ndarray,
                              mask: np.ndarray) -> None:
    # The batched engine need not be bitwise: a float 0/1 mask avoids the slow
    # bool-to-float cast inside the multiplication.
    np.greater(A, 0, out=mask)
    np.multiply(dA, mask, out=dA)


# The batched engine's variants, where they differ from the exact ones.
_BATCHED_BACKWARD = {"relu": (_float_mask_relu_backward, np.float64)}


class Batch:
    """Buffers and step plan for training one network per seed at once.

    ``stacked`` holds one parameter dict per network (all the same shapes).
    Layer ``l`` of all ``S`` networks is one array of shape
    ``(S, rows, n_{l-1} + 2)``: the weights, then the bias as the column that
    multiplies a constant unit. Every hidden layer has one extra, constant
    unit (incoming weights 0, bias chosen so that its activation is exactly
    1.0, never updated) that feeds the next layer's bias; the input gets a row
    of ones. So ``W A + b`` is a single matrix product and so are ``dW`` and
    ``db`` together, with no bias passes and no strided copies. The first
    layer's input ``X`` is shared, so its forward and weight-gradient products
    are single products over all ``S * rows`` rows; deeper layers use
    ``numpy.matmul`` on the stacks. Results equal separate runs up to rounding
    (the bias enters the sums in another order), not bitwise.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray,
                 stacked: list[Mapping[str, np.ndarray]], activation: Activation,
                 learning_rate: float) -> None:
        S = len(stacked)
        n_layers = len(stacked[0]) // 2
        sizes = [X.shape[0]] + [stacked[0][f"W{layer}"].shape[0]
                                for layer in range(1, n_layers + 1)]
        m = X.shape[1]
        self.S, self.m, self.sizes, self.Y = S, m, sizes, Y
        # Units per layer including the constant one (none in the output layer).
        units = [size + 1 for size in sizes[:-1]] + [sizes[-1]]
        shapes = [(S * units[layer], units[layer - 1])
                  for layer in range(1, n_layers + 1)]
        self.flat, joined = _flat_views(shapes)
        grad_flat, grad_joined = _flat_views(shapes)
        # Per-parameter learning rates, laid out like the parameters.
        rates, rate_joined = _flat_views(shapes)
        Ws = [view.reshape(S, units[layer], units[layer - 1])
              for layer, view in enumerate(joined, start=1)]
        dWs = [view.reshape(W.shape) for view, W in zip(grad_joined, Ws, strict=True)]
        rate_views = [view.reshape(W.shape) for view, W in zip(rate_joined, Ws,
                                                                strict=True)]
        for layer, (W, rate) in enumerate(zip(Ws, rate_views, strict=True),
                                          start=1):
            n_out = sizes[layer]
            for s, parameters in enumerate(stacked):
                W[s, :n_out, :-1] = parameters[f"W{layer}"]
                W[s, :n_out, -1:] = parameters[f"b{layer}"]
            # Only the real units learn; the constant unit's row stays fixed.
            rate[:, :n_out, :] = learning_rate
            if layer < n_layers:
                W[:, n_out, -1] = activation.input_for_one
        self.Ws, self.sizes = Ws, sizes
        X_ones = np.ones((units[0], m))
        X_ones[:-1] = X
        Zs = [np.empty((S, rows, m)) for rows in units[1:]]
        As = [np.empty((S, rows, m)) for rows in units[1:]]
        self.AL = As[-1]
        backward_fn, scratch_dtype = _BATCHED_BACKWARD.get(
            activation.name, (activation.backward, activation.scratch_dtype))

        forward: list[Callable[[], object]] = []
        for index in range(n_layers):
            if index == 0:
                forward.append(partial(np.dot, joined[0], X_ones,
                                       out=Zs[0].reshape(S * units[1], m)))
            else:
                forward.append(partial(np.matmul, Ws[index], As[index - 1],
                                       out=Zs[index]))
            if index == n_layers - 1:
                forward.append(partial(sigmoid_into, Zs[index], As[index]))
            else:
                forward.append(partial(activation.forward, Zs[index], As[index]))
        plan = list(forward)
        dZ = Zs[-1]  # the pre-activations are not needed after the forward pass
        plan.append(partial(np.subtract, As[-1], Y, out=dZ))
        plan.append(partial(np.multiply, 1.0 / m, dZ, out=dZ))
        for index in range(n_layers - 1, 0, -1):
            plan.append(partial(np.matmul, dZ, As[index - 1].transpose(0, 2, 1),
                                out=dWs[index]))
            dA = Zs[index - 1]
            W_T = Ws[index].transpose(0, 2, 1)
            if Ws[index].shape[1] == 1:
                # An outer product per network: a broadcast multiplication is
                # one pass, where matmul would make one BLAS call per network.
                plan.append(partial(np.multiply, W_T, dZ, out=dA))
            else:
                plan.append(partial(np.matmul, W_T, dZ, out=dA))
            plan.append(partial(backward_fn, dA, As[index - 1],
                                np.empty(dA.shape, scratch_dtype)))
            dZ = dA
        plan.append(partial(np.dot, dZ.reshape(S * units[1], m), X_ones.T,
                            out=grad_joined[0]))
        step = np.empty_like(self.flat)
        plan.append(partial(np.multiply, rates, grad_flat, out=step))
        plan.append(partial(np.subtract, self.flat, step, out=self.flat))
        self.forward_plan = tuple(forward)
        self.step_plan = tuple(plan)

    def forward(self) -> np.ndarray:
        """Run the forward pass; return the outputs, shape ``(S, 1, m)``."""
        for call in self.forward_plan:
            call()
        return self.AL

    def run(self, iterations: int) -> None:
        """Do ``iterations`` full gradient-descent steps of every network."""
        plan = self.step_plan
        for _ in range(iterations):
            for call in plan:
                call()

    def costs(self) -> np.ndarray:
        """The cross-entropy of every network, as ``_nansum_cost`` computes it."""
        AL, Y = self.forward(), self.Y
        with np.errstate(divide="ignore", invalid="ignore"):
            logprobs = (np.multiply(-np.log(AL), Y)
                        + np.multiply(-np.log(1 - AL), 1 - Y))
        return 1.0 / self.m * np.nansum(logprobs, axis=(1, 2))

    def parameters(self, s: int) -> dict[str, np.ndarray]:
        """A copy of network ``s``'s parameters as ``{"W1": ..., "b1": ...}``."""
        out = {}
        for layer, W in enumerate(self.Ws, start=1):
            n_out = self.sizes[layer]
            out[f"W{layer}"] = W[s, :n_out, :-1].copy()
            out[f"b{layer}"] = W[s, :n_out, -1:].copy()
        return out


# --- Normalization and residual blocks ----------------------------------------
#
# The networks with normalization layers or residual blocks run on these
# straightforward functions instead of a step plan: they are written once for
# a single network (arrays of shape (n, m)) and for a stack of networks
# (a leading axis S: weights (S, n_out, n_in), activations (S, n, m)), since
# ``@``, ``swapaxes`` and reductions over the last axes broadcast alike.

NORMALIZATIONS = ("batch", "layer")
# Added to the variance before the square root, PyTorch's default for both
# BatchNorm1d and LayerNorm.
NORM_EPSILON = 1e-5


@dataclass(frozen=True)
class Architecture:
    """What the general forward and backward passes need to know."""

    activation: Activation
    normalization: str | None
    blocks: frozenset[int]


class BlockCache(NamedTuple):
    """What one layer of a normalized or residual network keeps for backward.

    ``A_prev`` is the layer's input, ``Z`` its pre-activation ``W h + b``,
    ``A`` its output. For a normalized layer ``Zhat`` is ``Z`` standardized,
    ``inv_std`` is ``1 / sqrt(var + eps)`` and ``mean``, ``var`` the statistics
    used. For a residual block ``H`` is the branch input ``g(A_prev)`` and
    ``A = A_prev + alpha * Z``. Unused fields are None.
    """

    A_prev: np.ndarray
    Z: np.ndarray
    A: np.ndarray
    Zhat: np.ndarray | None = None
    inv_std: np.ndarray | None = None
    mean: np.ndarray | None = None
    var: np.ndarray | None = None
    H: np.ndarray | None = None


def residual_blocks(sizes: tuple[int, ...]) -> frozenset[int]:
    """The layers that become residual blocks: hidden, after the first, and as
    wide as the layer before them."""
    return frozenset(layer for layer in range(2, len(sizes) - 1)
                     if sizes[layer] == sizes[layer - 1])


def _normalization_axis(normalization: str) -> int:
    # Batch normalization: over the examples (last axis); layer: over the units.
    return -1 if normalization == "batch" else -2


def general_forward(X: np.ndarray, parameters: Mapping[str, np.ndarray],
                    architecture: Architecture, recorded: bool = False
                    ) -> tuple[np.ndarray, list[BlockCache]]:
    """Forward pass of a network with normalization and/or residual blocks.

    ``recorded=True`` normalizes batch-normalized layers with the statistics
    ``mean{l}`` and ``var{l}`` in ``parameters`` instead of the batch's own.
    """
    n_layers = sum(1 for key in parameters if key.startswith("W"))
    activation = architecture.activation
    caches = []
    A = X
    for layer in range(1, n_layers + 1):
        W, b = parameters[f"W{layer}"], parameters[f"b{layer}"]
        if layer in architecture.blocks:
            # Pre-activation block: A + alpha * (W g(A) + b).
            H = np.empty(A.shape)
            activation.forward(A, H)
            Z = W @ H + b
            A_next = A + parameters[f"alpha{layer}"] * Z
            caches.append(BlockCache(A_prev=A, Z=Z, A=A_next, H=H))
            A = A_next
            continue
        Z = W @ A + b
        if layer == n_layers:
            A_next = np.empty_like(Z)
            with np.errstate(over="ignore"):
                sigmoid_into(Z, A_next)
            caches.append(BlockCache(A_prev=A, Z=Z, A=A_next))
            return A_next, caches
        if architecture.normalization is None:
            A_next = np.empty_like(Z)
            activation.forward(Z, A_next)
            caches.append(BlockCache(A_prev=A, Z=Z, A=A_next))
            A = A_next
            continue
        axis = _normalization_axis(architecture.normalization)
        if recorded and architecture.normalization == "batch":
            mean, var = parameters[f"mean{layer}"], parameters[f"var{layer}"]
        else:
            mean = _mean(Z, axis)
            centered = Z - mean
            var = _mean(np.square(centered), axis)
        inv_std = 1.0 / np.sqrt(var + NORM_EPSILON)
        Zhat = Z - mean if recorded else centered
        Zhat *= inv_std
        # The activation overwrites U: only its output is needed later.
        A_next = parameters[f"gamma{layer}"] * Zhat
        A_next += parameters[f"beta{layer}"]
        activation.forward(A_next, A_next)
        caches.append(BlockCache(A_prev=A, Z=Z, A=A_next, Zhat=Zhat,
                                 inv_std=inv_std, mean=mean, var=var))
        A = A_next
    raise AssertionError("unreachable: the output layer returns")


def _mean(array: np.ndarray, axis: int) -> np.ndarray:
    # np.mean, without its Python overhead (a third of a step on these sizes).
    return np.add.reduce(array, axis=axis, keepdims=True) / array.shape[axis]


def _sum_over_examples(array: np.ndarray) -> np.ndarray:
    return np.add.reduce(array, axis=-1, keepdims=True)


def general_backward(Y: np.ndarray, parameters: Mapping[str, np.ndarray],
                     caches: Sequence[BlockCache], architecture: Architecture
                     ) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for :func:`general_forward`'s network.

    Batch statistics are differentiated through (training mode).
    """
    n_layers = len(caches)
    m = Y.shape[-1]
    activation = architecture.activation
    grads: dict[str, np.ndarray] = {}
    dA = None
    for layer in range(n_layers, 0, -1):
        cache = caches[layer - 1]
        W = parameters[f"W{layer}"]
        if layer == n_layers:
            dZ = (cache.A - Y) / m
            inputs = cache.A_prev
        elif layer in architecture.blocks:
            alpha = parameters[f"alpha{layer}"]
            grads[f"dalpha{layer}"] = np.add.reduce(
                _sum_over_examples(dA * cache.Z), axis=-2, keepdims=True)
            dZ = alpha * dA
            inputs = cache.H
        else:
            dU = dA.copy()
            activation.backward(dU, cache.A,
                                np.empty(dU.shape, activation.scratch_dtype))
            if architecture.normalization is None:
                dZ = dU
            else:
                gamma = parameters[f"gamma{layer}"]
                dgamma = _sum_over_examples(dU * cache.Zhat)
                dbeta = _sum_over_examples(dU)
                grads[f"dgamma{layer}"], grads[f"dbeta{layer}"] = dgamma, dbeta
                # dZ = inv_std * (dZhat - mean(dZhat) - Zhat * mean(dZhat * Zhat))
                # with dZhat = gamma * dU, the means over the normalized axis.
                dZ = gamma * dU
                if architecture.normalization == "batch":
                    # Over the examples those means are gamma * dbeta / m and
                    # gamma * dgamma / m, already summed above.
                    mean_dZhat = gamma * dbeta / m
                    mean_dZhat_Zhat = gamma * dgamma / m
                else:
                    mean_dZhat = _mean(dZ, -2)
                    mean_dZhat_Zhat = _mean(dZ * cache.Zhat, -2)
                dZ -= mean_dZhat
                dZ -= cache.Zhat * mean_dZhat_Zhat
                dZ *= cache.inv_std
            inputs = cache.A_prev
        grads[f"dW{layer}"] = dZ @ np.swapaxes(inputs, -1, -2)
        grads[f"db{layer}"] = _sum_over_examples(dZ)
        if layer == 1:
            break
        dInputs = np.swapaxes(W, -1, -2) @ dZ
        if layer in architecture.blocks:
            # Through the branch's activation g(A_prev), then the identity.
            activation.backward(dInputs, cache.H,
                                np.empty(dInputs.shape, activation.scratch_dtype))
            dA = dA + dInputs
        else:
            dA = dInputs
    return grads


def stacked_costs(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Cross-entropy as ``_nansum_cost`` computes it, one value per network."""
    m = Y.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = (np.multiply(-np.log(AL), Y)
                    + np.multiply(-np.log(1 - AL), 1 - Y))
    return 1.0 / m * np.nansum(logprobs, axis=(-2, -1))


def general_train(X: np.ndarray, Y: np.ndarray,
                  parameters: dict[str, np.ndarray], architecture: Architecture,
                  learning_rate: float, num_iterations: int, record_every: int
                  ) -> tuple[list[np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """Full-batch gradient descent on a (possibly stacked) general network.

    ``parameters`` is updated in place. Returns the costs recorded before the
    update of every ``record_every``-th iteration, the final costs, and the
    batch statistics of the final forward pass (``mean{l}``, ``var{l}``; for
    batch normalization only).
    """
    recorded = []
    with np.errstate(over="ignore"):
        for iteration in range(num_iterations):
            AL, caches = general_forward(X, parameters, architecture)
            if iteration % record_every == 0:
                recorded.append(stacked_costs(AL, Y))
            grads = general_backward(Y, parameters, caches, architecture)
            for key, value in parameters.items():
                value -= learning_rate * grads[f"d{key}"]
        AL, caches = general_forward(X, parameters, architecture)
    statistics = {}
    if architecture.normalization == "batch":
        for layer, cache in enumerate(caches, start=1):
            if cache.mean is not None:
                statistics[f"mean{layer}"] = cache.mean
                statistics[f"var{layer}"] = cache.var
    return recorded, stacked_costs(AL, Y), statistics

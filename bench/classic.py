"""The plain classic training loop, kept only to compare ``course_utils.train`` with.

This is the textbook way to write the assignment's ``model()``: parameters in a
dict, forward and backward as separate functions that pass caches, the cost
computed at every iteration (and printed only every 1000), the update as a
loop over the dict. It is written independently of ``course_utils.network``
and used twice: as the speed baseline of ``bench`` and as the second
implementation that ``tests/test_engine.py`` checks ``train`` against.
"""

from __future__ import annotations

import numpy as np


def initialize(layers_dims, kind="he", seed=3):
    """Weights from ``RandomState(seed).randn`` in layer order; zero biases."""
    rng = np.random.RandomState(seed)
    parameters = {}
    for l in range(1, len(layers_dims)):  # noqa: E741 (the assignment's name)
        shape = (layers_dims[l], layers_dims[l - 1])
        if kind == "zeros":
            W = np.zeros(shape)
        elif kind == "random":
            W = rng.randn(*shape) * 10
        elif kind == "he":
            W = rng.randn(*shape) * np.sqrt(2.0 / layers_dims[l - 1])
        else:
            raise ValueError(f"unknown kind {kind!r}")
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    if activation == "sigmoid":
        A = 1 / (1 + np.exp(-Z))
    elif activation == "relu":
        A = np.maximum(0, Z)
    else:
        A = np.tanh(Z)
    return A, ((A_prev, W, b), (Z, A))


def forward(X, parameters, hidden="relu"):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):  # noqa: E741
        A, cache = linear_activation_forward(
            A, parameters["W" + str(l)], parameters["b" + str(l)], hidden)
        caches.append(cache)
    AL, cache = linear_activation_forward(
        A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_loss(AL, Y):
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
    return 1.0 / m * np.nansum(logprobs)


def linear_backward(dZ, linear_cache):
    A_prev, W, _ = linear_cache
    dW = np.dot(dZ, A_prev.T)
    db = np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def activation_backward(dA, activation_cache, activation):
    _, A = activation_cache
    if activation == "relu":
        return np.multiply(dA, np.int64(A > 0))
    return dA * (1 - A * A)


def backward(AL, Y, caches, hidden="relu"):
    grads = {}
    L = len(caches)
    m = Y.shape[1]
    dZ = 1.0 / m * (AL - Y)
    for l in range(L, 0, -1):  # noqa: E741
        linear_cache, _ = caches[l - 1]
        dA_prev, grads["dW" + str(l)], grads["db" + str(l)] = linear_backward(
            dZ, linear_cache)
        if l > 1:
            dZ = activation_backward(dA_prev, caches[l - 2][1], hidden)
    return grads


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):  # noqa: E741
        parameters["W" + str(l)] = (parameters["W" + str(l)]
                                    - learning_rate * grads["dW" + str(l)])
        parameters["b" + str(l)] = (parameters["b" + str(l)]
                                    - learning_rate * grads["db" + str(l)])
    return parameters


def model(X, Y, learning_rate=0.01, num_iterations=15000, print_cost=False,
          initialization="he", layers_dims=(2, 10, 5, 1), seed=3,
          hidden="relu"):
    """Train by full-batch gradient descent; return (parameters, costs, final cost).

    ``costs`` holds ``(iteration, cost)`` every 1000 iterations, recorded
    before that iteration's update, like ``course_utils.train``.
    """
    costs = []
    parameters = initialize(list(layers_dims), initialization, seed)
    for i in range(num_iterations):
        AL, caches = forward(X, parameters, hidden)
        cost = compute_loss(AL, Y)
        grads = backward(AL, Y, caches, hidden)
        parameters = update_parameters(parameters, grads, learning_rate)
        if i % 1000 == 0:
            costs.append((i, float(cost)))
            if print_cost:
                print(f"Cost after iteration {i}: {cost}")
    AL, _ = forward(X, parameters, hidden)
    return parameters, costs, float(compute_loss(AL, Y))

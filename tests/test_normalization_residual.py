"""Batch and layer normalization, residual blocks and their branch scale.

Expected values come from finite differences, from the definitions (a
standardized batch has mean 0 and variance 1; a zeroed branch is the
identity) or from a second computation, never from the code under test.
"""

import numpy as np
import pytest

from course_utils import (
    _engine,
    accuracy,
    add_block_parameters,
    backward_propagation,
    compute_cost_from_logits,
    forward_propagation,
    initialize_parameters,
    load_dataset,
    predict,
    train,
    train_seeds,
)

X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = load_dataset()


def _start(layers_dims, normalization=None, residual=False, branch_scale=1.0,
           seed=1):
    """A start with every parameter moved away from its special initial value."""
    parameters = add_block_parameters(
        initialize_parameters("he", layers_dims, seed=seed),
        normalization=normalization, residual=residual, branch_scale=branch_scale)
    rng = np.random.RandomState(seed + 100)
    for key, value in parameters.items():
        if key.startswith(("b", "beta")):
            # Nonzero biases keep every ReLU away from its kink at 0.
            value += 0.3 * rng.randn(*value.shape)
        elif key.startswith("gamma"):
            value += 0.5 * rng.rand(*value.shape)
    return parameters


def _cost(X, Y, parameters, **options):
    _, caches = forward_propagation(X, parameters, **options)
    return compute_cost_from_logits(caches[-1].Z, Y)


CASES = [
    # (layers_dims, options, branch_scale)
    ([2, 4, 3, 1], {"normalization": "batch"}, 1.0),
    ([2, 5, 5, 5, 1], {"normalization": "batch"}, 1.0),
    ([2, 3, 1], {"normalization": "batch", "hidden_activation": "tanh"}, 1.0),
    ([2, 6, 4, 1], {"normalization": "layer"}, 1.0),
    ([2, 4, 4, 1], {"normalization": "layer", "hidden_activation": "tanh"}, 1.0),
    ([2, 4, 4, 4, 1], {"residual": True}, 1.0),
    ([2, 3, 3, 3, 3, 1], {"residual": True}, 0.4),
    ([2, 5, 5, 3, 3, 1], {"residual": True}, 0.0),
    ([2, 4, 4, 4, 1], {"residual": True, "hidden_activation": "tanh"}, 0.7),
]


@pytest.mark.parametrize(("layers_dims", "options", "branch_scale"), CASES)
def test_gradients_match_finite_differences(layers_dims, options, branch_scale):
    X, Y = X_TRAIN[:, :9], Y_TRAIN[:, :9]
    architecture = {key: options[key] for key in ("normalization", "residual")
                    if key in options}
    parameters = _start(layers_dims, branch_scale=branch_scale, **architecture)
    _, caches = forward_propagation(X, parameters, **options)
    grads = backward_propagation(Y, parameters, caches, **options)
    assert set(grads) == {f"d{key}" for key in parameters}
    step = 1e-6
    for key, value in parameters.items():
        for index in np.ndindex(value.shape):
            shifted = {name: array.copy() for name, array in parameters.items()}
            shifted[key][index] += step
            up = _cost(X, Y, shifted, **options)
            shifted[key][index] -= 2 * step
            down = _cost(X, Y, shifted, **options)
            numeric = (up - down) / (2 * step)
            assert grads[f"d{key}"][index] == pytest.approx(
                numeric, rel=1e-5, abs=1e-8), (key, index)


def test_new_parameters_are_checked_by_name():
    """Every kind of new parameter appears among the checked gradients."""
    kinds = set()
    for layers_dims, options, _ in CASES:
        architecture = {key: options[key] for key in ("normalization", "residual")
                        if key in options}
        kinds |= {key.rstrip("0123456789") for key in _start(layers_dims,
                                                              **architecture)}
    assert kinds == {"W", "b", "gamma", "beta", "alpha"}


def test_batch_normalized_layer_is_standardized_per_unit():
    parameters = _start([2, 7, 5, 1], normalization="batch")
    _, caches = forward_propagation(X_TRAIN, parameters, normalization="batch")
    for cache in caches[:-1]:
        Z = cache.Z
        expected = (Z - Z.mean(axis=1, keepdims=True)) / np.sqrt(
            Z.var(axis=1, keepdims=True) + 1e-5)
        np.testing.assert_allclose(cache.Zhat, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cache.Zhat.mean(axis=1), 0, atol=1e-12)


def test_layer_normalized_layer_is_standardized_per_example():
    parameters = _start([2, 7, 5, 1], normalization="layer")
    _, caches = forward_propagation(X_TRAIN, parameters, normalization="layer")
    Z = caches[1].Z
    expected = (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + 1e-5)
    np.testing.assert_allclose(caches[1].Zhat, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c", [0.01, 3.0, 50.0])
def test_batch_normalization_ignores_the_scale_of_hidden_weights(c, monkeypatch):
    layers = [2, 10, 10, 10, 1]
    parameters = add_block_parameters(initialize_parameters("he", layers, seed=4),
                                      normalization="batch")
    scaled = dict(parameters)
    for layer in (1, 2, 3):
        scaled[f"W{layer}"] = c * parameters[f"W{layer}"]
    # Exactly invariant without the epsilon: Zhat(cW) = Zhat(W).
    monkeypatch.setattr(_engine, "NORM_EPSILON", 0.0)
    AL, _ = forward_propagation(X_TRAIN, parameters, normalization="batch")
    AL_scaled, _ = forward_propagation(X_TRAIN, scaled, normalization="batch")
    np.testing.assert_allclose(AL_scaled, AL, rtol=1e-10)
    # The output layer is not normalized: scaling it changes the output.
    scaled["W4"] = c * parameters["W4"]
    AL_output_scaled, _ = forward_propagation(X_TRAIN, scaled,
                                              normalization="batch")
    assert np.max(np.abs(AL_output_scaled - AL)) > 1e-3


def test_without_normalization_the_scale_matters():
    layers = [2, 10, 10, 10, 1]
    parameters = initialize_parameters("he", layers, seed=4)
    scaled = {**parameters, "W1": 3.0 * parameters["W1"]}
    AL, _ = forward_propagation(X_TRAIN, parameters)
    AL_scaled, _ = forward_propagation(X_TRAIN, scaled)
    assert np.max(np.abs(AL_scaled - AL)) > 1e-3


def test_zeroed_branches_start_as_the_identity():
    layers = [2, 6, 6, 6, 6, 1]
    parameters = add_block_parameters(initialize_parameters("he", layers, seed=5),
                                      residual=True, branch_scale=0.0)
    AL, _ = forward_propagation(X_TRAIN, parameters, residual=True)
    # Without the blocks: relu(W1 X + b1), then the output layer.
    hidden = np.maximum(0, parameters["W1"] @ X_TRAIN + parameters["b1"])
    logits = parameters["W5"] @ hidden + parameters["b5"]
    np.testing.assert_allclose(AL, 1 / (1 + np.exp(-logits)), rtol=1e-12)


def test_residual_block_is_the_documented_formula():
    layers = [2, 4, 4, 1]
    parameters = _start(layers, residual=True, branch_scale=0.6)
    _, caches = forward_propagation(X_TRAIN, parameters, residual=True)
    A1 = np.maximum(0, parameters["W1"] @ X_TRAIN + parameters["b1"])
    A2 = A1 + parameters["alpha2"] * (parameters["W2"] @ np.maximum(0, A1)
                                      + parameters["b2"])
    np.testing.assert_allclose(caches[1].A, A2, rtol=1e-12)


def test_plain_options_keep_the_plain_network_bit_for_bit():
    plain = train(X_TRAIN, Y_TRAIN, num_iterations=300, record_every=100)
    explicit = train(X_TRAIN, Y_TRAIN, num_iterations=300, record_every=100,
                     normalization=None, residual=False)
    assert explicit.costs == plain.costs
    assert explicit.final_cost == plain.final_cost
    for key, value in plain.parameters.items():
        assert np.array_equal(explicit.parameters[key], value)


def test_batch_normalized_network_predicts_one_example_at_a_time():
    result = train(X_TRAIN, Y_TRAIN, layers_dims=[2, 8, 8, 1], learning_rate=0.1,
                   num_iterations=200, normalization="batch")
    assert {"mean1", "var1", "mean2", "var2"} <= set(result.parameters)
    together = predict(X_TEST, result)
    one_by_one = np.hstack([predict(X_TEST[:, [i]], result)
                            for i in range(X_TEST.shape[1])])
    assert np.array_equal(together, one_by_one)
    # On the training set the recorded statistics are the batch's own, so
    # prediction mode reproduces the training-mode output.
    AL_train, _ = forward_propagation(X_TRAIN, result.parameters,
                                      normalization="batch")
    AL_recorded, _ = forward_propagation(X_TRAIN, result.parameters,
                                         normalization="batch",
                                         statistics="recorded")
    np.testing.assert_allclose(AL_recorded, AL_train, rtol=1e-12)
    assert result.final_cost == pytest.approx(
        float(np.mean(-Y_TRAIN * np.log(AL_train)
                      - (1 - Y_TRAIN) * np.log(1 - AL_train))), rel=1e-12)
    assert accuracy(X_TEST, Y_TEST, result) == accuracy(
        X_TEST, Y_TEST, result.parameters, normalization="batch")


def test_train_follows_the_gradient_of_the_general_network():
    layers = [2, 5, 5, 1]
    start = _start(layers, residual=True, branch_scale=0.5)
    result = train(X_TRAIN, Y_TRAIN, initialization=start, layers_dims=layers,
                   learning_rate=0.05, num_iterations=1, residual=True)
    _, caches = forward_propagation(X_TRAIN, start, residual=True)
    grads = backward_propagation(Y_TRAIN, start, caches, residual=True)
    for key, value in start.items():
        np.testing.assert_allclose(result.parameters[key],
                                   value - 0.05 * grads[f"d{key}"], rtol=1e-12)


@pytest.mark.parametrize("options", [{"normalization": "batch"},
                                     {"residual": True, "branch_scale": 0.0}])
def test_train_seeds_matches_train(options):
    layers = [2, 6, 6, 6, 1]
    results = train_seeds(X_TRAIN, Y_TRAIN, "he", seeds=[3, 8], layers_dims=layers,
                          learning_rate=0.1, num_iterations=60, record_every=20,
                          **options)
    for seed, result in zip([3, 8], results, strict=True):
        single = train(X_TRAIN, Y_TRAIN, "he", seed=seed, layers_dims=layers,
                       learning_rate=0.1, num_iterations=60, record_every=20,
                       **options)
        assert [i for i, _ in result.costs] == [0, 20, 40]
        np.testing.assert_allclose([c for _, c in result.costs],
                                   [c for _, c in single.costs], rtol=1e-9)
        for key, value in single.parameters.items():
            np.testing.assert_allclose(result.parameters[key], value,
                                       rtol=1e-7, atol=1e-10)


def test_train_seeds_passes_initializer_options():
    small = train_seeds(X_TRAIN, Y_TRAIN, "random", seeds=[3], num_iterations=1,
                        initializer_options={"scale": 0.01})[0]
    single = train(X_TRAIN, Y_TRAIN, initialize_parameters("random", [2, 10, 5, 1],
                                                           seed=3, scale=0.01),
                   num_iterations=1)
    assert small.costs[0][1] == pytest.approx(single.costs[0][1], rel=1e-12)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: train(X_TRAIN, Y_TRAIN, normalization="group"), ValueError,
     "normalization"),
    (lambda: train(X_TRAIN, Y_TRAIN, normalization=1), TypeError, "normalization"),
    (lambda: train(X_TRAIN, Y_TRAIN, residual="yes"), TypeError, "residual"),
    (lambda: train(X_TRAIN, Y_TRAIN, residual=True), ValueError, "residual"),
    (lambda: train(X_TRAIN, Y_TRAIN, layers_dims=[2, 4, 4, 1], residual=True,
                   normalization="batch"), ValueError, "combined"),
    (lambda: train(X_TRAIN, Y_TRAIN, layers_dims=[2, 4, 4, 1], residual=True,
                   branch_scale=-1), ValueError, "branch_scale"),
    (lambda: forward_propagation(X_TRAIN, initialize_parameters(
        "he", [2, 3, 1]), normalization="batch"), ValueError, "gamma1"),
    (lambda: forward_propagation(X_TRAIN, add_block_parameters(
        initialize_parameters("he", [2, 3, 1]), normalization="batch"),
        normalization="batch", statistics="recorded"), ValueError, "mean1"),
    (lambda: forward_propagation(X_TRAIN, {**add_block_parameters(
        initialize_parameters("he", [2, 3, 1]), normalization="batch"),
        "gamma1": np.ones((4, 1))}, normalization="batch"), ValueError,
     "parameters['gamma1']"),
    (lambda: forward_propagation(X_TRAIN, add_block_parameters(
        initialize_parameters("he", [2, 3, 1]), normalization="batch"),
        normalization="batch", statistics="running"), ValueError, "statistics"),
    (lambda: forward_propagation(X_TRAIN, add_block_parameters(
        initialize_parameters("he", [2, 3, 3, 1]), residual=True)), ValueError,
     "alpha2"),
    (lambda: predict(X_TEST, initialize_parameters("he", [2, 3, 1]),
                     normalization="batch"), ValueError, "gamma1"),
    (lambda: train_seeds(X_TRAIN, Y_TRAIN, "random", initializer_options=3),
     TypeError, "initializer_options"),
])
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_backward_refuses_plain_caches_for_a_normalized_network():
    parameters = add_block_parameters(initialize_parameters("he", [2, 3, 1]),
                                      normalization="batch")
    _, caches = forward_propagation(X_TRAIN, initialize_parameters("he", [2, 3, 1]))
    with pytest.raises(TypeError, match="caches"):
        backward_propagation(Y_TRAIN, parameters, caches, normalization="batch")


def test_training_continues_from_a_result_with_recorded_statistics():
    layers = [2, 6, 6, 1]
    first = train(X_TRAIN, Y_TRAIN, layers_dims=layers, learning_rate=0.1,
                  num_iterations=20, normalization="batch")
    again = train(X_TRAIN, Y_TRAIN, initialization=first.parameters,
                  layers_dims=layers, learning_rate=0.1, num_iterations=20,
                  normalization="batch")
    # The first cost of the continued run is the cost the first run ended at.
    assert again.costs[0][1] == pytest.approx(first.final_cost, rel=1e-12)
    assert set(again.parameters) == set(first.parameters)

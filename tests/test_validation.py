"""Bad input raises ValueError/TypeError naming the argument, one case per rule."""

import numpy as np
import pytest

from course_utils import (
    accuracy,
    initialize_parameters,
    load_dataset,
    needs_data,
    predict,
    recommended_gain,
    train,
)

X_GOOD = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, -1.0]])
Y_GOOD = np.array([[0, 1, 1]])


def _train(**changes):
    arguments = dict(X=X_GOOD, Y=Y_GOOD, num_iterations=2)
    arguments.update(changes)
    return train(**arguments)


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"X": np.array([0.0, 1.0, 2.0])}, ValueError, r"X must be a 2-D array"),
    ({"X": "not an array"}, TypeError, r"X must be a numeric array"),
    ({"X": np.array([[0.0, np.nan, 2.0], [1, 0, 1]])}, ValueError, r"X contains NaN"),
    ({"X": np.array([[0.0, np.inf, 2.0], [1, 0, 1]])}, ValueError,
     r"X contains NaN or inf"),
    ({"Y": np.array([0, 1, 1])}, ValueError, r"Y must be a 2-D array of shape \(1, m"),
    ({"Y": np.array([[0, 1]])}, ValueError, r"Y has 2 examples but X has 3"),
    ({"Y": np.array([[0, 2, 1]])}, ValueError, r"Y must contain only the labels"),
    ({"initialization": "glorious"}, ValueError, r"unknown initialization 'glorious'"),
    ({"initialization": 3}, TypeError, r"initialization must be"),
    ({"layers_dims": [2, 0, 1]}, ValueError, r"layers_dims\[1\] must be a positive"),
    ({"layers_dims": [2, -4, 1]}, ValueError, r"layers_dims\[1\] must be a positive"),
    ({"layers_dims": [2, 2.5, 1]}, TypeError, r"layers_dims\[1\] must be an int"),
    ({"layers_dims": [2]}, ValueError, r"layers_dims needs at least"),
    ({"layers_dims": [3, 4, 1]}, ValueError, r"X has 2 features .* expects 3"),
    ({"num_iterations": 0}, ValueError, r"num_iterations must be a positive int"),
    ({"num_iterations": -5}, ValueError, r"num_iterations must be a positive int"),
    ({"num_iterations": 10.0}, TypeError, r"num_iterations must be an int"),
    ({"learning_rate": -0.01}, ValueError, r"learning_rate must be a finite number"),
    ({"learning_rate": "fast"}, TypeError, r"learning_rate must be a number"),
    ({"seed": -1}, ValueError, r"seed must be between 0"),
    ({"record_every": 0}, ValueError, r"record_every must be a positive int"),
])
def test_train_rejects_bad_input(changes, error, message):
    with pytest.raises(error, match=message):
        _train(**changes)


def test_initializer_rejects_scale_for_other_names():
    with pytest.raises(ValueError, match="scale applies only to the 'random'"):
        initialize_parameters("he", [2, 1], scale=2.0)


def test_initializer_rejects_negative_scale():
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        initialize_parameters("random", [2, 1], scale=-1.0)


BATCH = np.array([[0.0, 1.0, 2.0, 4.0], [1.0, 0.0, -1.0, 3.0]])


@pytest.mark.parametrize(("name", "options", "error", "message"), [
    ("lsuv", {}, TypeError, r"'lsuv' initializer needs a data batch: pass X="),
    ("lsuv", {"X": None}, TypeError, r"needs a data batch: pass X="),
    ("lsuv", {"X": BATCH[:1]}, ValueError,
     r"X has 1 features \(rows\) but layers_dims\[0\] is 2"),
    ("lsuv", {"X": BATCH[0]}, ValueError, r"X must be a 2-D array"),
    ("lsuv", {"X": "batch"}, TypeError, r"X must be a numeric array"),
    ("lsuv", {"X": np.array([[0.0, np.nan], [1.0, 2.0]])}, ValueError,
     r"X contains NaN or infinite"),
    ("lsuv", {"X": np.zeros((2, 4))}, ValueError,
     r"LSUV cannot rescale layer 1: .* variance 0.0"),
    ("lsuv", {"X": BATCH, "tol": 0}, ValueError, r"tol must be a finite number > 0"),
    ("lsuv", {"X": BATCH, "tol": float("nan")}, ValueError,
     r"tol must be a finite number > 0"),
    ("lsuv", {"X": BATCH, "tol": "small"}, TypeError, r"tol must be a number"),
    ("lsuv", {"X": BATCH, "max_passes": 0}, ValueError,
     r"max_passes must be a positive int"),
    ("lsuv", {"X": BATCH, "max_passes": 2.5}, TypeError, r"max_passes must be an int"),
    ("lsuv", {"X": BATCH, "activation": "sigmoid"}, ValueError,
     r"activation must be one of relu, tanh; got 'sigmoid'"),
    ("lsuv", {"X": BATCH, "gain": 2.0}, ValueError,
     r"gain applies only to the 'orthogonal' initializer, not to 'lsuv'"),
    ("he", {"X": BATCH}, ValueError, r"X applies only to the 'lsuv' initializer"),
    ("he", {"gain": 2.0}, ValueError, r"gain applies only to the 'orthogonal'"),
    ("xavier_uniform", {"scale": 2.0}, ValueError,
     r"scale applies only to the 'random' initializer, not to 'xavier_uniform'"),
    ("he", {"gian": 2.0}, ValueError,
     r"unknown option 'gian' for the 'he' initializer \(its options: none\)"),
    ("orthogonal", {"gian": 2.0}, ValueError, r"unknown option 'gian' .* gain"),
    ("orthogonal", {"gain": 0}, ValueError, r"gain must be a finite number > 0"),
    ("orthogonal", {"gain": -1.5}, ValueError, r"gain must be a finite number > 0"),
    ("orthogonal", {"gain": float("inf")}, ValueError, r"gain must be a finite"),
    ("orthogonal", {"gain": True}, TypeError, r"gain must be a number"),
    ("orthogonal", {"gain": "softplus"}, ValueError,
     r"gain must be a number > 0 or one of linear, relu, sigmoid, tanh; "
     r"got 'softplus'"),
    ("random", {"scale": "big"}, TypeError, r"scale must be a number"),
])
def test_initializer_rejects_bad_options(name, options, error, message):
    with pytest.raises(error, match=message):
        initialize_parameters(name, [2, 3, 1], seed=3, **options)


def test_recommended_gain_rejects_unknown_nonlinearities():
    with pytest.raises(ValueError, match=r"nonlinearity must be one of linear, relu, "
                                         r"sigmoid, tanh; got 'softplus'"):
        recommended_gain("softplus")
    with pytest.raises(TypeError, match=r"nonlinearity must be a name"):
        recommended_gain(2)


def test_needs_data_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"unknown initialization 'glorious'"):
        needs_data("glorious")


def test_predict_rejects_parameters_of_the_wrong_width():
    params = initialize_parameters("he", [3, 4, 1])
    with pytest.raises(ValueError, match="X has 2 features"):
        predict(X_GOOD, params)


def test_predict_rejects_incomplete_parameters():
    params = initialize_parameters("he", [2, 4, 1])
    del params["b2"]
    with pytest.raises(ValueError, match="parameters must hold W1, b1"):
        predict(X_GOOD, params)


def test_predict_rejects_mismatched_layer_shapes():
    params = initialize_parameters("he", [2, 4, 1])
    params["W2"] = np.ones((1, 3))
    with pytest.raises(ValueError, match=r"parameters\['W2'\] has 3 columns"):
        predict(X_GOOD, params)


LAYERS = [2, 10, 5, 1]


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_train_names_a_transposed_weight_matrix_not_its_bias(layer):
    start = initialize_parameters("he", LAYERS)
    start[f"W{layer}"] = start[f"W{layer}"].T
    # The shape layer l's weights must have, from the layer sizes themselves.
    expected = (LAYERS[layer], LAYERS[layer - 1])
    with pytest.raises(ValueError) as raised:
        _train(X=np.ones((2, 3)), initialization=start)
    message = str(raised.value)
    assert message.startswith(f"initialization['W{layer}'] has shape "
                              f"{expected[::-1]}"), message
    assert f"expected shape {expected}; it looks transposed" in message
    assert f"'b{layer}'" not in message


@pytest.mark.parametrize(("key", "shape", "message"), [
    ("b1", (5, 1), r"parameters\['b1'\] must have shape \(10, 1\) to match W1; "
                   r"got \(5, 1\)"),
    ("b2", (5,), r"parameters\['b2'\] must have shape \(5, 1\)"),
    ("b3", (2, 1), r"parameters\['b3'\] must have shape \(1, 1\)"),
    ("W1", (3, 2), r"parameters\['W1'\] has shape \(3, 2\) but layer 1 has 10 "
                   r"units \(the rows of b1\) and 2 inputs: expected shape "
                   r"\(10, 2\)$"),
    ("W3", (5, 2), r"parameters\['W3'\] has shape \(5, 2\) but layer 3 has 1 unit "
                   r"\(the rows of b3\) and 5 inputs"),
])
def test_predict_names_the_array_that_disagrees_with_its_neighbours(key, shape,
                                                                      message):
    params = initialize_parameters("he", LAYERS)
    params[key] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        predict(X_GOOD, params)


def test_accuracy_rejects_label_mismatch():
    params = initialize_parameters("he", [2, 4, 1])
    with pytest.raises(ValueError, match="Y has 1 examples but X has 3"):
        accuracy(X_GOOD, np.array([[1]]), params)


def test_train_does_not_modify_a_given_parameter_dict():
    start = initialize_parameters("he", [2, 4, 1])
    before = {key: value.copy() for key, value in start.items()}
    _train(initialization=start, num_iterations=5)
    for key in start:
        np.testing.assert_array_equal(start[key], before[key])


def test_predict_returns_integer_labels():
    X_train, _, _, _ = load_dataset()
    labels = predict(X_train, initialize_parameters("he", [2, 10, 5, 1]))
    assert labels.shape == (1, 300)
    assert set(np.unique(labels)) <= {0, 1}
    assert labels.dtype.kind == "i"

"""Library code never touches numpy's global random state."""

import numpy as np

from course_utils import (
    available_initializers,
    initialize_parameters,
    load_dataset,
    needs_data,
    train,
)


def test_global_state_is_unchanged_by_the_library():
    np.random.seed(12345)
    before = np.random.get_state()
    X_train, Y_train, _, _ = load_dataset()
    initialize_parameters("random", [2, 10, 5, 1], seed=3)
    train(X_train, Y_train, initialization="he", num_iterations=10)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_results_do_not_depend_on_the_global_state():
    np.random.seed(0)
    first = initialize_parameters("he", [2, 10, 5, 1], seed=3)
    np.random.seed(999)
    np.random.randn(17)
    second = initialize_parameters("he", [2, 10, 5, 1], seed=3)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_layers_are_drawn_in_order_from_one_stream():
    # W1 then W2 from one RandomState(3): the first 20 draws form W1 (10 x 2).
    draws = np.random.RandomState(3).randn(20 + 50)
    params = initialize_parameters("he", [2, 10, 5, 1], seed=3)
    np.testing.assert_array_equal(params["W1"], draws[:20].reshape(10, 2))
    np.testing.assert_allclose(params["W2"], draws[20:].reshape(5, 10) * np.sqrt(0.2),
                               rtol=1e-15)


def test_no_initializer_touches_the_global_state():
    X_train, _, _, _ = load_dataset()
    np.random.seed(2024)
    before = np.random.get_state()
    for name in available_initializers():
        options = {"X": X_train} if needs_data(name) else {}
        initialize_parameters(name, [2, 10, 5, 1], seed=3, **options)
    initialize_parameters("orthogonal", [2, 10, 5, 1], seed=3, gain="relu")
    initialize_parameters("lsuv", [2, 10, 5, 1], seed=3, X=X_train, activation="tanh")
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]

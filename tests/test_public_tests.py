"""The students' self-checks accept correct code and explain wrong code."""

import numpy as np
import pytest

from course_utils import initialize_parameters
from course_utils.grading import public_tests


def _library(kind):
    return lambda layers_dims: initialize_parameters(kind, layers_dims, seed=3)


@pytest.mark.parametrize(("check", "kind"), [
    (public_tests.check_initialize_parameters_zeros, "zeros"),
    (public_tests.check_initialize_parameters_random, "random"),
    (public_tests.check_initialize_parameters_he, "he"),
])
def test_correct_initializers_pass(check, kind, capsys):
    check(_library(kind))
    assert capsys.readouterr().out == "All tests passed.\n"


def test_reseeding_every_layer_is_caught():
    def reseeded(layers_dims):
        parameters = {}
        for layer in range(1, len(layers_dims)):
            rng = np.random.RandomState(3)
            shape = (layers_dims[layer], layers_dims[layer - 1])
            parameters[f"W{layer}"] = rng.randn(*shape) * 10
            parameters[f"b{layer}"] = np.zeros((layers_dims[layer], 1))
        return parameters

    with pytest.raises(AssertionError, match="W2 has the right shape but the wrong"):
        public_tests.check_initialize_parameters_random(reseeded)


def test_transposed_weights_are_caught():
    def transposed(layers_dims):
        return {key: value.T if key.startswith("W") else value
                for key, value in initialize_parameters("he", layers_dims).items()}

    with pytest.raises(AssertionError, match=r"W1 should have shape \(4, 2\)"):
        public_tests.check_initialize_parameters_he(transposed)


def test_lecun_instead_of_he_is_caught():
    with pytest.raises(AssertionError, match=r"np.sqrt\(2 / n_prev\)"):
        public_tests.check_initialize_parameters_he(_library("lecun"))


def test_calling_the_function_instead_of_passing_it_is_explained():
    with pytest.raises(AssertionError, match="Pass the function itself"):
        public_tests.check_initialize_parameters_zeros({"W1": 0})


def test_a_stub_raises_not_implemented():
    def stub(layers_dims):
        raise NotImplementedError("Replace this line with your code.")

    with pytest.raises(NotImplementedError):
        public_tests.check_initialize_parameters_zeros(stub)

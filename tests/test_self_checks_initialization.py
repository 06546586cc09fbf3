"""The students' self-checks accept correct code and explain wrong code."""

import numpy as np
import pytest

from course_utils import initialize_parameters
from course_utils.self_checks import initialization
from course_utils.self_checks._common import GLOBAL_SEED_NOTE


def _library(kind):
    return lambda layers_dims: initialize_parameters(kind, layers_dims, seed=3)


@pytest.mark.parametrize(("check", "kind"), [
    (initialization.check_initialize_parameters_zeros, "zeros"),
    (initialization.check_initialize_parameters_random, "random"),
    (initialization.check_initialize_parameters_he, "he"),
])
def test_correct_initializers_pass(check, kind, capsys):
    check(_library(kind))
    assert capsys.readouterr().out == "All tests passed.\n"


def _initializer(scale_of, reseed=False, dtype=float, global_draws=False,
                 bias=0.0):
    """A student's initializer, right or with one of the usual mistakes."""
    def initialize(layers_dims):
        rng = np.random.RandomState(3)
        parameters = {}
        for layer in range(1, len(layers_dims)):
            if reseed:
                rng = np.random.RandomState(3)
            n_out, n_in = layers_dims[layer], layers_dims[layer - 1]
            draws = np.random.randn(n_out, n_in) if global_draws \
                else rng.randn(n_out, n_in)
            parameters[f"W{layer}"] = (draws * scale_of(layer, n_out, n_in)
                                       ).astype(dtype)
            parameters[f"b{layer}"] = np.full((n_out, 1), bias)
        return parameters
    return initialize


HE = initialization.check_initialize_parameters_he
RANDOM = initialization.check_initialize_parameters_random


@pytest.mark.parametrize(("check", "student", "message"), [
    (RANDOM, _initializer(lambda layer, o, i: 10, reseed=True),
     "create the generator once"),
    (HE, _initializer(lambda layer, o, i: np.sqrt(2 / i), reseed=True),
     "create the generator once"),
    (HE, _initializer(lambda layer, o, i: np.sqrt(1 / i)), r"LeCun's factor"),
    (HE, _initializer(lambda layer, o, i: np.sqrt(2 / o)),
     "number of units instead of inputs"),
    (HE, _initializer(lambda layer, o, i: 1.0), "scaled by no scale at all"),
    (HE, _initializer(lambda layer, o, i: 2 / i), "without the square root"),
    # Scaling only from layer 2 on passes with 2 inputs (sqrt(2/2) = 1) but
    # not with 3.
    (HE, _initializer(lambda layer, o, i: np.sqrt(2 / i) if layer > 1 else 1.0),
     r"W1 has the right shape but the wrong values\. .*np\.sqrt\(2 / n_prev\)"),
    (HE, _initializer(lambda layer, o, i: np.sqrt(2 / i), dtype=np.float32),
     "should be float64"),
    (RANDOM, _initializer(lambda layer, o, i: 10, global_draws=True),
     "global random state"),
    (HE, _initializer(lambda layer, o, i: 7.0, bias=0.1), "b1 should start at zero"),
])
def test_each_usual_mistake_gets_its_hint(check, student, message):
    with pytest.raises(AssertionError, match=message):
        check(student)


def test_seeding_the_global_generator_inside_the_function_is_accepted(capsys):
    # The original assignment's style: same numbers, so the grader accepts it.
    def seeded_globally(layers_dims):
        np.random.seed(3)
        return {name: value for layer in range(1, len(layers_dims))
                for name, value in ((f"W{layer}", np.random.randn(
                    layers_dims[layer], layers_dims[layer - 1]) * 10),
                    (f"b{layer}", np.zeros((layers_dims[layer], 1))))}

    state = np.random.get_state()
    RANDOM(seeded_globally)
    # Accepted, with a note on the side effect; the global state is left alone.
    assert capsys.readouterr().out == f"{GLOBAL_SEED_NOTE}\nAll tests passed.\n"
    after = np.random.get_state()
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(state, after, strict=True))


def test_self_checks_leave_the_global_random_state_alone():
    state = np.random.get_state()
    with pytest.raises(AssertionError):
        RANDOM(_initializer(lambda layer, o, i: 10, reseed=True))
    after = np.random.get_state()
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(state, after, strict=True))


def test_transposed_weights_are_caught():
    def transposed(layers_dims):
        return {key: value.T if key.startswith("W") else value
                for key, value in initialize_parameters("he", layers_dims).items()}

    with pytest.raises(AssertionError, match=r"W1 should have shape \(4, 2\)"):
        initialization.check_initialize_parameters_he(transposed)


def test_lecun_instead_of_he_is_caught():
    with pytest.raises(AssertionError, match=r"np.sqrt\(2 / n_prev\)"):
        initialization.check_initialize_parameters_he(_library("lecun"))


def test_calling_the_function_instead_of_passing_it_is_explained():
    with pytest.raises(AssertionError, match="Pass the function itself"):
        initialization.check_initialize_parameters_zeros({"W1": 0})


def test_a_stub_raises_not_implemented():
    def stub(layers_dims):
        raise NotImplementedError("Replace this line with your code.")

    with pytest.raises(NotImplementedError):
        initialization.check_initialize_parameters_zeros(stub)


def _defined_in_a_cell(source: str, name: str):
    """Define ``name`` as IPython does for a notebook cell (text in linecache)."""
    import linecache

    filename = f"/tmp/ipykernel_0/{abs(hash(source))}.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


ZEROS_BODY = """def initialize_parameters_zeros(layers_dims):
    return {f"{kind}{l}": np.zeros((layers_dims[l], layers_dims[l - 1]) if kind == "W"
                                   else (layers_dims[l], 1))
            for l in range(1, len(layers_dims)) for kind in "Wb"}
"""


@pytest.mark.parametrize(("header", "warned"), [
    ("# GRADED FUNCTION: initialize_parameters_zeros (2 points)\n", False),
    ("# GRADED FUNCTION: initialize_parameters_zeros\n", False),
    ("", True),
    ("# my zeros\n", True),
])
def test_a_missing_header_is_warned_about(header, warned, capsys):
    function = _defined_in_a_cell(header + ZEROS_BODY, "initialize_parameters_zeros")
    initialization.check_initialize_parameters_zeros(function)
    out = capsys.readouterr().out
    assert out.endswith("All tests passed.\n")
    assert ("Warning: the cell that defines initialize_parameters_zeros" in out) \
        == warned


# The hints the variance assignment's checks already gave, now here too: each
# expected factor below is the formula's, computed here, not the check's.
def _transposed_draws(layers_dims):
    rng = np.random.RandomState(3)
    parameters = {}
    for layer in range(1, len(layers_dims)):
        n_out, n_in = layers_dims[layer], layers_dims[layer - 1]
        parameters[f"W{layer}"] = rng.randn(n_in, n_out).T * np.sqrt(2 / n_in)
        parameters[f"b{layer}"] = np.zeros((n_out, 1))
    return parameters


def test_transposed_draws_are_named():
    with pytest.raises(AssertionError, match=r"In W1, the draws are transposed: "
                                             r"draw rng.randn\(n_out, n_in\)"):
        HE(_transposed_draws)


def test_an_unnamed_wrong_factor_is_given_with_the_right_one():
    # 3.5 is no usual mistake; the right factor of W1 in [2, 4, 1] is sqrt(2/2).
    with pytest.raises(AssertionError,
                       match=r"In W1, the draws are right, but they are multiplied "
                             r"by 3\.5 instead of 1 "):
        HE(_initializer(lambda layer, o, i: 3.5))


@pytest.mark.parametrize(("scale_of", "named"), [
    (lambda layer, o, i: np.sqrt(2 / (i + o)),
     r"sqrt\(2 / \(n_prev \+ n_l\)\) \(Xavier's factor\)"),
    (lambda layer, o, i: np.sqrt(6 / i), r"sqrt\(6 / n_prev\), the bound of a "
                                         r"uniform draw"),
    (lambda layer, o, i: 0.01, "0.01, the small random start"),
])
def test_more_usual_mistakes_are_named(scale_of, named):
    with pytest.raises(AssertionError, match=f"scaled by {named}"):
        HE(_initializer(scale_of))


def test_integer_zeros_get_the_same_dtype_rule_as_the_other_initializers():
    def integer_zeros(layers_dims):
        return {f"{kind}{layer}": np.zeros(
                    (layers_dims[layer], layers_dims[layer - 1]) if kind == "W"
                    else (layers_dims[layer], 1), dtype=int)
                for layer in range(1, len(layers_dims)) for kind in "Wb"}

    with pytest.raises(AssertionError, match=r"W1 has dtype int64; it should be "
                                             r"float64"):
        initialization.check_initialize_parameters_zeros(integer_zeros)

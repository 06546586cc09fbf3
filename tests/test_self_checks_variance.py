"""The second assignment's self-checks accept correct code and name each mistake."""

import linecache

import numpy as np
import pytest

from course_utils import forward_propagation, initialize_parameters
from course_utils.self_checks import variance as checks
from course_utils.self_checks._common import GLOBAL_SEED_NOTE

XAVIER = checks.check_initialize_parameters_xavier
LECUN = checks.check_initialize_parameters_lecun


def _drawn(factor, reseed=False, transposed=False, dtype=None, global_seed=False,
           bias=0.0):
    """An initializer drawing from RandomState(3) times ``factor(n_in, n_out)``,
    with one of the usual mistakes switched on."""
    def initializer(layers_dims):
        rng = np.random.RandomState(3)
        if global_seed:
            np.random.seed(3)
        parameters = {}
        for layer in range(1, len(layers_dims)):
            n_in, n_out = layers_dims[layer - 1], layers_dims[layer]
            if reseed:
                rng = np.random.RandomState(3)
            draw = np.random.randn if global_seed else rng.randn
            draws = draw(n_in, n_out).T if transposed else draw(n_out, n_in)
            W, b = draws * factor(n_in, n_out), np.zeros((n_out, 1)) + bias
            if dtype is not None:
                W, b = W.astype(dtype), b.astype(dtype)
            parameters[f"W{layer}"], parameters[f"b{layer}"] = W, b
        return parameters
    return initializer


def xavier_factor(n_in, n_out):
    return np.sqrt(2 / (n_in + n_out))


def lecun_factor(n_in, n_out):
    return np.sqrt(1 / n_in)


@pytest.mark.parametrize(("check", "kind"), [(XAVIER, "xavier"), (LECUN, "lecun")])
def test_the_course_initializers_pass(check, kind, capsys):
    check(lambda layers_dims: initialize_parameters(kind, layers_dims, seed=3))
    assert capsys.readouterr().out == "All tests passed.\n"


@pytest.mark.parametrize(("check", "initializer", "hint"), [
    (XAVIER, _drawn(lambda n_in, n_out: np.sqrt(1 / n_out)),
     r"np.sqrt\(1 / n_out\): n_out = layers_dims\[l\] is the number of "
     r"outputs"),
    (XAVIER, _drawn(lambda n_in, n_out: np.sqrt(2 / n_out)),
     r"np.sqrt\(2 / n_out\): it uses n_out = layers_dims\[l\] only"),
    (XAVIER, _drawn(lambda n_in, n_out: np.sqrt(1 / (n_in + n_out))),
     "the factor 2 is missing"),
    (XAVIER, _drawn(lambda n_in, n_out: np.sqrt(2 / n_in)), "He's factor"),
    (XAVIER, _drawn(lecun_factor), "LeCun's factor"),
    (XAVIER, _drawn(lambda n_in, n_out: 2 / (n_in + n_out)),
     r"the variance 2 / \(n_in \+ n_out\), not its square root"),
    (LECUN, _drawn(lambda n_in, n_out: np.sqrt(1 / n_out)),
     r"np.sqrt\(1 / n_out\).*use LeCun: np.sqrt\(1 / n_in\)"),
    (LECUN, _drawn(lambda n_in, n_out: np.sqrt(2 / n_in)), "He's factor"),
    (LECUN, _drawn(xavier_factor), "Xavier's factor"),
    (LECUN, _drawn(lambda n_in, n_out: 1 / n_in),
     "the variance 1 / n_in, not its square root"),
], ids=["xavier-n_out-only", "xavier-2-over-n_out", "xavier-missing-2", "xavier-he",
        "xavier-lecun", "xavier-variance", "lecun-n_out", "lecun-he", "lecun-xavier",
        "lecun-variance"])
def test_a_wrong_factor_is_named(check, initializer, hint):
    with pytest.raises(AssertionError, match=f"W1 has the right shape.*{hint}"):
        check(initializer)


@pytest.mark.parametrize(("check", "factor"), [(XAVIER, xavier_factor),
                                               (LECUN, lecun_factor)])
def test_a_new_generator_per_layer_is_named_at_w2(check, factor):
    with pytest.raises(AssertionError, match=r"W2 .* new generator per layer"):
        check(_drawn(factor, reseed=True))


def test_transposed_draws_are_named():
    with pytest.raises(AssertionError, match=r"transposed: draw rng.randn\(n_out"):
        XAVIER(_drawn(xavier_factor, transposed=True))


@pytest.mark.parametrize("check", [XAVIER, LECUN])
def test_float32_gets_a_dtype_hint(check):
    with pytest.raises(AssertionError, match=r"W1 has dtype float32; it should be "
                                             r"float64\. rng\.randn and np\.zeros"):
        check(_drawn(xavier_factor, dtype=np.float32))


@pytest.mark.parametrize("check", [XAVIER, LECUN])
def test_biases_are_checked_before_weights(check):
    # Wrong biases and wrong weights: the message is about the biases.
    with pytest.raises(AssertionError, match="b1 should start at zero"):
        check(_drawn(lambda n_in, n_out: 10.0, bias=0.5))


def test_seeding_the_global_generator_inside_is_accepted_with_a_note(capsys):
    # One rule for both assignments: np.random.seed(3) inside the function
    # gives the right numbers, so the grader and both self-checks accept it;
    # the self-check notes the side effect and leaves the global state alone.
    state = np.random.get_state()
    LECUN(_drawn(lecun_factor, global_seed=True))
    assert capsys.readouterr().out == f"{GLOBAL_SEED_NOTE}\nAll tests passed.\n"
    after = np.random.get_state()
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(state, after, strict=True))


@pytest.mark.parametrize(("check", "bound"), [
    (XAVIER, lambda n_in, n_out: np.sqrt(6 / (n_in + n_out))),
    (LECUN, lambda n_in, n_out: np.sqrt(3 / n_in)),
], ids=["xavier", "lecun"])
def test_the_uniform_bound_times_randn_is_named(check, bound):
    with pytest.raises(AssertionError, match=r"W1 has the right shape.*this is the "
                                             r"uniform bound"):
        check(_drawn(bound))


def test_a_seed_set_in_another_cell_is_refused():
    def unseeded(layers_dims):
        return {name: (np.random.randn(*value.shape) * 0.1 if name[0] == "W"
                       else value)
                for name, value in initialize_parameters(
                    "xavier", layers_dims, seed=3).items()}

    state = np.random.get_state()
    try:
        np.random.seed(3)
        with pytest.raises(AssertionError, match="a seed set in another cell"):
            XAVIER(unseeded)
    finally:
        np.random.set_state(state)


def test_other_draws_get_the_general_hint():
    def uniform(layers_dims):
        rng = np.random.RandomState(3)
        parameters = {}
        for layer in range(1, len(layers_dims)):
            n_in, n_out = layers_dims[layer - 1], layers_dims[layer]
            parameters[f"W{layer}"] = rng.uniform(-1, 1, (n_out, n_in))
            parameters[f"b{layer}"] = np.zeros((n_out, 1))
        return parameters

    with pytest.raises(AssertionError, match=r"use randn \(standard normal\)"):
        XAVIER(uniform)


def test_the_check_sizes_tell_every_mistaken_factor_apart():
    for n_in, n_out in zip(checks.INITIALIZER_DIMS, checks.INITIALIZER_DIMS[1:],
                           strict=False):
        for kind in ("xavier", "lecun"):
            factors = [checks._factor(kind, n_in, n_out)] + [
                factor for factor, _ in checks._mistaken_factors(kind, n_in, n_out)]
            assert len(factors) == len(set(np.round(factors, 9))), (kind, n_in, n_out)
            if (n_in, n_out) == tuple(checks.INITIALIZER_DIMS[:2]):
                # W1, where a mistake made in every layer shows first, tells
                # every one apart (a later layer may fold two into one).
                assert len(factors) == (9 if kind == "xavier" else 8)


# --- activation_statistics ------------------------------------------------------


def statistics_from_the_course_network(parameters, X):
    """The right answer, from the course's forward pass (an independent source)."""
    parameters = {key: np.asarray(value, dtype=float)
                  for key, value in parameters.items()}
    _, caches = forward_propagation(np.asarray(X, dtype=float), parameters)
    return [[float(np.mean(cache.A)), float(np.std(cache.A))]
            for cache in caches[:-1]]


def _hidden_outputs(parameters, X, activation=lambda Z: np.maximum(0, Z),
                    bias=True, pre_activation=False):
    A = np.asarray(X, dtype=float)
    outputs = []
    for layer in range(1, len(parameters) // 2):
        Z = np.asarray(parameters[f"W{layer}"]) @ A
        if bias:
            Z = Z + np.asarray(parameters[f"b{layer}"])
        A = activation(Z)
        outputs.append(Z if pre_activation else A)
    return outputs


def _pairs(outputs, ddof=0, axis=None):
    return [[float(np.mean(A)), float(np.mean(np.std(A, ddof=ddof, axis=axis)))]
            for A in outputs]


def with_output_layer(parameters, X):
    stats = statistics_from_the_course_network(parameters, X)
    AL, _ = forward_propagation(np.asarray(X, dtype=float),
                                {k: np.asarray(v, dtype=float)
                                 for k, v in parameters.items()})
    return [*stats, [float(np.mean(AL)), float(np.std(AL))]]


def with_inputs(parameters, X):
    X = np.asarray(X, dtype=float)
    return [[float(np.mean(X)), float(np.std(X))],
            *statistics_from_the_course_network(parameters, X)]


STATISTICS_MISTAKES = {
    "output-layer": (with_output_layer, "it includes the output layer"),
    "input": (with_inputs, "starts with the statistics of the input X"),
    "tanh": (lambda p, X: _pairs(_hidden_outputs(p, X, np.tanh)),
             r"a tanh network. The course's hidden layers use ReLU"),
    "sigmoid": (lambda p, X: _pairs(_hidden_outputs(
        p, X, lambda Z: 1 / (1 + np.exp(-Z)))), "a sigmoid network"),
    "pre-activation": (lambda p, X: _pairs(_hidden_outputs(p, X, pre_activation=True)),
                       "the pre-activations Z"),
    "no-activation": (lambda p, X: _pairs(_hidden_outputs(p, X, lambda Z: Z)),
                      "no activation was applied"),
    "no-bias": (lambda p, X: _pairs(_hidden_outputs(p, X, bias=False)),
                "the biases are missing"),
    "sample-std": (lambda p, X: _pairs(_hidden_outputs(p, X), ddof=1),
                   r"sample standard deviation \(ddof=1\)"),
    "std-per-unit": (lambda p, X: _pairs(_hidden_outputs(p, X), axis=1),
                     r"per unit \(axis=1\)"),
    "std-per-example": (lambda p, X: _pairs(_hidden_outputs(p, X), axis=0),
                        r"per example \(axis=0\)"),
    "variance": (lambda p, X: [[mean, std ** 2] for mean, std in
                               statistics_from_the_course_network(p, X)],
                 "the second number is the variance"),
    "swapped": (lambda p, X: [[std, mean] for mean, std in
                              statistics_from_the_course_network(p, X)],
                r"each pair is \[std, mean\]"),
}


def test_the_right_statistics_pass(capsys):
    checks.check_activation_statistics(statistics_from_the_course_network)
    assert capsys.readouterr().out == "All tests passed.\n"


def test_tuples_and_numpy_floats_pass(capsys):
    def as_tuples(parameters, X):
        return tuple((np.float64(mean), np.float64(std)) for mean, std
                     in statistics_from_the_course_network(parameters, X))

    checks.check_activation_statistics(as_tuples)
    assert capsys.readouterr().out == "All tests passed.\n"


@pytest.mark.parametrize("mistake", sorted(STATISTICS_MISTAKES))
def test_each_statistics_mistake_is_named(mistake):
    function, hint = STATISTICS_MISTAKES[mistake]
    with pytest.raises(AssertionError, match=f"^The statistics are wrong: .*{hint}"):
        checks.check_activation_statistics(function)


def test_the_example_tells_the_statistics_mistakes_apart():
    parameters, X = checks._statistics_example()
    right = statistics_from_the_course_network(parameters, X)
    results = [right] + [function(parameters, X)
                         for function, _ in STATISTICS_MISTAKES.values()]
    for index, first in enumerate(results):
        for second in results[index + 1:]:
            assert not checks._close(first, second)


def test_an_array_is_refused_with_a_hint():
    with pytest.raises(AssertionError, match=r"returned a NumPy array\. Return a list"):
        checks.check_activation_statistics(
            lambda p, X: np.array(statistics_from_the_course_network(p, X)))


def test_pairs_that_are_arrays_are_refused():
    with pytest.raises(AssertionError,
                       match=r"^Each item should be a pair \[mean, std\]"):
        checks.check_activation_statistics(
            lambda p, X: [np.array(pair) for pair in
                          statistics_from_the_course_network(p, X)])


def test_nested_lists_must_be_accepted():
    def arrays_only(parameters, X):
        A = X
        stats = []
        for layer in range(1, len(parameters) // 2):
            A = np.maximum(0, parameters[f"W{layer}"] @ A + parameters[f"b{layer}"])
            stats.append([float(np.mean(A)), float(np.std(A))])
        return stats

    with pytest.raises(AssertionError, match=r"Called with nested lists .* "
                                             r"np.asarray\(\.\.\., dtype=float\)"):
        checks.check_activation_statistics(arrays_only)


def test_a_wrong_count_of_pairs_is_explained():
    with pytest.raises(AssertionError, match=r"^Expected 2 pairs for a network with 2 "
                                             r"hidden layers"):
        checks.check_activation_statistics(
            lambda p, X: statistics_from_the_course_network(p, X)[:1])


def test_one_wrong_layer_is_located():
    def last_layer_off(parameters, X):
        stats = statistics_from_the_course_network(parameters, X)
        stats[-1][1] *= 1.5
        return stats

    with pytest.raises(AssertionError, match=r"^The pair for hidden layer 2 is wrong"):
        checks.check_activation_statistics(last_layer_off)


def test_calling_the_function_instead_of_passing_it_is_explained():
    with pytest.raises(AssertionError, match="Pass the function itself"):
        checks.check_activation_statistics([[0.0, 1.0]])
    with pytest.raises(AssertionError, match="Pass the function itself"):
        XAVIER({"W1": 0})


def _defined_in_a_cell(source, name, number):
    """Define ``name`` as IPython does for a notebook cell, with the cell's text."""
    filename = f"/tmp/ipykernel_0/{number}.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


CELL_BODY = """def initialize_parameters_xavier(layers_dims):
    rng = np.random.RandomState(3)
    parameters = {}
    for l in range(1, len(layers_dims)):
        n_in, n_out = layers_dims[l - 1], layers_dims[l]
        parameters["W" + str(l)] = rng.randn(n_out, n_in) * np.sqrt(2 / (n_in + n_out))
        parameters["b" + str(l)] = np.zeros((n_out, 1))
    return parameters
"""


def test_a_cell_with_its_header_passes(capsys):
    function = _defined_in_a_cell(
        "# GRADED FUNCTION: initialize_parameters_xavier (2 points)\n" + CELL_BODY,
        "initialize_parameters_xavier", 1)
    XAVIER(function)
    assert capsys.readouterr().out == "All tests passed.\n"


@pytest.mark.parametrize(("header", "warned"), [
    ("# GRADED FUNCTION: initialize_parameters_xavier", False),
    ("# GRADED FUNCTION: initialize_parameters_xavier (3 points)", False),
    ("# my Xavier", True),
])
def test_an_edited_header_only_warns_as_in_the_first_assignment(header, warned,
                                                                capsys):
    # The grader finds the function by cell id, header or definition, so an
    # edited header loses no points: the self-check must not fail on it.
    function = _defined_in_a_cell(f"{header}\n{CELL_BODY}",
                                  "initialize_parameters_xavier", 2)
    XAVIER(function)
    out = capsys.readouterr().out
    assert out.endswith("All tests passed.\n")
    assert ("Warning: the cell that defines initialize_parameters_xavier"
            in out) == warned

"""Initializers against their defining formulas, each from its paper.

Expected values come from the definitions, not from course_utils: He et al. 2015
(variance 2 / n_in; uniform bound sqrt(6 / n_in)), LeCun et al. 1998 (1 / n_in),
Glorot and Bengio 2010 (2 / (n_in + n_out); uniform bound sqrt(6 / (n_in +
n_out))), Saxe et al. 2014 (orthogonal), Mishkin and Matas 2015 (LSUV), and the
gains of PyTorch's ``calculate_gain`` (tanh 5/3, ReLU sqrt(2)).
"""

import math

import numpy as np
import pytest

from course_utils import (
    available_initializers,
    initialize_parameters,
    initializers,
    needs_data,
    recommended_gain,
)
from course_utils.initializers import register_initializer, register_network_initializer

N_IN, N_OUT = 800, 1200
N_DRAWS = N_IN * N_OUT
SIGMAS = 6  # a false alarm about once in 5e8 runs, if the code is right

# Kurtosis mu4 / sigma^4 of each distribution the initializers draw from.
NORMAL, UNIFORM = 3.0, 9.0 / 5.0

XAVIER_BOUND = math.sqrt(6 / (N_IN + N_OUT))
HE_BOUND = math.sqrt(6 / N_IN)


@pytest.fixture(autouse=True)
def _registry_restored(monkeypatch):
    """Initializers registered by a test are gone after it."""
    monkeypatch.setattr(initializers, "_REGISTRY", dict(initializers._REGISTRY))


def _sd_of_sample_variance(variance, n, kurtosis):
    """Standard deviation of the unbiased sample variance of n iid draws.

    Var(s^2) = mu4 / n - sigma^4 (n - 3) / (n (n - 1)); for normal draws
    (mu4 = 3 sigma^4) this is 2 sigma^4 / (n - 1), for uniform ones on [-b, b]
    (mu4 = b^4 / 5, sigma^2 = b^2 / 3) it is about 0.8 sigma^4 / n.
    """
    return variance * math.sqrt(kurtosis / n - (n - 3) / (n * (n - 1)))


@pytest.mark.parametrize(("name", "expected_variance", "kurtosis"), [
    ("he", 2 / N_IN, NORMAL),
    ("lecun", 1 / N_IN, NORMAL),
    ("xavier", 2 / (N_IN + N_OUT), NORMAL),
    ("random", 100.0, NORMAL),
    ("xavier_uniform", XAVIER_BOUND ** 2 / 3, UNIFORM),
    ("he_uniform", HE_BOUND ** 2 / 3, UNIFORM),
])
def test_weight_variance_follows_the_formula(name, expected_variance, kurtosis):
    W = initialize_parameters(name, [N_IN, N_OUT], seed=11)["W1"]
    # 960 000 draws: 6 standard deviations of s^2 are 0.87 % of the variance
    # for normal draws, 0.55 % for uniform ones, so He (2/800) and LeCun
    # (1/800), or Xavier (2/2000) and He, are told apart by far.
    bound = SIGMAS * _sd_of_sample_variance(expected_variance, N_DRAWS, kurtosis)
    assert abs(W.var(ddof=1) - expected_variance) < bound
    assert abs(W.mean()) < SIGMAS * math.sqrt(expected_variance / N_DRAWS)


@pytest.mark.parametrize(("name", "bound"), [
    ("xavier_uniform", XAVIER_BOUND), ("he_uniform", HE_BOUND)])
def test_uniform_draws_fill_their_bounds(name, bound):
    W = initialize_parameters(name, [N_IN, N_OUT], seed=12)["W1"]
    assert np.all(np.abs(W) <= bound)
    # Each draw misses the outer 1e-4 of the range with probability 1 - 5e-5:
    # all 960 000 miss it on one side with probability exp(-48).
    assert W.max() > bound * (1 - 1e-4) and W.min() < -bound * (1 - 1e-4)
    # Half the mass lies in [-b/2, b/2] (a normal of the same variance puts
    # 61 % there); the fraction's standard deviation is sqrt(1/4 / n).
    inner = np.mean(np.abs(W) <= bound / 2)
    assert abs(inner - 0.5) < SIGMAS * math.sqrt(0.25 / N_DRAWS)


@pytest.mark.parametrize(("name", "std"), [
    ("he", lambda n_in, n_out: math.sqrt(2 / n_in)),
    ("lecun", lambda n_in, n_out: math.sqrt(1 / n_in)),
    ("xavier", lambda n_in, n_out: math.sqrt(2 / (n_in + n_out))),
    ("random", lambda n_in, n_out: 10.0),
])
def test_normal_initializers_scale_one_stream_of_draws_in_layer_order(name, std):
    dims = [3, 5, 2]
    draws = np.random.RandomState(4).randn(15 + 10)
    params = initialize_parameters(name, dims, seed=4)
    np.testing.assert_allclose(params["W1"], draws[:15].reshape(5, 3) * std(3, 5),
                               rtol=1e-15)
    np.testing.assert_allclose(params["W2"], draws[15:].reshape(2, 5) * std(5, 2),
                               rtol=1e-15)


@pytest.mark.parametrize(("name", "bound"), [
    ("xavier_uniform", lambda n_in, n_out: math.sqrt(6 / (n_in + n_out))),
    ("he_uniform", lambda n_in, n_out: math.sqrt(6 / n_in)),
])
def test_uniform_initializers_draw_one_stream_in_layer_order(name, bound):
    rng = np.random.RandomState(4)
    expected_W1 = rng.uniform(-bound(3, 5), bound(3, 5), size=(5, 3))
    expected_W2 = rng.uniform(-bound(5, 2), bound(5, 2), size=(2, 5))
    params = initialize_parameters(name, [3, 5, 2], seed=4)
    np.testing.assert_allclose(params["W1"], expected_W1, rtol=1e-15)
    np.testing.assert_allclose(params["W2"], expected_W2, rtol=1e-15)


def test_random_scale_multiplies_standard_normal_draws():
    W = initialize_parameters("random", [3, 4], seed=5, scale=0.01)["W1"]
    np.testing.assert_array_equal(W, np.random.RandomState(5).randn(4, 3) * 0.01)


# --- Orthogonal -------------------------------------------------------------------

GAINS = [(1.0, 1.0), (0.5, 0.5), ("relu", math.sqrt(2)), ("tanh", 5 / 3)]
SHAPES = [(4, 4), (3, 7), (7, 3), (1, 5), (5, 1), (64, 256), (256, 64)]


@pytest.mark.parametrize(("n_out", "n_in"), SHAPES)
@pytest.mark.parametrize(("gain", "gain_value"), GAINS)
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(n_out, n_in, gain,
                                                               gain_value):
    W = initialize_parameters("orthogonal", [n_in, n_out], seed=8, gain=gain)["W1"]
    assert W.shape == (n_out, n_in)
    if n_out <= n_in:   # as many orthonormal rows as outputs: W W^T = g^2 I
        product, size = W @ W.T, n_out
    else:               # more outputs than inputs: the columns, W^T W = g^2 I
        product, size = W.T @ W, n_in
    np.testing.assert_allclose(product, gain_value ** 2 * np.eye(size), atol=1e-12)


def test_orthogonal_default_gain_is_one():
    W = initialize_parameters("orthogonal", [6, 6], seed=2)["W1"]
    np.testing.assert_allclose(W @ W.T, np.eye(6), atol=1e-13)


def _gram_schmidt(A):
    """Orthonormalize A's columns in order: the Q of A = QR with diag(R) > 0."""
    Q = np.zeros_like(A)
    for j in range(A.shape[1]):
        v = A[:, j] - Q[:, :j] @ (Q[:, :j].T @ A[:, j])
        v = v - Q[:, :j] @ (Q[:, :j].T @ v)   # twice is enough (Giraud et al.)
        Q[:, j] = v / np.linalg.norm(v)
    return Q


def test_orthogonal_is_the_sign_corrected_qr_of_one_gaussian_stream():
    # Saxe et al.'s recipe with the sign correction: QR of the Gaussian matrix in
    # its tall orientation, signs fixed so that diag(R) > 0. That factor is
    # unique, so it is what Gram-Schmidt gives, whatever LAPACK's convention.
    dims = [3, 5, 2, 6]
    draws = np.random.RandomState(21).randn(15 + 10 + 12)
    gaussians = [draws[:15].reshape(5, 3), draws[15:25].reshape(2, 5),
                 draws[25:].reshape(6, 2)]
    params = initialize_parameters("orthogonal", dims, seed=21, gain=2.0)
    for layer, gaussian in enumerate(gaussians, start=1):
        n_out, n_in = gaussian.shape
        if n_out >= n_in:
            expected = _gram_schmidt(gaussian)
        else:
            expected = _gram_schmidt(gaussian.T).T
        np.testing.assert_allclose(params[f"W{layer}"], 2.0 * expected, atol=1e-12)
        assert not params[f"b{layer}"].any()


# --- LSUV ---------------------------------------------------------------------------

LSUV_DIMS = [8, 32, 16, 16, 1]


def _batch(seed=0, m=400):
    # Features with standard deviation 3: far from unit variance on purpose.
    return np.random.RandomState(seed).randn(8, m) * 3.0


def _pre_activation_variances(params, X, activation):
    """Var(Z_l) over the batch for every layer, with zero biases."""
    hidden = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh}[activation]
    n_layers = len(params) // 2
    variances, A = [], X
    for layer in range(1, n_layers + 1):
        Z = params[f"W{layer}"] @ A + params[f"b{layer}"]
        variances.append(Z.var())
        A = hidden(Z)
    return variances


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_lsuv_gives_unit_pre_activation_variance_in_every_layer(activation):
    X = _batch()
    options = {} if activation == "relu" else {"activation": activation}
    params = initialize_parameters("lsuv", LSUV_DIMS, seed=7, X=X, **options)
    for variance in _pre_activation_variances(params, X, activation):
        assert abs(variance - 1) < 0.1


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_lsuv_rescales_the_orthogonal_start_of_every_layer(activation):
    X = _batch()
    lsuv = initialize_parameters("lsuv", LSUV_DIMS, seed=7, X=X, activation=activation)
    start = initialize_parameters("orthogonal", LSUV_DIMS, seed=7)
    for layer in range(1, len(LSUV_DIMS)):
        factor = lsuv[f"W{layer}"] / start[f"W{layer}"]
        # Only a positive rescaling of the orthogonal start...
        np.testing.assert_allclose(factor, factor.flat[0], rtol=1e-12)
        assert factor.flat[0] > 0
        # ...and one that was needed: the start's variance at this layer (on the
        # already rescaled layers below) was 1 / factor^2, outside 1 +- tol.
        assert abs(1 / factor.flat[0] ** 2 - 1) > 0.1


def test_lsuv_on_the_course_data_and_network(dataset):
    X_train = dataset[0]
    params = initialize_parameters("lsuv", [2, 10, 5, 1], seed=3, X=X_train)
    start = initialize_parameters("orthogonal", [2, 10, 5, 1], seed=3)
    assert abs(_pre_activation_variances(start, X_train, "relu")[0] - 1) > 0.1
    for variance in _pre_activation_variances(params, X_train, "relu"):
        assert abs(variance - 1) < 0.1


def test_lsuv_leaves_a_layer_alone_when_it_is_within_tol():
    X = _batch()
    wide = initialize_parameters("lsuv", LSUV_DIMS, seed=7, X=X, tol=100.0)
    start = initialize_parameters("orthogonal", LSUV_DIMS, seed=7)
    for key in start:
        np.testing.assert_array_equal(wide[key], start[key])


def test_lsuv_honours_a_looser_tolerance():
    X = _batch(seed=1)
    params = initialize_parameters("lsuv", LSUV_DIMS, seed=7, X=X, tol=0.5,
                                   max_passes=3)
    for variance in _pre_activation_variances(params, X, "relu"):
        assert abs(variance - 1) < 0.5


def test_lsuv_stops_after_max_passes_with_a_warning():
    # With zero biases one rescaling is exact; biases that differ between units
    # add a variance no rescaling of W removes, so the loop must give up.
    A_prev = _batch()
    W = np.full((2, 8), 0.1)
    b = np.array([[0.0], [4.0]])   # the row means alone have variance 4
    with pytest.warns(RuntimeWarning, match=r"layer 2 .* after max_passes=3"):
        initializers._unit_variance_weights(W, b, A_prev, tol=0.1, max_passes=3,
                                            layer=2)


def test_lsuv_does_not_modify_the_batch():
    X = _batch()
    copy = X.copy()
    initialize_parameters("lsuv", LSUV_DIMS, seed=7, X=X)
    np.testing.assert_array_equal(X, copy)


# --- Reproducibility -------------------------------------------------------------

RANDOM_NAMES = ["random", "he", "lecun", "xavier", "xavier_uniform", "he_uniform",
                "orthogonal", "lsuv"]


def _make(name, seed):
    data = {"X": _batch()} if name == "lsuv" else {}
    return initialize_parameters(name, LSUV_DIMS, seed=seed, **data)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_the_same_seed_gives_the_same_draws(name):
    first, second = _make(name, 5), _make(name, 5)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_a_different_seed_gives_different_draws(name):
    first, second = _make(name, 5), _make(name, 6)
    for layer in range(1, len(LSUV_DIMS)):
        assert not np.array_equal(first[f"W{layer}"], second[f"W{layer}"])


# --- Gains and the registry --------------------------------------------------------

def test_recommended_gains_are_those_of_the_literature():
    assert recommended_gain("relu") == math.sqrt(2)
    assert recommended_gain("tanh") == 5 / 3
    assert recommended_gain("linear") == 1
    assert recommended_gain("sigmoid") == 1


def test_registry_lists_the_course_initializers():
    assert {"zeros", "random", "he", "lecun", "xavier", "xavier_uniform",
            "he_uniform", "orthogonal", "lsuv"} <= set(available_initializers())


def test_only_lsuv_needs_data():
    assert needs_data("lsuv")
    for name in ("zeros", "random", "he", "lecun", "xavier", "xavier_uniform",
                 "he_uniform", "orthogonal"):
        assert not needs_data(name)


def test_a_registered_initializer_is_used_by_name():
    def ones(n_out, n_in, rng):
        return np.ones((n_out, n_in))

    register_initializer("ones_for_test", ones)
    params = initialize_parameters("ones_for_test", [2, 3, 1])
    assert params["W1"].shape == (3, 2) and np.all(params["W1"] == 1)


def test_a_registered_initializer_receives_its_options():
    def constant(n_out, n_in, rng, value=1.0):
        return np.full((n_out, n_in), value)

    register_initializer("constant_for_test", constant, options=["value"])
    params = initialize_parameters("constant_for_test", [2, 3], value=0.25)
    assert np.all(params["W1"] == 0.25)
    with pytest.raises(ValueError, match="value applies only to the "
                                         "'constant_for_test' initializer"):
        initialize_parameters("he", [2, 3], value=0.25)


def test_a_registered_network_initializer_gets_the_checked_batch():
    seen = {}

    def mean_input(layers_dims, rng, X):
        seen["X"] = X
        return {key: value for layer in range(1, len(layers_dims))
                for key, value in (
                    (f"W{layer}", np.full((layers_dims[layer], layers_dims[layer - 1]),
                                          X.mean())),
                    (f"b{layer}", np.zeros((layers_dims[layer], 1))))}

    register_network_initializer("mean_for_test", mean_input, needs_data=True)
    assert needs_data("mean_for_test")
    params = initialize_parameters("mean_for_test", [2, 3, 1], X=[[1, 2], [3, 4]])
    assert seen["X"].dtype == float and np.all(params["W2"] == 2.5)


def test_an_initializer_returning_the_wrong_shape_is_reported():
    register_initializer("transposed_for_test",
                         lambda n_out, n_in, rng: np.zeros((n_in, n_out)))
    with pytest.raises(ValueError, match=r"'transposed_for_test' returned W1 of "
                                         r"shape \(2, 3\); expected \(3, 2\)"):
        initialize_parameters("transposed_for_test", [2, 3])


def test_register_rejects_non_callables():
    with pytest.raises(TypeError, match="draw must be callable"):
        register_initializer("broken", 42)
    with pytest.raises(TypeError, match="build must be callable"):
        register_network_initializer("broken", 42)


def test_register_rejects_option_names_that_are_not_keywords():
    with pytest.raises(TypeError, match="options must"):
        register_initializer("broken", lambda n_out, n_in, rng: None, options="gain")
    with pytest.raises(TypeError, match="options must hold keyword names"):
        register_initializer("broken", lambda n_out, n_in, rng: None, options=[3])


# --- PyTorch's nn.Linear default ---------------------------------------------------
# torch/nn/modules/linear.py (Linear.reset_parameters) calls
# init.kaiming_uniform_(weight, a=math.sqrt(5)); torch/nn/init.py gives that
# gain = sqrt(2 / (1 + a^2)) = sqrt(1/3) and bound = sqrt(3) * gain / sqrt(fan_in)
# = 1 / sqrt(fan_in). The bias is uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)].

def test_pytorch_default_weights_have_variance_one_third_of_lecun():
    params = initialize_parameters("pytorch_default", [N_IN, N_OUT], seed=13)
    W = params["W1"]
    expected_variance = 1 / (3 * N_IN)  # bound^2 / 3 with bound = 1/sqrt(n_in)
    bound = SIGMAS * _sd_of_sample_variance(expected_variance, N_DRAWS, UNIFORM)
    assert abs(W.var(ddof=1) - expected_variance) < bound
    assert np.all(np.abs(W) <= 1 / math.sqrt(N_IN))
    assert W.max() > (1 - 1e-4) / math.sqrt(N_IN)


def test_pytorch_default_biases_are_uniform_on_the_same_interval():
    b = initialize_parameters("pytorch_default", [N_IN, N_OUT], seed=14)["b1"]
    assert b.shape == (N_OUT, 1)
    assert np.all(np.abs(b) <= 1 / math.sqrt(N_IN))
    expected_variance = 1 / (3 * N_IN)
    bound = SIGMAS * _sd_of_sample_variance(expected_variance, N_OUT, UNIFORM)
    assert abs(b.var(ddof=1) - expected_variance) < bound


def test_pytorch_default_draws_weight_then_bias_layer_by_layer():
    rng = np.random.RandomState(4)
    expected = {}
    for layer, (n_in, n_out) in enumerate([(3, 5), (5, 2)], start=1):
        bound = 1 / math.sqrt(n_in)
        expected[f"W{layer}"] = rng.uniform(-bound, bound, size=(n_out, n_in))
        expected[f"b{layer}"] = rng.uniform(-bound, bound, size=(n_out, 1))
    params = initialize_parameters("pytorch_default", [3, 5, 2], seed=4)
    for key, value in expected.items():
        np.testing.assert_allclose(params[key], value, rtol=1e-15)
    assert not needs_data("pytorch_default")

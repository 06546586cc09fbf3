"""The fast training engine against two independent implementations.

1. ``bench.classic``: the plain textbook loop (dict parameters, caches, the cost
   at every iteration), the speed baseline of ``bench/``.
2. ``_reference_train`` below: a copy of the algorithm ``train`` had before the
   engine (commit a02d8d4). The engine promises the *same* floating-point
   operations, so on one machine the results must be bitwise equal, which is
   what keeps the chapters' printed numbers (verified by nbval) unchanged.
"""

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from bench.classic import model as classic_model
from course_utils import (
    accuracy,
    backward_propagation,
    forward_propagation,
    initialize_parameters,
    network,
    train,
    train_seeds,
)
from course_utils.network import _nansum_cost

RELATIVE = 1e-10
# Zero initialization keeps every weight at exactly 0; only b3 moves, by the
# rounding error of sum(sigmoid(b3) - Y) with half the labels 1 (about 1e-16
# over a run). That is noise around 0: its relative difference between two
# correct implementations that round differently can be anything, so values
# below this absolute floor count as equal.
ZERO_FLOOR = 1e-12


def _reference_train(X, Y, initialization="he", learning_rate=0.01,
                     num_iterations=15000, seed=3, layers_dims=(2, 10, 5, 1),
                     record_every=1000):
    """``train`` as it was before the engine, operation for operation."""
    parameters = initialize_parameters(initialization, layers_dims, seed=seed)

    def forward(parameters):
        n_layers = len(parameters) // 2
        caches = []
        A = X
        for layer in range(1, n_layers + 1):
            Z = np.dot(parameters[f"W{layer}"], A) + parameters[f"b{layer}"]
            if layer == n_layers:
                with np.errstate(over="ignore"):
                    A_next = 1 / (1 + np.exp(-Z))
            else:
                A_next = np.maximum(0, Z)
            caches.append((A, Z, A_next))
            A = A_next
        return A, caches

    costs = []
    m = Y.shape[1]
    for iteration in range(num_iterations):
        AL, caches = forward(parameters)
        if iteration % record_every == 0:
            costs.append((iteration, _nansum_cost(AL, Y)))
        grads = {}
        dZ = 1.0 / m * (AL - Y)
        for layer in range(len(caches), 0, -1):
            A_prev = caches[layer - 1][0]
            grads[f"dW{layer}"] = np.dot(dZ, A_prev.T)
            grads[f"db{layer}"] = np.sum(dZ, axis=1, keepdims=True)
            if layer > 1:
                dA_prev = np.dot(parameters[f"W{layer}"].T, dZ)
                dZ = np.multiply(dA_prev, np.int64(A_prev > 0))
        for name, value in parameters.items():
            value -= learning_rate * grads[f"d{name}"]
    AL, _ = forward(parameters)
    return parameters, costs, _nansum_cost(AL, Y)


def _assert_bitwise(result, reference):
    parameters, costs, final_cost = reference
    assert result.parameters.keys() == parameters.keys()
    for name, value in parameters.items():
        assert result.parameters[name].tobytes() == value.tobytes(), name
    assert result.costs == costs
    assert np.float64(result.final_cost).tobytes() == \
        np.float64(final_cost).tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["zeros", "random", "he"])
def test_canonical_runs_are_bitwise_those_of_the_previous_train(
        name, canonical_runs, dataset):
    # Bitwise even for the chaotic large-random run: same operations, same
    # machine, so the last bits cannot drift apart.
    X_train, Y_train, _, _ = dataset
    _assert_bitwise(canonical_runs[name],
                    _reference_train(X_train, Y_train, initialization=name))


@pytest.mark.parametrize(("layers_dims", "num_iterations", "record_every"), [
    ((2, 8, 6, 4, 1), 700, 300),   # deeper; the last block is shorter
    ((2, 1), 5, 1),                # no hidden layer, every cost recorded
    ((2, 30, 1), 250, 1000),       # fewer iterations than record_every
])
def test_other_shapes_are_bitwise_those_of_the_previous_train(
        dataset, layers_dims, num_iterations, record_every):
    X_train, Y_train, _, _ = dataset
    options = dict(initialization="he", num_iterations=num_iterations,
                   layers_dims=layers_dims, record_every=record_every,
                   learning_rate=0.05, seed=11)
    _assert_bitwise(train(X_train, Y_train, **options),
                    _reference_train(X_train, Y_train, **options))


def _assert_close_to_classic(result, classic, floor=0.0):
    parameters, costs, final_cost = classic
    assert [i for i, _ in result.costs] == [i for i, _ in costs]
    np.testing.assert_allclose([c for _, c in result.costs], [c for _, c in costs],
                               rtol=RELATIVE, atol=0)
    assert result.final_cost == pytest.approx(final_cost, rel=RELATIVE)
    for name, value in parameters.items():
        np.testing.assert_allclose(result.parameters[name], value, rtol=RELATIVE,
                                   atol=floor, err_msg=name)


@pytest.mark.slow
def test_he_run_agrees_with_the_classic_loop(canonical_runs, dataset):
    X_train, Y_train, _, _ = dataset
    classic = classic_model(X_train, Y_train, initialization="he")
    _assert_close_to_classic(canonical_runs["he"], classic)


@pytest.mark.slow
def test_zeros_run_agrees_with_the_classic_loop(canonical_runs, dataset):
    X_train, Y_train, _, _ = dataset
    classic = classic_model(X_train, Y_train, initialization="zeros")
    _assert_close_to_classic(canonical_runs["zeros"], classic, floor=ZERO_FLOOR)
    assert not any(canonical_runs["zeros"].parameters[f"W{layer}"].any()
                   for layer in (1, 2, 3))


@pytest.mark.slow
def test_large_random_run_agrees_with_the_classic_loop_in_outcome(
        canonical_runs, dataset):
    # Chaotic: a difference in the last bit of any operation grows to the 3rd
    # digit of the cost over 15000 steps, so two correct implementations that
    # round differently agree only in outcome: the same accuracy and a cost of
    # the same magnitude (iteration 0 is inf in both).
    X_train, Y_train, X_test, Y_test = dataset
    parameters, costs, final_cost = classic_model(X_train, Y_train,
                                                  initialization="random")
    run = canonical_runs["random"]
    assert run.costs[0][1] == costs[0][1] == math.inf
    assert run.final_cost == pytest.approx(final_cost, rel=1e-2)
    for X, Y in ((X_train, Y_train), (X_test, Y_test)):
        assert accuracy(X, Y, run.parameters) == pytest.approx(
            accuracy(X, Y, parameters), abs=0.02)


def test_tanh_run_agrees_with_the_classic_loop(dataset):
    X_train, Y_train, _, _ = dataset
    result = train(X_train, Y_train, initialization="he", num_iterations=2000,
                   hidden_activation="tanh")
    classic = classic_model(X_train, Y_train, initialization="he",
                            num_iterations=2000, hidden="tanh")
    _assert_close_to_classic(result, classic)
    relu = train(X_train, Y_train, initialization="he", num_iterations=2000)
    # The activation is really used: tanh starts from a different cost.
    assert relu.costs[0][1] != pytest.approx(result.costs[0][1], rel=1e-3)


def test_train_does_not_share_memory_between_results(dataset):
    X_train, Y_train, _, _ = dataset
    parameters = train(X_train, Y_train, num_iterations=3).parameters
    for name, value in parameters.items():
        assert value.flags.c_contiguous and value.flags.owndata, name


@pytest.mark.parametrize("call", ["forward", "backward", "train"])
@pytest.mark.parametrize(("value", "error"), [("sigmoidal", ValueError),
                                              (None, TypeError)])
def test_unknown_hidden_activation_is_rejected(dataset, call, value, error):
    X_train, Y_train, _, _ = dataset
    parameters = initialize_parameters("he", [2, 3, 1])
    with pytest.raises(error, match="hidden_activation"):
        if call == "forward":
            forward_propagation(X_train, parameters, hidden_activation=value)
        elif call == "backward":
            _, caches = forward_propagation(X_train, parameters)
            backward_propagation(Y_train, parameters, caches,
                                 hidden_activation=value)
        else:
            train(X_train, Y_train, num_iterations=1, hidden_activation=value)


# --- train_seeds: many networks at once ------------------------------------

SEEDS_RELATIVE = 1e-9


def _assert_close_to_train(result, single, floor=0.0):
    assert [i for i, _ in result.costs] == [i for i, _ in single.costs]
    np.testing.assert_allclose([c for _, c in result.costs],
                               [c for _, c in single.costs],
                               rtol=SEEDS_RELATIVE, atol=0)
    assert result.final_cost == pytest.approx(single.final_cost,
                                              rel=SEEDS_RELATIVE)
    assert result.parameters.keys() == single.parameters.keys()
    for name, value in single.parameters.items():
        np.testing.assert_allclose(result.parameters[name], value,
                                   rtol=SEEDS_RELATIVE, atol=floor, err_msg=name)


@pytest.mark.slow
def test_train_seeds_reproduces_the_canonical_he_run(canonical_runs, dataset):
    X_train, Y_train, _, _ = dataset
    results = train_seeds(X_train, Y_train, initialization="he", seeds=[3, 1])
    _assert_close_to_train(results[0], canonical_runs["he"])
    assert results[0].initialization == "he"


@pytest.mark.parametrize("hidden_activation", ["relu", "tanh"])
@pytest.mark.parametrize(("name", "floor"), [("he", 0.0), ("zeros", ZERO_FLOOR)])
@pytest.mark.parametrize("layers_dims", [(2, 10, 5, 1), (2, 6, 5, 4, 1), (2, 1)])
def test_train_seeds_equals_separate_train_calls(dataset, name, floor,
                                                 hidden_activation, layers_dims):
    X_train, Y_train, _, _ = dataset
    seeds = [0, 3, 17, 2**32 - 1]
    options = dict(initialization=name, num_iterations=1500, record_every=400,
                   layers_dims=layers_dims, hidden_activation=hidden_activation)
    results = train_seeds(X_train, Y_train, seeds=seeds, **options)
    assert len(results) == len(seeds)
    for seed, result in zip(seeds, results, strict=True):
        _assert_close_to_train(result, train(X_train, Y_train, seed=seed, **options),
                               floor)


def test_train_seeds_large_random_runs_agree_in_outcome(dataset):
    # Chaotic (see above): compared by accuracy and cost magnitude only.
    X_train, Y_train, _, _ = dataset
    seeds = [3, 4, 5]
    results = train_seeds(X_train, Y_train, initialization="random", seeds=seeds,
                          num_iterations=3000)
    for seed, result in zip(seeds, results, strict=True):
        single = train(X_train, Y_train, initialization="random", seed=seed,
                       num_iterations=3000)
        assert (result.costs[0][1] == math.inf) == (single.costs[0][1] == math.inf)
        assert result.final_cost == pytest.approx(single.final_cost, rel=0.2)
        assert accuracy(X_train, Y_train, result.parameters) == pytest.approx(
            accuracy(X_train, Y_train, single.parameters), abs=0.03)


def _assert_identical(first, second):
    assert first.costs == second.costs
    assert first.final_cost == second.final_cost
    assert first.parameters.keys() == second.parameters.keys()
    for name, value in first.parameters.items():
        np.testing.assert_array_equal(value, second.parameters[name], err_msg=name)


@pytest.fixture
def worker_processes(monkeypatch):
    """Make train_seeds use worker processes for any size; record them."""
    monkeypatch.setattr(network, "PROCESSES_FROM", 0)
    started = types.SimpleNamespace(commands=[], processes=[])
    real_popen = subprocess.Popen

    def counting_popen(command, *args, **kwargs):
        started.commands.append(command)
        process = real_popen(command, *args, **kwargs)
        started.processes.append(process)
        return process

    monkeypatch.setattr(network.subprocess, "Popen", counting_popen)
    return started


def test_train_seeds_gives_the_same_bits_in_any_number_of_processes(
        dataset, worker_processes):
    X_train, Y_train, _, _ = dataset
    seeds = [*range(60), 7]  # 61 networks: three stacks; 7 twice
    options = dict(seeds=seeds, num_iterations=200, record_every=50)
    here = train_seeds(X_train, Y_train, workers=1, **options)
    assert worker_processes.commands == []
    two = train_seeds(X_train, Y_train, workers=2, **options)
    assert len(worker_processes.commands) == 1  # and this process
    three = train_seeds(X_train, Y_train, workers=3, **options)
    assert len(worker_processes.commands) == 1 + 2
    for first, second, third in zip(here, two, three, strict=True):
        _assert_identical(first, second)
        _assert_identical(first, third)
    # The same seed in another stack, at another position: equal up to rounding.
    _assert_close_to_train(here[-1], here[7])


@pytest.mark.parametrize("executable", ["/nonexistent/python", "false"])
def test_train_seeds_trains_here_when_a_worker_cannot_run(
        dataset, worker_processes, monkeypatch, executable):
    X_train, Y_train, _, _ = dataset
    options = dict(seeds=range(60), num_iterations=100, record_every=50)
    here = train_seeds(X_train, Y_train, workers=1, **options)
    monkeypatch.setattr(network.sys, "executable",
                        shutil.which(executable) or executable)
    with pytest.warns(RuntimeWarning, match=r"train_seeds trains here what its "
                      r"worker processes could not \(same results"):
        fallen_back = train_seeds(X_train, Y_train, workers=3, **options)
    assert len(worker_processes.commands) == 2
    for first, second in zip(here, fallen_back, strict=True):
        _assert_identical(first, second)


# A kernel of its own: train_seeds as a notebook calls it, in a process that
# receives the SIGINT of Jupyter's stop button.
INTERRUPTED_KERNEL = """
import signal, sys, warnings
from course_utils import load_dataset, network, train_seeds
# A kernel turns SIGINT into KeyboardInterrupt (ipykernel installs its own
# handler), even when it was started with SIGINT ignored, as a background job
# of a shell is: CPython then leaves it ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
network.PROCESSES_FROM = 0
if len(sys.argv) > 1:
    network.sys.executable = sys.argv[1]
X_train, Y_train, _, _ = load_dataset()
warnings.simplefilter("ignore", RuntimeWarning)
print("training", flush=True)
# About 20 s of work: the interrupt comes long before the end.
train_seeds(X_train, Y_train, seeds=range(75), num_iterations=10000, workers=3)
print("finished", flush=True)
"""


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("executable", [None, "/nonexistent/python"])
def test_an_interrupt_stops_the_workers_at_once(executable):
    # Jupyter's stop button: SIGINT to the kernel while the workers train, or
    # while it trains what a worker that could not start left. The kernel is
    # a process of its own, as in Jupyter: the test runner's own process may
    # have SIGINT ignored (a shell's background job does), and then no
    # KeyboardInterrupt comes.
    command = [sys.executable, "-c", INTERRUPTED_KERNEL]
    kernel = subprocess.Popen(command + ([executable] if executable else []),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert kernel.stdout.readline() == "training\n"
        time.sleep(1.5)
        workers = _children(kernel.pid)
        assert len(workers) == (0 if executable else 2)
        started = time.monotonic()
        kernel.send_signal(signal.SIGINT)
        out, errors = kernel.communicate(timeout=60)
    finally:
        kernel.kill()
    assert time.monotonic() - started < 6
    assert "KeyboardInterrupt" in errors and "finished" not in out
    assert kernel.returncode != 0
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)


def test_train_seeds_leaves_the_blas_threads_as_it_found_them(dataset,
                                                             worker_processes):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info()
                if info["user_api"] == "blas"]

    before = blas_threads()
    X_train, Y_train, _, _ = dataset
    train_seeds(X_train, Y_train, seeds=range(60), num_iterations=20, workers=3)
    assert blas_threads() == before


@pytest.mark.parametrize(("value", "processes"), [("1", 0), ("3", 2), ("", 1)])
def test_course_utils_workers_sets_the_default_number_of_workers(
        dataset, worker_processes, monkeypatch, value, processes):
    monkeypatch.setenv("COURSE_UTILS_WORKERS", value)
    # A 2-core machine, whichever way train_seeds asks (affinity first).
    monkeypatch.setattr(network.os, "sched_getaffinity", lambda pid: {0, 1},
                        raising=False)
    monkeypatch.setattr(network.os, "cpu_count", lambda: 2)
    X_train, Y_train, _, _ = dataset
    train_seeds(X_train, Y_train, seeds=range(75), num_iterations=2)
    assert len(worker_processes.commands) == processes


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_course_utils_workers_is_named(dataset, monkeypatch, value):
    monkeypatch.setenv("COURSE_UTILS_WORKERS", value)
    X_train, Y_train, _, _ = dataset
    with pytest.raises(ValueError, match=r"COURSE_UTILS_WORKERS must be a positive "
                                         rf"int such as 2; got '{re.escape(value)}'"):
        train_seeds(X_train, Y_train, seeds=[1, 2], num_iterations=2)


def test_a_worker_killed_by_a_signal_stops_train_seeds(
        dataset, worker_processes, monkeypatch, tmp_path):
    # As when Jupyter's stop button signals the kernel's process group: the
    # stacks must not be trained again here, unasked.
    killed = tmp_path / "killed-python"
    killed.write_text("#!/bin/sh\nkill -KILL $$\n")
    killed.chmod(0o755)
    monkeypatch.setattr(network.sys, "executable", str(killed))
    X_train, Y_train, _, _ = dataset
    with pytest.raises(InterruptedError, match="stopped by signal 9"):
        train_seeds(X_train, Y_train, seeds=range(30), num_iterations=100,
                    workers=2)


def test_train_seeds_prints_each_seeds_costs(dataset, capsys):
    X_train, Y_train, _, _ = dataset
    train_seeds(X_train, Y_train, seeds=[5, 6], num_iterations=3, record_every=2,
                print_cost=True, print_digits=3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Seed 5:" and lines[3] == "Seed 6:"
    assert [line.split(":")[0] for line in lines[1:3]] == [
        "Cost after iteration 0", "Cost after iteration 2"]


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"seeds": []}, ValueError, r"seeds must hold at least one seed"),
    ({"seeds": [1, 2.5]}, TypeError, r"seeds\[1\] must be an int"),
    ({"seeds": [1, -1]}, ValueError, r"seeds\[1\] must be between 0"),
    ({"seeds": "123"}, TypeError, r"seeds must be a sequence of ints"),
    ({"seeds": 3}, TypeError, r"seeds must be a sequence of ints"),
    ({"initialization": {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}},
     TypeError, r"initialization must be an initializer name"),
    ({"initialization": "glorious"}, ValueError, r"unknown initialization"),
    ({"workers": 0}, ValueError, r"workers must be a positive int"),
    ({"hidden_activation": "sigmoidal"}, ValueError, r"hidden_activation"),
    ({"num_iterations": 0}, ValueError, r"num_iterations must be a positive int"),
    ({"learning_rate": -1.0}, ValueError, r"learning_rate must be a finite"),
    ({"record_every": 0}, ValueError, r"record_every must be a positive int"),
    ({"layers_dims": [3, 4, 1]}, ValueError, r"X has 2 features .* expects 3"),
    ({"Y": np.array([[0, 1]])}, ValueError, r"Y has 2 examples but X has 300"),
])
def test_train_seeds_rejects_bad_input(dataset, changes, error, message):
    X_train, Y_train, _, _ = dataset
    arguments = dict(X=X_train, Y=Y_train, seeds=[1, 2], num_iterations=2)
    arguments.update(changes)
    with pytest.raises(error, match=message):
        train_seeds(**arguments)


def test_train_seeds_accepts_a_numpy_array_of_seeds(dataset):
    X_train, Y_train, _, _ = dataset
    results = train_seeds(X_train, Y_train, seeds=np.array([4, 5]),
                          num_iterations=2)
    _assert_close_to_train(results[1],
                           train(X_train, Y_train, seed=5, num_iterations=2))


def test_data_driven_initializers_are_calibrated_on_the_training_inputs(dataset):
    # train and train_seeds hand X to LSUV; the start they train from is the
    # one initialize_parameters computes from the same X and seed.
    from course_utils import compute_cost, forward_propagation, initialize_parameters
    from course_utils import train as train_one

    X_train, Y_train, _, _ = dataset
    start = initialize_parameters("lsuv", [2, 10, 5, 1], seed=4, X=X_train)
    expected = compute_cost(forward_propagation(X_train, start)[0], Y_train)
    one = train_one(X_train, Y_train, initialization="lsuv", seed=4,
                    num_iterations=1)
    [batched] = train_seeds(X_train, Y_train, initialization="lsuv", seeds=[4],
                            num_iterations=1)
    assert one.costs[0][1] == expected
    assert batched.costs[0][1] == pytest.approx(expected, rel=1e-12)

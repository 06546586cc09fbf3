"""A fully connected ReLU network with a sigmoid output, trained by gradient descent.

Introduced in the chapter
"Why the initial weights matter". The computations follow the original
assignment operation for operation (the same products, sums and masks in the
same order), which is what lets the course reproduce its printed costs to the
last digit. Unlike the original, the network may have any depth and width, and
tanh hidden layers. ``train`` runs on a preallocated engine
(``course_utils._engine``) that makes exactly these operations with less
overhead; ``train_seeds`` trains many seeds at once, equal up to rounding.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from course_utils._engine import (
    ACTIVATIONS,
    Activation,
    Batch,
    Network,
    check_activation,
    sigmoid_into,
)
from course_utils._validation import (
    check_features,
    check_input_width,
    check_labels,
    check_layers_dims,
    check_non_negative_float,
    check_parameters,
    check_positive_int,
    check_seed,
    check_seeds,
)
from course_utils.initializers import (
    DEFAULT_SEED,
    initialize_parameters,
    needs_data,
)

CANONICAL_LAYERS = (2, 10, 5, 1)
CANONICAL_LEARNING_RATE = 0.01
CANONICAL_ITERATIONS = 15000
RECORD_EVERY = 1000
# train_seeds trains at most this many networks in one stack: measured here,
# 20 to 25 were fastest per network (27 us per network and step), 10 and 16
# 15-25 % slower, 34 and 50 about 5 % slower.
SEEDS_PER_BATCH = 25
# Below this many network-steps (about half a second of work) train_seeds
# stays in one process. Measured here: 50 networks x 500 steps took 0.87 s in
# one process and 0.65 s with a worker, whose start costs about 0.3 s.
PROCESSES_FROM = 20_000
# Sets train_seeds's default number of worker processes (else: the cores).
WORKERS_VARIABLE = "COURSE_UTILS_WORKERS"


class LayerCache(NamedTuple):
    """What one layer's forward step keeps for the backward step.

    Introduced in the chapter "Why the initial weights matter".
    """

    A_prev: np.ndarray
    Z: np.ndarray
    A: np.ndarray


@dataclass(frozen=True)
class TrainingResult:
    """The outcome of :func:`train`.

    Introduced in the chapter "Zero initialization".

    Attributes
    ----------
    parameters : dict of str to numpy.ndarray
        The trained ``W1, b1, ..., WL, bL``.
    costs : list of (int, float)
        ``(iteration, cost)`` pairs, recorded before the update of every
        iteration that is a multiple of ``record_every`` (as the original
        assignment prints them: the last is the cost *before* update 14 000).
    initialization : str
        Name of the initializer, or ``"custom"`` for a given parameter dict.
    final_cost : float
        The cost of the returned parameters, after all ``num_iterations``
        updates (one more forward pass than the recorded costs).
    """

    parameters: dict[str, np.ndarray]
    costs: list[tuple[int, float]] = field(default_factory=list)
    initialization: str = "custom"
    final_cost: float = float("nan")


def relu(Z: np.ndarray) -> np.ndarray:
    """Rectified linear unit, ``max(0, Z)`` elementwise.

    Introduced in the chapter "Why the initial weights matter".
    """
    return np.maximum(0, Z)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-Z))`` elementwise.

    Introduced in the chapter
    "Why the initial weights matter". For ``Z`` above about 37 the
    result rounds to exactly 1.0 in float64, which is why the large-random run
    reports an infinite cost at iteration 0.
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-Z))


def forward_propagation(X: np.ndarray, parameters: Mapping[str, np.ndarray],
                        hidden_activation: str = "relu"
                        ) -> tuple[np.ndarray, list[LayerCache]]:
    """Run LINEAR->RELU (or ->TANH) for the hidden layers, then LINEAR->SIGMOID.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
        Input, one example per column.
    parameters : dict
        ``W1, b1, ..., WL, bL`` as made by :func:`initialize_parameters`.
    hidden_activation : {"relu", "tanh"}, default "relu"
        Activation of the hidden layers.

    Returns
    -------
    AL : numpy.ndarray of shape (1, m)
        Output probabilities.
    caches : list of LayerCache
        Per layer: its input ``A_prev``, pre-activation ``Z`` and output ``A``.
        ``caches[-1].Z`` are the output logits.
    """
    X = check_features(X)
    check_parameters(parameters)
    check_input_width(X, parameters)
    return _forward(X, parameters, check_activation(hidden_activation))


def backward_propagation(Y: np.ndarray, parameters: Mapping[str, np.ndarray],
                         caches: Sequence[LayerCache],
                         hidden_activation: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy cost with respect to every parameter.

    Introduced in the chapter "Why the initial weights matter".

    Parameters
    ----------
    Y : numpy.ndarray of shape (1, m)
        True labels.
    parameters : dict
        The parameters the forward pass used.
    caches : list of LayerCache
        As returned by :func:`forward_propagation`.
    hidden_activation : {"relu", "tanh"}, default "relu"
        The activation the forward pass used.

    Returns
    -------
    dict of str to numpy.ndarray
        ``dW1, db1, ..., dWL, dbL``, each shaped like its parameter.
    """
    activation = check_activation(hidden_activation)
    n_layers = check_parameters(parameters)
    if len(caches) != n_layers:
        raise ValueError(f"caches must hold one entry per layer ({n_layers}); "
                         f"got {len(caches)}")
    Y = check_labels(Y, caches[-1].A.shape[1])
    return _backward(Y, parameters, caches, activation)


def compute_cost(AL: np.ndarray, Y: np.ndarray) -> float:
    """Binary cross-entropy from probabilities, as the original assignment computes it.

    Introduced in the chapter "Large random initialization".

    The per-example losses are summed with ``numpy.nansum``. When an output
    saturates to exactly 1.0 (or 0.0), ``log(1 - AL)`` is ``-inf``; for an
    example of the other class that term is multiplied by 0, giving ``nan``,
    which ``nansum`` skips, while for an example of the same class the term is
    ``inf`` and so is the cost. That is how the large-random run reports
    ``inf`` at iteration 0. :func:`compute_cost_from_logits` avoids it.

    Parameters
    ----------
    AL : numpy.ndarray of shape (1, m)
        Output probabilities.
    Y : numpy.ndarray of shape (1, m)
        True labels.

    Returns
    -------
    float
        The mean cost, possibly ``inf``.
    """
    AL = np.asarray(AL, dtype=float)
    if AL.ndim != 2 or AL.shape[0] != 1:
        raise ValueError(f"AL must have shape (1, m); got {AL.shape}")
    Y = check_labels(Y, AL.shape[1])
    return _nansum_cost(AL, Y)


def compute_cost_from_logits(ZL: np.ndarray, Y: np.ndarray) -> float:
    """Binary cross-entropy computed stably from the output logits.

    Introduced in the chapter "Large random initialization".

    Uses ``max(Z, 0) - Z * Y + log(1 + exp(-|Z|))``, which equals
    ``-Y log(sigmoid(Z)) - (1 - Y) log(1 - sigmoid(Z))`` but never evaluates
    the log of a number that has rounded to 0, so it stays finite however
    large the logits are.

    Parameters
    ----------
    ZL : numpy.ndarray of shape (1, m)
        Output pre-activations (``caches[-1].Z``).
    Y : numpy.ndarray of shape (1, m)
        True labels.

    Returns
    -------
    float
        The mean cost.
    """
    ZL = np.asarray(ZL, dtype=float)
    if ZL.ndim != 2 or ZL.shape[0] != 1:
        raise ValueError(f"ZL must have shape (1, m); got {ZL.shape}")
    Y = check_labels(Y, ZL.shape[1])
    losses = np.maximum(ZL, 0) - ZL * Y + np.log1p(np.exp(-np.abs(ZL)))
    return float(np.mean(losses))


def train(X: np.ndarray, Y: np.ndarray,
          initialization: str | Mapping[str, np.ndarray] = "he",
          learning_rate: float = CANONICAL_LEARNING_RATE,
          num_iterations: int = CANONICAL_ITERATIONS,
          print_cost: bool = False, seed: int = DEFAULT_SEED,
          layers_dims: Sequence[int] = CANONICAL_LAYERS,
          record_every: int = RECORD_EVERY,
          print_digits: int | None = None,
          hidden_activation: str = "relu") -> TrainingResult:
    """Train the network by full-batch gradient descent.

    Introduced in the chapter "Zero initialization". With the defaults this is
    the original assignment's ``model()``.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
        Training inputs, one example per column.
    Y : numpy.ndarray of shape (1, m)
        Training labels, 0 or 1.
    initialization : str or dict, default "he"
        An initializer name (see :func:`initialize_parameters`) or a ready
        parameter dict, which is copied and not modified.
    learning_rate : float, default 0.01
    num_iterations : int, default 15000
    print_cost : bool, default False
        Print ``Cost after iteration N: C`` whenever a cost is recorded.
    seed : int, default 3
        Seed for the initializer (ignored for a given parameter dict).
    layers_dims : sequence of int, default (2, 10, 5, 1)
        Layer sizes; the first must equal the number of rows of ``X``.
    record_every : int, default 1000
        Record (and print) the cost at iterations that are multiples of this.
        The cost is computed only there: it does not affect the updates.
    print_digits : int, optional
        Print costs rounded to this many significant digits instead of in full.
        For runs whose last digits depend on the machine's floating point.
    hidden_activation : {"relu", "tanh"}, default "relu"
        Activation of the hidden layers (the output layer is always sigmoid).

    Returns
    -------
    TrainingResult
        ``.parameters``, ``.costs`` (a list of ``(iteration, cost)``) and
        ``.final_cost`` (the cost after the last update).

    Examples
    --------
    >>> from course_utils import load_dataset
    >>> X_train, Y_train, _, _ = load_dataset()
    >>> result = train(X_train, Y_train, initialization="he", num_iterations=1)
    >>> result.costs
    [(0, 0.8830537463419761)]
    """
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    learning_rate = check_non_negative_float(learning_rate, "learning_rate")
    num_iterations = check_positive_int(num_iterations, "num_iterations")
    record_every = check_positive_int(record_every, "record_every")
    if print_digits is not None:
        print_digits = check_positive_int(print_digits, "print_digits")
    activation = check_activation(hidden_activation)
    parameters, name = _starting_parameters(initialization, layers_dims, seed, X)
    check_input_width(X, parameters)

    network = Network(X, Y, parameters, activation, learning_rate)
    costs = []
    # The sigmoid's exp(-Z) overflows to inf by design when a unit saturates.
    with np.errstate(over="ignore"):
        for iteration in range(0, num_iterations, record_every):
            cost = _nansum_cost(network.forward(), Y)
            costs.append((iteration, cost))
            if print_cost:
                print(f"Cost after iteration {iteration}: "
                      f"{_format_cost(cost, print_digits)}")
            network.backward_and_update()
            network.run(min(record_every, num_iterations - iteration) - 1)
        final_cost = _nansum_cost(network.forward(), Y)
    return TrainingResult(parameters=network.parameters(), costs=costs,
                          initialization=name, final_cost=final_cost)


class _BatchTask(NamedTuple):
    """One stack of ``train_seeds``: everything a worker process needs."""

    X: np.ndarray
    Y: np.ndarray
    starts: list[dict[str, np.ndarray]]
    activation: str
    learning_rate: float
    num_iterations: int
    record_every: int


def _train_batch(task: _BatchTask) -> tuple[list[np.ndarray], np.ndarray,
                                            list[dict[str, np.ndarray]]]:
    """Train one stack; return its recorded costs, final costs and parameters.

    Call it inside :func:`_one_blas_thread`, as ``train_seeds`` and the worker
    processes do.
    """
    with np.errstate(over="ignore"):
        batch = Batch(task.X, task.Y, task.starts, ACTIVATIONS[task.activation],
                      task.learning_rate)
        recorded = []
        for iteration in range(0, task.num_iterations, task.record_every):
            recorded.append(batch.costs())
            batch.run(min(task.record_every, task.num_iterations - iteration))
        return (recorded, batch.costs(),
                [batch.parameters(position) for position in range(len(task.starts))])


def _one_blas_thread():
    """A context in which BLAS uses one thread (process-wide, threadpoolctl).

    ``train_seeds`` trains every stack inside it, in the calling process and in
    each worker alike, so that the products (and their last bits) are the
    same wherever a stack runs. Entered once, by one thread: the setting is
    process-wide.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _default_workers() -> int:
    """``COURSE_UTILS_WORKERS`` if set, else the number of usable CPU cores."""
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        # The cores this process may run on (a container's limit), if known.
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0)) or 1
        return os.cpu_count() or 1
    if not (value.isascii() and value.isdecimal()) or int(value) < 1:
        raise ValueError(f"the environment variable {WORKERS_VARIABLE} must be a "
                         f"positive int such as 2; got {value!r}")
    return int(value)


def _train_in_processes(tasks: list[_BatchTask], workers: int) -> list:
    """Share the stacks between this process and ``workers - 1`` worker processes.

    Processes, not threads: each step is a few dozen numpy calls of tens of
    microseconds, and threads spent much of that time waiting for the GIL
    (measured here, 50 networks: 1.5x with two threads, 1.75x with two
    processes, process starts included). A worker that cannot start or fails
    (a sandbox without subprocesses, a ``course_utils`` the child cannot
    import) has its stacks trained here afterwards, with a warning: the same
    stacks give the same results, only later. A worker killed by a signal,
    or an interrupt here (Jupyter's stop button), stops them all. Call it
    inside :func:`_one_blas_thread`.
    """
    shares = [tasks[first::workers] for first in range(workers)]
    command = [sys.executable, "-P", "-m", "course_utils._batch_worker"]
    environment = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    if package_root not in _site_packages():
        # Found through sys.path tricks or an editable install: tell the child.
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    processes: list[subprocess.Popen] = []
    failures: list[str] = []
    lock = threading.Lock()
    stopping = threading.Event()

    def run_share(share: list[_BatchTask]) -> list | None:
        """The share's outcomes from a worker process, or None if it failed."""
        with lock:
            if stopping.is_set():
                raise InterruptedError("train_seeds was interrupted")
            try:
                process = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=environment)
            except (OSError, TypeError, ValueError) as error:
                failures.append(f"could not start: {error}")
                return None
            processes.append(process)
        output, errors = process.communicate(
            pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
        if stopping.is_set():
            raise InterruptedError("train_seeds was interrupted")
        if process.returncode < 0:
            raise InterruptedError(f"a train_seeds worker was stopped by signal "
                                   f"{-process.returncode}")
        if process.returncode == 0:
            with contextlib.suppress(pickle.UnpicklingError, EOFError):
                return pickle.loads(output)
        tail = errors.decode(errors="replace").strip().splitlines()[-3:]
        failures.append(f"exit status {process.returncode}: {' / '.join(tail)}")
        return None

    # The threads only wait for their worker process; this process trains the
    # first share meanwhile, so there is one process fewer to start.
    pool = ThreadPoolExecutor(max_workers=workers - 1)
    try:
        futures = [pool.submit(run_share, share) for share in shares[1:]]
        outcomes_by_share = [[_train_batch(task) for task in shares[0]]]
        outcomes_by_share += [future.result() for future in futures]
    except BaseException:
        with lock:
            stopping.set()
            for process in processes:
                process.kill()
        raise
    finally:
        pool.shutdown(wait=True)
    if failures:
        warnings.warn("train_seeds trains here what its worker processes could "
                      "not (same results, more time): " + "; ".join(failures),
                      RuntimeWarning, stacklevel=3)
    for index, share in enumerate(shares):
        if outcomes_by_share[index] is None:
            outcomes_by_share[index] = [_train_batch(task) for task in share]
    outcomes = [None] * len(tasks)
    for first, share_outcomes in enumerate(outcomes_by_share):
        outcomes[first::workers] = share_outcomes
    return outcomes


def _site_packages() -> set[str]:
    """The site-packages folders, where an installed course_utils needs no path."""
    import site

    folders = set(site.getsitepackages()) if hasattr(site, "getsitepackages") \
        else set()
    folders.add(site.getusersitepackages())
    return {str(Path(folder).resolve()) for folder in folders}


def train_seeds(X: np.ndarray, Y: np.ndarray, initialization: str = "he",
                seeds: Sequence[int] = (DEFAULT_SEED,),
                learning_rate: float = CANONICAL_LEARNING_RATE,
                num_iterations: int = CANONICAL_ITERATIONS,
                print_cost: bool = False,
                layers_dims: Sequence[int] = CANONICAL_LAYERS,
                record_every: int = RECORD_EVERY,
                print_digits: int | None = None,
                hidden_activation: str = "relu",
                workers: int | None = None) -> list[TrainingResult]:
    """Train one network per seed, all at once; like ``train(..., seed=s)`` per seed.

    Introduced in the chapter "Robustness across seeds".

    The networks are trained together on stacked weights with batched matrix
    products (the first layer of every network in one product, since they
    share ``X``), split over ``workers`` processes. Each result equals the one
    of a separate :func:`train` call with that seed up to rounding: the
    operations are grouped differently, so the last bits differ (about 1e-13
    relative for the He and zero runs; the chaotic large-random run agrees
    only in outcome, as it does between machines).

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
        Training inputs, one example per column.
    Y : numpy.ndarray of shape (1, m)
        Training labels, 0 or 1.
    initialization : str, default "he"
        An initializer name (see :func:`initialize_parameters`). A ready
        parameter dict is not accepted: every seed would start the same.
    seeds : sequence of int, default (3,)
        One network per entry, drawn with ``initialize_parameters(...,
        seed=s)``. Must not be empty; a repeated seed trains (and returns) the
        same network twice.
    learning_rate, num_iterations, layers_dims, record_every
        As for :func:`train`.
    print_cost : bool, default False
        After training, print each network's recorded costs as :func:`train`
        does, under a ``Seed s:`` line.
    print_digits : int, optional
        As for :func:`train`.
    hidden_activation : {"relu", "tanh"}, default "relu"
        Activation of the hidden layers.
    workers : int, optional
        Processes to train the seeds in; default: the environment variable
        ``COURSE_UTILS_WORKERS`` if set, else the number of CPU cores.
        The seeds are trained in stacks of ``SEEDS_PER_BATCH`` (25), spread
        over the workers; with fewer than 20 000 network-steps in all
        (``PROCESSES_FROM``) or only one stack, everything runs in this
        process. The stacks, and so the results, are the same for any number
        of workers.

    Returns
    -------
    list of TrainingResult
        One per seed, in the order of ``seeds``.

    Examples
    --------
    >>> from course_utils import load_dataset
    >>> X_train, Y_train, _, _ = load_dataset()
    >>> results = train_seeds(X_train, Y_train, seeds=[3, 4], num_iterations=1)
    >>> [round(result.costs[0][1], 6) for result in results]
    [0.883054, 0.795952]
    """
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    if isinstance(initialization, Mapping):
        raise TypeError("initialization must be an initializer name (str) for "
                        "train_seeds; every seed would start from the same dict")
    seeds = check_seeds(seeds)
    learning_rate = check_non_negative_float(learning_rate, "learning_rate")
    num_iterations = check_positive_int(num_iterations, "num_iterations")
    record_every = check_positive_int(record_every, "record_every")
    if print_digits is not None:
        print_digits = check_positive_int(print_digits, "print_digits")
    if workers is None:
        workers = _default_workers()
    workers = min(check_positive_int(workers, "workers"), len(seeds))
    activation = check_activation(hidden_activation)
    layers_dims = check_layers_dims(layers_dims)
    options = {"X": X} if needs_data(initialization) else {}
    starts = [initialize_parameters(initialization, layers_dims, seed=seed, **options)
              for seed in seeds]
    check_input_width(X, starts[0])

    # Fixed stacks, whatever the number of workers, so that every network
    # meets the same products in the same shapes: the results do not depend
    # on the machine's core count.
    chunks = [list(chunk) for chunk in np.array_split(
        np.arange(len(seeds)), -(-len(seeds) // SEEDS_PER_BATCH))]
    tasks = [_BatchTask(X, Y, [starts[index] for index in chunk], activation.name,
                        learning_rate, num_iterations, record_every)
             for chunk in chunks]
    workers = min(workers, len(tasks))
    with _one_blas_thread():
        if workers > 1 and len(seeds) * num_iterations >= PROCESSES_FROM:
            outcomes = _train_in_processes(tasks, workers)
        else:
            outcomes = [_train_batch(task) for task in tasks]

    results = [None] * len(seeds)
    iterations = range(0, num_iterations, record_every)
    for chunk, (recorded, final, parameters) in zip(chunks, outcomes, strict=True):
        for position, index in enumerate(chunk):
            costs = [(iteration, float(values[position]))
                     for iteration, values in zip(iterations, recorded, strict=True)]
            results[index] = TrainingResult(
                parameters=parameters[position], costs=costs,
                initialization=initialization, final_cost=float(final[position]))
    if print_cost:
        for seed, result in zip(seeds, results, strict=True):
            print(f"Seed {seed}:")
            for iteration, cost in result.costs:
                print(f"Cost after iteration {iteration}: "
                      f"{_format_cost(cost, print_digits)}")
    return results


def predict(X: np.ndarray, parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """Predict labels: 1 where the output probability is above 0.5.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
    parameters : dict
        ``W1, b1, ..., WL, bL``.

    Returns
    -------
    numpy.ndarray of shape (1, m)
        Integer labels 0 or 1.
    """
    AL, _ = forward_propagation(X, parameters)
    return (AL > 0.5).astype(int)


def accuracy(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, np.ndarray]
             ) -> float:
    """Fraction of examples whose predicted label equals the true one.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
    Y : numpy.ndarray of shape (1, m)
    parameters : dict

    Returns
    -------
    float
        A number in [0, 1].
    """
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    return float(np.mean(predict(X, parameters) == Y))


def _starting_parameters(initialization: object, layers_dims: Sequence[int],
                         seed: int, X: np.ndarray
                         ) -> tuple[dict[str, np.ndarray], str]:
    if isinstance(initialization, Mapping):
        check_parameters(initialization, "initialization")
        copied = {key: np.array(value, dtype=float)
                  for key, value in initialization.items()}
        return copied, "custom"
    layers_dims = check_layers_dims(layers_dims)
    seed = check_seed(seed)
    # A data-driven initializer (LSUV) is calibrated on the training inputs.
    options = {"X": X} if needs_data(initialization) else {}
    return (initialize_parameters(initialization, layers_dims, seed=seed, **options),
            initialization)


def _forward(X: np.ndarray, parameters: Mapping[str, np.ndarray],
             activation: Activation) -> tuple[np.ndarray, list[LayerCache]]:
    # The same operations as the training engine (course_utils._engine), on
    # freshly allocated arrays, for callers that want the caches.
    n_layers = len(parameters) // 2
    caches = []
    A = X
    for layer in range(1, n_layers + 1):
        Z = np.dot(parameters[f"W{layer}"], A) + parameters[f"b{layer}"]
        A_next = np.empty_like(Z)
        if layer == n_layers:
            with np.errstate(over="ignore"):
                sigmoid_into(Z, A_next)
        else:
            activation.forward(Z, A_next)
        caches.append(LayerCache(A_prev=A, Z=Z, A=A_next))
        A = A_next
    return A, caches


def _backward(Y: np.ndarray, parameters: Mapping[str, np.ndarray],
              caches: Sequence[LayerCache], activation: Activation
              ) -> dict[str, np.ndarray]:
    n_layers = len(caches)
    m = Y.shape[1]
    grads = {}
    # Sigmoid and cross-entropy together give this simple output gradient.
    dZ = 1.0 / m * (caches[-1].A - Y)
    for layer in range(n_layers, 0, -1):
        A_prev = caches[layer - 1].A_prev
        grads[f"dW{layer}"] = np.dot(dZ, A_prev.T)
        grads[f"db{layer}"] = np.sum(dZ, axis=1, keepdims=True)
        if layer > 1:
            dZ = np.dot(parameters[f"W{layer}"].T, dZ)
            activation.backward(dZ, A_prev,
                                np.empty(A_prev.shape, activation.scratch_dtype))
    return grads


def _format_cost(cost: float, digits: int | None) -> str:
    if digits is None:
        return str(cost)
    # "#" keeps trailing zeros, so that every line shows `digits` digits.
    return f"{cost:#.{digits}g}"


def _nansum_cost(AL: np.ndarray, Y: np.ndarray) -> float:
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
    return float(1.0 / m * np.nansum(logprobs))

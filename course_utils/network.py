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
import re
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
    NORMALIZATIONS,
    Activation,
    Architecture,
    Batch,
    BlockCache,
    Network,
    check_activation,
    general_backward,
    general_forward,
    general_train,
    residual_blocks,
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
    normalization : {None, "batch", "layer"}
        The normalization the network was trained with (chapter "When
        initialization matters less"); :func:`predict` and :func:`accuracy`
        use it when given the result itself.
    residual : bool
        Whether the network has residual blocks.
    """

    parameters: dict[str, np.ndarray]
    costs: list[tuple[int, float]] = field(default_factory=list)
    initialization: str = "custom"
    final_cost: float = float("nan")
    normalization: str | None = None
    residual: bool = False


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
                        hidden_activation: str = "relu", *,
                        normalization: str | None = None, residual: bool = False,
                        statistics: str = "batch"
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
    normalization : {None, "batch", "layer"}, default None
        Normalize each hidden layer's pre-activations, then scale and shift
        them by ``gamma{l}`` and ``beta{l}`` (see :func:`train`). Introduced
        in the chapter "When initialization matters less".
    residual : bool, default False
        Make the hidden layers after the first that are as wide as the layer
        before them residual blocks (see :func:`train`).
    statistics : {"batch", "recorded"}, default "batch"
        For batch normalization: normalize with the statistics of ``X``
        itself (as in training) or with the ``mean{l}`` and ``var{l}`` that
        :func:`train` recorded in its result's parameters (as in prediction).

    Returns
    -------
    AL : numpy.ndarray of shape (1, m)
        Output probabilities.
    caches : list of LayerCache (or BlockCache with normalization or residual)
        Per layer: its input ``A_prev``, pre-activation ``Z`` and output ``A``.
        ``caches[-1].Z`` are the output logits. A ``BlockCache`` also holds
        the standardized ``Zhat`` and the ``mean`` and ``var`` used, or for
        a residual block the branch input ``H``.
    """
    X = check_features(X)
    if statistics not in ("batch", "recorded"):
        raise ValueError(f"statistics must be 'batch' or 'recorded'; "
                         f"got {statistics!r}")
    options = _check_options(normalization, residual)
    if options is None:
        check_parameters(parameters)
        check_input_width(X, parameters)
        return _forward(X, parameters, check_activation(hidden_activation))
    recorded = statistics == "recorded" and normalization == "batch"
    architecture = _check_general_parameters(
        parameters, *options, check_activation(hidden_activation),
        recorded=recorded)
    check_input_width(X, parameters)
    return general_forward(X, _as_float_arrays(parameters), architecture,
                           recorded=recorded)


def backward_propagation(Y: np.ndarray, parameters: Mapping[str, np.ndarray],
                         caches: Sequence[LayerCache],
                         hidden_activation: str = "relu", *,
                         normalization: str | None = None,
                         residual: bool = False) -> dict[str, np.ndarray]:
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
    normalization : {None, "batch", "layer"}, default None
    residual : bool, default False
        The options the forward pass used. The gradients are those of
        training: through the batch's own statistics, so the caches must come
        from ``statistics="batch"``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``dW1, db1, ..., dWL, dbL``, each shaped like its parameter, and
        ``dgamma{l}``, ``dbeta{l}``, ``dalpha{l}`` for the parameters that
        normalization and residual blocks add.
    """
    activation = check_activation(hidden_activation)
    options = _check_options(normalization, residual)
    if options is None:
        n_layers = check_parameters(parameters)
    else:
        architecture = _check_general_parameters(parameters, *options, activation,
                                                 recorded=False)
        n_layers = len(_core_keys(parameters)) // 2
    if len(caches) != n_layers:
        raise ValueError(f"caches must hold one entry per layer ({n_layers}); "
                         f"got {len(caches)}")
    Y = check_labels(Y, caches[-1].A.shape[1])
    if options is None:
        return _backward(Y, parameters, caches, activation)
    if not all(isinstance(cache, BlockCache) for cache in caches):
        raise TypeError("caches must come from forward_propagation with the same "
                        "normalization and residual options")
    return general_backward(Y, _as_float_arrays(parameters), caches, architecture)


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
          hidden_activation: str = "relu", *,
          normalization: str | None = None, residual: bool = False,
          branch_scale: float = 1.0) -> TrainingResult:
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
    normalization : {None, "batch", "layer"}, default None
        Introduced in the chapter "When initialization matters less". With
        ``"batch"`` every hidden layer computes ``g(gamma * Zhat + beta)``,
        where ``Zhat`` is its pre-activation ``Z = W A_prev + b`` standardized
        per unit over the examples (mean 0, variance 1, with ``1e-5`` added to
        the variance), and ``gamma{l}`` (starting at 1) and ``beta{l}``
        (starting at 0) are learned. Training uses the statistics of the full
        batch; the result's parameters also hold ``mean{l}`` and ``var{l}``,
        the statistics of the training set under the final parameters, which
        :func:`predict` uses so that any number of examples, even one, gets
        the same prediction. ``"layer"`` standardizes each example over the
        layer's units instead (no statistics to record). ``None`` is the
        plain network, computed exactly as before.
    residual : bool, default False
        Make every hidden layer ``l`` after the first whose width equals the
        previous layer's a pre-activation residual block (He et al. 2016,
        "Identity mappings in deep residual networks"):
        ``A_l = A_{l-1} + alpha_l * (W_l g(A_{l-1}) + b_l)``, with a learned
        scalar ``alpha{l}``. The identity path carries the signal and the
        gradient unchanged; nothing is applied after the sum. Not combined with
        ``normalization``.
    branch_scale : float, default 1.0
        The starting value of every ``alpha{l}``: 1 keeps the initializer's
        branch, ``1 / sqrt(number of blocks)`` scales it down, 0 starts every
        block as the identity (SkipInit, ReZero). Ignored without
        ``residual`` or when ``initialization`` is a dict that holds the
        ``alpha{l}``.

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
    options = _check_options(normalization, residual)
    if options is not None:
        return _train_general(X, Y, initialization, layers_dims, seed, activation,
                              options, branch_scale, learning_rate,
                              num_iterations, record_every, print_cost,
                              print_digits)
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


def _train_general(X: np.ndarray, Y: np.ndarray,
                   initialization: str | Mapping[str, np.ndarray],
                   layers_dims: Sequence[int], seed: int, activation: Activation,
                   options: tuple[str | None, bool], branch_scale: float,
                   learning_rate: float, num_iterations: int, record_every: int,
                   print_cost: bool, print_digits: int | None) -> TrainingResult:
    """``train`` for a network with normalization or residual blocks."""
    normalization, residual = options
    branch_scale = check_non_negative_float(branch_scale, "branch_scale")
    if isinstance(initialization, Mapping):
        core = _core_keys(initialization)
        check_parameters({key: initialization[key] for key in core},
                         "initialization")
        # Recorded statistics are outputs of training, not a starting point.
        given = {key: value for key, value in initialization.items()
                 if not re.fullmatch(r"(mean|var)\d+", str(key))}
        if not _block_keys(_sizes(given), normalization, residual) & set(given):
            given = add_block_parameters(given, normalization=normalization,
                                         residual=residual,
                                         branch_scale=branch_scale)
        architecture = _check_general_parameters(given, normalization, residual,
                                                 activation, recorded=False,
                                                 name="initialization")
        parameters, name = _as_float_arrays(given, copy=True), "custom"
    else:
        start, name = _starting_parameters(initialization, layers_dims, seed, X)
        parameters = add_block_parameters(start, normalization=normalization,
                                          residual=residual,
                                          branch_scale=branch_scale)
        architecture = _check_general_parameters(parameters, normalization,
                                                 residual, activation,
                                                 recorded=False)
    check_input_width(X, parameters)
    recorded, final, statistics = general_train(
        X, Y, parameters, architecture, learning_rate, num_iterations,
        record_every)
    costs = [(iteration, float(cost)) for iteration, cost in
             zip(range(0, num_iterations, record_every), recorded, strict=True)]
    if print_cost:
        for iteration, cost in costs:
            print(f"Cost after iteration {iteration}: "
                  f"{_format_cost(cost, print_digits)}")
    return TrainingResult(parameters={**parameters, **statistics}, costs=costs,
                          initialization=name, final_cost=float(final),
                          normalization=normalization, residual=residual)


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
                workers: int | None = None, *,
                normalization: str | None = None, residual: bool = False,
                branch_scale: float = 1.0,
                initializer_options: Mapping[str, object] | None = None
                ) -> list[TrainingResult]:
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
    normalization, residual, branch_scale
        As for :func:`train` (chapter "When initialization matters less").
        With either option all seeds are trained as one stack in this
        process, on the straightforward engine that :func:`train` uses for
        them; ``workers`` is then not used.
    initializer_options : dict, optional
        Options for :func:`initialize_parameters`, such as ``{"scale": 0.01}``
        for ``"random"``.

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
    if initializer_options is None:
        initializer_options = {}
    if not isinstance(initializer_options, Mapping):
        raise TypeError(f"initializer_options must be a dict such as "
                        f"{{'scale': 0.01}}; got {type(initializer_options).__name__}")
    options = {"X": X} if needs_data(initialization) else {}
    options.update(initializer_options)
    starts = [initialize_parameters(initialization, layers_dims, seed=seed, **options)
              for seed in seeds]
    check_input_width(X, starts[0])
    architecture_options = _check_options(normalization, residual)
    if architecture_options is not None:
        return _train_seeds_general(X, Y, starts, seeds, initialization,
                                    activation, architecture_options,
                                    branch_scale, learning_rate, num_iterations,
                                    record_every, print_cost, print_digits)

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


def _train_seeds_general(X: np.ndarray, Y: np.ndarray,
                         starts: list[dict[str, np.ndarray]], seeds: list[int],
                         initialization: str, activation: Activation,
                         options: tuple[str | None, bool], branch_scale: float,
                         learning_rate: float, num_iterations: int,
                         record_every: int, print_cost: bool,
                         print_digits: int | None) -> list[TrainingResult]:
    """``train_seeds`` for networks with normalization or residual blocks."""
    normalization, residual = options
    branch_scale = check_non_negative_float(branch_scale, "branch_scale")
    starts = [add_block_parameters(start, normalization=normalization,
                                   residual=residual, branch_scale=branch_scale)
              for start in starts]
    architecture = _check_general_parameters(starts[0], normalization, residual,
                                             activation, recorded=False)
    stacked = {key: np.stack([start[key] for start in starts])
               for key in starts[0]}
    with _one_blas_thread():
        recorded, final, statistics = general_train(
            X, Y, stacked, architecture, learning_rate, num_iterations,
            record_every)
    iterations = range(0, num_iterations, record_every)
    results = []
    for position, seed in enumerate(seeds):
        parameters = {key: value[position].copy()
                      for key, value in {**stacked, **statistics}.items()}
        costs = [(iteration, float(values[position]))
                 for iteration, values in zip(iterations, recorded, strict=True)]
        results.append(TrainingResult(
            parameters=parameters, costs=costs, initialization=initialization,
            final_cost=float(final[position]), normalization=normalization,
            residual=residual))
        if print_cost:
            print(f"Seed {seed}:")
            for iteration, cost in costs:
                print(f"Cost after iteration {iteration}: "
                      f"{_format_cost(cost, print_digits)}")
    return results


def predict(X: np.ndarray, parameters: Mapping[str, np.ndarray] | TrainingResult,
            *, normalization: str | None = None, residual: bool = False
            ) -> np.ndarray:
    """Predict labels: 1 where the output probability is above 0.5.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
    parameters : dict or TrainingResult
        ``W1, b1, ..., WL, bL``, or a result of :func:`train`, whose
        parameters and options are then used.
    normalization : {None, "batch", "layer"}, default None
    residual : bool, default False
        The network's options (chapter "When initialization matters less"),
        for a parameter dict. A batch-normalized network predicts with the
        statistics recorded in training (``mean{l}``, ``var{l}``), so each
        example's prediction does not depend on the others.

    Returns
    -------
    numpy.ndarray of shape (1, m)
        Integer labels 0 or 1.
    """
    if isinstance(parameters, TrainingResult):
        if normalization is not None or residual:
            raise ValueError("normalization and residual come from the "
                             "TrainingResult; do not pass them as well")
        normalization, residual = parameters.normalization, parameters.residual
        parameters = parameters.parameters
    AL, _ = forward_propagation(X, parameters, normalization=normalization,
                                residual=residual, statistics="recorded")
    return (AL > 0.5).astype(int)


def accuracy(X: np.ndarray, Y: np.ndarray,
             parameters: Mapping[str, np.ndarray] | TrainingResult, *,
             normalization: str | None = None, residual: bool = False) -> float:
    """Fraction of examples whose predicted label equals the true one.

    Introduced in the chapter "Zero initialization".

    Parameters
    ----------
    X : numpy.ndarray of shape (n_features, m)
    Y : numpy.ndarray of shape (1, m)
    parameters : dict or TrainingResult
    normalization, residual
        As for :func:`predict`.

    Returns
    -------
    float
        A number in [0, 1].
    """
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    return float(np.mean(predict(X, parameters, normalization=normalization,
                                 residual=residual) == Y))


def add_block_parameters(parameters: Mapping[str, np.ndarray], *,
                         normalization: str | None = None, residual: bool = False,
                         branch_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Add the starting values of the parameters normalization and blocks need.

    Introduced in the chapter
    "When initialization matters less: normalization and residual connections".
    Returns a copy of ``parameters`` (``W1, b1, ..., WL, bL``) with
    ``gamma{l} = 1`` and ``beta{l} = 0`` (shape ``(n_l, 1)``) for every
    normalized hidden layer and ``alpha{l} = branch_scale`` (shape ``(1, 1)``)
    for every residual block: what :func:`train` starts from, and what
    :func:`forward_propagation` needs with the same options.

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``, as made by :func:`initialize_parameters`.
    normalization : {None, "batch", "layer"}, default None
    residual : bool, default False
    branch_scale : float, default 1.0
        Starting value of every ``alpha{l}`` (see :func:`train`).

    Returns
    -------
    dict of str to numpy.ndarray
    """
    n_layers = check_parameters(parameters)
    normalization, residual = _check_options(normalization, residual) or (None,
                                                                          False)
    branch_scale = check_non_negative_float(branch_scale, "branch_scale")
    sizes = _sizes(parameters)
    blocks = residual_blocks(sizes) if residual else frozenset()
    out = {key: np.array(value, dtype=float) for key, value in parameters.items()}
    for layer in range(1, n_layers):
        if layer in blocks:
            out[f"alpha{layer}"] = np.full((1, 1), branch_scale)
        elif normalization is not None:
            out[f"gamma{layer}"] = np.ones((sizes[layer], 1))
            out[f"beta{layer}"] = np.zeros((sizes[layer], 1))
    return out


def _check_options(normalization: object, residual: object
                   ) -> tuple[str | None, bool] | None:
    """Check the architecture options; None for the plain network."""
    if normalization is not None:
        if not isinstance(normalization, str):
            raise TypeError(f"normalization must be None or a str such as "
                            f"'batch'; got {type(normalization).__name__}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"unknown normalization {normalization!r}; choose "
                             f"None, {', '.join(map(repr, NORMALIZATIONS))}")
    if not isinstance(residual, (bool, np.bool_)):
        raise TypeError(f"residual must be True or False; got {residual!r}")
    if normalization is not None and residual:
        raise ValueError("normalization and residual cannot be combined (yet); "
                         "pass one of them")
    if normalization is None and not residual:
        return None
    return normalization, bool(residual)


def _core_keys(parameters: object) -> list[str]:
    """The ``W{l}`` and ``b{l}`` keys of a parameter dict."""
    if not isinstance(parameters, Mapping):
        raise TypeError(f"parameters must be a dict with keys 'W1', 'b1', ...; "
                        f"got {type(parameters).__name__}")
    return [key for key in parameters
            if isinstance(key, str) and re.fullmatch(r"[Wb][1-9]\d*", key)]


def _sizes(parameters: Mapping[str, np.ndarray]) -> tuple[int, ...]:
    """Layer sizes from input to output, read from the weight shapes."""
    n_layers = len(_core_keys(parameters)) // 2
    return (np.shape(parameters["W1"])[1],
            *(np.shape(parameters[f"W{layer}"])[0]
              for layer in range(1, n_layers + 1)))


def _block_keys(sizes: tuple[int, ...], normalization: str | None,
                residual: bool) -> set[str]:
    """The learned keys that normalization and residual blocks add."""
    blocks = residual_blocks(sizes) if residual else frozenset()
    keys = set()
    for layer in range(1, len(sizes) - 1):
        if layer in blocks:
            keys.add(f"alpha{layer}")
        elif normalization is not None:
            keys |= {f"gamma{layer}", f"beta{layer}"}
    return keys


def _check_general_parameters(parameters: object, normalization: str | None,
                              residual: bool, activation: Activation, *,
                              recorded: bool, name: str = "parameters"
                              ) -> Architecture:
    """Check a parameter dict for a normalized or residual network."""
    core = _core_keys(parameters)
    n_layers = check_parameters({key: parameters[key] for key in core}, name)
    sizes = _sizes(parameters)
    if residual and not residual_blocks(sizes):
        raise ValueError(f"residual=True needs a hidden layer after the first "
                         f"that is as wide as the layer before it (a residual "
                         f"block); the layer sizes are {list(sizes)}")
    learned = _block_keys(sizes, normalization, residual)
    statistics = {f"{kind}{layer}" for layer in range(1, n_layers)
                  for kind in ("mean", "var")} if normalization == "batch" else set()
    keys = set(parameters)
    missing = (learned | (statistics if recorded else set())) - keys
    if missing:
        hint = ("train with normalization='batch' records them"
                if missing <= statistics else "add_block_parameters adds them")
        raise ValueError(f"{name} lacks {', '.join(sorted(missing))} for "
                         f"normalization={normalization!r}, residual={residual} "
                         f"({hint})")
    unexpected = keys - set(core) - learned - statistics
    if unexpected:
        raise ValueError(f"{name} has keys {sorted(map(str, unexpected))} that "
                         f"normalization={normalization!r}, residual={residual} "
                         f"does not use")
    for key in sorted(keys - set(core)):
        layer = int(re.sub(r"\D", "", key))
        shape = (1, 1) if key.startswith("alpha") else (sizes[layer], 1)
        array = np.asarray(parameters[key])
        if array.shape != shape or not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"{name}['{key}'] must be a numeric array of shape "
                             f"{shape}; got {array.dtype} of shape {array.shape}")
        if key.startswith("var") and np.any(array < 0):
            raise ValueError(f"{name}['{key}'] must not be negative")
    blocks = residual_blocks(sizes) if residual else frozenset()
    return Architecture(activation, normalization, blocks)


def _as_float_arrays(parameters: Mapping[str, np.ndarray], copy: bool = False
                     ) -> dict[str, np.ndarray]:
    convert = np.array if copy else np.asarray
    return {key: convert(value, dtype=float) for key, value in parameters.items()}


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

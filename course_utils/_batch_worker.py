"""The worker process of ``train_seeds``.

Private. Run as ``python -m course_utils._batch_worker``: it reads a pickled
list of stacks to train (``network._BatchTask``) on standard input and writes
the pickled list of their outcomes on standard output. A plain subprocess,
not ``multiprocessing``: that would re-run the caller's main module in the
child (impossible for ``python -`` or ``python -c``, and fragile in a Jupyter
kernel) or fork a process that has threads.
"""

from __future__ import annotations

import pickle
import sys


def main() -> None:
    """Train the stacks read from standard input; write their outcomes."""
    from course_utils.network import _one_blas_thread, _train_batch

    tasks = pickle.load(sys.stdin.buffer)
    with _one_blas_thread():
        outcomes = [_train_batch(task) for task in tasks]
    pickle.dump(outcomes, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()

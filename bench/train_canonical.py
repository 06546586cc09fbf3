"""Benchmark: time and peak memory of the canonical 15 000-iteration training runs.

Run from the repository root: ``.venv/bin/python bench/train_canonical.py``.
The recorded results are in ``bench/results.md``. Not a test.
"""

from __future__ import annotations

import resource
import statistics
import time

from course_utils import load_dataset, train

REPEATS = 5


def main() -> None:
    X_train, Y_train, _, _ = load_dataset()
    print("| initialization | median seconds (5 runs) | fastest |")
    print("| --- | ---: | ---: |")
    for name in ("zeros", "random", "he"):
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            train(X_train, Y_train, initialization=name)
            times.append(time.perf_counter() - start)
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} |")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of the process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

"""Record the seed counts and long runs of the chapter "Deep networks: the result
of He et al." (``book/deep_he.ipynb``).

Run from the repository root::

    .venv/bin/python -m bench.deep_he_seeds        # about 3 minutes of CPU time

The chapter trains one seed per setting itself; ten seeds of four 30-layer
settings (and two 8000-iteration runs) take minutes, too long for a chapter that
must run in seconds. This script trains them with the chapter's ``train`` call
(learning rate 0.02, 2000 full-batch iterations, seeds 0 to 9) and writes
``bench/deep_he_seeds.json``, which the chapter reads and counts. The outcome
of a run (trained or not) is decided in the chapter from the recorded final
cost and training accuracy. The He runs, whose spikes make their outcome
depend on rounding, are also trained once under every OpenBLAS core type that
runs on this CPU (as ``bench/check_kernels.py`` finds them), and their counts
recorded per core type. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from course_utils import forward_propagation, load_dataset, train  # noqa: E402

OUTPUT = REPO_ROOT / "bench" / "deep_he_seeds.json"
LEARNING_RATE, ITERATIONS, SEEDS = 0.02, 2000, tuple(range(10))
# (initialization, depth, width); "lecun" has the variance of Flax's default.
SETTINGS = [("he", 30, 20), ("xavier", 30, 20), ("lecun", 30, 20), ("he", 30, 10),
            ("pytorch_default", 30, 20), ("xavier_uniform", 30, 20)]
LONG_ITERATIONS, LONG_RECORD_EVERY, LONG_SEED = 8000, 250, 3
LONG_RUNS = [("xavier", 10, 20), ("xavier", 30, 20)]
# The settings whose outcomes rounding can change (see the chapter).
KERNEL_SETTINGS = [("he", 30, 20), ("he", 30, 10)]


def _run(job: tuple[str, int, int, int, int, int]) -> dict:
    name, depth, width, seed, iterations, record_every = job
    X, Y, _, _ = load_dataset()
    start = time.process_time()
    result = train(X, Y, initialization=name, seed=seed,
                   layers_dims=[2] + [width] * depth + [1],
                   learning_rate=LEARNING_RATE, num_iterations=iterations,
                   record_every=record_every)
    accuracy = float(np.mean((forward_propagation(X, result.parameters)[0] > 0.5)
                             == Y))
    return {"initialization": name, "depth": depth, "width": width, "seed": seed,
            "iterations": iterations, "final_cost": result.final_cost,
            "train_accuracy": accuracy,
            "costs": [[int(i), float(c)] for i, c in result.costs],
            "cpu_seconds": time.process_time() - start}


def _trained(record: dict) -> bool:
    return record["final_cost"] < 0.1 and record["train_accuracy"] >= 0.95


def _he_only() -> None:
    # Child process of _by_kernel: the kernel settings, as JSON on stdout.
    jobs = [(name, depth, width, seed, ITERATIONS, ITERATIONS)
            for name, depth, width in KERNEL_SETTINGS for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        records = list(pool.map(_run, jobs))
    print(json.dumps(records))


def _by_kernel() -> dict:
    from bench.check_kernels import runnable_core_types

    counts = {}
    for core_type, architecture in runnable_core_types().items():
        completed = subprocess.run(
            [sys.executable, "-m", "bench.deep_he_seeds", "--he-only"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
            env=os.environ | {"OPENBLAS_CORETYPE": core_type})
        records = json.loads(completed.stdout)
        counts[f"{core_type} ({architecture})"] = {
            f"{name} {depth}x{width}": [r["seed"] for r in records
                                        if (r["initialization"], r["depth"],
                                            r["width"]) == (name, depth, width)
                                        and _trained(r)]
            for name, depth, width in KERNEL_SETTINGS}
        print(core_type, counts[f"{core_type} ({architecture})"], flush=True)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--he-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-kernels", action="store_true",
                        help="do not retrain the He runs under each core type")
    arguments = parser.parse_args()
    if arguments.he_only:
        _he_only()
        return
    jobs = [(name, depth, width, seed, ITERATIONS, ITERATIONS)
            for name, depth, width in SETTINGS for seed in SEEDS]
    jobs += [(name, depth, width, LONG_SEED, LONG_ITERATIONS, LONG_RECORD_EVERY)
             for name, depth, width in LONG_RUNS]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        records = list(pool.map(_run, jobs))
    by_kernel = {} if arguments.skip_kernels else _by_kernel()
    import threadpoolctl

    blas = [f"{info['internal_api']} {info.get('version')} "
            f"{info.get('architecture')}"
            for info in threadpoolctl.threadpool_info()]
    OUTPUT.write_text(json.dumps({
        "learning_rate": LEARNING_RATE, "iterations": ITERATIONS,
        "seeds": list(SEEDS),
        "runs": [r for r in records if r["iterations"] == ITERATIONS],
        "long_runs": [r for r in records if r["iterations"] == LONG_ITERATIONS],
        "recorded": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "numpy": np.__version__, "blas": blas, "machine": platform.machine(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(this CPU's)"),
        "he_seeds_trained_by_core_type": by_kernel,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(sum(r["cpu_seconds"] for r in records), 1),
    }, indent=1) + "\n")
    for name, depth, width in SETTINGS:
        runs = [r for r in records if (r["initialization"], r["depth"], r["width"],
                                       r["iterations"]) == (name, depth, width,
                                                            ITERATIONS)]
        print(f"{name:>16} {depth}x{width}: final costs "
              f"{[round(r['final_cost'], 3) for r in runs]}")
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()

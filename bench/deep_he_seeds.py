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
cost and training accuracy. Not a test.
"""

from __future__ import annotations

import json
import os
import platform
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


def main() -> None:
    jobs = [(name, depth, width, seed, ITERATIONS, ITERATIONS)
            for name, depth, width in SETTINGS for seed in SEEDS]
    jobs += [(name, depth, width, LONG_SEED, LONG_ITERATIONS, LONG_RECORD_EVERY)
             for name, depth, width in LONG_RUNS]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        records = list(pool.map(_run, jobs))
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

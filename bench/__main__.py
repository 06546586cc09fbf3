"""Run every benchmark and write ``bench/results.md``, ``bench/results.json`` and
``bench/seeds.png``.

From the repository root::

    make bench                                   # or: .venv/bin/python -m bench
    .venv/bin/python -m bench --test-command --book   # also time `make test`
                                                      # and the book build (minutes)
    .venv/bin/python -m bench --quick            # fewer repeats, a smoke run

Timings compare implementations *in one process with alternating runs*: each
repeat times A then B back to back, and a ratio is the median of the per-repeat
ratios, so that a machine whose load changes over minutes still gives a fair
ratio. CPU-time ratios (``time.process_time``) are given beside the wall-clock
ones for single-threaded comparisons: on a shared machine they are the steadier
figure. Nothing here is a test; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import classic  # noqa: E402
from course_utils import load_dataset, train, train_seeds  # noqa: E402
from course_utils._engine import ACTIVATIONS, Batch, Network  # noqa: E402
from course_utils.data import make_circles_split  # noqa: E402
from course_utils.initializers import initialize_parameters  # noqa: E402

BENCH_DIR = REPO_ROOT / "bench"
CANONICAL = (2, 10, 5, 1)
# Passes over the data that one call of each plan step makes (default 1).
_PASSES = {"sigmoid_into": 4, "_relu_backward": 2, "_float_mask_relu_backward": 2,
           "_tanh_backward": 3}


def machine() -> dict:
    """Cores, CPU model, BLAS core type and library versions."""
    from threadpoolctl import threadpool_info

    model = platform.processor() or ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    blas = [{key: info.get(key) for key in ("internal_api", "version",
                                             "architecture", "num_threads")}
            for info in threadpool_info() if info.get("user_api") == "blas"]
    import sklearn

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu_model": model,
        "machine": platform.machine(),
        "blas": blas,
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "load_average_at_start": list(os.getloadavg()),
    }


def timed(function: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def alternate(first: Callable[[], object], second: Callable[[], object],
              repeats: int) -> dict:
    """Time ``first`` and ``second`` back to back ``repeats`` times."""
    a, b = [], []
    for _ in range(repeats):
        a.append(timed(first))
        b.append(timed(second))
    return {
        "first_median_s": statistics.median(t[0] for t in a),
        "second_median_s": statistics.median(t[0] for t in b),
        # How many times faster `first` is than `second`.
        "wall_ratio": statistics.median(y[0] / x[0] for x, y in zip(a, b,
                                                                     strict=True)),
        "cpu_ratio": statistics.median(y[1] / x[1] for x, y in zip(a, b,
                                                                    strict=True)),
        "repeats": repeats,
    }


def plan_work(plan) -> tuple[int, int]:
    """Element operations (elementwise passes) and multiply-adds of one step."""
    elements = macs = 0
    for step in plan:
        name = getattr(step.func, "__name__", "")
        out = step.keywords.get("out")
        if name in ("dot", "matmul"):
            macs += out.size * step.args[0].shape[-1]
        else:
            target = out if out is not None else step.args[-1]
            elements += _PASSES.get(name, 1) * target.size
    return elements, macs


def single_vs_baseline(X, Y, repeats: int) -> dict:
    """The canonical He run: course_utils.train against bench.classic."""
    result = alternate(partial(train, X, Y, initialization="he"),
                       partial(classic.model, X, Y, initialization="he"), repeats)
    per_init = {}
    for name in ("zeros", "random", "he"):
        per_init[name] = statistics.median(
            timed(partial(train, X, Y, initialization=name))[0]
            for _ in range(max(1, repeats // 2)))
    result["train_seconds_by_initialization"] = per_init
    return result


def seeds_vs_loop(X, Y, counts: list[int], iterations: int, repeats: int) -> list:
    """train_seeds against a loop of train, for each number of seeds."""
    rows = []
    for count in counts:
        seeds = list(range(count))
        loop = partial(lambda seeds: [train(X, Y, seed=s, num_iterations=iterations)
                                      for s in seeds], seeds)
        batched = partial(train_seeds, X, Y, seeds=seeds, num_iterations=iterations)
        row = alternate(batched, loop, repeats)
        one_thread = alternate(
            partial(train_seeds, X, Y, seeds=seeds, num_iterations=iterations,
                    workers=1), loop, max(1, repeats // 2))
        starts = [initialize_parameters("he", CANONICAL, seed=s)
                  for s in seeds[:16]]
        elements, macs = plan_work(Batch(X, Y, starts, ACTIVATIONS["relu"],
                                         0.01).step_plan)
        per_seed_elements = elements / len(starts)
        per_seed_macs = macs / len(starts)
        seconds = row["first_median_s"]
        row.update({
            "seeds": count, "iterations": iterations,
            "loop_s": row.pop("second_median_s"),
            "batched_s": row.pop("first_median_s"),
            "one_thread_wall_ratio": one_thread["wall_ratio"],
            "one_thread_cpu_ratio": one_thread["cpu_ratio"],
            "element_ops_per_s": per_seed_elements * count * iterations / seconds,
            "macs_per_s": per_seed_macs * count * iterations / seconds,
        })
        rows.append(row)
        print(f"  {count} seeds: {row['wall_ratio']:.2f}x", flush=True)
    return rows


def single_throughput(X, Y, iterations: int) -> dict:
    network = Network(X, Y, initialize_parameters("he", CANONICAL, seed=3),
                      ACTIVATIONS["relu"], 0.01)
    elements, macs = plan_work(network.step_plan)
    seconds, _ = timed(partial(train, X, Y, num_iterations=iterations))
    return {"element_ops_per_iteration": elements, "macs_per_iteration": macs,
            "element_ops_per_s": elements * iterations / seconds,
            "us_per_iteration": seconds / iterations * 1e6}


def scaling_examples(sizes: list[int], iterations: int) -> list:
    """By number of examples, with the default BLAS threads and with one."""
    from threadpoolctl import threadpool_limits

    rows = []
    for m in sizes:
        X, Y = make_circles_split(m, 1)
        run = partial(train, X, Y, num_iterations=iterations)
        seconds = statistics.median(timed(run)[0] for _ in range(3))
        with threadpool_limits(limits=1, user_api="blas"):
            one_thread = statistics.median(timed(run)[0] for _ in range(3))
        rows.append({"examples": m, "iterations": iterations, "seconds": seconds,
                     "ns_per_example_iteration": seconds / iterations / m * 1e9,
                     "one_blas_thread_seconds": one_thread})
    return rows


def scaling_depth(X, Y, depths: list[int], iterations: int) -> list:
    rows = []
    for depth in depths:
        layers = (2, *[10] * depth, 1)
        seconds = statistics.median(
            timed(partial(train, X, Y, num_iterations=iterations,
                          layers_dims=layers))[0] for _ in range(3))
        rows.append({"hidden_layers": depth, "layers_dims": list(layers),
                     "iterations": iterations, "seconds": seconds,
                     "us_per_iteration": seconds / iterations * 1e6})
    return rows


def sklearn_comparison(X, Y, X_test, Y_test, iterations: int, repeats: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    m = X.shape[1]

    def fit():
        model = MLPClassifier(
            hidden_layer_sizes=(10, 5), activation="relu", solver="sgd",
            batch_size=m, momentum=0.0, nesterovs_momentum=False,
            learning_rate="constant", learning_rate_init=0.01, alpha=0.0,
            max_iter=iterations, shuffle=False, tol=0.0,
            n_iter_no_change=iterations + 1, random_state=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X.T, Y.ravel())
        return model

    ours = partial(train, X, Y, initialization="he", num_iterations=iterations)
    row = alternate(ours, fit, repeats)
    model = fit()
    result = train(X, Y, initialization="he", num_iterations=iterations)
    from course_utils import accuracy

    row.update({
        "iterations": iterations,
        "train_s": row.pop("first_median_s"), "sklearn_s": row.pop("second_median_s"),
        "sklearn_train_accuracy": float(model.score(X.T, Y.ravel())),
        "sklearn_test_accuracy": float(model.score(X_test.T, Y_test.ravel())),
        "sklearn_final_loss": float(model.loss_),
        "train_train_accuracy": accuracy(X, Y, result.parameters),
        "train_test_accuracy": accuracy(X_test, Y_test, result.parameters),
        "train_final_cost": result.final_cost,
    })
    return row


def grading() -> list:
    from bench.grade_class import time_grading

    return time_grading()


def command_seconds(command: list[str]) -> dict:
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                               text=True, check=False)
    return {"command": " ".join(command), "seconds": time.perf_counter() - start,
            "returncode": completed.returncode}


def plot_seeds(rows: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = [row["seeds"] for row in rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=100)
    ax.plot(counts, [row["loop_s"] for row in rows], "o-",
            label="loop of train(..., seed=s)")
    ax.plot(counts, [row["batched_s"] for row in rows], "s-",
            label="train_seeds(..., seeds=...)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of seeds (networks)")
    ax.set_ylabel(f"seconds ({rows[0]['iterations']} iterations each)")
    ax.set_title("Training many seeds: median wall-clock time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="few repeats and iterations: a smoke run, not a record")
    parser.add_argument("--test-command", action="store_true",
                        help="also time the README's test command, `make test`")
    parser.add_argument("--book", action="store_true",
                        help="also time the book build (jupyter-book build)")
    parser.add_argument("--skip-grading", action="store_true",
                        help="leave out the grader benchmark")
    parser.add_argument("--output", type=Path, default=BENCH_DIR,
                        help="folder for results.md, results.json, seeds.png")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 7
    seed_iterations = 100 if args.quick else 1000
    X, Y, X_test, Y_test = load_dataset()

    results: dict = {"machine": machine()}
    print("single run vs baseline", flush=True)
    results["single_vs_baseline"] = single_vs_baseline(X, Y, repeats)
    results["single_throughput"] = single_throughput(X, Y, 3000)
    print("train_seeds vs loop", flush=True)
    results["seeds_vs_loop"] = seeds_vs_loop(
        X, Y, [1, 10, 50] if args.quick else [1, 10, 50, 200], seed_iterations,
        2 if args.quick else 3)
    print("scaling", flush=True)
    results["examples"] = scaling_examples([300, 1000, 3000, 10000, 30000],
                                           50 if args.quick else 200)
    results["depth"] = scaling_depth(X, Y, [1, 2, 4, 8, 16],
                                     100 if args.quick else 1000)
    print("scikit-learn", flush=True)
    results["sklearn"] = sklearn_comparison(X, Y, X_test, Y_test,
                                            1500 if args.quick else 15000,
                                            2 if args.quick else 3)
    if not args.skip_grading:
        print("grading", flush=True)
        results["grading"] = grading()
    if args.test_command:
        print("make test (minutes)", flush=True)
        results["test_command"] = command_seconds(["make", "test"])
    if args.book:
        print("book build (minutes)", flush=True)
        results["book_build"] = command_seconds(
            [str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "-W",
             "--keep-going"])
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["quick"] = args.quick

    args.output.mkdir(parents=True, exist_ok=True)
    plot_seeds(results["seeds_vs_loop"], args.output / "seeds.png")
    (args.output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    from bench.report import markdown

    (args.output / "results.md").write_text(markdown(results))
    print(f"wrote {args.output / 'results.md'}", flush=True)


if __name__ == "__main__":
    main()

"""Turn the results of ``python -m bench`` into ``bench/results.md``."""

from __future__ import annotations

EARLIER_GRADING = """\
### Recorded before this suite (2026-11-29, same machine, quiet)

60 fixture submissions (40 correct, 10 blank, 5 with a raising function, 5
with wrong values), graded as root (the `root` sandbox: namespaces, chroot,
user `nobody`), default limits, timeout 10 s.

| jobs | submissions | seconds | seconds per submission |
| ---: | ---: | ---: | ---: |
| 1 | 60 | 6.4 | 0.11 |
| 2 | 60 | 3.4 | 0.06 |

Before `course_utils.data` imported scikit-learn lazily, every sandbox spent
about 0.5 s importing it through the assignment's imports cell: 43.2 s with
1 job and 21.4 s with 2. A submission whose function runs into the timeout
costs the timeout once per graded function (later calls of the same function
are skipped).
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---:" if i else "---" for i in range(len(header)))
             + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _si(value: float) -> str:
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.2f} {prefix}"
    return f"{value:.0f} "


def markdown(results: dict) -> str:
    """The whole results file."""
    machine = results["machine"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']}, "
                     f"{b['num_threads']} threads)" for b in machine["blas"])
    out = ["# Recorded benchmark results\n",
           "Written by `make bench` (`.venv/bin/python -m bench`); the raw figures "
           "are in `bench/results.json`. Benchmarks are not tests: nothing "
           "asserts a time. Rerun after a change that could affect speed.\n",
           f"- date: {machine['date']}"
           + (" (**--quick smoke run, not a record**)" if results.get("quick")
              else ""),
           f"- CPU: {machine['cpu_model']}, {machine['cores']} cores "
           f"({machine['machine']})",
           f"- BLAS: {blas}; OPENBLAS_CORETYPE="
           f"{machine['openblas_coretype_env'] or '(unset)'}",
           f"- Python {machine['python']}, numpy {machine['numpy']}, "
           f"scikit-learn {machine['scikit_learn']}",
           "- load average (1, 5, 15 min) at start "
           + ", ".join(f"{x:.1f}" for x in machine["load_average_at_start"])
           + ", at end "
           + ", ".join(f"{x:.1f}" for x in machine["load_average_at_end"])
           + f" (on {machine['cores']} cores: above {machine['cores']} means "
           "other processes competed for the CPU, and wall-clock times and the "
           "gain from threads are then pessimistic)\n"]

    single = results["single_vs_baseline"]
    out += ["## One training run versus the classic loop\n",
            "The canonical He run (`[2, 10, 5, 1]`, 300 examples, 15 000 "
            "iterations): `course_utils.train` against `bench/classic.py` (dict "
            "parameters, caches, the cost at every iteration), alternating, "
            f"{single['repeats']} pairs. Ratio = classic time / train time "
            "(median of the per-pair ratios).\n",
            _table(["", "train (s)", "classic (s)", "ratio (wall)", "ratio (CPU)"],
                   [["median", f"{single['first_median_s']:.3f}",
                     f"{single['second_median_s']:.3f}",
                     f"**{single['wall_ratio']:.2f}x**",
                     f"{single['cpu_ratio']:.2f}x"]]),
            "`train`, median seconds per canonical run by initialization: "
            + ", ".join(f"{name} {seconds:.3f}" for name, seconds in
                        single["train_seconds_by_initialization"].items()) + ".\n"]
    st = results["single_throughput"]
    out += [f"One `train` iteration: {st['us_per_iteration']:.1f} µs, "
            f"{st['element_ops_per_iteration']} element operations (elementwise "
            f"passes) and {st['macs_per_iteration']} multiply-adds: "
            f"{_si(st['element_ops_per_s'])}element-ops/s. It is bound by the "
            "overhead of its 28 numpy calls, not by arithmetic.\n"]

    rows = results["seeds_vs_loop"]
    out += ["## `train_seeds` versus a loop of `train`\n",
            f"He, `[2, 10, 5, 1]`, {rows[0]['iterations']} iterations per network "
            "(the ratio does not depend on the number of iterations). Ratio = "
            "loop time / `train_seeds` time, alternating, median of "
            f"{rows[0]['repeats']} pairs. `train_seeds` uses the default "
            "worker processes (one per core, from 20 000 network-steps); the "
            "1-worker columns isolate what batching alone gives. Throughput "
            "counts the element operations (outputs of elementwise passes) and "
            "multiply-adds of the batched step plan.\n",
            _table(["seeds", "loop (s)", "train_seeds (s)", "ratio (wall)",
                    "1 worker: wall", "1 worker: CPU", "element-ops/s",
                    "multiply-adds/s"],
                   [[str(r["seeds"]), f"{r['loop_s']:.2f}", f"{r['batched_s']:.2f}",
                     f"**{r['wall_ratio']:.2f}x**",
                     f"{r['one_thread_wall_ratio']:.2f}x",
                     f"{r['one_thread_cpu_ratio']:.2f}x",
                     _si(r["element_ops_per_s"]), _si(r["macs_per_s"])]
                    for r in rows]),
            "![time against number of seeds](seeds.png)\n"]

    out += ["## How time grows\n",
            "`train` (He, `[2, 10, 5, 1]`), median of 3, by number of examples "
            "(two-circles data, seed 1):\n",
            _table(["examples", "iterations", "seconds", "ns per example-iteration",
                    "seconds, 1 BLAS thread"],
                   [[str(r["examples"]), str(r["iterations"]), f"{r['seconds']:.3f}",
                     f"{r['ns_per_example_iteration']:.1f}",
                     f"{r['one_blas_thread_seconds']:.3f}"]
                    for r in results["examples"]]),
            "From some size on (here 30 000 examples, where the products pass "
            "OpenBLAS's threshold for threading) OpenBLAS splits each product "
            "over its threads. On a machine whose cores are busy with other "
            "work that costs far more than it gains (measured while preparing "
            "this suite: 30 iterations at 30 000 examples took 6.3 s with 2 BLAS "
            "threads and 0.7 s with 1); compare the last column. On a quiet "
            "machine the two columns should be close.\n",
            "By depth (hidden layers of width 10, 300 examples):\n",
            _table(["hidden layers", "iterations", "seconds", "µs per iteration"],
                   [[str(r["hidden_layers"]), str(r["iterations"]),
                     f"{r['seconds']:.3f}", f"{r['us_per_iteration']:.1f}"]
                    for r in results["depth"]])]

    sk = results["sklearn"]
    out += ["## scikit-learn's MLPClassifier doing the same full-batch work\n",
            f"`MLPClassifier(hidden_layer_sizes=(10, 5), solver='sgd', "
            f"batch_size=300, momentum=0, learning_rate_init=0.01, alpha=0, "
            f"max_iter={sk['iterations']}, shuffle=False)` (early stopping "
            "disabled) against `train` with He, alternating, median of "
            f"{sk['repeats']} pairs.\n",
            _table(["", "seconds", "train accuracy", "test accuracy",
                    "final cost"],
                   [["course_utils.train", f"{sk['train_s']:.2f}",
                     f"{sk['train_train_accuracy']:.3f}",
                     f"{sk['train_test_accuracy']:.3f}",
                     f"{sk['train_final_cost']:.4f}"],
                    ["MLPClassifier", f"{sk['sklearn_s']:.2f}",
                     f"{sk['sklearn_train_accuracy']:.3f}",
                     f"{sk['sklearn_test_accuracy']:.3f}",
                     f"{sk['sklearn_final_loss']:.4f}"]]),
            f"`train` is {sk['wall_ratio']:.1f}x faster here. Where the comparison "
            "is not fair: scikit-learn initializes differently (Glorot uniform "
            "weights *and* biases, from its own random stream), so the two runs "
            "follow different trajectories and reach different costs; it computes "
            "the loss at every iteration (with probabilities clipped away from "
            "0 and 1) and checks convergence each epoch, which `train` does only "
            "every 1000 iterations; it validates and copies its input at `fit`; "
            "and its arrays are examples-by-features, so its matrix products "
            "have other shapes. It is the same algorithm (full-batch gradient "
            "descent on the same architecture and loss), not the same "
            "computation.\n"]

    out += ["## Grading a class: `bench/grade_class.py`\n"]
    if "grading" in results:
        grading = results["grading"]
        out += [f"Isolation `{grading[0]['isolation']}`, 60 fixture submissions, "
                "default limits, timeout 10 s.\n",
                _table(["jobs", "submissions", "seconds", "seconds per submission"],
                       [[str(r["jobs"]), str(r["submissions"]), f"{r['seconds']:.1f}",
                         f"{r['seconds_per_submission']:.2f}"] for r in grading])]
    else:
        out += ["Not measured in this run (`--skip-grading`).\n"]
    out += [EARLIER_GRADING]

    out += ["## The test command and the book build\n"]
    for key, label, flag in (("test_command", "`make test`", "--test-command"),
                             ("book_build", "`jupyter-book build . -W --keep-going`",
                              "--book")):
        if key in results:
            r = results[key]
            out += [f"- {label}: {r['seconds']:.0f} s (exit status "
                    f"{r['returncode']})"]
        else:
            out += [f"- {label}: not measured in this run (takes minutes; "
                    f"`python -m bench {flag}`)"]
    out += [""]
    return "\n".join(out)

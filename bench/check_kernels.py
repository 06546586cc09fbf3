"""Re-execute every chapter under each OpenBLAS kernel and numpy SIMD level.

For authors, before committing a chapter: ``make check-kernels`` (or
``.venv/bin/python bench/check_kernels.py [notebooks...]``). OpenBLAS picks its
kernels by CPU and numpy dispatches its own SIMD code (AVX-512, AVX2, ...);
each sums in its own order, so a number printed at a precision that depends on
summation order passes on one machine and fails on another. This script runs
the chapters' nbval comparison once per configuration this CPU can execute:

- every ``OPENBLAS_CORETYPE`` whose kernels run here (probed in a subprocess:
  a core type the CPU cannot run dies with an illegal instruction), keeping one
  per distinct architecture that OpenBLAS reports;
- every numpy dispatch level the CPU supports, by disabling the higher ones
  with ``NPY_DISABLE_CPU_FEATURES`` (``X86_V4``, then ``X86_V4 X86_V3``).

It prints a table of configurations and every cell whose output differs.
The tests and CI keep the machine's own settings; this is not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORE_TYPES = ["Prescott", "Core2", "Penryn", "Nehalem", "Sandybridge", "Haswell",
              "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Barcelona",
              "Bulldozer", "Piledriver", "Steamroller", "Excavator"]
# Highest first: disabling a level also disables what builds on it.
NUMPY_LEVELS = [("X86_V4", ["X86_V4", "AVX512_ICL", "AVX512_SPR"]),
                ("X86_V3", ["X86_V3"])]
PROBE = """
import numpy as np, threadpoolctl
a = np.random.RandomState(0).randn(64, 64)
np.dot(a, a.T)
print([i["architecture"] for i in threadpoolctl.threadpool_info()
       if i["internal_api"] == "openblas"][0])
"""
NBVAL_OPTIONS = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                 str(REPO_ROOT / "tests" / "nbval_sanitize.cfg"),
                 "--nbval-kernel-startup-timeout=180"]


def runnable_core_types() -> dict[str, str]:
    """Core types whose kernels run on this CPU, one per reported architecture."""
    found: dict[str, str] = {}
    for core_type in CORE_TYPES:
        completed = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True,
            env=os.environ | {"OPENBLAS_CORETYPE": core_type}, timeout=120)
        architecture = completed.stdout.strip()
        if completed.returncode == 0 and architecture not in found.values():
            found[core_type] = architecture
    return found


def numpy_levels() -> list[tuple[str, str]]:
    """``(label, NPY_DISABLE_CPU_FEATURES value)`` for each level this CPU runs."""
    from numpy._core._multiarray_umath import __cpu_features__

    levels = [("default", "")]
    disabled: list[str] = []
    for level, features in NUMPY_LEVELS:
        if not __cpu_features__.get(level):
            continue
        disabled += [name for name in features if __cpu_features__.get(name)]
        levels.append((f"without {level}", " ".join(disabled)))
    return levels


def failing_cells(notebooks: list[str], env: dict[str, str]) -> list[str] | None:
    """Run nbval over ``notebooks``; return the failing cells (None if it broke)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        command = [sys.executable, "-m", "pytest", "-o", "addopts=", "-q",
                   "-p", "no:cacheprovider", "-n", "2", "--dist", "loadscope",
                   *NBVAL_OPTIONS, f"--junitxml={report}", *notebooks]
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env,
                                   capture_output=True, text=True)
        if not report.exists():
            print(completed.stdout[-3000:], completed.stderr[-3000:])
            return None
        cases = ElementTree.parse(report).getroot().iter("testcase")
        return [f"{case.get('classname')}::{case.get('name')}" for case in cases
                if case.find("failure") is not None or case.find("error") is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*",
                        default=[*sorted(map(str, REPO_ROOT.glob("book/*.ipynb"))),
                                 str(REPO_ROOT / "exercises" / "source")])
    arguments = parser.parse_args(argv)
    core_types = runnable_core_types()
    print("OpenBLAS core types that run here:",
          ", ".join(f"{name} ({arch})" for name, arch in core_types.items()))
    print("numpy dispatch levels:", ", ".join(label for label, _ in numpy_levels()))
    print("\n| OPENBLAS_CORETYPE | numpy | differing cells |\n| --- | --- | --- |")
    all_identical = True
    for core_type in core_types:
        for label, disabled in numpy_levels():
            env = os.environ | {"OPENBLAS_CORETYPE": core_type,
                                "NPY_DISABLE_CPU_FEATURES": disabled}
            failures = failing_cells(arguments.notebooks, env)
            all_identical &= failures == []
            shown = "run failed" if failures is None else (
                "none" if not failures else "<br>".join(failures))
            print(f"| {core_type} | {label} | {shown} |", flush=True)
    print("\nevery chapter identical under every configuration:", all_identical)
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())

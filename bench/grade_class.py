"""Benchmark: time to grade a class of 60 fixture submissions.

Run from the repository root: ``.venv/bin/python bench/grade_class.py``.
Prints a Markdown table row per setting; the recorded results are in
``bench/results.md``. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course_utils.grading.grader import GradingOptions, grade
from course_utils.grading.sandbox import choose_isolation
from tests.conftest import (
    GRADED_FUNCTIONS,
    graded_cell,
    reference_sources,
    single_assignment_source,
    write_submission,
)

CLASS_SIZE = 60


def build_class(folder: Path) -> None:
    """40 correct, 10 blank, 5 with a raising function, 5 with wrong values."""
    solutions = reference_sources()
    he = GRADED_FUNCTIONS[2]
    kinds = ([solutions] * 40 + [None] * 10
             + [solutions | {he: graded_cell(he, "raise ValueError('bench')")}] * 5
             + [solutions | {he: graded_cell(he, "return {}")}] * 5)
    for number, graded in enumerate(kinds):
        write_submission(folder / f"student{number:02d}", graded)


def time_grading() -> list[dict]:
    """Grade the class with 1 and 2 jobs; one row per setting (used by bench)."""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "submissions"
        build_class(folder)
        isolation = choose_isolation("auto")
        for jobs in (1, 2):
            gradebook = Path(scratch) / f"gradebook-{jobs}.sqlite"
            start = time.perf_counter()
            # The fixtures are submissions of the first assignment only.
            graded = grade(single_assignment_source(), folder, gradebook,
                           options=GradingOptions(jobs=jobs), log=lambda _: None)
            seconds = time.perf_counter() - start
            assert len(graded) == CLASS_SIZE
            rows.append({"jobs": jobs, "submissions": CLASS_SIZE,
                         "seconds": seconds, "isolation": str(isolation),
                         "seconds_per_submission": seconds / CLASS_SIZE})
    return rows


def main() -> None:
    rows = time_grading()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, isolation {rows[0]['isolation']}")
    print("| jobs | submissions | seconds | seconds per submission |")
    print("| ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['jobs']} | {row['submissions']} | {row['seconds']:.1f} | "
              f"{row['seconds_per_submission']:.2f} |")


if __name__ == "__main__":
    main()

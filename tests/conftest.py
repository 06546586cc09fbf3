"""Fixtures shared by every test module (the one place tests import them from)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from course_utils import load_dataset, train

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = REPO_ROOT / "book"
BUILD_DIR = REPO_ROOT / "_build" / "html"
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"


# Under pytest-xdist the test workers already keep every core busy: worker
# processes of train_seeds would only compete with them (measured: the seeds
# chapter then used 40 % more CPU time). Its results do not depend on the number
# of workers (tests/test_engine.py), so the verified outputs are the same. The
# notebooks' kernels inherit this.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("COURSE_UTILS_WORKERS", "1")

# Seconds each of the slowest modules and notebooks took in a full run here
# (`pytest --durations=0`, summed per file). Under `--dist loadscope
# --no-loadscope-reorder` (the Makefile's) the two workers take whole files in
# this order, longest first, so that no long file starts last and leaves one
# worker idle at the end. Only the wall time depends on it.
SLOWEST_FIRST = {
    "book/seeds.ipynb": 124, "tests/test_site.py": 53, "tests/test_engine.py": 49,
    "tests/test_instructor_guide.py": 45,
    # Measured alone under nbval at a load average of 4 (22 s of CPU).
    "book/normalization_residual.ipynb": 46,
    "tests/test_lab.py": 49, "tests/test_grading_runs.py": 24,
    "book/watch_training.ipynb": 22, "book/large_random.ipynb": 22,
    "tests/test_grading_week.py": 18, "book/deep_he.ipynb": 17,
    "book/he.ipynb": 17,
    # Measured at a load average of 10 beside other work: 35.5 s, against 41.7 s
    # for test_grading_runs.py; scaled to this table's run.
    "tests/test_grading_round3.py": 20,
    "tests/test_grading_hostile.py": 12, "tests/test_animation.py": 11,
    "book/variance_depth.ipynb": 8, "book/comparison.ipynb": 8,
    "book/zeros.ipynb": 8, "tests/test_handout.py": 10,
    "tests/test_docs_match_grader.py": 7,
}


def pytest_collection_modifyitems(items):
    """Run the SLOWEST_FIRST files first, longest first; the rest keep their order."""
    def expected_seconds(item) -> float:
        return SLOWEST_FIRST.get(item.nodeid.split("::", 1)[0], 0)

    items.sort(key=lambda item: -expected_seconds(item))


@pytest.fixture(scope="session")
def dataset():
    """The canonical (X_train, Y_train, X_test, Y_test)."""
    return load_dataset()


@pytest.fixture(scope="session")
def canonical_runs(dataset):
    """The three runs of the original assignment, trained once per session."""
    X_train, Y_train, _, _ = dataset
    return {name: train(X_train, Y_train, initialization=name)
            for name in ("zeros", "random", "he")}


@pytest.fixture(scope="session")
def artifacts_dir():
    """A git-ignored folder for screenshots and logs that a person may review."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --- Graded exercises: the source notebook and fixture submissions -----------

SOURCE_DIR = REPO_ROOT / "exercises" / "source"
ASSIGNMENT = "initialization"
GRADED_FUNCTIONS = ("initialize_parameters_zeros", "initialize_parameters_random",
                    "initialize_parameters_he")
# Every assignment with its graded functions and their points, in source order.
ASSIGNMENTS = {
    ASSIGNMENT: dict(zip(GRADED_FUNCTIONS, (2.0, 2.0, 3.0), strict=True)),
    "variance": {"initialize_parameters_xavier": 2.0,
                 "initialize_parameters_lecun": 2.0,
                 "activation_statistics": 3.0},
}


@functools.cache
def single_assignment_source(assignment: str = ASSIGNMENT) -> Path:
    """A temporary source folder holding only ``assignment``'s instructor notebook.

    For tests of one assignment's grading: the real folder holds every
    assignment, and each would get rows for every student.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"source-{assignment}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copy(SOURCE_DIR / f"{assignment}.ipynb", folder)
    return folder


def reference_sources(assignment: str = ASSIGNMENT) -> dict[str, str]:
    """The instructor's graded cells of ``assignment`` without solution markers."""
    from course_utils.grading.practice import reference_cells

    return reference_cells(SOURCE_DIR / f"{assignment}.ipynb")


def write_submission(folder, graded: dict[str, str] | None = None,
                     drop_test_cells: bool = False,
                     replace_test_cells: str | None = None,
                     filename: str | None = None, assignment: str = ASSIGNMENT):
    """Write a submission made from the released student version of ``assignment``.

    ``graded`` maps a graded function to the full source of its cell (which
    must keep the ``# GRADED FUNCTION`` first line); others stay as stubs.
    ``filename`` defaults to ``<assignment>.ipynb``.
    """
    import nbformat

    from course_utils.grading.practice import practice_notebook

    notebook = practice_notebook(SOURCE_DIR / f"{assignment}.ipynb", graded,
                                 drop_test_cells=drop_test_cells,
                                 replace_test_cells=replace_test_cells)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{assignment}.ipynb")
    nbformat.write(notebook, path)
    return path


def graded_cell(name: str, body: str, prelude: str = "") -> str:
    """A graded cell for ``name`` whose function body is ``body``."""
    indented = "\n".join("    " + line for line in body.strip("\n").split("\n"))
    return (f"# GRADED FUNCTION: {name} (1 points)\n{prelude}\n"
            f"def {name}(layers_dims):\n{indented}\n")


# --- The instructor's week: platform downloads built as the platforms name them --

DEADLINE = (2026, 11, 20, 23, 59, 0)


def submission_bytes(tmp_dir, graded: dict[str, str] | None = None,
                     answer: str | None = None) -> bytes:
    """A submission notebook's bytes; ``answer`` replaces the written answer's stub.

    ``tmp_dir`` is unused (kept for the callers).
    """
    from course_utils.grading.practice import practice_bytes

    return practice_bytes(SOURCE_DIR / f"{ASSIGNMENT}.ipynb", graded, answer)


def build_zip(path, entries) -> None:
    """Write a zip of ``(name, data, date_time)`` or ``(ZipInfo, data)`` entries."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            if isinstance(entry[0], zipfile.ZipInfo):
                archive.writestr(entry[0], entry[1])
            else:
                name, data, date_time = entry
                info = zipfile.ZipInfo(name, date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o100644 << 16
                archive.writestr(info, data)


def gradebook_rows(gradebook: Path) -> tuple[dict, dict]:
    """``{student: (status, points)}`` and ``{(student, function): status}``."""
    with sqlite3.connect(gradebook) as connection:
        submissions = {student: (status, points) for student, status, points in
                       connection.execute("SELECT student, status, points "
                                          "FROM submissions")}
        functions = {(student, function): status for student, function, status in
                     connection.execute("SELECT student, function, status "
                                        "FROM function_grades")}
    return submissions, functions


def assert_graded_as_expected(run: dict, student: str, correct: tuple[str, ...]
                              ) -> None:
    """``student`` got what ``run["expected"]`` plans, and every correct one 7/7."""
    submissions, functions = gradebook_rows(run["gradebook"])
    status, points, function_statuses = run["expected"][student]
    assert submissions[student] == (status, points)
    for function, function_status in (function_statuses or {}).items():
        assert functions[(student, function)] == function_status, function
    for name in correct:
        assert submissions[name] == ("graded", 7), name

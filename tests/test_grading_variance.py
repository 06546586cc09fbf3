"""The grader on the second assignment ("variance"): correct, blank, partly wrong.

One module-scoped run grades every fixture submission, from a source folder
that holds only this assignment (tests/test_instructor_guide.py grades both
assignments together).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from course_utils.grading.grader import GradingOptions, grade
from tests.conftest import (
    ASSIGNMENT,
    ASSIGNMENTS,
    SOURCE_DIR,
    reference_sources,
    single_assignment_source,
)
from tests.conftest import write_submission as write

VARIANCE = "variance"
POINTS = ASSIGNMENTS[VARIANCE]
XAVIER, LECUN, STATISTICS = POINTS
TIMEOUT = 3.0


def _changed(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new)


def build_class(folder: Path) -> dict[str, dict[str, str]]:
    """Write the fixture submissions; return each one's expected statuses."""
    right = reference_sources(VARIANCE)
    xavier_n_out_only = _changed(right[XAVIER], "np.sqrt(2 / (n_in + n_out))",
                                 "np.sqrt(1 / n_out)")
    with_output_layer = _changed(right[STATISTICS], "range(1, len(parameters) // 2)",
                                 "range(1, len(parameters) // 2 + 1)")
    lecun_reseeded = _changed(right[LECUN], "        n_in, n_out =",
                              "        rng = np.random.RandomState(3)\n"
                              "        n_in, n_out =")
    tanh = _changed(right[STATISTICS], "np.maximum(0, W @ A + b)", "np.tanh(W @ A + b)")
    sample_std = _changed(right[STATISTICS], "float(np.std(A))",
                          "float(np.std(A, ddof=1))")
    as_array = _changed(right[STATISTICS], "return hidden_layer_stats",
                        "return np.array(hidden_layer_stats)")
    no_asarray = right[STATISTICS]
    for old, new in [("np.asarray(X, dtype=float)", "X"),
                     ('np.asarray(parameters["W" + str(l)], dtype=float)',
                      'parameters["W" + str(l)]'),
                     ('np.asarray(parameters["b" + str(l)], dtype=float)',
                      'parameters["b" + str(l)]')]:
        no_asarray = _changed(no_asarray, old, new)
    global_seed = {name: _changed(right[name], "    rng = np.random.RandomState(3)\n",
                                  "    np.random.seed(3)\n    rng = np.random\n")
                   for name in (XAVIER, LECUN)}
    # As if np.random.seed(3) stood in a cell the grader does not run.
    seeded_elsewhere = _changed(right[XAVIER], "    rng = np.random.RandomState(3)\n",
                                "    rng = np.random\n")
    submissions = {
        "correct": (right, dict.fromkeys(POINTS, "passed")),
        "blank": ({}, dict.fromkeys(POINTS, "error")),
        "xavier_n_out_with_output_layer": (
            right | {XAVIER: xavier_n_out_only, STATISTICS: with_output_layer},
            {XAVIER: "failed", LECUN: "passed", STATISTICS: "failed"}),
        "lecun_reseeded_tanh": (
            right | {LECUN: lecun_reseeded, STATISTICS: tanh},
            {XAVIER: "passed", LECUN: "failed", STATISTICS: "failed"}),
        "sample_std": (right | {STATISTICS: sample_std},
                       {XAVIER: "passed", LECUN: "passed", STATISTICS: "failed"}),
        "returns_array": (right | {STATISTICS: as_array},
                          {XAVIER: "passed", LECUN: "passed", STATISTICS: "failed"}),
        "no_asarray": (right | {STATISTICS: no_asarray},
                       {XAVIER: "passed", LECUN: "passed", STATISTICS: "error"}),
        # Seeding NumPy's global generator inside the function draws the same
        # numbers: the grader cannot tell (the self-check refuses it).
        "global_seed_inside": (right | global_seed, dict.fromkeys(POINTS, "passed")),
        "seeded_elsewhere": (right | {XAVIER: seeded_elsewhere},
                             {XAVIER: "failed", LECUN: "passed", STATISTICS: "passed"}),
    }
    for student, (graded, _) in submissions.items():
        write(folder / student, graded, assignment=VARIANCE)
    return {student: expected for student, (_, expected) in submissions.items()}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("variance_class")
    expected = build_class(root / "submissions")
    gradebook = root / "grades" / "gradebook.sqlite"
    grade(single_assignment_source(VARIANCE), root / "submissions", gradebook,
          options=GradingOptions(jobs=2, timeout=TIMEOUT), log=lambda _: None)
    with sqlite3.connect(gradebook) as connection:
        functions = connection.execute(
            "SELECT student, function, status, points FROM function_grades "
            "WHERE assignment = ?", (VARIANCE,)).fetchall()
        submissions = connection.execute(
            "SELECT student, assignment, status, points, max_points "
            "FROM submissions").fetchall()
    return {"expected": expected, "root": root, "gradebook": gradebook,
            "functions": {(student, function): (status, points)
                          for student, function, status, points in functions},
            "submissions": {(student, assignment): (status, points, maximum)
                            for student, assignment, status, points, maximum
                            in submissions}}


@pytest.mark.parametrize("student", [
    "correct", "blank", "xavier_n_out_with_output_layer", "lecun_reseeded_tanh",
    "sample_std", "returns_array", "no_asarray", "global_seed_inside",
    "seeded_elsewhere"])
def test_function_grades(graded_class, student):
    expected = graded_class["expected"][student]
    for function, status in expected.items():
        points = POINTS[function] if status == "passed" else 0
        assert graded_class["functions"][(student, function)] == (status, points), \
            function
    total = sum(POINTS[function] for function, status in expected.items()
                if status == "passed")
    assert graded_class["submissions"][(student, VARIANCE)] == ("graded", total, 7)


def test_every_submission_has_its_rows(graded_class):
    students = set(graded_class["expected"])
    assert set(graded_class["submissions"]) == {(student, VARIANCE)
                                                for student in students}
    assert len(graded_class["functions"]) == len(students) * len(POINTS)


def test_feedback_names_the_wrong_checks_without_expected_values(graded_class):
    feedback = graded_class["gradebook"].parent / "feedback"
    text = (feedback / "xavier_n_out_with_output_layer" / f"{VARIANCE}.md").read_text()
    assert text.startswith(f"# {VARIANCE}: 2 / 7 points")
    # Only fixed outcomes: which key or entry failed could depend on the hidden
    # arguments (issue 20).
    assert "hidden check 1: wrong value" in text and "W1" not in text
    assert "hidden check 1: wrong shape or keys" in text
    arrays = (feedback / "returns_array" / f"{VARIANCE}.md").read_text()
    assert "hidden check 1: wrong shape or keys" in arrays
    # Xavier's first weight for [8, 5, 3, 2] (0.8929...) appears in no feedback.
    for path in feedback.rglob("*.md"):
        assert "0.892" not in path.read_text()


def test_handing_in_one_assignment_grades_only_that_one(tmp_path):
    """Issue 19: an assignment nobody submitted gets no rows unless named."""
    write(tmp_path / "submissions" / "ada", reference_sources(VARIANCE),
          assignment=VARIANCE)
    rows = {}
    for run, names in (("default", ()), ("named", (ASSIGNMENT, VARIANCE))):
        gradebook = tmp_path / f"{run}.sqlite"
        grade(SOURCE_DIR, tmp_path / "submissions", gradebook,
              options=GradingOptions(timeout=TIMEOUT, assignments=names),
              log=lambda _: None)
        with sqlite3.connect(gradebook) as connection:
            rows[run] = dict(connection.execute(
                "SELECT assignment, status FROM submissions"))
    assert rows == {"default": {VARIANCE: "graded"},
                    "named": {VARIANCE: "graded", ASSIGNMENT: "missing"}}

"""What the instructor guide says about missing and misnamed notebooks is what
``grade`` records (a folder holding only another assignment's notebook)."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from course_utils.grading.grader import GradingOptions, grade
from tests.conftest import BOOK_DIR, SOURCE_DIR


def _guide() -> str:
    """The instructor guide with its line breaks as spaces."""
    return " ".join((BOOK_DIR / "exercises" / "instructors.md").read_text().split())


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """ann handed in only variance.ipynb; bob only initialization.ipynb."""
    folder = tmp_path_factory.mktemp("submissions")
    for student, assignment in (("ann", "variance"), ("bob", "initialization")):
        (folder / student).mkdir()
        shutil.copy(BOOK_DIR / "exercises" / f"{assignment}.ipynb", folder / student)
    return folder


def _statuses(submissions, tmp_path, assignments: tuple[str, ...]) -> dict:
    gradebook = tmp_path / "gradebook.sqlite"
    grade(SOURCE_DIR, submissions, gradebook, tmp_path / "feedback",
          GradingOptions(isolation="none", assignments=assignments),
          log=lambda _: None)
    with sqlite3.connect(gradebook) as connection:
        rows = connection.execute(
            "SELECT student, assignment, status, detail FROM submissions").fetchall()
    return {(student, assignment): (status, detail)
            for student, assignment, status, detail in rows}


def test_another_assignments_notebook_is_missing_when_both_are_graded(submissions,
                                                                      tmp_path):
    statuses = _statuses(submissions, tmp_path, ())
    assert statuses[("ann", "initialization")][0] == "missing"
    assert statuses[("bob", "variance")][0] == "missing"
    assert ("a folder that holds only `variance.ipynb` is `missing` for "
            "`initialization` when the run grades both") in _guide()


def test_another_assignments_notebook_is_a_wrong_name_when_left_out(submissions,
                                                                    tmp_path):
    statuses = _statuses(submissions, tmp_path, ("initialization",))
    status, detail = statuses[("ann", "initialization")]
    assert (status, detail) == ("wrong_filename",
                                "expected initialization.ipynb; found variance.ipynb")
    assert f'but `wrong_filename` ("{detail}") under `--assignment initialization`' \
        in _guide()

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


@pytest.mark.parametrize("assignments", [(), ("initialization",)],
                         ids=["both graded", "only initialization"])
def test_another_assignments_notebook_is_missing_not_a_wrong_name(
        submissions, tmp_path, assignments):
    statuses = _statuses(submissions, tmp_path, assignments)
    assert statuses[("ann", "initialization")] == (
        "missing", "no initialization.ipynb was submitted")
    if not assignments:
        assert statuses[("bob", "variance")][0] == "missing"
    assert ("a folder that holds only `variance.ipynb` is `missing` for "
            "`initialization`, whether the run grades both or only "
            "`--assignment initialization`") in _guide()

"""``course-grade grade --assignment``: which assignments a run grades.

Without ``--assignment`` an assignment is graded only when a student folder
holds its notebook, so an assignment not handed out yet gets no ``missing``
rows (issue 19: every student got ``variance = 0``).
"""

from __future__ import annotations

import sqlite3

import pytest

from course_utils.grading.assignment import find_assignments, load_assignment
from course_utils.grading.cli import main as course_grade
from course_utils.grading.grader import select_assignments
from tests.conftest import SOURCE_DIR, reference_sources
from tests.conftest import write_submission as write


@pytest.fixture(scope="module")
def assignments():
    loaded = [load_assignment(path) for path in find_assignments(SOURCE_DIR)]
    assert [assignment.name for assignment in loaded] == ["initialization",
                                                          "variance"]
    return loaded


def _names(chosen) -> list[str]:
    return [assignment.name for assignment in chosen]


def test_only_assignments_somebody_submitted(assignments, tmp_path):
    write(tmp_path / "ana", reference_sources())
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / "notes.txt").write_text("no notebook")
    lines = []
    assert _names(select_assignments(assignments, (), tmp_path,
                                     lines.append)) == ["initialization"]
    assert lines == ["variance: no student folder holds variance.ipynb; not graded "
                     "(grade it anyway with --assignment variance)"]


def test_named_assignments_are_graded_even_without_submissions(assignments,
                                                                tmp_path):
    write(tmp_path / "ana", reference_sources())
    assert _names(select_assignments(assignments, ("variance",), tmp_path,
                                     print)) == ["variance"]
    assert _names(select_assignments(assignments, ("variance", "initialization"),
                                     tmp_path, print)) == ["initialization",
                                                           "variance"]
    with pytest.raises(ValueError, match="no source notebook 'varience'"):
        select_assignments(assignments, ("varience",), tmp_path, print)


def test_a_folder_with_no_notebook_of_any_assignment_is_an_error(assignments,
                                                                 tmp_path):
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "Initialization (1).ipynb").write_text("{}")
    with pytest.raises(ValueError, match="--assignment"):
        select_assignments(assignments, (), tmp_path, print)


def test_grade_writes_rows_only_for_the_assignment_handed_out(tmp_path, capsys):
    submissions = tmp_path / "submissions"
    write(submissions / "ana", reference_sources())
    (submissions / "ben").mkdir(parents=True)
    gradebook = tmp_path / "gradebook.sqlite"
    assert course_grade(["grade", str(SOURCE_DIR), str(submissions), "--gradebook",
                         str(gradebook)]) == 0
    assert "variance: no student folder holds variance.ipynb" in \
        capsys.readouterr().out
    with sqlite3.connect(gradebook) as connection:
        rows = connection.execute("SELECT student, assignment, status FROM "
                                  "submissions ORDER BY student").fetchall()
    assert rows == [("ana", "initialization", "graded"),
                    ("ben", "initialization", "missing")]

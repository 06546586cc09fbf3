"""Grades in the CSV formats that Canvas and Moodle import.

Documented on the page "Instructor guide". The platform's own columns are
written by :mod:`canvas` and :mod:`moodle`; here are what both share: the
gradebook's totals, the platform ids that ``course-grade collect
--gradebook`` recorded, and every cell neutralised against spreadsheet
formulas, as the generic export does.
"""

from __future__ import annotations

import csv
from pathlib import Path

from course_utils.grading.gradebook import open_gradebook
from course_utils.grading.platforms import canvas, moodle

FORMATS = ("generic", "canvas", "moodle")


def export_platform(gradebook_path: str | Path, csv_path: str | Path, platform: str,
                    assignment: str | None = None, column: str | None = None) -> int:
    """Write grades for Canvas or Moodle to import; return the number of rows.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    gradebook_path : str or Path
    csv_path : str or Path
    platform : {"canvas", "moodle"}
    assignment : str, optional
        Only this assignment; required when the gradebook holds several and
        the format is ``moodle`` (a worksheet belongs to one assignment).
    column : str, optional
        Canvas: the header of the grade column (default: the assignment's
        name); needs a single assignment.

    Returns
    -------
    int
        Rows written (one per student).
    """
    if platform not in ("canvas", "moodle"):
        raise ValueError(f"platform: must be canvas or moodle; got {platform!r}")
    with open_gradebook(gradebook_path) as gradebook:
        totals = gradebook.totals()
        # A student's platform id is the same for every assignment.
        collected = {student: (platform_id, display) for
                     student, platform_id, display in gradebook.query(
                         "SELECT student, platform_id, display_name FROM collected "
                         "WHERE platform = ? ORDER BY rowid", (platform,))}
    assignments = sorted({total.assignment for total in totals})
    if assignment is not None:
        if assignment not in assignments:
            raise ValueError(f"assignment: {assignment!r} is not in the gradebook")
        assignments = [assignment]
    if (platform == "moodle" or column) and len(assignments) != 1:
        raise ValueError(f"assignment: the gradebook holds {len(assignments)} "
                         "assignments; choose one with --assignment")
    totals = [total for total in totals if total.assignment in assignments]
    lacking = sorted({total.student for total in totals
                      if total.student not in collected})
    if lacking:
        shown = ", ".join(repr(name[:40]) for name in lacking[:5])
        raise ValueError(f"format: no {platform} id for {len(lacking)} student(s) "
                         f"({shown}); collect them with course-grade collect "
                         f"--gradebook from a {platform} download")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        if platform == "moodle":
            return moodle.write_grades(writer, totals, collected, _number, _comment)
        return canvas.write_grades(writer, totals, collected, assignments, column,
                                   _number)


def _comment(total) -> str:
    parts = [f"graded functions {_number(total.auto_points)}/"
             f"{_number(total.auto_max)}"]
    if total.written_max:
        parts.append(f"written answers {_number(total.written_points)}/"
                     f"{_number(total.written_max)}")
    if total.late:
        parts.append(f"late, {_number(total.penalty)} point(s) off")
    if total.status != "graded":
        parts.append(f"status {total.status}")
    return "; ".join(parts)


def _number(value: float) -> str:
    value = round(float(value), 4)
    return str(int(value)) if value.is_integer() else str(value)

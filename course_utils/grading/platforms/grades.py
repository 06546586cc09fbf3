"""Grades for Canvas and Moodle: the platform's own gradebook file, filled in.

Documented on the page "Instructor guide". With ``--template`` the
instructor gives the file the platform itself wrote (Canvas: Grades >
Export; Moodle: the assignment's "Download grading worksheet"), and the
export changes only the cells of one assignment, keeping every other byte as
the platform wrote it: the header, Canvas's ``Points Possible`` row, other
assignments, read-only columns, quoting, line ends, a byte-order mark. Which
cells those are is decided by :mod:`canvas` and :mod:`moodle`, and
:mod:`sheets` reads the file remembering where each cell lies; here is what
both share: the marks to write and the checks (no unscored written answer,
the same maximum as the platform's assignment, every graded student found in
the file).

Without a template the platform's columns are written from scratch, a file to
review and not to upload: Canvas would create a new assignment for a column
it does not know (``app/models/gradebook_importer.rb``, ``parse_assignments``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading.gradebook import open_gradebook
from course_utils.grading.gradebook import points_text as _number
from course_utils.grading.platforms import canvas, moodle
from course_utils.grading.platforms.sheets import Mark, read_sheet

FORMATS = ("generic", "canvas", "moodle")
# Canvas's download names a student of an anonymously graded assignment
# "anon_<anonymous id>" (lib/content_zipper.rb); its gradebook export
# (lib/gradebook_exporter.rb, csv_data) has one row per student by Canvas
# user id, and writes "N/A" in an assignment's column while it has unposted
# anonymous submissions, so no row of it matches an anonymous id.
ANONYMOUS_PREFIX = "anon_"


@dataclass
class ExportResult:
    """What an export wrote.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    rows : int
        Student rows written or filled.
    for_upload : bool
        ``True`` when a platform template was filled (the file can be
        uploaded); ``False`` for a file written from scratch, for review.
    column : str
        The template's column that was filled (Canvas), or ``Grade``.
    left_blank : list of str
        Platform ids of the template's students whose cell was left as the
        template has it (no submission, or not assigned to them).
    notes : list of str
        Anything else the instructor should know.
    left_out : list of str
        Canvas anonymous ids (``anon_...``) of graded students: a Canvas
        gradebook export has no row for them; enter their grades in
        SpeedGrader (each is named in ``notes``).
    kept : list of str
        Platform ids whose row already held another grade or comment and was
        left as it is (Moodle, without ``overwrite``).
    """

    rows: int
    for_upload: bool
    column: str = ""
    left_blank: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def export_platform(gradebook_path: str | Path, csv_path: str | Path, platform: str,
                    assignment: str | None = None, column: str | None = None,
                    template: str | Path | None = None, missing_as_zero: bool = False,
                    allow_unscored: bool = False, overwrite: bool = False
                    ) -> ExportResult:
    """Write grades for Canvas or Moodle; fill the platform's file when given.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    gradebook_path : str or Path
    csv_path : str or Path
    platform : {"canvas", "moodle"}
    assignment : str, optional
        Only this assignment; required when the gradebook holds several and
        a template or Moodle is used (both are for one assignment).
    column : str, optional
        Canvas: the header (``Title (id)``) or title of the grade column.
    template : str or Path, optional
        The platform's own gradebook file (Canvas: Grades > Export; Moodle:
        the offline grading worksheet). Only the assignment's cells change.
    missing_as_zero : bool, default False
        Write 0 for students without a submission instead of leaving the
        template's cell as it is.
    allow_unscored : bool, default False
        Export even when written answers are not scored (they count 0).
    overwrite : bool, default False
        Moodle: replace a grade or comment the worksheet already holds
        (without it such rows are left as they are; both ways they are
        listed in the notes).

    Returns
    -------
    ExportResult
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
            known = ", ".join(assignments) or "none"
            raise ValueError(f"assignment: {assignment!r} is not graded in the "
                             f"gradebook (graded: {known})")
        assignments = [assignment]
    if (platform == "moodle" or column or template) and len(assignments) != 1:
        raise ValueError(f"assignment: the gradebook holds {len(assignments)} "
                         "assignments; choose one with --assignment")
    totals = [total for total in totals if total.assignment in assignments]
    lacking = sorted({total.student for total in totals
                      if total.student not in collected
                      and total.status != "missing"})
    if lacking:
        shown = ", ".join(repr(name[:40]) for name in lacking[:5])
        raise ValueError(f"format: no {platform} id for {len(lacking)} student(s) "
                         f"({shown}); collect them with course-grade collect "
                         f"--gradebook from a {platform} download")
    if template is None:
        # A student with no submission and no platform id has no row to write.
        totals = [total for total in totals if total.student in collected]
        with open(csv_path, "w", newline="") as handle:
            writer = csv.writer(handle)
            if platform == "moodle":
                rows = moodle.write_grades(writer, totals, collected, _number,
                                           _comment)
            else:
                rows = canvas.write_grades(writer, totals, collected, assignments,
                                           column, _number)
        return ExportResult(rows, for_upload=False)
    return _fill_template(Path(template), Path(csv_path), platform, assignments[0],
                          column, totals, collected, missing_as_zero, allow_unscored,
                          overwrite)


def _fill_template(template: Path, csv_path: Path, platform: str, assignment: str,
                   column: str | None, totals: list, collected: dict,
                   missing_as_zero: bool, allow_unscored: bool,
                   overwrite: bool = False) -> ExportResult:
    unscored = [total for total in totals if total.unscored]
    if unscored and not allow_unscored:
        shown = ", ".join(repr(total.student[:40]) for total in unscored[:5])
        raise ValueError(f"allow_unscored: {len(unscored)} student(s) have written "
                         f"answers not scored yet ({shown}); score them "
                         "(course-grade answers, then score) or pass "
                         "--allow-unscored to count them 0")
    maxima = {round(total.max_points, 4) for total in totals}
    if len(maxima) != 1:
        raise ValueError(f"assignment: {assignment!r} has no graded submission, or "
                         "submissions graded against different versions; grade "
                         "it again")
    max_points = maxima.pop()
    marks: dict[str, Mark] = {}
    names: dict[str, str] = {}
    anonymous = []
    for total in totals:
        if total.student not in collected:
            continue
        platform_id, display = collected[total.student]
        if platform == "canvas" and platform_id.startswith(ANONYMOUS_PREFIX):
            anonymous.append(total)
            continue
        # A Moodle team's folder is recorded with its members' participant
        # ids ("101,102"): one grade, written for each member.
        members = platform_id.split(",") if platform == "moodle" else [platform_id]
        if len(members) == 1:
            names[platform_id] = display
        for member in members:
            if total.status == "missing" and not missing_as_zero:
                marks[member] = Mark(None, "")
            elif total.status == "missing":
                marks[member] = Mark("0", _comment(total))
            else:
                marks[member] = Mark(_number(total.points), _comment(total))
    sheet = read_sheet(template)
    if platform == "canvas":
        filled = canvas.fill_gradebook(sheet, marks, assignment, column, max_points,
                                       missing_as_zero)
    else:
        filled = moodle.fill_worksheet(sheet, marks, max_points, missing_as_zero,
                                       overwrite, names)
    absent = sorted(set(marks) - set(filled.ids))
    if absent:
        raise ValueError(f"template: {len(absent)} graded student(s) have no row in "
                         f"{template.name} (ids {', '.join(absent[:5])}); download "
                         "the gradebook file again from the same course and "
                         "assignment as the submissions")
    csv_path.write_bytes(sheet.render())
    written = set(filled.written) | set(filled.kept)
    notes = filled.notes + [
        f"{total.student} (Canvas anonymous id {collected[total.student][0]}): "
        f"{'no submission' if total.status == 'missing' else _number(total.points)}"
        f"; not in the file (a Canvas gradebook export has rows by user id only, "
        f"and says N/A while anonymous grades are not posted): enter it in "
        f"SpeedGrader" for total in anonymous]
    return ExportResult(len(set(filled.written)), for_upload=True,
                        column=filled.column,
                        left_blank=[id_ for id_ in filled.ids if id_ not in written],
                        notes=notes, kept=filled.kept,
                        left_out=[collected[total.student][0]
                                  for total in anonymous])


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



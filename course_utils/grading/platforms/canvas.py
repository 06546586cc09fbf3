"""Canvas: the bulk submissions download, and the Gradebook import CSV.

Documented on the page "Instructor guide".

- Reading: the "Download Submissions" zip has one file per submission named
  ``<lastnamefirstname>_<user id>_<attachment id>_<file name>``, with
  ``_LATE`` after the name for a late one, and no folders.
- Writing: the Gradebook import CSV (Instructor Guide, "How do I import grades
  in the Gradebook?"): the columns ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment. Canvas
  matches rows by ``ID``, the Canvas user id that the download puts in each
  file name; an assignment column is matched by its header, so name it as in
  Canvas, e.g. ``Initialization (4711)``, with ``--column``.
"""

from __future__ import annotations

import re
from datetime import datetime

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate, normalise_name

FILE_NAME = re.compile(r"^(?P<name>[^_/]+?)(?P<late>_LATE)?_(?P<id>\d{1,20})_"
                       r"(?P<attachment>\d{1,20})_(?P<file>[^/]+)$")
COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def candidate(name: str, original: str, moment: datetime, order: int
              ) -> tuple[Candidate | None, str]:
    """The submission a Canvas download entry holds, or why it holds none.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    name : str
        The entry's name in the zip (a notebook, already checked to be safe).
    original : str
        The same name, sanitised for reports.
    moment : datetime
        The entry's time.
    order : int
        The entry's position in the zip (unused: Canvas's attachment id orders
        a student's uploads).

    Returns
    -------
    candidate : Candidate or None
    reason : str
        Why the entry is not a submission ('' for a candidate).
    """
    if "/" in name:
        return None, "in a folder; a Canvas download has none"
    match = FILE_NAME.match(name)
    if match is None:
        return None, "not named like a Canvas submission (name_userid_fileid_file)"
    display = clean_text(match["name"], 200)
    return Candidate(original, f"{normalise_name(display)}_{match['id']}", "canvas",
                     match["id"], display, moment,
                     int(match["attachment"][:18]), bool(match["late"])), ""


def write_grades(writer, totals: list, collected: dict[str, tuple[str, str]],
                 assignments: list[str], column: str | None, number) -> int:
    """Write the Gradebook import rows (one per student); return how many.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    writer : csv writer
    totals : list of StudentTotal
    collected : dict of str to (str, str)
        Each student's Canvas user id and display name.
    assignments : list of str
    column : str, optional
        The header of the grade column (default: the assignment's name).
    number : callable
        Formats a number of points.

    Returns
    -------
    int
    """
    headers = [column or name for name in assignments]
    writer.writerow([*COLUMNS, *(spreadsheet_safe(h) for h in headers)])
    students: dict[str, dict] = {}
    for total in totals:
        platform_id, display = collected[total.student]
        row = students.setdefault(platform_id, {"name": display})
        row[total.assignment] = number(total.points)
    for platform_id, row in sorted(students.items()):
        writer.writerow([spreadsheet_safe(row["name"]), platform_id, "", "", "",
                         *(row.get(name, "") for name in assignments)])
    return len(students)

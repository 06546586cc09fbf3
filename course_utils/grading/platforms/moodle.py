"""Moodle: the "Download all submissions" zip, and the offline grading worksheet.

Documented on the page "Instructor guide".

- Reading: one folder per student named
  ``<Full Name>_<participant id>_assignsubmission_<plugin>_``; only the
  ``file`` plugin's folders hold uploaded notebooks.
- Writing: the assignment's offline grading worksheet ("Download grading
  worksheet" / "Upload grading worksheet"): the columns ``Identifier``
  (``Participant <id>``, the id in each folder name), ``Full name``,
  ``Grade``, ``Maximum Grade`` and ``Feedback comments``.
"""

from __future__ import annotations

import re
from datetime import datetime

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate, normalise_name

FOLDER_NAME = re.compile(r"^(?P<name>[^/]+)_(?P<id>\d{1,20})_assignsubmission_"
                         r"(?P<plugin>[a-z]+)_$")
COLUMNS = ("Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments")


def is_download(names: list[str]) -> bool:
    """Whether a zip with these entry names is a Moodle download.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    names : list of str

    Returns
    -------
    bool
    """
    return any(FOLDER_NAME.match(name.split("/", 1)[0])
               for name in names if "/" in name)


def candidate(name: str, original: str, moment: datetime, order: int
              ) -> tuple[Candidate | None, str]:
    """The submission a Moodle download entry holds, or why it holds none.

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
        The entry's position in the zip.

    Returns
    -------
    candidate : Candidate or None
    reason : str
        Why the entry is not a submission ('' for a candidate).
    """
    parts = name.split("/")
    match = FOLDER_NAME.match(parts[0]) if len(parts) >= 2 else None
    if match is None:
        return None, "not in a Moodle submission folder"
    if match["plugin"] != "file":
        return None, f"a Moodle {match['plugin']} submission, not a file"
    display = clean_text(match["name"], 200)
    return Candidate(original, f"{normalise_name(display)}_{match['id']}",
                     "moodle", match["id"], display, moment, order), ""


def write_grades(writer, totals: list, collected: dict[str, tuple[str, str]],
                 number, comment) -> int:
    """Write the worksheet rows (one per student); return how many.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    writer : csv writer
    totals : list of StudentTotal
        One assignment's totals.
    collected : dict of str to (str, str)
        Each student's participant id and display name.
    number : callable
        Formats a number of points.
    comment : callable
        The feedback comment for a total.

    Returns
    -------
    int
    """
    writer.writerow(COLUMNS)
    for total in totals:
        platform_id, display = collected[total.student]
        writer.writerow([f"Participant {platform_id}", spreadsheet_safe(display),
                         number(total.points), number(total.max_points),
                         spreadsheet_safe(comment(total))])
    return len(totals)

"""Moodle: the "Download all submissions" zip, and the offline grading worksheet.

Documented on the page "Instructor guide".

- Reading: one folder per student named
  ``<Full Name>_<participant id>_assignsubmission_<plugin>_``; only the
  ``file`` plugin's folders hold uploaded notebooks.
- Writing: the assignment's own offline grading worksheet ("Download grading
  worksheet" / "Upload grading worksheet") with ``Grade`` and ``Feedback
  comments`` filled and every other byte kept (:func:`fill_worksheet`);
  without it, :func:`write_grades` writes similar columns, for review only.
"""

from __future__ import annotations

import re
from datetime import datetime

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate, normalise_name
from course_utils.grading.platforms.sheets import Filled, Mark, Sheet, same_points

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
    """Write worksheet-like rows from scratch, for review (one per student).

    Introduced in the chapter "Instructor guide". Not for upload: Moodle's
    importer needs the columns of its own worksheet, ``Last modified
    (grade)`` among them (``importgradeslib.php``, ``init``); fill the
    downloaded worksheet instead (:func:`fill_worksheet`).

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


# The offline grading worksheet, as Moodle writes and reads it (moodle/moodle):
# - written by mod/assign/gradingtable.php (assign_grading_table, downloading)
#   through the csv dataformat (dataformat/csv: Spout's CSV writer, a UTF-8
#   byte-order mark, PHP fputcsv quoting: a cell with a space, the delimiter,
#   a quote, a backslash, a tab or a line end is quoted; rows end in \n).
#   Columns: "Identifier" ("Participant " + the participant id, the id in the
#   download's folder names; col_recordid), "Full name" and identity fields
#   (absent under blind marking), "Status", "Grade" (format_float with the
#   grade item's decimals), "Maximum Grade" (a scale's assignments have
#   "Scale" instead), "Grade can be changed", "Last modified (submission)",
#   online text, "Last modified (grade)", then one column per feedback
#   editor field: "Feedback comments" for the comments plugin.
# - read by mod/assign/feedback/offline/importgradeslib.php: init() finds the
#   columns "Identifier", "Grade" and "Last modified (grade)" by their header
#   and refuses the file without all three; next() strips "Participant "
#   and matches the id; the feedback columns are matched by their header.
#   mod/assign/feedback/offline/locallib.php (process_import_grades) skips a
#   blank grade, one above the maximum, and one whose "Last modified (grade)"
#   is older than the grade in Moodle (so that cell must stay as downloaded).
IDENTIFIER = "Identifier"
REQUIRED = (IDENTIFIER, "Grade", "Last modified (grade)")
PARTICIPANT = re.compile(r"^\s*Participant\s*(?P<id>\d{1,20})\s*$")


def fill_worksheet(sheet: Sheet, marks: dict[str, Mark], max_points: float,
                   missing_as_zero: bool) -> Filled:
    """Fill ``Grade`` and ``Feedback comments`` of Moodle's worksheet, nothing else.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    sheet : Sheet
        The assignment's offline grading worksheet ("Download grading
        worksheet"; needs the "Offline grading worksheet" feedback type).
    marks : dict of str to Mark
        By participant id.
    max_points : float
        Checked against every row's ``Maximum Grade``.
    missing_as_zero : bool
        Whether a participant with no submission at all gets 0.

    Returns
    -------
    Filled
    """
    if not sheet.rows:
        raise ValueError("template: the file is empty")
    header = sheet.values(0)
    lacking = [name for name in REQUIRED if name not in header]
    if lacking:
        raise ValueError(f"template: not a Moodle grading worksheet: no column "
                         f"{', '.join(repr(name) for name in lacking)} (Moodle "
                         "refuses a worksheet without Identifier, Grade and Last "
                         "modified (grade); download it with Moodle in English: "
                         "the assignment's \"Download grading worksheet\")")
    if "Maximum Grade" not in header:
        raise ValueError("template: the worksheet has no 'Maximum Grade' column: "
                         "the Moodle assignment is graded on a scale; set its "
                         f"grade type to Point, maximum {max_points:g}")
    identifier, grade = header.index(IDENTIFIER), header.index("Grade")
    maximum = header.index("Maximum Grade")
    feedback = header.index("Feedback comments") if "Feedback comments" in header \
        else None
    changeable = header.index("Grade can be changed") \
        if "Grade can be changed" in header else None
    notes = [] if feedback is not None else [
        "the worksheet has no 'Feedback comments' column (enable the feedback "
        "type \"Feedback comments\" in the assignment's settings); grades only"]
    ids, written = [], []
    for row in range(1, len(sheet.rows)):
        values = sheet.values(row)
        match = PARTICIPANT.match(values[identifier]) if identifier < len(values) \
            else None
        if match is None:
            continue
        participant = match["id"]
        ids.append(participant)
        if maximum < len(values) and not same_points(values[maximum], max_points):
            raise ValueError(f"template: Participant {participant} has Maximum Grade "
                             f"{values[maximum]!r}, the assignment {max_points:g}; "
                             f"set the Moodle assignment's maximum grade to "
                             f"{max_points:g}")
        mark = marks.get(participant)
        points = mark.points if mark else ("0" if missing_as_zero else None)
        if points is None:
            continue
        if changeable is not None and changeable < len(values) \
                and values[changeable].strip() == "No":
            notes.append(f"Participant {participant}: the worksheet says the grade "
                         "cannot be changed (locked or overridden in the "
                         "gradebook); Moodle will skip it")
        sheet.set(row, grade, points, quote_spaces=True)
        if feedback is not None and mark is not None and mark.comment:
            sheet.set(row, feedback, mark.comment, quote_spaces=True)
        written.append(participant)
    return Filled("Grade", ids, written, notes)

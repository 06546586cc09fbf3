"""Moodle: the "Download all submissions" zip, and the offline grading worksheet.

Documented on the page "Instructor guide".

- Reading: the "Download all submissions" zip in each of the layouts Moodle
  writes (:data:`LAYOUTS`, read from ``mod/assign/classes/downloader.php``
  and, before 4.1, ``mod/assign/locallib.php``), and the offline grading
  worksheet's ``Status`` and ``Last modified (submission)`` for lateness
  (:func:`read_worksheet`); the zip's entry times are the moment of the
  download, not of any submission.
- Writing: the assignment's offline grading worksheet ("Download grading
  worksheet" / "Upload grading worksheet"): the columns ``Identifier``
  (``Participant <id>``, the id in each folder name), ``Full name``,
  ``Grade``, ``Maximum Grade`` and ``Feedback comments``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate

# moodle/moodle, mod/assign/classes/downloader.php (4.1 and later),
# get_student_prefix and load_submissionplugin_filelist:
#   prefix = clean_filename(str_replace("_", " ", <full name>) . "_" .
#            get_uniqueid_for_user(id)), the full name being "Participant" under
#            blind marking; for team submissions clean_filename(<group name>
#            with "_" made " " . "_" . <group id>), or "Default group" alone;
#   "download in folders" (the default): "<prefix>_assignsubmission_file"
#            . <file path, "/" at the top> . <file name>, and other plugins
#            "<prefix>_assignsubmission_<plugin>/<file name>" (online text:
#            onlinetext.html);
#   without it: one flat file clean_filename("<prefix>_assignsubmission_<plugin>_"
#            . <file name>).
# mod/assign/locallib.php download_submissions (3.1 to 4.0) named the folder
# with a trailing "_" ("<prefix>_assignsubmission_file_/..."), the group
# name and "-" before the full name in group mode.
# Every entry is written by core_files zip_writer -> ZipStream
# addFileFromStream with no time: the zip time is the moment of the download.
_PREFIX = r"^(?P<name>[^/]+?)(?:_(?P<id>\d{1,20}))?_assignsubmission_(?P<plugin>[a-z]+)"
FOLDERS = re.compile(_PREFIX + r"/(?P<file>.+)$")
FOLDERS_OLD = re.compile(_PREFIX + r"_/(?P<file>.+)$")
FLAT = re.compile(_PREFIX + r"_(?P<file>[^/]+)$")
LAYOUTS = {
    "moodle-folders": "Moodle 4.1+ download in folders: <Full Name>_<id>_"
                      "assignsubmission_file/<file>",
    "moodle-folders-old": "Moodle 3.1-4.0 download in folders: <Full Name>_<id>_"
                          "assignsubmission_file_/<file>",
    "moodle-flat": "Moodle download without folders: <Full Name>_<id>_"
                   "assignsubmission_file_<file>",
}
# A second file of the same name in Moodle's file picker becomes "name (1).ext".
DUPLICATE = re.compile(r" \((\d{1,4})\)$")
COLUMNS = ("Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments")
# mod/assign/lang/en/assign.php: recordid "Identifier", hiddenuser
# "Participant ", lastmodifiedsubmission "Last modified (submission)",
# submittedlateshort "{$a} late"; gradingtable.php col_status joins its parts
# with " - " when downloading, col_timesubmitted writes userdate() (format
# strftimedaydatetime "%A, %d %B %Y, %I:%M %p" in the downloading user's
# time zone) or "-".
WORKSHEET_COLUMNS = ("Identifier", "Status", "Last modified (submission)")
_LATE_STATUS = re.compile(r"(?:^| - )(?P<by>[^-]+?) late(?: - |$)")
_TIME_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p",
                 "%d/%m/%Y, %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class WorksheetRow:
    """One participant's line of the offline grading worksheet.

    Introduced in the chapter "Instructor guide".
    """

    participant_id: str
    full_name: str
    status: str
    submitted: datetime | None  # naive: in the time zone Moodle wrote it
    late_by: str  # Moodle's own "... late" text, '' if it says none


def parse(name: str, original: str) -> Candidate | None:
    """The student and file a Moodle download entry names; None if not Moodle's.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    name : str
        The entry's name in the zip (already checked to be safe).
    original : str
        The same name, sanitised for reports.

    Returns
    -------
    Candidate or None
    """
    found = [(layout, pattern.match(name)) for layout, pattern in (
        ("moodle-folders-old", FOLDERS_OLD), ("moodle-folders", FOLDERS),
        ("moodle-flat", FLAT))]
    found = [(layout, match) for layout, match in found if match is not None]
    if not found:
        return None
    layout, match = found[0]
    file_name = match["file"]
    kind = "file" if match["plugin"] == "file" else match["plugin"]
    stem = PurePosixPath(file_name).stem
    duplicate = DUPLICATE.search(stem)
    return Candidate(original, "moodle", layout, match["id"] or "",
                     clean_text(match["name"], 200), clean_text(file_name, 200),
                     kind, (int(duplicate[1]) if duplicate else 0,),
                     "the number Moodle adds to a second file of the same name",
                     name=name)


def read_worksheet(path: str | Path) -> dict[str, WorksheetRow]:
    """The offline grading worksheet, by participant id.

    Introduced in the chapter "Instructor guide". The worksheet is the CSV
    from the assignment's "Download grading worksheet"
    (``mod/assign/feedback/offline``); its dates are in the time zone of the
    Moodle user who downloaded it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to WorksheetRow
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"worksheet: cannot be read ({clean_text(error, 100)})"
                         ) from None
    if not rows:
        raise ValueError("worksheet: the file is empty")
    header = [cell.strip() for cell in rows[0]]
    missing = [column for column in WORKSHEET_COLUMNS if column not in header]
    if missing:
        raise ValueError(f"worksheet: not a Moodle grading worksheet; no column "
                         f"{', '.join(repr(column) for column in missing)}")
    index = {column: header.index(column) for column in WORKSHEET_COLUMNS}
    name_index = header.index("Full name") if "Full name" in header else None
    result = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row] + [""] * len(header)
        identifier = cells[index["Identifier"]]
        found = re.fullmatch(r"\D*?(\d{1,20})", identifier)
        if found is None:
            raise ValueError(f"worksheet: line {line}: not a participant "
                             f"identifier: {clean_text(identifier, 60)!r}")
        status = cells[index["Status"]]
        late = _LATE_STATUS.search(status)
        result[found[1]] = WorksheetRow(
            found[1], cells[name_index] if name_index is not None else "", status,
            _moodle_time(cells[index["Last modified (submission)"]], line),
            late["by"].strip() if late else "")
    return result


def _moodle_time(text: str, line: int) -> datetime | None:
    if text in ("", "-"):
        return None
    for form in _TIME_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    raise ValueError(f"worksheet: line {line}: not a date Moodle writes: "
                     f"{clean_text(text, 60)!r}")


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

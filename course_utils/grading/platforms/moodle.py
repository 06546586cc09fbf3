"""Moodle: the "Download all submissions" zip, and the offline grading worksheet.

Documented on the page "Instructor guide".

- Reading: the "Download all submissions" zip in each of the layouts Moodle
  writes (:data:`LAYOUTS`, read from ``mod/assign/classes/downloader.php``
  and, before 4.1, ``mod/assign/locallib.php``), and the offline grading
  worksheet's ``Status`` and ``Last modified (submission)`` for lateness,
  extensions and drafts, and its ``Group`` column for the members of a
  team's folder (:func:`read_worksheet`, :func:`team_members`); the zip's
  entry times are the moment of the download, not of any submission.
- Writing: the assignment's own offline grading worksheet ("Download grading
  worksheet" / "Upload grading worksheet") with ``Grade`` and ``Feedback
  comments`` filled and every other byte kept, a grade or comment already
  there left alone unless asked (:func:`fill_worksheet`);
  without it, :func:`write_grades` writes similar columns, for review only.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate
from course_utils.grading.platforms.sheets import Filled, Mark, Sheet, same_points

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
# col_status adds, last, get_string('userextensiondate') = "Extension granted
# until: {$a}" with userdate(extensionduedate); its "late" part is already
# counted from that date (due = extensionduedate when there is one).
_EXTENSION_STATUS = re.compile(r"(?:^| - )Extension granted until: (?P<date>.+?)"
                               r"(?: - |$)")
# get_string('submissionstatus_draft') = "Draft (not submitted)": saved, not
# submitted for grading; downloader.php takes its files all the same.
DRAFT_STATUS = "Draft (not submitted)"
# A team assignment's worksheet has "Group" (col_team: the member's
# submission group, or get_string('defaultteam') = "Default group").
DEFAULT_GROUP = "Default group"
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
    extension: datetime | None = None  # "Extension granted until: ...", naive
    draft: bool = False  # "Draft (not submitted)": not submitted for grading
    group: str = ""  # the "Group" column of a team assignment, as Moodle wrote it


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
    group_index = header.index("Group") if "Group" in header else None
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
        extension = _EXTENSION_STATUS.search(status)
        result[found[1]] = WorksheetRow(
            found[1], cells[name_index] if name_index is not None else "", status,
            _moodle_time(cells[index["Last modified (submission)"]], line),
            late["by"].strip() if late else "",
            _moodle_time(extension["date"].strip(), line) if extension else None,
            status.split(" - ")[0].strip() == DRAFT_STATUS,
            cells[group_index] if group_index is not None else "")
    return result


def folder_form(name: str) -> str:
    """A name as the download's folder writes it, for comparing two names.

    Introduced in the chapter "Instructor guide". ``downloader.php`` makes
    ``_`` a space and ``clean_filename`` drops control characters and
    ``& < > " ` | ' : \\ /``; compared without case or repeated spaces.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    cleaned = re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", name.replace("_", " "))
    return " ".join(unicodedata.normalize("NFC", cleaned).casefold().split())


def team_members(rows: dict[str, WorksheetRow], folder_name: str,
                 has_id: bool) -> list[str] | None:
    """The participant ids of the team a download folder names; None if no team.

    Introduced in the chapter "Instructor guide". A team submission's folder
    is ``<group name>_<group id>`` or ``Default group`` with no id
    (``downloader.php`` get_student_prefix); the worksheet stays one row per
    student and names each one's group in its ``Group`` column.

    Parameters
    ----------
    rows : dict of str to WorksheetRow
        The worksheet of a team assignment.
    folder_name : str
        The name part of the folder (before the id).
    has_id : bool
        Whether the folder carries an id (a named group does, "Default
        group" does not).

    Returns
    -------
    list of str or None
    """
    wanted = folder_form(folder_name)
    if not has_id:
        if wanted != folder_form(DEFAULT_GROUP):
            return None
        return sorted(key for key, row in rows.items()
                      if folder_form(row.group) == wanted) or None
    return sorted(key for key, row in rows.items()
                  if row.group and row.group != DEFAULT_GROUP
                  and folder_form(row.group) == wanted) or None


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
    rows = 0
    for total in totals:
        platform_id, display = collected[total.student]
        for member in platform_id.split(","):  # a team: each member's row
            writer.writerow([f"Participant {member}", spreadsheet_safe(display),
                             number(total.points), number(total.max_points),
                             spreadsheet_safe(comment(total))])
            rows += 1
    return rows


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
                   missing_as_zero: bool, overwrite: bool = False,
                   names: dict[str, str] | None = None) -> Filled:
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
    overwrite : bool, default False
        Moodle's import replaces a grade or comment that differs from the
        one it holds (``locallib.php`` process_import_grades: ``if
        ($newvalue != $oldvalue)``). A row whose ``Grade`` or ``Feedback
        comments`` is already filled with something else is left as it is
        and listed, unless ``overwrite`` (then it is written, and listed).
    names : dict of str to str, optional
        The name the download's folder gave each participant id; a row whose
        ``Full name`` is someone else's is refused (a team's folder carries
        a group id, not a participant id).

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
    full_name = header.index("Full name") if "Full name" in header else None
    ids, written, kept, strangers = [], [], [], []
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
        shown = (names or {}).get(participant)
        # Under blind marking the folder says "Participant" (no name to check).
        if shown and folder_form(shown) != "participant" and full_name is not None \
                and full_name < len(values) \
                and folder_form(shown) != folder_form(values[full_name]):
            strangers.append(f"Participant {participant} is "
                             f"{clean_text(values[full_name], 60)!r} in the "
                             f"worksheet, {clean_text(shown, 60)!r} in the download")
            continue
        comment = mark.comment if feedback is not None and mark is not None else ""
        old_grade = values[grade].strip() if grade < len(values) else ""
        old_comment = values[feedback].strip() \
            if feedback is not None and feedback < len(values) else ""
        changes = []
        if old_grade not in ("", "-") and not same_points(old_grade, float(points)):
            changes.append(f"Grade {clean_text(old_grade, 20)!r} -> {points!r}")
        if old_comment and comment and old_comment != comment.strip():
            changes.append(f"Feedback comments {clean_text(old_comment, 60)!r}")
        if changes:
            kept.append(participant)
            notes.append(f"Participant {participant}: already graded in Moodle ("
                         f"{'; '.join(changes)}); "
                         + ("replaced (--overwrite)" if overwrite else
                            "left as it is: Moodle's import would replace it; "
                            "give --overwrite to replace it"))
            if not overwrite:
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
    if strangers:
        shown = "; ".join(strangers[:3])
        raise ValueError(f"template: {len(strangers)} row(s) belong to someone other "
                         f"than the download's folder says ({shown}); "
                         "a Moodle team submission's folder carries the group's "
                         "id, not a participant's: collect again with --worksheet "
                         "(the team assignment's grading worksheet, whose Group "
                         "column names each team's members), or download the "
                         "worksheet and the submissions again together")
    return Filled("Grade", ids, written, notes,
                  kept=[] if overwrite else kept)

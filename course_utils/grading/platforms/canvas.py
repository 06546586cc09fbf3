"""Canvas: the bulk submissions download, and the Gradebook import CSV.

Documented on the page "Instructor guide".

- Reading: the "Download Submissions" zip, flat, one file per uploaded file
  (see :data:`LAYOUTS` and :func:`parse` for the names, read from Canvas's
  ``lib/content_zipper.rb``). It holds each student's latest submission only,
  and every entry carries the moment the zip was built, not a submission time.
- Writing: Canvas's own gradebook export (Grades > Export), with one
  assignment's column filled and every other byte kept
  (:func:`fill_gradebook`); Canvas matches rows by ``ID``, the Canvas user
  id that the download puts in each file name. Without that file,
  :func:`write_grades` writes the columns from scratch, for review only.
"""

from __future__ import annotations

import re

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate
from course_utils.grading.platforms.sheets import Filled, Mark, Sheet, same_points

# instructure/canvas-lms, lib/content_zipper.rb (ContentZipper#get_filename,
# #add_upload_submission, #add_text_or_url, #sanitize_user_name):
#   called = sanitize_file_name([sortable_name.downcase (with "_<digits>_"
#            turned into "<digits>"), "LATE" if late, user id or
#            "anon_<anonymous id>" when grading is anonymous (no name then)]
#            .compact.join("_")), sanitize_file_name keeping [[:word:]] only
#            (letters with their accents, digits, "_");
#   an upload:         "#{called}_#{attachment id}_#{display name}" with
#                      \x00 / \ : * ? " < > | in the display name made "_";
#   a text entry:      "#{called}_text.html";  a URL entry: "#{called}_link.html".
# A display name "initialization-1.ipynb" is Canvas's renaming of a second
# file of the same name (Attachment.make_unique_filename: "<base>-<n><ext>").
# Older Canvas (the same file before anonymous grading became an assignment
# setting) lower-cased the whole called name ("_late_"), and under its
# anonymous_grading feature flag left out the name only ("<user id>_...").
_CALLED = (r"^(?:(?P<name>\w+?)_)??(?P<late>(?:LATE|late)_)?"
           r"(?P<id>\d{1,20}|anon_[A-Za-z0-9]{1,40})_")
UPLOAD = re.compile(_CALLED + r"(?P<attachment>\d{1,20})_(?P<file>[^/]+)$")
TEXT_OR_URL = re.compile(_CALLED + r"(?P<kind>text|link)\.html$")
LAYOUTS = {
    "canvas": "Canvas submissions download: <sortablename>[_LATE]_<user id>_"
              "<file id>_<file name>, anon_<id> when anonymous (older Canvas: "
              "_late_)",
}
COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def parse(name: str, original: str) -> Candidate | None:
    """The student and file a Canvas download entry names; None if not Canvas's.

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
    if "/" in name:
        return None
    match = UPLOAD.match(name) or TEXT_OR_URL.match(name)
    if match is None:
        return None
    display = clean_text(match["name"] or "", 200)
    common = {"original": original, "platform": "canvas", "layout": "canvas",
              "platform_id": match["id"], "display_name": display,
              "marked_late": bool(match["late"]), "name": name}
    if "attachment" not in match.re.groupindex:
        kind = match["kind"]
        return Candidate(file_name=f"{kind}.html", kind=kind, **common)
    note = "Canvas's file id (a later upload has a larger one)"
    candidate = Candidate(file_name=clean_text(match["file"], 200),
                          rank=(int(match["attachment"][:18]),), rank_note=note,
                          **common)
    # sanitize_user_name rewrites only "_<digits>_" inside the sortable name
    # (/_(\d+)_/), so a name ending in "_<digits>" ("Nguyen, Anh_2" ->
    # "nguyenanh_2_1007_5007_initialization.ipynb") keeps it, and the name
    # reads as well with the id one step to the right. Without LATE between
    # name and id every such reading is listed; the caller chooses.
    if not match["late"] and match["id"].isdigit():
        called, user_id = match["name"] or "", match["id"]
        attachment, rest = match["attachment"], match["file"]
        while (shifted := re.fullmatch(r"(\d{1,20})_([^/]+)", rest)) is not None:
            called = f"{called}_{user_id}" if called else user_id
            user_id, attachment, rest = attachment, shifted[1], shifted[2]
            candidate.alternatives.append(Candidate(
                file_name=clean_text(rest, 200), rank=(int(attachment[:18]),),
                rank_note=note, **(common | {"platform_id": user_id,
                                             "display_name": clean_text(called,
                                                                        200)})))
    return candidate


def write_grades(writer, totals: list, collected: dict[str, tuple[str, str]],
                 assignments: list[str], column: str | None, number) -> int:
    """Write Canvas's columns from scratch, for review (one row per student).

    Introduced in the chapter "Instructor guide". Not for upload: an
    assignment column Canvas does not know becomes a new assignment
    (``app/models/gradebook_importer.rb``, ``parse_assignments``); fill
    Canvas's own export instead (:func:`fill_gradebook`).

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


# What Canvas's gradebook export writes and its importer reads
# (instructure/canvas-lms lib/gradebook_exporter.rb, csv_data, and
# app/models/gradebook_importer.rb):
# - the header: "Student" (or "LastName", "FirstName"), "ID", the optional
#   "SIS User ID", "SIS Login ID", "Integration ID", "Root Account",
#   "Section", then custom columns, then one column per assignment named
#   "Title (id)" (Assignment#title_with_id; the importer splits it with
#   /\A(.*)\s\((\d+)\)\z/ and matches the id, else the exact title, and
#   creates a NEW assignment for any other header), then totals ("Current
#   Score", "Final Grade", ...; NON_ASSIGNMENT_COLUMN_HEADERS, ignored);
# - an optional row of "Manual Posting" markers and the "    Points Possible"
#   row (the importer skips rows whose first cell contains "Points
#   Possible", and treats a column whose cell there says "(read only)" as
#   read-only); numbers as I18n.n(x, precision: 2), e.g. "9.00";
# - one row per student, matched by the "ID" cell (the Canvas user id in the
#   download's file names); "N/A" where the assignment is not assigned to
#   that student (the importer ignores a grade there).
TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.DOTALL)
NON_ASSIGNMENT = re.compile("|".join((
    "Current Score", "Current Points", "Current Grade", "Final Score",
    "Final Points", "Final Grade", "Override Score", "Override Grade",
    "Override Status")))
STUDENT_COLUMNS = {"Student", "LastName", "FirstName", "ID", "SIS User ID",
                   "SIS Login ID", "Section", "Integration ID", "Root Account"}
HIDDEN_ROW = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.IGNORECASE)


def fill_gradebook(sheet: Sheet, marks: dict[str, Mark], assignment: str,
                   column: str | None, max_points: float,
                   missing_as_zero: bool) -> Filled:
    """Fill one assignment's column of a Canvas gradebook export, nothing else.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    sheet : Sheet
        Canvas's export (Grades > Export > Export Entire Gradebook).
    marks : dict of str to Mark
        By Canvas user id.
    assignment : str
        Matched to a column's title when ``column`` is not given.
    column : str, optional
        The column's header (``Initialization (4711)``) or its title.
    max_points : float
        Checked against the column's ``Points Possible``.
    missing_as_zero : bool
        Whether a student in the file with no submission at all gets 0.

    Returns
    -------
    Filled
    """
    if not sheet.rows:
        raise ValueError("template: the file is empty")
    header = sheet.values(0)
    first_last = header[:2] == ["LastName", "FirstName"]
    if not ((len(header) > 3 and "Student" in header[0] and "ID" in header[1])
            or (first_last and len(header) > 4 and "ID" in header[2])):
        raise ValueError("template: not a Canvas gradebook export (its header must "
                         "start with Student, ID or LastName, FirstName, ID; "
                         "Canvas: Grades > Export)")
    id_column = 2 if first_last else 1
    points_row = next((index for index in range(1, len(sheet.rows))
                       if "Points Possible" in (sheet.values(index) or [""])[0]),
                      None)
    if points_row is None:
        raise ValueError("template: no 'Points Possible' row; export the gradebook "
                         "from Canvas again (Grades > Export)")
    possible = sheet.values(points_row)
    index = _grade_column(header, possible, assignment, column)
    if not same_points(possible[index], max_points):
        raise ValueError(f"template: Canvas's {header[index]!r} has Points Possible "
                         f"{possible[index]!r}, the assignment {max_points:g}; set "
                         f"the Canvas assignment to {max_points:g} points")
    ids, written, notes = [], [], []
    for row in range(1, len(sheet.rows)):
        values = sheet.values(row)
        if row == points_row or len(values) <= id_column or \
                all(HIDDEN_ROW.match(value) for value in values):
            continue
        user_id = values[id_column].strip()
        if not user_id:
            continue
        ids.append(user_id)
        mark = marks.get(user_id)
        points = mark.points if mark else ("0" if missing_as_zero else None)
        if points is None:
            continue
        if index < len(values) and values[index].strip() == "N/A":
            notes.append(f"Canvas user {user_id}: {header[index]!r} is not assigned "
                         "to this student (N/A); left as it is")
            continue
        sheet.set(row, index, points, quote_spaces=False)
        written.append(user_id)
    return Filled(header[index], ids, written, notes)


def _grade_column(header: list[str], possible: list[str], assignment: str,
                  column: str | None) -> int:
    """The index of the assignment's column; never a new one."""
    last_student = max((index for index, name in enumerate(header[:9])
                        if name in STUDENT_COLUMNS), default=1)
    candidates = [index for index in range(last_student + 1, len(header))
                  if not NON_ASSIGNMENT.search(header[index])
                  and not re.search(r"read\s+only",
                                    possible[index] if index < len(possible) else "")]
    titles = {index: _title(header[index]) for index in candidates}
    if column is not None:
        found = [index for index in candidates if header[index] == column] or \
            [index for index in candidates if titles[index] == column] or \
            [index for index in candidates
             if _loose(titles[index]) == _loose(column)]
        wanted = f"--column {column!r}"
    else:
        found = [index for index in candidates
                 if _loose(titles[index]) == _loose(assignment)]
        wanted = f"an assignment titled like {assignment!r}"
    shown = ", ".join(repr(header[index]) for index in candidates[:12]) or "none"
    if not found:
        raise ValueError(f"column: no assignment column of the Canvas export matches "
                         f"{wanted} (its assignment columns: {shown}); name one "
                         "with --column 'Title (id)'. A new column would create "
                         "a new assignment in Canvas.")
    if len(found) > 1:
        matches = ", ".join(repr(header[index]) for index in found)
        raise ValueError(f"column: {wanted} matches {len(found)} columns ({matches}); "
                         "choose one with --column 'Title (id)'")
    return found[0]


def _title(header: str) -> str:
    match = TITLE_AND_ID.match(header)
    return match.group(1) if match else header


def _loose(title: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", title.strip().casefold())).strip()

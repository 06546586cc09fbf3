"""Canvas: the bulk submissions download, and the Gradebook import CSV.

Documented on the page "Instructor guide".

- Reading: the "Download Submissions" zip, flat, one file per uploaded file
  (see :data:`LAYOUTS` and :func:`parse` for the names, read from Canvas's
  ``lib/content_zipper.rb``). It holds each student's latest submission only,
  and every entry carries the moment the zip was built, not a submission time.
- Writing: the Gradebook import CSV (Instructor Guide, "How do I import grades
  in the Gradebook?"): the columns ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment. Canvas
  matches rows by ``ID``, the Canvas user id that the download puts in each
  file name; an assignment column is matched by its header, so name it as in
  Canvas, e.g. ``Initialization (4711)``, with ``--column``.
"""

from __future__ import annotations

import re

from course_utils.grading.boundary import clean_text
from course_utils.grading.gradebook import spreadsheet_safe
from course_utils.grading.platforms.entries import Candidate

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
    attachment = int(match["attachment"][:18])
    return Candidate(file_name=clean_text(match["file"], 200), rank=(attachment,),
                     rank_note="Canvas's file id (a later upload has a larger one)",
                     **common)


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

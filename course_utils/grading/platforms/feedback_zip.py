"""Feedback pages in a zip that the platform's bulk feedback upload matches.

Documented on the page "Instructor guide" (``course-grade feedback
--platform-zip``). Each platform matches an uploaded file to a student by its
name, the way its own download named the submission:

- Canvas, "Re-upload submissions" (instructure/canvas-lms
  ``app/models/assignment.rb``, ``generate_comments_from_files`` and
  ``infer_comment_context_from_filename``): the file's name is split at
  ``_``; the first two parts made only of digits are the user id and the
  attachment id, and the file is attached to a comment on that user's
  submission only if that attachment is one of the submission's files;
  anything else is ignored. So each page is named with the download's own
  prefix, ``<name>[_LATE]_<user id>_<attachment id>_``, then
  ``<assignment>_feedback.html``; a name part made only of digits (a
  sortable name ending in ``_2``) is left out, or Canvas would read it as
  the user id. Canvas attaches the page under the display name of the
  submitted file it matched (``FileInContext.attach(self, g[:filename],
  g[:display_name])``, display_name being the submission's attachment's):
  the student sees a comment with a file named like their notebook
  (``initialization.ipynb``) that holds the HTML page, whatever this zip
  calls it.
- Moodle, "Upload multiple feedback files in a zip" (moodle/moodle
  ``mod/assign/feedback/file/importziplib.php``,
  ``is_valid_filename_for_import``): a path part split at ``_`` (at most 5
  pieces) must give the participant id second and a plugin type and name
  third and fourth, as the download's folders ``<Full Name>_<id>_
  assignsubmission_file`` (Moodle 4.1+; with a trailing ``_`` before); the
  rest of the path is the feedback file's name, and names starting with
  ``.`` or ``~`` are ignored. Moodle's download replaces ``_`` in the name by
  a space (``mod/assign/classes/downloader.php``), so the name part has none.
  A team's page goes under the team's folder, ``<group name>_<group
  id>_assignsubmission_file``: the newest importer
  (``get_participant_mapping``) maps a team assignment's group id to every
  member; an importer without that mapping reads the number as a
  participant id, so the zip's notes say to check. "Default group" has no
  id for any importer to match and is left out.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading.gradebook import open_gradebook

MAX_PAGE_BYTES = 8 * 1024 * 1024


@dataclass
class PlatformZip:
    """What ``feedback --platform-zip`` wrote.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    platform : str
        ``canvas`` or ``moodle``.
    assignment : str
    entries : list of str
        The names written into the zip, one per student.
    skipped : list of str
        One line per student left out, with the reason.
    notes : list of str
        What to check before uploading (Moodle team pages).
    """

    platform: str
    assignment: str
    entries: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_platform_zip(gradebook_path: str | Path, pages_dir: str | Path,
                       zip_path: str | Path, assignment: str | None = None
                       ) -> PlatformZip:
    """Put each student's feedback page into a zip for the platform's upload.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    gradebook_path : str or Path
        Its ``collected`` rows (``course-grade collect --gradebook``) give
        each student's platform, id and the download's name.
    pages_dir : str or Path
        The pages ``course-grade feedback`` wrote
        (``<student>/<assignment>.html``).
    zip_path : str or Path
    assignment : str, optional
        Needed when the gradebook holds several collected assignments (one
        upload is for one assignment).

    Returns
    -------
    PlatformZip
    """
    with open_gradebook(gradebook_path) as gradebook:
        rows = gradebook.query(
            "SELECT student, assignment, original_name, platform, platform_id, "
            "display_name FROM collected ORDER BY student")
    rows = [row for row in rows if row[3] in ("canvas", "moodle")]
    collected = sorted({row[1] for row in rows})
    if not collected:
        raise ValueError("platform_zip: no Canvas or Moodle download was collected "
                         "into this gradebook (course-grade collect --gradebook)")
    if assignment is None:
        if len(collected) != 1:
            raise ValueError(f"assignment: the gradebook holds {len(collected)} "
                             "collected assignments; choose one with --assignment")
        assignment = collected[0]
    rows = [row for row in rows if row[1] == assignment]
    if not rows:
        raise ValueError(f"assignment: {assignment!r} was not collected from a "
                         f"platform (collected: {', '.join(collected)})")
    platforms = sorted({row[3] for row in rows})
    if len(platforms) != 1:
        raise ValueError(f"platform_zip: {assignment!r} was collected from both "
                         "Canvas and Moodle; collect it again from one of them")
    result = PlatformZip(platforms[0], assignment)
    pages_dir = Path(pages_dir)
    pages = []
    for student, _, original, platform, platform_id, display in rows:
        page = _read_page(pages_dir / student / f"{assignment}.html")
        if page is None:
            result.skipped.append(f"{student}: no feedback page "
                                  f"{student}/{assignment}.html; run feedback first")
            continue
        if platform == "canvas":
            name, reason = canvas_entry(original, platform_id, assignment)
        elif "," in platform_id:
            name, reason = moodle_team_entry(original, assignment)
            if name is not None:
                result.notes.append(
                    f"{student}: team page under the group's folder "
                    f"{name.split('/')[0]!r} for Participants {platform_id}: "
                    "Moodle's importer gives it to every member where it maps "
                    "team group ids (get_participant_mapping); an older one "
                    "reads the number as a participant id: check first")
        else:
            name, reason = moodle_entry(display, platform_id, assignment), ""
        if name is None:
            result.skipped.append(f"{student}: {reason}")
            continue
        pages.append((name, page))
    if not pages:
        raise ValueError(f"platform_zip: no feedback page to write ("
                         f"{'; '.join(result.skipped[:3])})")
    zip_path = Path(zip_path)
    temporary = zip_path.with_name(f".{zip_path.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, page in pages:
            archive.writestr(name, page)
            result.entries.append(name)
    os.replace(temporary, zip_path)
    return result


def canvas_entry(original: str, user_id: str, assignment: str
                 ) -> tuple[str | None, str]:
    """The zip name Canvas's re-upload matches to this submission, or why none.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    original : str
        The submission's name in the Canvas download.
    user_id : str
    assignment : str

    Returns
    -------
    name : str or None
    reason : str
    """
    parts = original.rsplit("/", 1)[-1].split("_")
    found = [index for index in range(len(parts) - 1)
             if parts[index] == user_id and re.fullmatch(r"\d+", parts[index + 1])]
    if not found:
        return None, (f"{original!r} does not carry user id {user_id} and a file "
                      "id as Canvas's re-upload reads them (anonymous "
                      "grading?); upload this page in SpeedGrader")
    # Canvas takes the first two all-digit parts: none may come before the id.
    index = found[0]
    prefix = "_".join([part for part in parts[:index]
                       if not re.fullmatch(r"\d+", part)] + parts[index:index + 2])
    return f"{prefix}_{assignment}_feedback.html", ""


def moodle_entry(display: str, participant_id: str, assignment: str) -> str:
    """The zip name Moodle's feedback zip import matches to this participant.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    display : str
        The participant's name as in the download's folder.
    participant_id : str
    assignment : str

    Returns
    -------
    str
    """
    name = re.sub(r"[_/\\\x00-\x1f]+", " ", display).strip(" .~") or "Participant"
    return (f"{name}_{participant_id}_assignsubmission_file/"
            f"{assignment}_feedback.html")


def moodle_team_entry(original: str, assignment: str) -> tuple[str | None, str]:
    """The zip name of a team's page: the team folder of the download, or why none.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    original : str
        The team's notebook's name in the Moodle download.
    assignment : str

    Returns
    -------
    name : str or None
    reason : str
    """
    folder = original.split("/")[0]
    match = re.match(r"^(?P<name>[^/]+?)_(?P<id>\d{1,20})_assignsubmission_", folder)
    if match is None:
        return None, (f"{folder!r} carries no group id for Moodle's feedback "
                      "import to match (\"Default group\"); give these students "
                      "their page in the grader")
    name = re.sub(r"[_/\\\x00-\x1f]+", " ", match["name"]).strip(" .~") or "Team"
    return (f"{name}_{match['id']}_assignsubmission_file/"
            f"{assignment}_feedback.html"), ""


def _read_page(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_PAGE_BYTES + 1)
    return data if len(data) <= MAX_PAGE_BYTES else None

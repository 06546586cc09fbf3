"""Collect submissions from a learning platform's download into the grader's layout.

Documented on the page "Instructor guide". ``course-grade collect`` reads

- a Canvas bulk download (``submissions.zip``): one file per submission named
  ``<lastnamefirstname>_<user id>_<attachment id>_<file name>``, with
  ``_LATE`` after the name for a late one;
- a Moodle "Download all submissions" zip: one folder per student named
  ``<Full Name>_<participant id>_assignsubmission_file_``;
- a plain folder of ``<student>.ipynb`` files,

and writes ``SUBMISSIONS_DIR/<student>/<assignment>.ipynb``. No archive entry
name is ever used as a path: the student folder is a normalised name (ASCII
letters, digits and ``-``, with the platform id), and the original name is
recorded in the gradebook and the report. Symbolic links, device files,
encrypted entries, files over the size limit and entries compressed more than
:data:`MAX_RATIO` times are skipped with the reason; an archive with more
than :data:`MAX_ENTRIES` entries or :data:`MAX_TOTAL_BYTES` in total is
refused as a whole.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from course_utils.grading.boundary import MAX_SUBMISSION_BYTES, clean_text
from course_utils.grading.gradebook import Gradebook, spreadsheet_safe
from course_utils.grading.platforms import canvas, folder, moodle
from course_utils.grading.platforms.entries import (
    Candidate,
    CollectError,
    CollectReport,
    Entry,
)

MAX_ENTRIES = 5_000
MAX_TOTAL_BYTES = 512 * 2**20
MAX_RATIO = 100
_CHUNK = 2**16


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 date and time; without a time zone it is taken as UTC.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : str
        For example ``2026-11-20T23:59`` or ``2026-11-20T23:59+01:00``.

    Returns
    -------
    datetime
        Aware, in UTC.
    """
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"late_after: not an ISO date and time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def collect(source: str | Path, submissions_dir: str | Path, assignment: str,
            gradebook_path: str | Path | None = None,
            late_after: datetime | None = None,
            late_penalty: float = 0.0) -> CollectReport:
    """Turn a Canvas or Moodle zip, or a folder of notebooks, into the grader's layout.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    source : str or Path
        A ``.zip`` downloaded from Canvas or Moodle, or a folder of
        ``<student>.ipynb`` files.
    submissions_dir : str or Path
        Receives ``<student>/<assignment>.ipynb`` (created if missing).
    assignment : str
        The assignment's name (the source notebook's file name without
        ``.ipynb``).
    gradebook_path : str or Path, optional
        Records each collected submission: original name, platform id, time
        and lateness (``course-grade export --format canvas|moodle`` needs it).
    late_after : datetime, optional
        The deadline: a submission whose time (the zip entry's time, taken as
        UTC, or the file's modification time) is after it is recorded late.
        Canvas's ``LATE`` mark is recorded late in any case.
    late_penalty : float, default 0
        Percent of the earned points taken off a late submission's total.
        0 records lateness without changing any points.

    Returns
    -------
    CollectReport
    """
    source, submissions_dir = Path(source), Path(submissions_dir)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}", assignment or ""):
        raise ValueError(f"assignment: not an assignment name: {assignment!r}")
    if isinstance(late_penalty, bool) or not isinstance(late_penalty, (int, float)) \
            or not 0 <= late_penalty <= 100:
        raise ValueError(f"late_penalty: must be a percentage from 0 to 100; "
                         f"got {late_penalty!r}")
    if late_penalty and late_after is None:
        raise ValueError("late_penalty: needs --late-after (the deadline)")
    if source.is_symlink():
        raise CollectError(f"source: {source} is a symbolic link")
    if source.is_dir():
        report, candidates = folder.read(source, MAX_ENTRIES, MAX_TOTAL_BYTES)
    elif source.is_file():
        report, candidates = _from_zip(source)
    else:
        raise FileNotFoundError(f"source: {source} does not exist")
    chosen = _newest(candidates, report)
    submissions_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for candidate in chosen:
        late_seconds = None
        if late_after is not None:
            late_seconds = (candidate.submitted_at - late_after).total_seconds()
        late = candidate.marked_late or (late_seconds is not None and late_seconds > 0)
        problem = _write(submissions_dir, candidate.student, assignment,
                         candidate.data or b"")
        if problem:
            report.entries.append(Entry(candidate.original, "skipped",
                                        candidate.student, problem))
            continue
        reason = ""
        if late:
            reason = "late" + (f" by {_duration(late_seconds)}"
                               if late_seconds and late_seconds > 0 else "")
        report.entries.append(Entry(candidate.original, "collected", candidate.student,
                                    reason))
        rows.append((candidate.student, assignment, candidate.original,
                     candidate.platform, candidate.platform_id,
                     candidate.display_name,
                     candidate.submitted_at.isoformat(timespec="seconds"), int(late),
                     late_seconds if late else None,
                     float(late_penalty) if late else 0.0))
    if gradebook_path is not None:
        with Gradebook(gradebook_path) as gradebook:
            gradebook.transaction([
                ("INSERT OR REPLACE INTO collected VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row) for row in rows])
    return report


def write_report(report: CollectReport, path: str | Path) -> None:
    """Write the collect report as CSV: ``original,status,student,reason``.

    Introduced in the chapter "Instructor guide". Every cell is neutralised
    against spreadsheet formulas.

    Parameters
    ----------
    report : CollectReport
    path : str or Path
    """
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("original", "status", "student", "reason"))
        writer.writerows([spreadsheet_safe(entry.original), entry.status,
                          entry.student, spreadsheet_safe(entry.reason)]
                         for entry in report.entries)


def _from_zip(path: Path) -> tuple[CollectReport, list[Candidate]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise CollectError(f"source: {path.name} is not a readable zip file "
                           f"({clean_text(error, 100)})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise CollectError(f"source: {path.name} has {len(infos)} entries; the "
                               f"limit is {MAX_ENTRIES}")
        declared = sum(info.file_size for info in infos)
        if declared > MAX_TOTAL_BYTES:
            raise CollectError(f"source: {path.name} expands to {declared} bytes; "
                               f"the limit is {MAX_TOTAL_BYTES}")
        is_moodle = moodle.is_download([info.filename for info in infos])
        report = CollectReport("moodle" if is_moodle else "canvas")
        candidates, total = [], 0
        for order, info in enumerate(infos):
            original = clean_text(info.filename, 300)
            if info.is_dir():
                continue
            candidate, reason = _classify(info, original, order, is_moodle)
            if candidate is None:
                report.entries.append(Entry(original, "skipped", "", reason))
                continue
            data, reason = _read_entry(archive, info, MAX_TOTAL_BYTES - total)
            if data is None:
                report.entries.append(Entry(original, "skipped", candidate.student,
                                            reason))
                continue
            total += len(data)
            candidate.data = data
            candidates.append(candidate)
    return report, candidates


def _classify(info: zipfile.ZipInfo, original: str, order: int, is_moodle: bool
              ) -> tuple[Candidate | None, str]:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or "\\" in name or ".." in path.parts \
            or re.match(r"^[A-Za-z]:", name):
        return None, "path outside the target folder (zip slip)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return None, "symbolic link"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return None, "not a regular file (device, pipe or socket)"
    if info.flag_bits & 0x1:
        return None, "encrypted"
    if not name.lower().endswith(".ipynb"):
        return None, "not a notebook (.ipynb)"
    try:
        moment = datetime(*info.date_time, tzinfo=UTC)
    except ValueError:
        moment = datetime(1980, 1, 1, tzinfo=UTC)
    reader = moodle if is_moodle else canvas
    return reader.candidate(name, original, moment, order)


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
                ) -> tuple[bytes | None, str]:
    if info.file_size > MAX_SUBMISSION_BYTES:
        return None, f"{info.file_size} bytes; the limit is {MAX_SUBMISSION_BYTES}"
    if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size,
                                                                    1):
        return None, f"compressed more than {MAX_RATIO} times (a zip bomb?)"
    limit = min(MAX_SUBMISSION_BYTES, info.file_size, budget)
    chunks, size = [], 0
    try:
        with archive.open(info) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    return None, "expands beyond its declared size or the limit"
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
            NotImplementedError) as error:
        return None, f"cannot be read ({type(error).__name__})"
    return b"".join(chunks), ""


def _newest(candidates: list[Candidate], report: CollectReport) -> list[Candidate]:
    """One candidate per student: the newest (time, then upload order)."""
    by_student: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_student.setdefault(candidate.student, []).append(candidate)
    chosen = []
    for student in sorted(by_student):
        ranked = sorted(by_student[student],
                        key=lambda item: (item.submitted_at, item.order))
        chosen.append(ranked[-1])
        for older in ranked[:-1]:
            report.entries.append(Entry(older.original, "skipped", student,
                                        f"an older submission; kept "
                                        f"{ranked[-1].original}"))
    return chosen


def _write(submissions_dir: Path, student: str, assignment: str, data: bytes
           ) -> str:
    """Write one submission without following any link; return a problem or ''."""
    folder = submissions_dir / student
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return f"{student} exists in the submissions folder and is not a folder"
    folder.mkdir(exist_ok=True)
    target = folder / f"{assignment}.ipynb"
    temporary = folder / f".{assignment}.ipynb.collecting"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, target)
    return ""


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.1f} d"

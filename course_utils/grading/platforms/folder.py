"""A plain folder of ``<student>.ipynb`` files, as an instructor may collect by hand.

Documented on the page "Instructor guide". The student's name is the file
name; the submission time is the file's modification time (the only time
a plain folder has: if you unpacked a platform's zip into it, that is the
moment of the download, so give ``--late-after`` only for files that kept
their own times).
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from course_utils.grading.boundary import MAX_SUBMISSION_BYTES, clean_text
from course_utils.grading.platforms.entries import (
    Candidate,
    CollectError,
    CollectReport,
    Entry,
    normalise_name,
)

LAYOUTS = {"folder": "a plain folder of <student>.ipynb files"}


def read(folder: Path, max_entries: int, max_total_bytes: int
         ) -> tuple[CollectReport, list[Candidate]]:
    """The notebooks of a plain folder of ``<student>.ipynb`` files.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    folder : Path
    max_entries : int
        More entries than this refuse the folder as a whole.
    max_total_bytes : int
        What is read from all files together, at most.

    Returns
    -------
    report : CollectReport
        With the entries skipped so far.
    candidates : list of Candidate
    """
    report = CollectReport("folder", "folder")
    candidates = []
    with os.scandir(folder) as scanned:
        entries = sorted(scanned, key=lambda entry: entry.name)
    if len(entries) > max_entries:
        raise CollectError(f"source: {folder} has {len(entries)} entries; the limit "
                           f"is {max_entries}")
    total = 0
    for entry in entries:
        original = clean_text(entry.name.encode("utf-8", "surrogateescape")
                              .decode("utf-8", "backslashreplace"), 300)
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            report.entries.append(Entry(original, "skipped", "", "symbolic link"))
            continue
        if not entry.name.lower().endswith(".ipynb"):
            report.entries.append(Entry(original, "skipped", "",
                                        "not a notebook (.ipynb)"))
            continue
        display = original[:-len(".ipynb")]
        data, reason, mtime = _read_file(folder, entry.name, max_total_bytes - total)
        if data is None:
            report.entries.append(Entry(original, "skipped", normalise_name(display),
                                        reason))
            continue
        total += len(data)
        candidates.append(Candidate(original, "folder", "folder", "", display,
                                    original, submitted_at=mtime,
                                    rank=(mtime,), rank_note="the file's time",
                                    name=entry.name, data=data))
    return report, candidates


def _read_file(folder: Path, name: str, budget: int
               ) -> tuple[bytes | None, str, datetime]:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                     | os.O_CLOEXEC)
    except OSError as error:
        return None, f"cannot be opened ({error.strerror})", epoch
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        moment = datetime.fromtimestamp(info.st_mtime, UTC)
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file (device, pipe or socket)", moment
        if info.st_size > MAX_SUBMISSION_BYTES:
            return None, (f"{info.st_size} bytes; the limit is "
                          f"{MAX_SUBMISSION_BYTES}"), moment
        if info.st_size > budget:
            return None, ("not read: the limit of what one collect reads "
                          "is reached"), moment
        limit = min(MAX_SUBMISSION_BYTES, budget)
        data = handle.read(limit + 1)
    if len(data) > limit:
        return None, f"grew over {limit} bytes while read", moment
    return data, "", moment

"""What a platform's download is read into: candidates, report lines, folder names.

Documented on the page "Instructor guide". Shared by the readers of each
platform (:mod:`canvas`, :mod:`moodle`, :mod:`folder`) and by :mod:`downloads`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

MAX_NAME_CHARACTERS = 60


class CollectError(ValueError):
    """An archive or folder that is refused as a whole; the message says why.

    Introduced in the chapter "Instructor guide".
    """


@dataclass
class Candidate:
    """One file that may be a student's submission, before the newest is chosen.

    Introduced in the chapter "Instructor guide".
    """

    original: str
    student: str
    platform: str
    platform_id: str
    display_name: str
    submitted_at: datetime
    order: int
    marked_late: bool = False
    data: bytes | None = None


@dataclass(frozen=True)
class Entry:
    """A line of the collect report.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    original : str
        The name in the archive or folder (escaped, bounded).
    status : str
        ``collected`` or ``skipped``.
    student : str
        The student folder written (empty when none could be named).
    reason : str
        Why it was skipped, or ``late`` details for a collected one.
    """

    original: str
    status: str
    student: str
    reason: str


@dataclass
class CollectReport:
    """What ``collect`` did.

    Introduced in the chapter "Instructor guide".
    """

    platform: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def collected(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "collected"]

    @property
    def skipped(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "skipped"]


def normalise_name(name: str) -> str:
    """A student name as a folder name: lower-case ASCII letters, digits and ``-``.

    Introduced in the chapter "Instructor guide". Accents are dropped
    (``José`` becomes ``jose``), every other character becomes ``-``, and the
    result is at most :data:`MAX_NAME_CHARACTERS` long; ``student`` if
    nothing is left.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return folded[:MAX_NAME_CHARACTERS].strip("-") or "student"

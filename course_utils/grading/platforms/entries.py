"""What a platform's download is read into: uploads, report lines, folder names.

Documented on the page "Instructor guide". Shared by the readers of each
platform (:mod:`canvas`, :mod:`moodle`, :mod:`folder`) and by :mod:`downloads`.
"""

from __future__ import annotations

import hashlib
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
    """One file of one student's submission, as the platform named it.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    original : str
        The entry's name in the archive or folder (escaped, bounded).
    platform : str
        ``canvas``, ``moodle`` or ``folder``.
    layout : str
        The naming the entry follows (one of the platform's ``LAYOUTS``).
    platform_id : str
        The platform's id of the student (Canvas user id or ``anon_...``,
        Moodle participant or group id); empty for a plain folder.
    display_name : str
        The student's name as the platform wrote it.
    file_name : str
        The file's own name in the submission, the platform's prefix removed.
    kind : str
        ``file`` for an uploaded file; ``text``, ``link`` or ``onlinetext`` for
        what a student typed into the platform.
    rank : tuple
        The platform's own upload order (larger is newer), empty if it has none.
    rank_note : str
        What ``rank`` is, for the report.
    marked_late : bool
        The platform marked it late (Canvas's ``LATE``).
    submitted_at : datetime, optional
        A submission time the source itself gives (a plain folder's file time).
    """

    original: str
    platform: str
    layout: str
    platform_id: str
    display_name: str
    file_name: str
    kind: str = "file"
    rank: tuple = ()
    rank_note: str = ""
    marked_late: bool = False
    submitted_at: datetime | None = None
    name: str = ""  # the raw entry name, to read it again
    data: bytes | None = None  # what a plain folder's file holds
    info: object = None  # the zip entry (zipfile.ZipInfo), to read it
    # Other ways the platform's name can be read (Canvas: a sortable name
    # ending in "_<digits>"), and what the report says about the choice.
    alternatives: list = field(default_factory=list)
    warning: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """Who submitted it: the platform id, or the name where there is none."""
        return (self.platform_id, "") if self.platform_id else ("", self.display_name)


@dataclass(frozen=True)
class Entry:
    """A line of the collect report.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    original : str
        The name in the archive or folder (escaped, bounded).
    status : str
        ``collected``; ``not graded`` (another file of a student, with why);
        or ``skipped`` (an entry that is no student's file, or could not be
        read).
    student : str
        The student folder (empty when none could be named).
    reason : str
        Why it was chosen, skipped or not graded; ``late`` details.
    late : bool
        A collected submission recorded as late.
    """

    original: str
    status: str
    student: str
    reason: str
    late: bool = False


@dataclass(frozen=True)
class Identity:
    """Which folder holds whose submission (recorded in the gradebook).

    Introduced in the chapter "Instructor guide".
    """

    folder: str
    display_name: str
    platform: str
    platform_id: str


@dataclass
class CollectReport:
    """What ``collect`` did.

    Introduced in the chapter "Instructor guide".
    """

    platform: str
    layout: str = ""
    entries: list[Entry] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def collected(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "collected"]

    @property
    def skipped(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "skipped"]

    @property
    def not_graded(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "not graded"]


def normalise_name(name: str) -> str:
    """A student name as a folder name: lower-case ASCII letters, digits and ``-``.

    Introduced in the chapter "Instructor guide". Accents are dropped
    (``José`` becomes ``jose``), every other character becomes ``-``, and the
    result is at most :data:`MAX_NAME_CHARACTERS` long; ``student`` if
    nothing is left. Different names can give the same form (``José García``
    and ``jose garcia``; ``王伟`` and ``李娜``): :func:`folder_names` tells
    them apart.

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


def short_hash(text: str) -> str:
    """Six hexadecimal digits of SHA-256: the same text, the same suffix.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]


def folder_names(people: dict[tuple[str, str], str],
                 taken: dict[str, tuple[str, str]] | None = None
                 ) -> dict[tuple[str, str], str]:
    """One folder per person, never shared by two.

    Introduced in the chapter "Instructor guide". A person is ``(platform id,
    name)``; the folder is the normalised name, then ``_<id>`` when there is
    an id. Where two different people's folders would be the same (compared
    without case, as macOS and Windows do), each of them gets ``-`` and six
    hex digits of the SHA-256 of their own name and id, so the suffix is the
    same in every download.

    Parameters
    ----------
    people : dict of (str, str) to str
        Each person's key (``Candidate.key``) and display name.
    taken : dict of str to (str, str), optional
        Folders already recorded (in the gradebook) for other people.

    Returns
    -------
    dict of (str, str) to str
    """
    taken = taken or {}
    plain = {}
    for key, display in people.items():
        platform_id = key[0]
        safe_id = re.sub(r"[^A-Za-z0-9]+", "-", platform_id.removeprefix("anon_"))[:40]
        base = normalise_name(display) if display else "anonymous"
        plain[key] = f"{base}_{safe_id}" if platform_id else base
    crowd: dict[str, list] = {}
    for key, folder in plain.items():
        crowd.setdefault(folder.casefold(), []).append(key)
    names = {}
    for key, folder in plain.items():
        other = taken.get(folder.casefold())
        shared = len(crowd[folder.casefold()]) > 1 or (other is not None
                                                       and other != key)
        names[key] = (f"{folder}-{short_hash(key[0] + '/' + people[key])}"
                      if shared else folder)
    return names

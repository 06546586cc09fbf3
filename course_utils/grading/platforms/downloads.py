"""Collect submissions from a learning platform's download into the grader's layout.

Documented on the page "Instructor guide". ``course-grade collect`` reads

- a Canvas "Download Submissions" zip (:mod:`canvas`);
- a Moodle "Download all submissions" zip, with or without folders, of
  Moodle 3.1 to 4.0 or 4.1 and later (:mod:`moodle`);
- a plain folder of ``<student>.ipynb`` files (:mod:`folder`),

recognises which of these layouts the download follows (an archive that
follows none is refused, naming the layouts tried), and writes
``SUBMISSIONS_DIR/<student>/<assignment>.ipynb``: for each student the
notebook named like the assignment (``initialization.ipynb``, also with the
platform's duplicate-name number ``-1`` or `` (1)``, in any case), else their
only or newest notebook; when several qualify, the newest by the platform's
own order (Canvas's file id, Moodle's duplicate number), never by the zip's
times, which both platforms set to the moment of the download. Every other
file of the student is reported as not graded. A Moodle team's folder
(``<group name>_<group id>``, ``Default group``) is mapped to its members by
the worksheet's ``Group`` column and graded once; a Canvas name that reads
two ways (a sortable name ending in ``_<digits>``) is read the way that
names the assignment's file, and the report says so.

No archive entry name is ever used as a path: the student folder is a
normalised name (ASCII letters, digits and ``-``) with the platform id, and
two different people never share one (:func:`entries.folder_names`); the
mapping is recorded in the gradebook and the report. Symbolic links, device
files, encrypted entries, notebooks over the size limit and entries
compressed more than :data:`MAX_RATIO` times are skipped for that student
alone; at most :data:`MAX_TOTAL_BYTES` are extracted in all (what is not read
is not counted), and an archive of more than :data:`MAX_ENTRIES` entries is
refused.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import zipfile
from collections import Counter
from datetime import UTC, datetime, tzinfo
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from course_utils.grading.boundary import MAX_SUBMISSION_BYTES, clean_text
from course_utils.grading.gradebook import Gradebook, spreadsheet_safe
from course_utils.grading.platforms import canvas, folder, moodle
from course_utils.grading.platforms.entries import (
    Candidate,
    CollectError,
    CollectReport,
    Entry,
    Identity,
    folder_names,
    normalise_name,
)

MAX_ENTRIES = 5_000
MAX_TOTAL_BYTES = 512 * 2**20
MAX_RATIO = 100
_CHUNK = 2**16
LAYOUTS = {**canvas.LAYOUTS, **moodle.LAYOUTS, **folder.LAYOUTS}
DUPLICATE_IDS = ("error", "newest")
_TYPED = {"text": "a Canvas text entry", "link": "a Canvas website URL entry",
          "onlinetext": "a Moodle online text"}
_DUPLICATE_SUFFIX = re.compile(r"(?:-\d{1,4}| \(\d{1,4}\))$")


def time_zone(name: str | None) -> tzinfo | None:
    """The IANA time zone ``name`` (``Europe/Berlin``); None for the machine's own.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    name : str, optional

    Returns
    -------
    tzinfo or None
    """
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: not a known time zone: {clean_text(name, 60)!r} "
                         "(an IANA name such as Europe/Berlin)") from None


def parse_deadline(text: str, zone: tzinfo | None = None) -> datetime:
    """An ISO 8601 date and time; without a zone it is read in ``zone``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : str
        For example ``2026-11-20T23:59`` or ``2026-11-20T23:59+01:00``.
    zone : tzinfo, optional
        The zone of a time written without one (default: the machine's local
        time zone, daylight saving time included).

    Returns
    -------
    datetime
        Aware, in UTC.
    """
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"late_after: not an ISO date and time: {text!r}") from None
    return _in_zone(moment, zone).astimezone(UTC)


def describe_moment(moment: datetime, zone: tzinfo | None = None) -> str:
    """``2026-11-20 23:59 CET (2026-11-20 22:59 UTC)``: in ``zone`` and in UTC.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    moment : datetime
        Aware.
    zone : tzinfo, optional
        Default: the machine's local time zone.

    Returns
    -------
    str
    """
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    utc = moment.astimezone(UTC)
    return (f"{local:%Y-%m-%d %H:%M} {local.tzname()} "
            f"({utc:%Y-%m-%d %H:%M} UTC)")


def parse_extensions(items: list[str], zone: tzinfo | None = None
                     ) -> dict[str, datetime]:
    """Per-student deadlines: ``NAME_OR_ID=DATETIME`` items, or CSV files of them.

    Introduced in the chapter "Instructor guide". A CSV file has two columns,
    the student (name as the platform writes it, platform id or folder) and
    the date and time (ISO 8601, read in ``zone`` when it has none); a first
    line whose second cell is not a date is taken as the header.

    Parameters
    ----------
    items : list of str
    zone : tzinfo, optional

    Returns
    -------
    dict of str to datetime
        Aware, in UTC.
    """
    pairs: list[tuple[str, str, str]] = []
    for item in items:
        who, sign, when = item.rpartition("=")
        if sign:
            pairs.append((who.strip(), when.strip(), f"extension {item!r}"))
            continue
        try:
            with open(item, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.reader(handle))
        except (OSError, UnicodeDecodeError):
            raise ValueError(f"extension: neither NAME_OR_ID=DATETIME nor a "
                             f"readable CSV file: {clean_text(item, 100)!r}") from None
        for line, row in enumerate(rows, start=1):
            if len(row) < 2 or not row[0].strip():
                continue
            if line == 1 and not re.match(r"\s*\d{4}-\d\d-\d\d", row[1]):
                continue
            pairs.append((row[0].strip(), row[1].strip(), f"{item} line {line}"))
    result = {}
    for who, when, where in pairs:
        if not who:
            raise ValueError(f"extension: no student in {where}")
        try:
            moment = datetime.fromisoformat(when)
        except ValueError:
            raise ValueError(f"extension: not an ISO date and time in {where}: "
                             f"{clean_text(when, 60)!r}") from None
        result[who] = _in_zone(moment, zone).astimezone(UTC)
    return result


def collect(source: str | Path, submissions_dir: str | Path, assignment: str,
            gradebook_path: str | Path | None = None,
            late_after: datetime | None = None,
            late_penalty: float = 0.0, *, worksheet: str | Path | None = None,
            timezone: str | None = None,
            extensions: dict[str, datetime] | None = None,
            duplicate_ids: str = "error", drafts: str = "skip") -> CollectReport:
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
        Records each collected submission: folder, original name, platform
        id, layout, time and lateness (``course-grade export --format
        canvas|moodle`` needs it); a platform id recorded before keeps its
        folder when the student's name changes.
    late_after : datetime, optional
        The deadline, aware. Moodle (with ``worksheet``): a submission last
        modified after it (or after the student's extension: given in
        ``extensions``, else the one Moodle granted, "Extension granted
        until" in the worksheet's ``Status``) is late. A plain
        folder: a file modified after it. Canvas marks lateness itself
        (``LATE`` in the name, from its own due dates and extensions) and
        gives no time, so a deadline is refused for a Canvas download.
    late_penalty : float, default 0
        Percent of the earned points taken off a late submission's total.
        0 records lateness without changing any points.
    worksheet : str or Path, optional
        Moodle's offline grading worksheet (CSV) for the same assignment: its
        ``Last modified (submission)`` and ``Status`` give the times,
        Moodle's own lateness (used when no ``late_after`` is given), its
        extensions and drafts; a team assignment's ``Group`` column maps each
        team's folder (``<group name>_<group id>``, or ``Default group``) to
        its members. A team download without it is refused where it can be
        told (a ``Default group`` folder); at export the worksheet's ``Full
        name`` is checked against the folder's name.
    timezone : str, optional
        The IANA zone of the worksheet's dates (the zone of the Moodle user
        who downloaded it); default: the machine's local zone.
    extensions : dict of str to datetime, optional
        Per-student deadlines, by platform id, name or folder (needs
        ``late_after``).
    duplicate_ids : {"error", "newest"}
        One platform id under two names (two downloads after a name change):
        refused, or the name with the newest file by the platform's order.
    drafts : {"skip", "grade"}
        Moodle, with ``worksheet``: a participant whose ``Status`` is "Draft
        (not submitted)" (saved, never submitted for grading; Moodle's
        download holds the files all the same) is skipped, or graded; the
        report says which.

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
    if drafts not in ("skip", "grade"):
        raise ValueError(f"drafts: must be skip or grade; got {drafts!r}")
    if duplicate_ids not in DUPLICATE_IDS:
        raise ValueError(f"duplicate_ids: must be error or newest; got "
                         f"{duplicate_ids!r}")
    if extensions and late_after is None:
        raise ValueError("extension: needs --late-after (the deadline it moves)")
    zone = time_zone(timezone)
    if source.is_symlink():
        raise CollectError(f"source: {source} is a symbolic link")
    archive_path = None
    if source.is_dir():
        report, candidates = folder.read(source, MAX_ENTRIES, MAX_TOTAL_BYTES)
        if not candidates and not any(entry.student for entry in report.entries):
            raise CollectError(f"source: {source.name} holds no notebook; tried: "
                               f"{folder.LAYOUTS['folder']}")
    elif source.is_file():
        report, candidates = _from_zip(source, assignment)
        archive_path = source
    else:
        raise FileNotFoundError(f"source: {source} does not exist")
    rows = moodle.read_worksheet(worksheet) if worksheet is not None else None
    _check_lateness_options(report.platform, late_after, late_penalty, rows)
    if report.platform == "moodle" and rows is None:
        report.notes.append("lateness: not recorded; a Moodle download holds no "
                            "submission times (give --worksheet)")
    elif report.platform == "canvas":
        report.notes.append("lateness: Canvas's own LATE mark")
    groups = _by_student(candidates, report, duplicate_ids, rows)
    if report.platform == "moodle":
        groups = _moodle_teams(groups, rows, report)
    if rows is not None and groups and not any(
            member in rows for key in groups for member in key[0].split(",")):
        raise ValueError(f"worksheet: none of the {len(groups)} participants of "
                         "this download is in it (another assignment's "
                         "worksheet? team submissions are named by group, "
                         "which the worksheet does not list)")
    people = {key: group[0].display_name for key, group in groups.items()}
    recorded, taken = _recorded_folders(gradebook_path, report.platform)
    names = folder_names(people, taken)
    names.update({key: recorded[key] for key in names if key in recorded})
    deadlines = _deadlines(extensions or {}, late_after, groups, names)
    submissions_dir.mkdir(parents=True, exist_ok=True)
    records = []
    archive = zipfile.ZipFile(archive_path) if archive_path is not None else None
    budget = [MAX_TOTAL_BYTES]
    try:
        for key in sorted(groups, key=lambda item: names[item]):
            record = _collect_one(groups[key], names[key], assignment, archive,
                                  budget, submissions_dir, report,
                                  (deadlines.get(key, late_after), rows, zone,
                                   late_penalty, key in deadlines), drafts)
            if record is not None:
                records.append(record)
    finally:
        if archive is not None:
            archive.close()
    if gradebook_path is not None:
        columns = ("student", "assignment", "original_name", "platform",
                   "platform_id", "display_name", "submitted_at", "late",
                   "late_seconds", "penalty_percent", "layout", "chosen_because",
                   "not_graded")
        with Gradebook(gradebook_path) as gradebook:
            gradebook.transaction([
                (f"INSERT OR REPLACE INTO collected ({', '.join(columns)}) "
                 f"VALUES ({', '.join('?' * len(columns))})", record)
                for record in records])
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


def _in_zone(moment: datetime, zone: tzinfo | None) -> datetime:
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()


def _check_lateness_options(platform: str, late_after: datetime | None,
                            late_penalty: float, rows: dict | None) -> None:
    if rows is not None and platform != "moodle":
        raise ValueError(f"worksheet: only for a Moodle download; this is "
                         f"{platform}'s")
    if platform == "canvas" and late_after is not None:
        raise ValueError("late_after: a Canvas download holds no submission times "
                         "(every entry carries the moment of the download); "
                         "Canvas marks late submissions itself (LATE in the name, "
                         "from its due dates and extensions): leave out "
                         "--late-after and set extensions in Canvas")
    if platform == "moodle" and late_after is not None and rows is None:
        raise ValueError("late_after: a Moodle download holds no submission times "
                         "(every entry carries the moment of the download); give "
                         "--worksheet, the assignment's grading worksheet")
    if late_penalty and late_after is None and not (
            platform == "canvas" or (platform == "moodle" and rows is not None)):
        raise ValueError("late_penalty: needs --late-after (the deadline)")


def _from_zip(path: Path, assignment: str = ""
              ) -> tuple[CollectReport, list[Candidate]]:
    """Every entry's student and file, from the names alone (nothing is read)."""
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
    skipped, unmatched, parsed = [], [], []
    for info in infos:
        if info.is_dir():
            continue
        original = clean_text(info.filename, 300)
        problem = _unsafe(info)
        if problem:
            skipped.append(Entry(original, "skipped", "", problem))
            continue
        candidate = canvas.parse(info.filename, original) \
            or moodle.parse(info.filename, original)
        if candidate is None:
            unmatched.append(original)
            continue
        candidate.info = info
        parsed.append(candidate)
    parsed = _resolve_readings(parsed, assignment)
    counts = Counter(candidate.layout for candidate in parsed)
    if not counts:
        tried = "; ".join(LAYOUTS[name] for name in (*canvas.LAYOUTS,
                                                      *moodle.LAYOUTS))
        raise CollectError(f"source: {path.name} matches no known layout "
                           f"({len(infos)} entries); tried: {tried}")
    layout = counts.most_common(1)[0][0]
    platform = "canvas" if layout in canvas.LAYOUTS else "moodle"
    report = CollectReport(platform, layout, skipped)
    candidates = []
    for candidate in parsed:
        if candidate.platform != platform:
            report.entries.append(Entry(candidate.original, "skipped", "",
                                        f"named like a {candidate.platform} "
                                        f"download; this one is {platform}'s"))
        else:
            candidates.append(candidate)
    for original in unmatched:
        report.entries.append(Entry(original, "skipped", "",
                                    f"not named like a {platform} submission "
                                    f"({LAYOUTS[layout]})"))
    return report, candidates


def _resolve_readings(parsed: list[Candidate], assignment: str) -> list[Candidate]:
    """One reading per entry whose name reads several ways (Canvas ``name_2_...``).

    The reading whose file is named like the assignment wins; else the one
    whose user id another, unambiguous entry confirms; else the first (as
    Canvas's own re-upload reads it), with a warning to check.
    """
    def named(reading: Candidate) -> bool:
        return reading.kind == "file" and _base(reading.file_name) == \
            assignment.casefold()

    chosen: dict[int, Candidate] = {}
    for index, candidate in enumerate(parsed):
        if not candidate.alternatives:
            continue
        readings = [candidate, *candidate.alternatives]
        fitting = [reading for reading in readings if named(reading)]
        if len(fitting) == 1:
            chosen[index] = fitting[0]
    confirmed = {c.platform_id for c in parsed if not c.alternatives} | \
        {c.platform_id for c in chosen.values()}
    for index, candidate in enumerate(parsed):
        if not candidate.alternatives:
            continue
        readings = [candidate, *candidate.alternatives]
        others = ", ".join(f"user {r.platform_id} ({r.display_name!r}, file "
                           f"{r.file_name!r})" for r in readings
                           if r is not chosen.get(index, candidate))
        if index in chosen:
            how = "its file is named like the assignment"
        else:
            known = [r for r in readings if r.platform_id in confirmed]
            if len(known) == 1:
                chosen[index], how = known[0], "another entry gives that user id"
            else:
                chosen[index], how = candidate, ""
        reading = chosen[index]
        reading.info = candidate.info
        reading.warning = (
            f"Canvas's name reads several ways (a sortable name ending in "
            f"_<digits>, kept by content_zipper.rb): read as user "
            f"{reading.platform_id}" + (f" because {how}" if how else
                                        ", the first way, as Canvas's own "
                                        "re-upload reads it; CHECK")
            + f"; it could also be {others}")
        reading.alternatives = []
        parsed[index] = reading
    return parsed


def _moodle_teams(groups: dict[tuple[str, str], list[Candidate]], rows: dict | None,
                  report: CollectReport) -> dict[tuple[str, str], list[Candidate]]:
    """A Moodle team's folder, keyed by its members' participant ids.

    A team submission's folder carries the group id (``<group name>_<group
    id>``) or none (``Default group``), never a participant id
    (``downloader.php`` get_student_prefix); the worksheet's ``Group`` column
    says who is in which team. The team is graded once and recorded under
    its members' ids ("101,102"), each of whom gets the grade at export.
    """
    teamed = rows is not None and any(row.group for row in rows.values())
    result = {}
    for key, group in groups.items():
        display, has_id = group[0].display_name, bool(key[0])
        default = not has_id and moodle.folder_form(display) == \
            moodle.folder_form(moodle.DEFAULT_GROUP)
        members = None
        if default and not teamed:
            raise CollectError(
                f"source: {group[0].original.split('/')[0]!r} is a Moodle team "
                "submission (\"Students submit in groups\"): its folder names a "
                "group, not a participant; give --worksheet, the assignment's "
                "grading worksheet, whose Group column names each team's members")
        if default:
            members = moodle.team_members(rows, display, False)
        elif teamed and has_id:
            own = rows.get(key[0])
            if own is None or moodle.folder_form(own.full_name) != \
                    moodle.folder_form(display):
                members = moodle.team_members(rows, display, True)
                if members is None:
                    raise CollectError(
                        f"worksheet: the folder {group[0].original.split('/')[0]!r}"
                        f" names neither a participant of the worksheet (id "
                        f"{key[0]}) nor a group of its Group column; download the "
                        "worksheet and the submissions again together")
        if not (default or members):
            result[key] = group
            continue
        if not members:
            raise CollectError(f"worksheet: no student's Group is {display!r}")
        for candidate in group:
            candidate.platform_id = ",".join(members)
        result[(",".join(members), "")] = group
        who = ", ".join(f"Participant {member} {rows[member].full_name!r}"
                        if rows[member].full_name else f"Participant {member}"
                        for member in members)
        report.notes.append(
            f"team: {display!r}" + (f" (group id {key[0]})" if has_id else "")
            + f" is {who} (the worksheet's Group column): graded once, the grade "
              "written for each member")
    return result


def _unsafe(info: zipfile.ZipInfo) -> str:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or "\\" in name or ".." in path.parts \
            or re.match(r"^[A-Za-z]:", name):
        return "path outside the target folder (zip slip)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return "not a regular file (device, pipe or socket)"
    if info.flag_bits & 0x1:
        return "encrypted"
    return ""


def _by_student(candidates: list[Candidate], report: CollectReport,
                duplicate_ids: str, rows: dict | None
                ) -> dict[tuple[str, str], list[Candidate]]:
    """Candidates by person; one platform id under two names is resolved or refused."""
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.key, []).append(candidate)
    for key, group in groups.items():
        names = sorted({candidate.display_name for candidate in group})
        if len(names) < 2:
            continue
        shown = " and ".join(f"{name!r} (folder {normalise_name(name)}_{key[0]})"
                             for name in names)
        if duplicate_ids == "error":
            raise CollectError(f"source: {report.platform} id {key[0]} appears under "
                               f"{len(names)} names, {shown} (two downloads after "
                               "a name change?); collect each download alone, or "
                               "give --duplicate-ids newest")
        keep = _newest_name(group, rows.get(key[0]) if rows else None)
        if keep is None:
            raise CollectError(f"source: {report.platform} id {key[0]} appears under "
                               f"{shown}, and nothing the platform wrote tells "
                               "which is newer; collect each download alone")
        for candidate in group:
            if candidate.display_name != keep:
                report.entries.append(Entry(
                    candidate.original, "not graded", "",
                    f"the same {report.platform} id {key[0]} as {keep!r}, "
                    f"whose files are newer"))
        groups[key] = [candidate for candidate in group
                       if candidate.display_name == keep]
    return groups


def _newest_name(group: list[Candidate], row) -> str | None:
    if row is not None and row.full_name in {c.display_name for c in group}:
        return row.full_name
    ranked = sorted(group, key=lambda candidate: candidate.rank)
    if not ranked[-1].rank or (len(ranked) > 1 and ranked[-1].rank == ranked[-2].rank
                               and ranked[-1].display_name != ranked[-2].display_name):
        return None
    return ranked[-1].display_name


def _recorded_folders(gradebook_path: str | Path | None, platform: str
                      ) -> tuple[dict, dict]:
    """Folders the gradebook already maps: this platform's people, and all taken."""
    recorded: dict[tuple[str, str], str] = {}
    taken: dict[str, tuple[str, str]] = {}
    if gradebook_path is None or not Path(gradebook_path).exists():
        return recorded, taken
    with Gradebook(gradebook_path) as gradebook:
        rows = gradebook.query("SELECT student, platform, platform_id, display_name "
                               "FROM collected ORDER BY rowid")
    for student, row_platform, platform_id, display in rows:
        key = (platform_id, "") if platform_id else ("", display)
        if row_platform == platform:
            recorded[key] = student
        taken[student.casefold()] = key
    return recorded, taken


def _deadlines(extensions: dict[str, datetime], late_after: datetime | None,
               groups: dict, names: dict) -> dict[tuple[str, str], datetime]:
    found = {}
    for who, moment in extensions.items():
        matches = [key for key, group in groups.items()
                   if who in (key[0], names[key])
                   or who.casefold() == group[0].display_name.casefold()]
        if not matches:
            raise ValueError(f"extension: no student {clean_text(who, 60)!r} in this "
                             "download (give the name as the platform writes it, "
                             "the platform id, or the folder)")
        if len(matches) > 1:
            raise ValueError(f"extension: {clean_text(who, 60)!r} names "
                             f"{len(matches)} students; give the platform id")
        found[matches[0]] = moment
    return found


def _base(file_name: str) -> str:
    stem = PurePosixPath(file_name).name
    stem = stem[:-len(".ipynb")] if stem.lower().endswith(".ipynb") else stem
    return _DUPLICATE_SUFFIX.sub("", stem).casefold()


def _choose(group: list[Candidate], assignment: str
            ) -> tuple[Candidate | None, str, list[tuple[Candidate, str]]]:
    """The notebook to grade, why, and every other file with why it is not graded."""
    notebooks = [c for c in group
                 if c.kind == "file" and c.file_name.lower().endswith(".ipynb")]
    named = [c for c in notebooks if _base(c.file_name) == assignment.casefold()]
    pool = named or notebooks
    others = []
    for candidate in group:
        if candidate.kind != "file":
            others.append((candidate, _TYPED.get(candidate.kind, f"a Moodle "
                                                 f"{candidate.kind} submission")
                           + ", not a notebook"))
        elif candidate not in notebooks:
            others.append((candidate, "not a notebook (.ipynb)"))
    if not pool:
        return None, "", others
    # Equal in the platform's order: the file at the top of the submission
    # (not in a subfolder), then the last by name.
    ranked = sorted(pool, key=lambda c: (c.rank, -c.file_name.count("/"),
                                         c.original))
    chosen = ranked[-1]
    if chosen.platform == "folder":
        why = "a plain folder: the notebook named after the student"
    elif named:
        why = f"named like the assignment ({assignment}.ipynb)"
    elif len(pool) == 1:
        why = f"the only notebook; none is named {assignment}.ipynb"
    else:
        why = f"no notebook is named {assignment}.ipynb"
    if len(pool) > 1:
        tied = ranked[-2].rank == chosen.rank
        why += (f"; {len(pool)} candidates: " + ", ".join(c.file_name for c in ranked)
                + (f"; nothing {chosen.platform} wrote orders them, so the one "
                   "outside subfolders, then the last by name; check"
                   if tied or not chosen.rank
                   else f"; the newest by {chosen.rank_note}"))
    for candidate in pool:
        if candidate is not chosen:
            older = candidate.rank < chosen.rank
            others.append((candidate, f"{'an older' if older else 'another'} "
                                      f"candidate; graded {chosen.file_name}"))
    for candidate in notebooks:
        if candidate not in pool:
            others.append((candidate, f"another notebook; graded {chosen.file_name} "
                                      f"(named like the assignment)"))
    order = {id(candidate): index for index, candidate in enumerate(group)}
    others.sort(key=lambda pair: order[id(pair[0])])
    return chosen, why, others


def _collect_one(group: list[Candidate], student: str, assignment: str,
                 archive: zipfile.ZipFile | None, budget: list[int],
                 submissions_dir: Path, report: CollectReport, lateness: tuple,
                 drafts: str = "skip") -> tuple | None:
    chosen, why, others = _choose(group, assignment)
    rows = lateness[1]
    row = rows.get(group[0].platform_id.split(",")[0]) \
        if rows is not None and group[0].platform == "moodle" else None
    if row is not None and row.draft:
        draft = (f"Moodle's Status says {moodle.DRAFT_STATUS}: saved, never "
                 "submitted for grading")
        if drafts == "skip":
            for candidate in group:
                report.entries.append(Entry(
                    candidate.original, "skipped", student,
                    f"{draft}; not graded (give --drafts grade to grade drafts)"))
            return None
        why += f"; {draft}, graded (--drafts grade)"
    if chosen is not None and chosen.warning:
        why += f"; {chosen.warning}"
    not_graded = "; ".join(c.file_name for c, _ in others)
    if chosen is None:
        for candidate, reason in others:
            report.entries.append(Entry(candidate.original, "skipped", student,
                                        f"no notebook from this student: {reason}"))
        return None
    data, problem = chosen.data, ""
    if archive is not None:
        data, problem = _read_entry(archive, chosen.info, budget[0])
        if data is not None:
            budget[0] -= len(data)
    if data is not None:
        problem = _write(submissions_dir, student, assignment, data)
    if problem:
        report.entries.append(Entry(chosen.original, "skipped", student, problem))
    else:
        late, seconds, submitted, how = _lateness(chosen, *lateness[:3],
                                                  explicit=lateness[4])
        reason = why + (f"; {how}" if how else "")
        report.entries.append(Entry(chosen.original, "collected", student, reason,
                                    late))
    for candidate, reason in others:
        report.entries.append(Entry(candidate.original, "not graded", student, reason))
    if problem:
        return None
    report.identities.append(Identity(student, chosen.display_name, chosen.platform,
                                      chosen.platform_id))
    penalty = float(lateness[3]) if late else 0.0
    return (student, assignment, chosen.original, chosen.platform,
            chosen.platform_id, chosen.display_name,
            submitted.isoformat(timespec="seconds") if submitted else "",
            int(late), seconds if late else None, penalty, chosen.layout, why,
            not_graded)


def _lateness(chosen: Candidate, deadline: datetime | None, rows: dict | None,
              zone: tzinfo | None, explicit: bool = False
              ) -> tuple[bool, float | None, datetime | None, str]:
    """Late or not, by how many seconds, when submitted, and the words for it."""
    if chosen.platform == "canvas":
        return chosen.marked_late, None, None, ("late (Canvas marked it LATE)"
                                                if chosen.marked_late else "")
    submitted = chosen.submitted_at
    moodle_late, extension = "", ""
    if chosen.platform == "moodle":
        if rows is None:
            return False, None, None, ""
        row = rows.get(chosen.platform_id.split(",")[0])
        if row is None:
            return False, None, None, ("not in the worksheet: lateness unknown")
        submitted = _in_zone(row.submitted, zone).astimezone(UTC) \
            if row.submitted else None
        moodle_late = row.late_by
        if deadline is not None and row.extension is not None and not explicit:
            # gradingtable.php col_status: due = extensionduedate when set.
            granted = _in_zone(row.extension, zone).astimezone(UTC)
            if granted > deadline:
                deadline = granted
                extension = (f"Moodle's extension until "
                             f"{describe_moment(granted, zone)}")
    if deadline is None:
        if moodle_late:
            return True, None, submitted, f"late (Moodle: {moodle_late} late)"
        return False, None, submitted, ""
    if submitted is None:
        return False, None, None, "no submission time: lateness unknown"
    seconds = (submitted - deadline).total_seconds()
    if seconds > 0:
        return True, seconds, submitted, (f"late by {_duration(seconds)}"
                                          + (f" after {extension}" if extension
                                             else ""))
    return False, None, submitted, (f"on time: within {extension}" if extension
                                    else "")


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
                ) -> tuple[bytes | None, str]:
    if info.file_size > MAX_SUBMISSION_BYTES:
        return None, f"{info.file_size} bytes; the limit is {MAX_SUBMISSION_BYTES}"
    if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size,
                                                                    1):
        return None, f"compressed more than {MAX_RATIO} times (a zip bomb?)"
    if info.file_size > budget:
        return None, (f"not read: {MAX_TOTAL_BYTES} bytes, the most one collect "
                      "extracts, are reached")
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

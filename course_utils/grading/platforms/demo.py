"""``course-grade demo``: a practice class, downloaded as Canvas or Moodle would.

Documented on the page "Instructor guide". :func:`write_demo` writes a
download of synthetic students' submissions of ``initialization``, in the
layout the platform's own code writes (through :mod:`imitation`, which
re-states the platforms' source), and the gradebook file the instructor
downloads beside it:

- Canvas: ``submissions.zip``, flat ``lib/content_zipper.rb`` names with
  ``LATE`` where Canvas counts a submission late, and ``canvas-gradebook.csv``,
  the gradebook export (Grades > Export, ``lib/gradebook_exporter.rb``) with
  its ``Points Possible`` row, another assignment's column and the
  assignment's column empty;
- Moodle 4.1+: ``submissions.zip``, one ``Full Name_<id>_assignsubmission_file/``
  folder per student (``mod/assign/classes/downloader.php``), and
  ``worksheet.csv``, the offline grading worksheet
  (``mod/assign/gradingtable.php``) with each participant's ``Status`` and
  ``Last modified (submission)``.

Every zip entry carries the same time, the moment of the download, as on
both platforms. The notebooks are the student version of the source notebook
with the reference solution filled in (:mod:`course_utils.grading.practice`),
some with a typical mistake injected; :func:`plan` says what each student
did, so the grader's results can be checked against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from course_utils.grading.boundary import MAX_SUBMISSION_BYTES
from course_utils.grading.platforms.imitation import (
    WORKSHEET_HEADER,
    canvas_called,
    canvas_upload,
    moodle_entry,
    moodle_prefix,
    moodle_time,
    moodle_worksheet_row,
    php_fputcsv,
    ruby_csv,
    write_zip,
)
from course_utils.grading.practice import practice_bytes, reference_cells

ASSIGNMENT = "initialization"
PLATFORMS = ("canvas", "moodle")
DEFAULT_STUDENTS = 24
MAX_STUDENTS = 30
POINTS = "9.00"  # 7 for the graded functions and 2 for the written question
CANVAS_COLUMN = "Initialization (4711)"
CANVAS_OTHER = "Quiz 1 (4700)"
TIMEZONE = "Europe/Berlin"  # of the Moodle worksheet's dates
DEADLINE = datetime(2026, 11, 20, 23, 59)  # in TIMEZONE
DOWNLOADED = datetime(2026, 11, 23, 9, 5)  # in TIMEZONE; the zip's entry times
ZEROS, RANDOM, HE = ("initialize_parameters_zeros", "initialize_parameters_random",
                     "initialize_parameters_he")

# What each kind of submission does to the reference solution: (function,
# text in the solution, its replacement), and the words for it.
MISTAKES = {
    "correct": ((), "the reference solution"),
    "random-factor": (((RANDOM, "* 10\n", "* 0.01\n"),),
                      "random: multiplies by 0.01 instead of 10"),
    "he-factor": (((HE, "np.sqrt(2 / layers_dims[l - 1])",
                    "np.sqrt(1 / layers_dims[l - 1])"),),
                  "he: sqrt(1/n) instead of sqrt(2/n)"),
    "he-layer": (((HE, "np.sqrt(2 / layers_dims[l - 1])",
                   "np.sqrt(2 / layers_dims[l])"),),
                 "he: the size of layer l instead of l - 1"),
    "transposed": (((ZEROS, "np.zeros((layers_dims[l], layers_dims[l - 1]))",
                     "np.zeros((layers_dims[l - 1], layers_dims[l]))"),),
                   "zeros: W transposed"),
    "unseeded": (((RANDOM, "    rng = np.random.RandomState(3)\n", ""),
                  (RANDOM, "rng.randn(", "np.random.randn(")),
                 "random: no seed (np.random.randn)"),
    "blank": ((), "the untouched release"),
}
# The points each kind earns from the graded functions (zeros 2, random 2,
# he 3), for the printed plan.
AUTO_POINTS = {"correct": 7, "random-factor": 5, "he-factor": 4, "he-layer": 4,
               "transposed": 5, "unseeded": 5, "blank": 0}
ANSWERS = {
    "full": "All outputs are sigmoid(0) = 0.5, which predict labels 0, and half "
            "of the points are labelled 0. Equal weights give every unit the same "
            "gradient, so the units stay identical.",
    "partial": "Every output is 0.5, so half of the points come out right.",
    "wrong": "The learning rate is too small for zeros.",
}


@dataclass(frozen=True)
class DemoStudent:
    """One student of the practice class and what they handed in.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    full_name : str
        As Moodle writes it (first name, then last name).
    sortable_name : str
        As Canvas writes it (``Last, First``).
    kind : str
        A key of :data:`MISTAKES`: what the graded cells hold.
    answer : str
        A key of :data:`ANSWERS`, or ``''`` for no written answer.
    late : bool
        Submitted after the deadline.
    extra : str
        ``scratch`` (a ``scratch.ipynb`` beside the notebook), ``duplicate`` (an
        older ``initialization.ipynb`` and the newer one renamed by the
        platform), ``huge-data`` (a data file just over the per-file limit),
        ``huge-notebook`` (the notebook itself over the limit: not collected),
        ``untitled`` (the only notebook is ``Untitled.ipynb``), ``absent``
        (in the gradebook file, nothing submitted), or ``''``.
    """

    full_name: str
    sortable_name: str
    kind: str
    answer: str
    late: bool = False
    extra: str = ""


# Everybody whose case the practice class is for, then ordinary students.
SPECIAL = (
    DemoStudent("José García", "García, José", "correct", "full"),
    DemoStudent("Jose Garcia", "Garcia, Jose", "random-factor", "partial"),
    DemoStudent("Zoë Ångström", "Ångström, Zoë", "correct", "full", late=True),
    DemoStudent("Pat O'Brien", "O'Brien, Pat", "transposed", "partial"),
    DemoStudent("Mary_Ann Smith", "Smith, Mary_Ann", "he-factor", "full"),
    DemoStudent("王伟", "王伟", "correct", "partial"),
    DemoStudent("李娜", "李娜", "blank", ""),
    DemoStudent("Мария Иванова", "Иванова, Мария", "correct", "full",
                extra="scratch"),
    DemoStudent("Ada Lovelace", "Lovelace, Ada", "correct", "full",
                extra="huge-data"),
    DemoStudent("Bo Babbage", "Babbage, Bo", "correct", "full",
                extra="huge-notebook"),
    DemoStudent("Cy Hopper", "Hopper, Cy", "unseeded", "wrong"),
    DemoStudent("Alan Turing", "Turing, Alan", "he-layer", "partial", late=True),
    DemoStudent("Emmy Noether", "Noether, Emmy", "correct", "full",
                extra="duplicate"),
    DemoStudent("Marie Curie", "Curie, Marie", "correct", "partial",
                extra="untitled"),
)
ABSENT = (
    DemoStudent("Kurt Gödel", "Gödel, Kurt", "blank", "", extra="absent"),
    DemoStudent("Sophie Germain", "Germain, Sophie", "blank", "", extra="absent"),
)
_ORDINARY_NAMES = (
    ("Leonhard", "Euler"), ("Pierre", "Fermat"), ("Bernhard", "Riemann"),
    ("David", "Hilbert"), ("Georg", "Cantor"), ("Henri", "Poincaré"),
    ("Srinivasa", "Ramanujan"), ("Évariste", "Galois"), ("Niels", "Abel"),
    ("Sofia", "Kovalevskaya"), ("Katherine", "Johnson"), ("Dorothy", "Vaughan"),
    ("Mary", "Jackson"), ("John", "Napier"), ("Ada", "Byron"), ("Alan", "Kay"),
)
_ORDINARY_KINDS = ("correct", "random-factor", "correct", "he-factor", "correct",
                   "transposed", "correct", "blank")
_ORDINARY_ANSWERS = ("full", "partial", "wrong", "full", "")
MIN_STUDENTS = len(SPECIAL)


def plan(students: int = DEFAULT_STUDENTS) -> list[DemoStudent]:
    """The practice class: who hands in what, the absent students last.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    students : int
        How many students submit (:data:`MIN_STUDENTS` to :data:`MAX_STUDENTS`):
        every special case of :data:`SPECIAL`, then ordinary students.

    Returns
    -------
    list of DemoStudent
        The students who submit, then the two in the gradebook file only.
    """
    if not MIN_STUDENTS <= students <= MAX_STUDENTS:
        raise ValueError(f"students: {students}; the practice class has "
                         f"{MIN_STUDENTS} to {MAX_STUDENTS} students")
    ordinary = [DemoStudent(f"{given} {family}", f"{family}, {given}",
                            _ORDINARY_KINDS[index % len(_ORDINARY_KINDS)],
                            _ORDINARY_ANSWERS[index % len(_ORDINARY_ANSWERS)],
                            late=index % 7 == 3)
                for index, (given, family) in
                enumerate(_ORDINARY_NAMES[:students - MIN_STUDENTS])]
    return [*SPECIAL, *ordinary, *ABSENT]


@dataclass
class DemoResult:
    """What :func:`write_demo` wrote.

    Introduced in the chapter "Instructor guide".
    """

    files: list[tuple[Path, str]]
    students: list[DemoStudent]
    next_command: str


def write_demo(directory: str | Path, platform: str, students: int = DEFAULT_STUDENTS,
               source_dir: str | Path = "exercises/source") -> DemoResult:
    """Write a practice class's download and gradebook file into ``directory``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    directory : str or Path
        A new or empty folder.
    platform : str
        ``canvas`` or ``moodle``.
    students : int
        How many students submit (see :func:`plan`).
    source_dir : str or Path
        The folder of the source notebooks; ``initialization.ipynb`` is used.

    Returns
    -------
    DemoResult
    """
    if platform not in PLATFORMS:
        raise ValueError(f"platform: {platform!r}; one of {', '.join(PLATFORMS)}")
    source = Path(source_dir) / f"{ASSIGNMENT}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"source: no {source} (run the demo from the "
                                "course folder, or give --source)")
    roster = plan(students)
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory}: exists and is not an empty folder; the demo "
                         "writes into a new one")
    directory.mkdir(parents=True, exist_ok=True)
    notebooks = _Notebooks(source)
    archive = directory / "submissions.zip"
    moment = DOWNLOADED.timetuple()[:6]
    if platform == "canvas":
        entries = _canvas_entries(roster, notebooks)
        sheet = directory / "canvas-gradebook.csv"
        sheet.write_text(_canvas_gradebook(roster), encoding="utf-8")
        what = ("Canvas gradebook export (Grades > Export), "
                f"{CANVAS_COLUMN!r} empty")
        collect = ""
    else:
        entries = _moodle_entries(roster, notebooks)
        sheet = directory / "worksheet.csv"
        sheet.write_text("\ufeff" + _moodle_worksheet(roster), encoding="utf-8")
        what = ("Moodle offline grading worksheet (Download grading worksheet), "
                f"dates in {TIMEZONE}")
        collect = f" --worksheet {sheet} --timezone {TIMEZONE}"
    write_zip(archive, entries, moment)
    submitting = [student for student in roster if student.extra != "absent"]
    name = {"canvas": "Canvas \"Download Submissions\"",
            "moodle": "Moodle 4.1+ \"Download all submissions\" (in folders)"}
    files = [(archive, f"{name[platform]}: {len(entries)} files of "
                       f"{len(submitting)} students, every entry dated "
                       f"{DOWNLOADED:%Y-%m-%d %H:%M}"),
             (sheet, f"{what}; {len(roster)} students, {POINTS} points")]
    command = (f"course-grade collect {archive} {directory / 'submissions'} "
               f"--assignment {ASSIGNMENT} --gradebook "
               f"{directory / 'gradebook.sqlite'}{collect}")
    return DemoResult(files, roster, command)


def describe(student: DemoStudent) -> str:
    """One line saying what ``student`` handed in, for the printed plan.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    student : DemoStudent

    Returns
    -------
    str
    """
    if student.extra == "absent":
        return "nothing (in the gradebook file only)"
    words = [MISTAKES[student.kind][1],
             f"{AUTO_POINTS[student.kind]}/7 points from the functions"]
    words.append(f"a {student.answer} written answer" if student.answer
                 else "no written answer")
    if student.late:
        words.append("late")
    extras = {"scratch": "a scratch.ipynb beside it",
              "duplicate": "initialization.ipynb twice (the platform renamed the "
                           "newer one)",
              "huge-data": "a data file just over the 20 MB limit beside it",
              "huge-notebook": "the notebook is over the 20 MB limit: not "
                               "collected, nothing graded",
              "untitled": "named Untitled.ipynb"}
    if student.extra:
        words.append(extras[student.extra])
    return "; ".join(words)


class _Notebooks:
    """Each kind's notebook bytes, built once."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.solutions = reference_cells(source)
        self.cache: dict[tuple[str, str], bytes] = {}

    def __call__(self, kind: str, answer: str) -> bytes:
        key = (kind, answer)
        if key not in self.cache:
            self.cache[key] = practice_bytes(self.source, self._graded(kind),
                                             ANSWERS[answer] if answer else None)
        return self.cache[key]

    def _graded(self, kind: str) -> dict[str, str]:
        if kind == "blank":
            return {}
        graded = dict(self.solutions)
        for function, old, new in MISTAKES[kind][0]:
            if old not in graded[function]:
                raise ValueError(f"demo: the solution of {function} no longer "
                                 f"holds {old!r}; update MISTAKES[{kind!r}]")
            graded[function] = graded[function].replace(old, new, 1)
        return graded

    def huge(self, student: DemoStudent) -> bytes:
        """The student's notebook with an output just over the per-file limit."""
        notebook = json.loads(self(student.kind, student.answer))
        line = "0.5 0.5 0.5 0.5 0.5 0.5 0.5 0.5\n"
        notebook["cells"][-1]["outputs"] = [{
            "name": "stdout", "output_type": "stream",
            "text": line * (MAX_SUBMISSION_BYTES // len(line) + 1)}]
        notebook["cells"][-1]["cell_type"] = "code"
        notebook["cells"][-1].setdefault("execution_count", None)
        return json.dumps(notebook).encode()


def _huge_data() -> bytes:
    """A data file just over the per-file limit; it compresses about 400 times."""
    line = b"0.1349,-0.2215,1\n"
    return line * (MAX_SUBMISSION_BYTES // len(line) + 1)


def _files(student: DemoStudent, notebooks: _Notebooks,
           renamed: str) -> list[tuple[str, bytes]]:
    """The student's files, oldest upload first; ``renamed``: the platform's
    name for a second ``initialization.ipynb``."""
    mine = notebooks(student.kind, student.answer)
    if student.extra == "huge-notebook":
        return [(f"{ASSIGNMENT}.ipynb", notebooks.huge(student))]
    if student.extra == "untitled":
        return [("Untitled.ipynb", mine)]
    if student.extra == "duplicate":
        return [(f"{ASSIGNMENT}.ipynb", notebooks("blank", "")), (renamed, mine)]
    files = [(f"{ASSIGNMENT}.ipynb", mine)]
    if student.extra == "scratch":
        files.append(("scratch.ipynb", notebooks("blank", "")))
    if student.extra == "huge-data":
        files.append(("circles_big.csv", _huge_data()))
    return files


# Canvas user ids and attachment (file) ids; a later upload has a larger id.
def _canvas_id(index: int) -> int:
    return 201 + index


def _canvas_entries(roster: list[DemoStudent], notebooks: _Notebooks
                    ) -> list[tuple[str, bytes]]:
    entries = []
    attachment = 9100
    for index, student in enumerate(roster):
        if student.extra == "absent":
            continue
        called = canvas_called(student.sortable_name, _canvas_id(index),
                               late=student.late)
        # Attachment.make_unique_filename: a second file of one name in one
        # submission becomes "<base>-1<ext>".
        for file_name, data in _files(student, notebooks, f"{ASSIGNMENT}-1.ipynb"):
            attachment += 1
            entries.append((canvas_upload(called, attachment, file_name), data))
    return entries


def _canvas_gradebook(roster: list[DemoStudent]) -> str:
    """Grades > Export as ``lib/gradebook_exporter.rb`` writes it (Ruby CSV)."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
              CANVAS_OTHER, CANVAS_COLUMN, "Current Score",
              "Unposted Current Score", "Final Score", "Unposted Final Score"]
    rows: list[list[str | None]] = [
        header, ["    Points Possible", None, None, None, None, "10.00", POINTS,
                 *["(read only)"] * 4]]
    people = sorted(((student.sortable_name.casefold(), index, student)
                     for index, student in enumerate(roster)))
    for _, index, student in people:
        quiz = 4 + index % 7
        score = f"{quiz * 10:.2f}"
        rows.append([student.sortable_name, str(_canvas_id(index)), None,
                     f"s{_canvas_id(index)}", "Section 1", f"{quiz:.2f}", None,
                     score, score, f"{quiz * 100 / 19:.2f}",
                     f"{quiz * 100 / 19:.2f}"])
    return ruby_csv(rows)


# Moodle participant ids (assign_user_mapping, "Participant <id>").
def _moodle_id(index: int) -> int:
    return 5001 + index


def _submitted(index: int, student: DemoStudent) -> datetime:
    """When the student last changed the submission, in :data:`TIMEZONE`."""
    if student.late:
        return DEADLINE + timedelta(hours=9 + 7 * (index % 5), minutes=31)
    return DEADLINE - timedelta(hours=2 + 5 * (index % 9), minutes=17 * (index % 3))


def _format_time(seconds: int) -> str:
    """Moodle's ``format_time`` (lib/moodlelib.php): the two largest units."""
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1)):
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}" if count
                         else "")
    shown = [part for part in parts[:2] if part]
    return " ".join(shown)


def _moodle_entries(roster: list[DemoStudent], notebooks: _Notebooks
                    ) -> list[tuple[str, bytes]]:
    entries = []
    for index, student in enumerate(roster):
        if student.extra == "absent":
            continue
        prefix = moodle_prefix(student.full_name, _moodle_id(index))
        # The file picker names a second file of one name "<base> (1)<ext>".
        for file_name, data in _files(student, notebooks,
                                      f"{ASSIGNMENT} (1).ipynb"):
            entries.append((moodle_entry(prefix, file_name), data))
    return entries


def _moodle_worksheet(roster: list[DemoStudent]) -> str:
    """The offline grading worksheet as gradingtable.php writes it (fputcsv)."""
    rows = [list(WORKSHEET_HEADER)]
    for index, student in enumerate(roster):
        if student.extra == "absent":
            submitted, late_by = "-", ""
        else:
            moment = _submitted(index, student)
            submitted = moodle_time(moment.year, moment.month, moment.day,
                                    moment.hour, moment.minute)
            late_by = _format_time(int((moment - DEADLINE).total_seconds())) \
                if student.late else ""
        rows.append(moodle_worksheet_row(
            _moodle_id(index), student.full_name, submitted, late_by, POINTS,
            f"student{_moodle_id(index)}@example.org"))
    return php_fputcsv(rows)

"""Grade a folder of submissions into the gradebook, with feedback files.

Introduced in the chapter "Instructor guide". For each student folder and each
assignment, the grader runs the submission's setup and graded cells in the
sandbox, calls each graded function with the hidden tests' arguments, and
compares the reported values here, in the trusted process, with the values
the instructor's reference solution returns for the same calls.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from course_utils._graded_header import header_name
from course_utils.grading.assignment import (
    Assignment,
    AssignmentError,
    GradedFunction,
    find_assignments,
    load_assignment,
)
from course_utils.grading.boundary import (
    BoundaryError,
    SymlinkError,
    TooLargeError,
    clean_text,
    markdown_text,
    parse_notebook,
    printable_name,
    read_submission,
    student_file_name,
)
from course_utils.grading.gradebook import FunctionGrade, Gradebook, SubmissionGrade
from course_utils.grading.sandbox import JobRun, Limits, Sandbox
from course_utils.grading.values import compare
from course_utils.grading.written import extract_answers

RETRY_PREFIX = "retry:"  # a fingerprint that never matches: grade again next run
_BUILTIN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                                if isinstance(value, type)
                                and issubclass(value, BaseException))


@dataclass(frozen=True)
class GradingOptions:
    """How to grade.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    jobs : int
        Submissions graded in parallel.
    timeout : float
        Seconds of CPU time (of all the sandbox's processes together) allowed
        for each cell and each hidden test; each also ends after
        ``sandbox.WALL_CLOCK_FACTOR`` times as many seconds of wall-clock time.
    regrade : bool
        Grade again submissions already graded unchanged.
    isolation : str
        ``auto``, ``root``, ``userns`` or ``none`` (see :mod:`sandbox`).
    memory_mb : int
        Address-space limit of the student process.
    assignments : tuple of str
        Grade only these assignments; empty: every assignment that at least
        one student folder holds a notebook of (see :func:`select_assignments`).
    """

    jobs: int = 1
    timeout: float = 10.0
    regrade: bool = False
    isolation: str = "auto"
    memory_mb: int = 2048
    assignments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) \
                or self.jobs < 1:
            raise ValueError(f"jobs must be a positive int; got {self.jobs!r}")
        if not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds; "
                             f"got {self.timeout!r}")
        if isinstance(self.memory_mb, bool) or not isinstance(self.memory_mb, int) \
                or self.memory_mb < 256:
            raise ValueError(f"memory_mb must be an int of at least 256; "
                             f"got {self.memory_mb!r}")
        if isinstance(self.assignments, str) or not all(
                isinstance(name, str) for name in self.assignments):
            raise TypeError(f"assignments must be a tuple of names; "
                            f"got {self.assignments!r}")


def grade(source_dir: str | Path, submissions_dir: str | Path,
          gradebook_path: str | Path, feedback_dir: str | Path | None = None,
          options: GradingOptions | None = None,
          log: Callable[[str], None] = print) -> list[SubmissionGrade]:
    """Grade ``SUBMISSIONS_DIR/<student>/<assignment>.ipynb`` for every student.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    source_dir : str or Path
        The instructor source notebooks, ``<assignment>.ipynb``.
    submissions_dir : str or Path
        One folder per student.
    gradebook_path : str or Path
        The SQLite gradebook, created if missing.
    feedback_dir : str or Path, optional
        Receives ``<student>/<assignment>.md``; defaults to ``feedback/`` beside
        the gradebook.
    options : GradingOptions, optional
    log : callable, default print
        Receives one line per submission and any warning.

    Returns
    -------
    list of SubmissionGrade
        The submissions graded in this run (unchanged ones are skipped).
    """
    options = options or GradingOptions()
    assignments = [load_assignment(path) for path in find_assignments(source_dir)]
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"submissions_dir: {submissions_dir} is not a folder")
    # Another assignment's notebook is never a wrong file name, whether or not
    # that assignment is graded in this run.
    course_assignments = frozenset(assignment.name for assignment in assignments)
    assignments = select_assignments(assignments, options.assignments,
                                     submissions_dir, log)
    gradebook_path = Path(gradebook_path)
    feedback_dir = Path(feedback_dir or gradebook_path.parent / "feedback")
    students = list_students(submissions_dir)
    expected = {assignment.name: reference_values(assignment, options)
                for assignment in assignments}
    limits = Limits(timeout=float(options.timeout), memory_mb=options.memory_mb)
    with Sandbox(options.isolation, limits, slots=options.jobs) as sandbox, \
            Gradebook(gradebook_path) as gradebook, \
            ThreadPoolExecutor(max_workers=options.jobs) as pool:
        if sandbox.warning:
            log(sandbox.warning)
        elif sandbox.memory_bound != "cgroup":
            log(f"note: no memory cgroup could be created; memory is limited per "
                f"process only ({options.memory_mb} MB each, up to "
                f"{limits.processes} processes per sandbox)")
        if not sandbox.warning and sandbox.cpu_bound != "cgroup":
            log("note: no cpu cgroup could be created; timeouts are judged on each "
                "sandbox's CPU time, but a sandbox is not kept to one core")
        sandbox.check()
        for assignment in assignments:
            gradebook.record_questions(assignment.name, [
                (question.name, question.prompt, question.points)
                for question in assignment.questions.values()])
        started, clock = datetime.now(UTC), time.monotonic()
        context = _Context(submissions_dir, feedback_dir, expected, sandbox,
                           gradebook, options.regrade, log, started,
                           course_assignments)
        futures = [pool.submit(_grade_and_record, context, student, assignment)
                   for student in students for assignment in assignments]
        graded = [future.result() for future in futures]
        graded = [grade_ for grade_ in graded if grade_ is not None]
        gradebook.record_run(started.isoformat(timespec="seconds"),
                             time.monotonic() - clock, len(graded), options.jobs)
    return graded


@dataclass(frozen=True)
class _Context:
    submissions_dir: Path
    feedback_dir: Path
    expected: dict[str, list[object]]
    sandbox: Sandbox
    gradebook: Gradebook
    regrade: bool
    log: Callable[[str], None]
    started: datetime | None = None  # the run's start: the time in the feedback
    course_assignments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Student:
    """A folder of the submissions folder: its real name and a printable one.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    folder : str
        The name on disk (may hold bytes that are not UTF-8).
    name : str
        What the gradebook, the feedback and the log show
        (see :func:`boundary.printable_name`).
    is_link : bool
        The folder is a symbolic link (never followed).
    """

    folder: str
    name: str
    is_link: bool = False


def select_assignments(assignments: list[Assignment], names: tuple[str, ...],
                       submissions_dir: Path, log: Callable[[str], None] = print
                       ) -> list[Assignment]:
    """The assignments to grade: those named, or those somebody submitted.

    Introduced in the chapter "Instructor guide". Without names, an
    assignment is graded only when at least one student folder holds its
    notebook, so one not handed out yet gets no ``missing`` rows.

    Parameters
    ----------
    assignments : list of Assignment
        Every source notebook's assignment.
    names : tuple of str
        ``course-grade grade --assignment`` (repeatable); empty for all
        submitted ones.
    submissions_dir : Path
    log : callable, default print
        Receives one line per assignment left out.

    Returns
    -------
    list of Assignment
        In the source folder's order.
    """
    known = [assignment.name for assignment in assignments]
    if names:
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"assignment: no source notebook {unknown[0]!r}.ipynb "
                             f"(assignments: {', '.join(known)})")
        return [assignment for assignment in assignments if assignment.name in names]
    handed_in: set[str] = set()
    for student in list_students(submissions_dir):
        if student.is_link:
            continue
        try:
            with os.scandir(submissions_dir / student.folder) as entries:
                handed_in.update(entry.name for entry in entries)
        except OSError:
            continue  # unreadable: the grader reports it for each assignment
    chosen = [assignment for assignment in assignments
              if f"{assignment.name}.ipynb" in handed_in]
    if not chosen:
        raise ValueError(f"assignment: no student folder in {submissions_dir} holds "
                         f"{' or '.join(name + '.ipynb' for name in known)}; name "
                         "the assignment to grade with --assignment")
    for name in known:
        if f"{name}.ipynb" not in handed_in:
            log(f"{name}: no student folder holds {name}.ipynb; not graded "
                f"(grade it anyway with --assignment {name})")
    return chosen


def list_students(submissions_dir: Path) -> list[Student]:
    """Every student folder, symbolic links included (they get the status ``symlink``).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    submissions_dir : Path

    Returns
    -------
    list of Student
        Sorted by printable name; plain files are left out. Every folder is a
        student, whatever its name (``collect`` never writes a hidden one).
    """
    students = []
    with os.scandir(submissions_dir) as entries:
        for entry in entries:
            if entry.is_symlink() or entry.is_dir(follow_symlinks=False):
                students.append(Student(entry.name, printable_name(entry.name),
                                        entry.is_symlink()))
    return sorted(students, key=lambda student: student.name)


def _grade_and_record(context: _Context, student: Student, assignment: Assignment
                      ) -> SubmissionGrade | None:
    """Grade one submission; whatever goes wrong becomes its own ``error`` row.

    Everything done for one submission, its feedback file included, is inside
    the handler, so no folder name or submission ends the run.
    """
    clock = time.monotonic()
    try:
        grade_ = _grade_if_changed(context, student, assignment)
        if grade_ is None:
            context.log(f"{student.name}/{assignment.name}: unchanged since graded, "
                        "skipped")
            return None
        grade_ = dataclasses.replace(grade_,
                                     seconds=round(time.monotonic() - clock, 3))
        write_feedback(context.feedback_dir, grade_, context.started)
    except Exception as error:  # one submission must never end the run
        grade_ = _ungraded(student.name, assignment, "error",
                           f"the grader failed on this submission "
                           f"({type(error).__name__}: {clean_text(error)})",
                           RETRY_PREFIX + type(error).__name__,
                           assignment.source_sha256)
        with contextlib.suppress(Exception):
            write_feedback(context.feedback_dir, grade_, context.started)
    context.gradebook.record(grade_)
    context.log(f"{student.name}/{assignment.name}: {_number(grade_.points)}/"
                f"{_number(grade_.max_points)} {grade_.status}")
    return grade_


def reference_values(assignment: Assignment, options: GradingOptions) -> list[object]:
    """Run the instructor's solution on every hidden test; return decoded values.

    Introduced in the chapter "Instructor guide". The source notebook is trusted
    code; it runs in a plain child process, never in the grader itself.

    Parameters
    ----------
    assignment : Assignment
    options : GradingOptions

    Returns
    -------
    list
        One decoded value per case of ``assignment.cases``.
    """
    cells = [_job_cell(f"setup cell {index}", assignment.notebook.cells[index].source)
             for index in assignment.setup_cells]
    cells += [_job_cell(f"graded cell {function.name}",
                        assignment.notebook.cells[function.cell_index].source)
              for function in assignment.functions.values()]
    cases = assignment.cases
    limits = Limits(timeout=max(float(options.timeout), 60.0),
                    memory_mb=max(options.memory_mb, 4096))
    with Sandbox("none", limits=limits) as trusted:
        run = trusted.run(cells, [case.as_job() for case in cases])
    problems = [f"{label}: {problem}" for label, problem in run.cell_problems.items()]
    if run.sandbox_error or problems:
        raise AssignmentError(f"{assignment.path.name}: the reference solution does "
                              f"not run: {run.sandbox_error or problems}")
    values = []
    for index, case in enumerate(cases):
        result = run.results.get(index, {})
        if "value" not in result:
            raise AssignmentError(f"{assignment.path.name}: the reference solution "
                                  f"fails its hidden test {case.function}"
                                  f"{case.args}: {result}")
        values.append(result["value"])
    return values


def _grade_if_changed(context: _Context, student: Student, assignment: Assignment
                      ) -> SubmissionGrade | None:
    source_sha = assignment.source_sha256
    name = f"{assignment.name}.ipynb"

    def unless_current(status: str, detail: str) -> SubmissionGrade | None:
        fingerprint = f"{status}:{detail}"
        if not context.regrade and context.gradebook.is_current(
                student.name, assignment.name, fingerprint, source_sha):
            return None
        return _ungraded(student.name, assignment, status, detail, fingerprint,
                         source_sha)

    if student.is_link:
        return unless_current("symlink", "the student folder is a symbolic link; "
                                         "it was not followed")
    try:
        folder_fd = os.open(context.submissions_dir / student.folder,
                            os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        return unless_current("error", f"the student folder cannot be opened: "
                                       f"{error.strerror}")
    try:
        entries = os.listdir(folder_fd)
        if name not in entries:
            return unless_current(*_missing_status(entries, assignment.name,
                                                   context.course_assignments))
        try:
            data = read_submission(folder_fd, name)
        except SymlinkError:
            return unless_current("symlink", f"{name} is a symbolic link; it was "
                                             "not followed")
        except TooLargeError as error:
            return unless_current("too_large", str(error))
        except BoundaryError as error:
            return unless_current("malformed", str(error))
    finally:
        os.close(folder_fd)
    submission_sha = _sha256(data)
    if not context.regrade and context.gradebook.is_current(
            student.name, assignment.name, submission_sha, source_sha):
        return None
    return _grade_notebook(context, student, assignment, data, submission_sha)


def _grade_notebook(context: _Context, student: Student, assignment: Assignment,
                    data: bytes, submission_sha: str) -> SubmissionGrade:
    source_sha = assignment.source_sha256
    try:
        notebook = parse_notebook(data)
        cells, not_found = extract_cells(assignment, notebook)
        answers = extract_answers(assignment, notebook)
    except (BoundaryError, TypeError, KeyError, AttributeError, ValueError) as error:
        return _ungraded(student.name, assignment, "malformed",
                         f"{assignment.name}.ipynb is not a readable notebook: "
                         f"{clean_text(error)}", submission_sha, source_sha)
    run = context.sandbox.run(cells, [case.as_job() for case in assignment.cases])
    if run.sandbox_error:
        # The grading machine failed, not the submission: grade it again next run.
        return _ungraded(student.name, assignment, "error",
                         f"the sandbox failed: {clean_text(run.sandbox_error)}",
                         RETRY_PREFIX + submission_sha, source_sha)
    expected = context.expected[assignment.name]
    functions = tuple(_grade_function(function, assignment, run, expected, not_found)
                      for function in assignment.functions.values())
    problems = sorted(run.cell_problems.items())
    detail = "; ".join(f"{cells[index]['label']} {clean_text(problem)}"
                       for index, problem in problems)
    feedback = "; ".join(f"{cells[index]['label']} "
                         f"{_student_reason(problem, index in run.late_cells)}"
                         for index, problem in problems)
    return SubmissionGrade(student.name, assignment.name, "graded", detail,
                           submission_sha, source_sha, functions, feedback, answers)


def extract_cells(assignment: Assignment, notebook: nbformat.NotebookNode
                  ) -> tuple[list[dict], dict[str, str]]:
    """The submission's cells the grader runs, in the source's order.

    Introduced in the chapter "Instructor guide". Setup cells are taken from the
    submission when it still has them (matched by cell id), else from the
    source. Each graded cell is found by its id, else by its
    ``# GRADED FUNCTION: name`` header (whatever the points text says), else as
    the last code cell that defines ``def name(...)`` at its top level: a
    student who edits or deletes the header line keeps the points. Other cells
    (experiments, plots, tests) are not run.

    Parameters
    ----------
    assignment : Assignment
    notebook : nbformat.NotebookNode
        The submission.

    Returns
    -------
    cells : list of dict
        ``{"label", "source"}`` for the sandbox.
    not_found : dict of str to str
        Graded functions whose cell is missing, with the reason.
    """
    code_cells = [cell for cell in notebook.cells if cell.get("cell_type") == "code"]
    by_id = {cell.get("id"): cell for cell in code_cells if cell.get("id")}
    graded_at = {function.cell_index: function
                 for function in assignment.functions.values()}
    cells, not_found = [], {}
    for index, source_cell in enumerate(assignment.notebook.cells):
        if index in assignment.setup_cells:
            student_cell = by_id.get(source_cell.get("id"), source_cell)
            cells.append(_job_cell(f"setup cell {index}", student_cell.source))
        elif index in graded_at:
            function = graded_at[index]
            student_cell = _find_graded_cell(function, by_id, code_cells)
            if student_cell is None:
                not_found[function.name] = (
                    f"no code cell defines the function {function.name}: keep "
                    f"its name, and its cell's first line '# GRADED FUNCTION: "
                    f"{function.name} ({_number(function.points)} points)'")
            else:
                cells.append(_job_cell(f"graded cell {function.name}",
                                       student_cell.source))
    return cells, not_found


def _find_graded_cell(function: GradedFunction, by_id: dict, code_cells: list):
    """The student's cell for ``function``: by id, header, or definition."""
    candidate = by_id.get(function.cell_id)
    if candidate is not None and (_header_name(candidate) == function.name
                                  or _defines(candidate, function.name)):
        return candidate
    by_header = [cell for cell in code_cells if _header_name(cell) == function.name]
    if by_header:
        return by_header[0]
    defining = [cell for cell in code_cells if _defines(cell, function.name)]
    return defining[-1] if defining else None


def _header_name(cell) -> str | None:
    return header_name(str(cell.get("source", "")))


def _defines(cell, name: str) -> bool:
    """Whether the cell has a top-level ``def name(`` (a line scan: no parsing)."""
    return any(re.match(rf"(async\s+)?def\s+{re.escape(name)}\s*\(", line)
               for line in str(cell.get("source", "")).split("\n"))


def _job_cell(label: str, source: object) -> dict:
    if not isinstance(source, str):
        raise TypeError(f"{label} has no source text")
    # IPython magics and shell escapes are not Python; the grader skips them.
    lines = [f"pass  # skipped: {line.strip()}" if line.lstrip().startswith(("%", "!"))
             else line for line in source.split("\n")]
    return {"label": label, "source": "\n".join(lines)}


def _grade_function(function: GradedFunction, assignment: Assignment, run: JobRun,
                    expected: list[object], not_found: dict[str, str]
                    ) -> FunctionGrade:
    if function.name in not_found:
        return FunctionGrade(function.name, "not_found", 0.0, function.points,
                             not_found[function.name])
    details, feedback = [], []
    status = "passed"
    for number, index in enumerate(_case_indices(assignment, function), start=1):
        check_status, reason, outcome = _check_case(run.results.get(index),
                                                    expected[index])
        details.append(f"hidden check {number}: {clean_text(reason)}")
        feedback.append(f"hidden check {number}: {outcome}")
        if check_status != "passed" and status == "passed":
            status = check_status
    points = function.points if status == "passed" else 0.0
    return FunctionGrade(function.name, status, points, function.points,
                         "\n".join(details), "\n".join(feedback))


def _case_indices(assignment: Assignment, function: GradedFunction) -> list[int]:
    return [index for index, case in enumerate(assignment.cases)
            if case.function == function.name]


# What the student's feedback may say about one hidden check: a fixed text per
# kind of outcome, never a detail (an exception's type or message, a key, a
# shape) that the submission could make depend on the hidden arguments.
OUTCOMES = {"passed": "passed", "value": "wrong value", "shape": "wrong shape or keys",
            "error": "raised an error", "timeout": "timed out", "crashed": "crashed"}


# Statuses whose detail never comes from a hidden call: the function was not
# found, or the submission was not run.
_DETAIL_SHOWN = ("not_found", "missing", "wrong_filename", "malformed")


def student_function_text(status: str, detail: str, feedback: str) -> str:
    """What a student may read about one graded function.

    Introduced in the chapter "Instructor guide". The fixed outcomes the grader
    recorded for the student; where it recorded none, the instructor's detail
    only for a status that no hidden call decided. A gradebook written before
    the outcomes were recorded shows nothing more than the status.

    Parameters
    ----------
    status, detail, feedback : str
        The function's row in the gradebook.

    Returns
    -------
    str
    """
    if feedback:
        return feedback
    return detail if status in _DETAIL_SHOWN else ""


def _check_case(result: dict | None, expected: object) -> tuple[str, str, str]:
    """The check's status, the instructor's reason, and the student's outcome."""
    if result is None:
        return "crashed", "was not run", OUTCOMES["crashed"]
    if "ended" in result:
        status = "timeout" if "timed out" in result["ended"] else "crashed"
        return status, result["ended"], OUTCOMES[status]
    if "error" in result:
        return "error", f"raised {result['error']}", OUTCOMES["error"]
    comparison = compare(expected, result["value"])
    if comparison.passed:
        return "passed", "passed", OUTCOMES["passed"]
    return "failed", comparison.reason, OUTCOMES[comparison.kind or "value"]


def _student_reason(reason: str, late: bool = False) -> str:
    """A cell's problem for the feedback: an exception's message is left out.

    In the first start, cells run before any hidden call, so what they raise
    cannot depend on the hidden arguments; only the exception's name is kept
    when it is built in. A problem that came only in a restart (``late``),
    after hidden calls, gets a fixed outcome.
    """
    if late:
        kind = "error" if reason.startswith("raised ") else \
            "timeout" if "timed out" in reason else "crashed"
        return OUTCOMES[kind]
    if not reason.startswith("raised "):
        return reason
    name = reason[len("raised "):].split(":", 1)[0].strip()
    if name in _BUILTIN_EXCEPTIONS:
        return f"raised {name}"
    return "raised an exception of a class defined in the submission"


def _missing_status(entries: list[str], assignment: str, assignments: set[str]
                    ) -> tuple[str, str]:
    """``missing``, or ``wrong_filename`` if a notebook of no assignment is there.

    The notebook of another assignment of the course is not a wrong name.
    """
    expected_name = f"{assignment}.ipynb"
    known = {f"{name}.ipynb" for name in assignments}
    others = sorted(printable_name(name) for name in entries
                    if name.endswith(".ipynb") and name not in known)
    if others:
        return ("wrong_filename", f"expected {expected_name}; found "
                                  f"{', '.join(others[:5])}")
    return "missing", f"no {expected_name} was submitted"


def _ungraded(student: str, assignment: Assignment, status: str, detail: str,
              submission_sha: str, source_sha: str) -> SubmissionGrade:
    detail = clean_text(detail)
    functions = tuple(FunctionGrade(function.name, status, 0.0, function.points,
                                    detail)
                      for function in assignment.functions.values())
    return SubmissionGrade(student, assignment.name, status, detail, submission_sha,
                           source_sha, functions)


def write_feedback(feedback_dir: Path, grade_: SubmissionGrade,
                   graded_at: datetime | None = None) -> Path:
    """Write the student's feedback file: checks passed or failed, no expected values.

    Introduced in the chapter "Instructor guide". Every line that carries text
    from the submission is escaped (see :func:`boundary.markdown_text`), so it
    cannot add a heading or a line; exception messages are left out.

    Parameters
    ----------
    feedback_dir : Path
    grade_ : SubmissionGrade
    graded_at : datetime, optional
        The time shown; ``grade`` gives the run's start, the same for every
        submission, so that the time a submission took cannot show in it.

    Returns
    -------
    Path
        ``feedback_dir/<student>/<assignment>.md`` (the student's part
        shortened by :func:`boundary.student_file_name`).
    """
    lines = [f"# {grade_.assignment}: {_number(grade_.points)} / "
             f"{_number(grade_.max_points)} points",
             "", f"Graded {graded_at or datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
                 f"Status: {grade_.status}.", ""]
    note = grade_.feedback or grade_.detail
    if note:
        lines += [f"Note: {markdown_text(note, 2000)}", ""]
    for function in grade_.functions:
        lines += [f"## {function.function}: {_number(function.points)} / "
                  f"{_number(function.max_points)} points ({function.status})", ""]
        text = student_function_text(function.status, function.detail,
                                     function.feedback)
        lines += [f"- {markdown_text(line)}" for line in text.split("\n") if line]
        lines.append("")
    target = (feedback_dir / student_file_name(grade_.student)
              / f"{grade_.assignment}.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text("\n".join(lines))
    os.replace(temporary, target)
    return target


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

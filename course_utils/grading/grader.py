"""Grade a folder of submissions into the gradebook, with feedback files.

Introduced in the chapter "Instructor guide". For each student folder and each
assignment, the grader runs the submission's setup and graded cells in the
sandbox, calls each graded function with the hidden tests' arguments, and
compares the reported values here, in the trusted process, with the values
the instructor's reference solution returns for the same calls.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from course_utils.grading.assignment import (
    GRADED_HEADER,
    Assignment,
    AssignmentError,
    GradedFunction,
    find_assignments,
    load_assignment,
)
from course_utils.grading.gradebook import FunctionGrade, Gradebook, SubmissionGrade
from course_utils.grading.sandbox import JobRun, Limits, Sandbox
from course_utils.grading.values import MalformedValueError, compare, decode

MAX_SUBMISSION_BYTES = 20 * 2**20
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class GradingOptions:
    """How to grade.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    jobs : int
        Submissions graded in parallel.
    timeout : float
        Seconds allowed for each cell and each hidden test.
    regrade : bool
        Grade again submissions already graded unchanged.
    isolation : str
        ``auto``, ``root``, ``userns`` or ``none`` (see :mod:`sandbox`).
    sandbox_user : str
        The account student code runs as when grading as root.
    memory_mb : int
        Address-space limit of the student process.
    """

    jobs: int = 1
    timeout: float = 10.0
    regrade: bool = False
    isolation: str = "auto"
    sandbox_user: str = "nobody"
    memory_mb: int = 2048

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
    gradebook_path = Path(gradebook_path)
    feedback_dir = Path(feedback_dir or gradebook_path.parent / "feedback")
    students = sorted(entry.name for entry in submissions_dir.iterdir()
                      if entry.is_dir() and not entry.name.startswith("."))
    expected = {assignment.name: reference_values(assignment, options)
                for assignment in assignments}
    limits = Limits(timeout=float(options.timeout), memory_mb=options.memory_mb)
    with Sandbox(options.isolation, options.sandbox_user, limits) as sandbox, \
            Gradebook(gradebook_path) as gradebook, \
            ThreadPoolExecutor(max_workers=options.jobs) as pool:
        if sandbox.warning:
            log(sandbox.warning)
        sandbox.check()

        def grade_and_record(student: str, assignment: Assignment
                             ) -> SubmissionGrade | None:
            grade_ = _grade_if_changed(student, assignment, submissions_dir,
                                       expected[assignment.name], sandbox, gradebook,
                                       options.regrade)
            if grade_ is not None:
                write_feedback(feedback_dir, grade_)
                gradebook.record(grade_)
                log(f"{student}/{assignment.name}: {_number(grade_.points)}/"
                    f"{_number(grade_.max_points)} {grade_.status}")
            else:
                log(f"{student}/{assignment.name}: unchanged since graded, skipped")
            return grade_

        futures = [pool.submit(grade_and_record, student, assignment)
                   for student in students for assignment in assignments]
        graded = [future.result() for future in futures]
    return [grade_ for grade_ in graded if grade_ is not None]


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
        values.append(decode(result["value"]))
    return values


def _grade_if_changed(student: str, assignment: Assignment, submissions_dir: Path,
                      expected: list[object], sandbox: Sandbox, gradebook: Gradebook,
                      regrade: bool) -> SubmissionGrade | None:
    source_sha = assignment.source_sha256
    student_dir = submissions_dir / student
    path = student_dir / f"{assignment.name}.ipynb"
    if not path.is_file():
        status, detail = _missing_status(student_dir, assignment.name)
        fingerprint = f"{status}:{detail}"
        if not regrade and gradebook.is_current(student, assignment.name, fingerprint,
                                                source_sha):
            return None
        return _ungraded(student, assignment, status, detail, fingerprint, source_sha)
    size = path.stat().st_size
    with open(path, "rb") as handle:  # never more than the limit into memory
        data = handle.read(MAX_SUBMISSION_BYTES + 1)
    submission_sha = _sha256(data)
    if not regrade and gradebook.is_current(student, assignment.name, submission_sha,
                                            source_sha):
        return None
    if size > MAX_SUBMISSION_BYTES:
        return _ungraded(student, assignment, "too_large",
                         f"{path.name} is {size} bytes; the limit is "
                         f"{MAX_SUBMISSION_BYTES}", submission_sha, source_sha)
    try:
        cells, not_found = extract_cells(assignment, _read_notebook(data))
    except (ValueError, TypeError, KeyError, AttributeError,
            UnicodeDecodeError) as error:
        return _ungraded(student, assignment, "malformed",
                         f"{path.name} is not a readable notebook: {_clean(error)}",
                         submission_sha, source_sha)
    run = sandbox.run(cells, [case.as_job() for case in assignment.cases])
    if run.sandbox_error:
        return _ungraded(student, assignment, "error",
                         f"the sandbox failed: {_clean(run.sandbox_error)}",
                         submission_sha, source_sha)
    functions = tuple(_grade_function(function, assignment, run, expected, not_found)
                      for function in assignment.functions.values())
    problems = "; ".join(f"{cells[index]['label']} {_clean(problem)}"
                         for index, problem in sorted(run.cell_problems.items()))
    return SubmissionGrade(student, assignment.name, "graded", problems,
                           submission_sha, source_sha, functions)


def _read_notebook(data: bytes) -> nbformat.NotebookNode:
    if not data.strip():
        raise ValueError("the file is empty")
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("it has no list of cells")
    return notebook


def extract_cells(assignment: Assignment, notebook: nbformat.NotebookNode
                  ) -> tuple[list[dict], dict[str, str]]:
    """The submission's cells the grader runs, in the source's order.

    Introduced in the chapter "Instructor guide". Setup cells are taken from the
    submission when it still has them (matched by cell id), else from the
    source; each graded cell is found by its id, or failing that by its
    ``# GRADED FUNCTION: name`` header. Other cells (experiments, plots, tests)
    are not run.

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
                not_found[function.name] = ("no cell starting with '# GRADED "
                                            f"FUNCTION: {function.name}' was found")
            else:
                cells.append(_job_cell(f"graded cell {function.name}",
                                       student_cell.source))
    return cells, not_found


def _find_graded_cell(function: GradedFunction, by_id: dict, code_cells: list):
    def header_names(cell) -> str | None:
        first_line = str(cell.get("source", "")).lstrip().split("\n", 1)[0]
        match = GRADED_HEADER.match(first_line)
        return match["name"] if match else None

    candidate = by_id.get(function.cell_id)
    if candidate is not None and header_names(candidate) == function.name:
        return candidate
    return next((cell for cell in code_cells if header_names(cell) == function.name),
                None)


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
    checks = []
    status = "passed"
    for number, index in enumerate(_case_indices(assignment, function), start=1):
        check_status, reason = _check_case(run.results.get(index), expected[index])
        checks.append(f"hidden check {number}: {reason}")
        if check_status != "passed" and status == "passed":
            status = check_status
    points = function.points if status == "passed" else 0.0
    return FunctionGrade(function.name, status, points, function.points,
                         "\n".join(checks))


def _case_indices(assignment: Assignment, function: GradedFunction) -> list[int]:
    return [index for index, case in enumerate(assignment.cases)
            if case.function == function.name]


def _check_case(result: dict | None, expected: object) -> tuple[str, str]:
    if result is None:
        return "error", "was not run"
    if "ended" in result:
        status = "timeout" if "timed out" in result["ended"] else "crashed"
        return status, _clean(result["ended"])
    if "error" in result:
        return "error", f"raised {_clean(result['error'])}"
    try:
        actual = decode(result["value"])
    except MalformedValueError:
        return "error", "returned a value that could not be read"
    comparison = compare(expected, actual)
    return ("passed", "passed") if comparison.passed \
        else ("failed", _clean(comparison.reason))


def _missing_status(student_dir: Path, assignment: str) -> tuple[str, str]:
    expected_name = f"{assignment}.ipynb"
    others = sorted(path.name for path in student_dir.glob("*.ipynb"))
    if others:
        return ("wrong_filename", f"expected {expected_name}; found "
                                  f"{', '.join(others[:5])}")
    return "missing", f"no {expected_name} was submitted"


def _ungraded(student: str, assignment: Assignment, status: str, detail: str,
              submission_sha: str, source_sha: str) -> SubmissionGrade:
    functions = tuple(FunctionGrade(function.name, status, 0.0, function.points,
                                    detail)
                      for function in assignment.functions.values())
    return SubmissionGrade(student, assignment.name, status, detail, submission_sha,
                           source_sha, functions)


def write_feedback(feedback_dir: Path, grade_: SubmissionGrade) -> Path:
    """Write the student's feedback file: checks passed or failed, no expected values.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    feedback_dir : Path
    grade_ : SubmissionGrade

    Returns
    -------
    Path
        ``feedback_dir/<student>/<assignment>.md``.
    """
    lines = [f"# {grade_.assignment}: {_number(grade_.points)} / "
             f"{_number(grade_.max_points)} points",
             "", f"Graded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Status: "
                 f"{grade_.status}.", ""]
    if grade_.detail:
        lines += [f"Note: {grade_.detail}", ""]
    for function in grade_.functions:
        lines += [f"## {function.function}: {_number(function.points)} / "
                  f"{_number(function.max_points)} points ({function.status})", ""]
        lines += [f"- {line}" for line in function.detail.split("\n") if line]
        lines.append("")
    target = feedback_dir / grade_.student / f"{grade_.assignment}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text("\n".join(lines))
    os.replace(temporary, target)
    return target


def _clean(text: object) -> str:
    return _CONTROL_CHARACTERS.sub(" ", str(text))[:400]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

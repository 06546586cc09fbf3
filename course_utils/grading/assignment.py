"""Instructor source notebooks: graded functions, hidden tests, student versions.

Introduced in the chapter "Instructor guide". A source notebook uses
nbgrader's markers:

- a graded cell starts with ``# GRADED FUNCTION: name (N points)`` and holds
  the reference solution between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``;
- a test cell holds public self-checks and, between ``### BEGIN HIDDEN TESTS``
  and ``### END HIDDEN TESTS``, one call of a graded function per line with
  literal arguments, e.g. ``initialize_parameters_he([2, 4, 1])``. The grader
  compares the student's return value for each call with the reference
  solution's;
- a code cell of imports only is a setup cell, which the grader runs first.

Everything else (text, experiments, plots) is for the student and is not run
by the grader.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils import _graded_header as graded_header

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
CODE_STUB = ("# YOUR CODE HERE",
             'raise NotImplementedError("Replace this line with your code.")')
MARKDOWN_STUB = ("YOUR ANSWER HERE",)
KEPT_CELL_METADATA = ("tags", "mystnb")
WRITTEN_POINTS = re.compile(r"\((?P<points>\d+(?:\.\d+)?)\s*points?\b")
WRITTEN_METADATA = "course_grade"  # cell metadata the release writes on answers


class AssignmentError(ValueError):
    """A source notebook that does not follow the format.

    Introduced in the chapter "Instructor guide".
    """


class LeakError(RuntimeError):
    """A student version that would reveal a solution or a hidden test.

    Introduced in the chapter "Instructor guide".
    """


@dataclass(frozen=True)
class Case:
    """One hidden test: a call of a graded function with literal arguments.

    Introduced in the chapter "Instructor guide".
    """

    function: str
    args: tuple
    kwargs: dict

    def as_job(self) -> dict:
        return {"function": self.function, "args": list(self.args),
                "kwargs": dict(self.kwargs)}


@dataclass
class GradedFunction:
    """A function the student writes, its points, cell and hidden tests.

    Introduced in the chapter "Instructor guide".
    """

    name: str
    points: float
    cell_index: int
    cell_id: str | None
    cases: list[Case] = field(default_factory=list)


@dataclass(frozen=True)
class WrittenQuestion:
    """A written answer the instructor scores by hand (a markdown solution block).

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    name : str
        ``question_1``, ``question_2``, ... in the notebook's order.
    points : float
        The ``(N points)`` on the cell's first line; 0 when it declares none.
    cell_index : int
    cell_id : str or None
    prompt : str
        The cell's text before the answer, as the student version shows it.
    """

    name: str
    points: float
    cell_index: int
    cell_id: str | None
    prompt: str


@dataclass
class Assignment:
    """A parsed instructor source notebook.

    Introduced in the chapter "Instructor guide".
    """

    name: str
    path: Path
    notebook: nbformat.NotebookNode
    functions: dict[str, GradedFunction]
    setup_cells: list[int]
    source_sha256: str
    questions: dict[str, WrittenQuestion] = field(default_factory=dict)

    @property
    def max_points(self) -> float:
        return sum(function.points for function in self.functions.values())

    @property
    def written_max_points(self) -> float:
        return sum(question.points for question in self.questions.values())

    @property
    def cases(self) -> list[Case]:
        return [case for function in self.functions.values() for case in function.cases]


def load_assignment(path: str | Path) -> Assignment:
    """Parse and check an instructor source notebook.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    path : str or Path
        ``<assignment>.ipynb``; the assignment is named after the file.

    Returns
    -------
    Assignment

    Raises
    ------
    AssignmentError
        Naming the notebook and cell, for anything that does not follow the
        format.
    """
    path = Path(path)
    data = path.read_bytes()
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    functions: dict[str, GradedFunction] = {}
    hidden_calls: list[tuple[int, str]] = []
    setup_cells = []
    questions: dict[str, WrittenQuestion] = {}
    for index, cell in enumerate(notebook.cells):
        where = f"{path.name}, cell {index}"
        blocks = _blocks(cell.source, where)
        if cell.cell_type != "code":
            if any(kind == "hidden" for kind, _ in blocks):
                raise AssignmentError(f"{where}: hidden tests must be in a code cell")
            if any(kind == "solution" for kind, _ in blocks):
                name = f"question_{len(questions) + 1}"
                points = WRITTEN_POINTS.search(cell.source.split("\n", 1)[0])
                prompt = _strip_blocks(cell.source, "markdown")
                prompt = prompt.split(MARKDOWN_STUB[0], 1)[0].rstrip()
                questions[name] = WrittenQuestion(
                    name, float(points["points"]) if points else 0.0, index,
                    cell.get("id"), prompt)
            continue
        header = graded_header.STRICT.match(cell.source.lstrip().split("\n", 1)[0])
        if header:
            name = header["name"]
            if name in functions:
                raise AssignmentError(f"{where}: {name} is graded twice")
            if not any(kind == "solution" for kind, _ in blocks):
                raise AssignmentError(f"{where}: graded cell {name} has no "
                                      f"{BEGIN_SOLUTION} block")
            functions[name] = GradedFunction(name, float(header["points"]), index,
                                             cell.get("id"))
        hidden_calls.extend((index, line) for kind, lines in blocks
                            if kind == "hidden" for line in lines
                            if line.strip() and not line.strip().startswith("#"))
        if not header and not blocks and _imports_only(cell.source):
            setup_cells.append(index)
    if not functions:
        raise AssignmentError(f"{path.name}: no '# GRADED FUNCTION: name (N points)' "
                              "cell")
    for index, line in hidden_calls:
        case = _parse_case(line, f"{path.name}, cell {index}")
        if case.function not in functions:
            raise AssignmentError(f"{path.name}, cell {index}: hidden test calls "
                                  f"{case.function}, which is not a graded function")
        functions[case.function].cases.append(case)
    for function in functions.values():
        if not function.cases:
            raise AssignmentError(f"{path.name}: {function.name} has no hidden tests")
    return Assignment(path.stem, path, notebook, functions, setup_cells,
                      hashlib.sha256(data).hexdigest(), questions)


def _blocks(source: str, where: str) -> list[tuple[str, list[str]]]:
    """The solution and hidden-test blocks of a cell, checked for balance."""
    blocks: list[tuple[str, list[str]]] = []
    open_kind = None
    for line in source.split("\n"):
        marker = line.strip()
        if marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            if open_kind:
                raise AssignmentError(f"{where}: {marker} inside an open block")
            open_kind = "solution" if marker == BEGIN_SOLUTION else "hidden"
            blocks.append((open_kind, []))
        elif marker in (END_SOLUTION, END_HIDDEN):
            expected = END_SOLUTION if open_kind == "solution" else END_HIDDEN
            if marker != expected:
                raise AssignmentError(f"{where}: {marker} without its BEGIN marker")
            open_kind = None
        elif open_kind:
            blocks[-1][1].append(line)
        elif any(name in line for name in MARKERS):
            raise AssignmentError(f"{where}: a marker must stand alone on its line")
    if open_kind:
        raise AssignmentError(f"{where}: a {open_kind} block is never closed")
    return blocks


def _imports_only(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(node, (ast.Import, ast.ImportFrom))
                              for node in body)


def _parse_case(line: str, where: str) -> Case:
    try:
        node = ast.parse(line.strip(), mode="eval").body
    except SyntaxError as error:
        raise AssignmentError(f"{where}: hidden test is not Python: {line!r}"
                              ) from error
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise AssignmentError(f"{where}: a hidden test must be a call like "
                              f"name(literal, ...); got {line.strip()!r}")
    try:
        args = tuple(ast.literal_eval(argument) for argument in node.args)
        kwargs = {keyword.arg: ast.literal_eval(keyword.value)
                  for keyword in node.keywords}
        json.dumps([args, kwargs])
    except (ValueError, TypeError) as error:
        raise AssignmentError(f"{where}: hidden test arguments must be literals "
                              f"(numbers, strings, lists, dicts): {line.strip()!r}"
                              ) from error
    if None in kwargs:
        raise AssignmentError(f"{where}: **kwargs are not allowed in hidden tests")
    return Case(node.func.id, args, kwargs)


def student_version(assignment: Assignment) -> nbformat.NotebookNode:
    """The notebook students receive: stubs for solutions, no hidden tests.

    Introduced in the chapter "Instructor guide". Outputs and execution counts
    are cleared. Raises :class:`LeakError` instead of returning a notebook in
    which any solution line or hidden-test text survives.

    Parameters
    ----------
    assignment : Assignment

    Returns
    -------
    nbformat.NotebookNode
    """
    notebook = copy.deepcopy(assignment.notebook)
    notebook.metadata = nbformat.from_dict({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}})
    written_at = {question.cell_index: question
                  for question in assignment.questions.values()}
    for index, cell in enumerate(notebook.cells):
        cell.source = _strip_blocks(cell.source, cell.cell_type)
        cell.metadata = nbformat.from_dict({key: value for key, value in
                                            cell.metadata.items()
                                            if key in KEPT_CELL_METADATA})
        if index in written_at:
            # Keeps the answer cell identifiable even if a student's editor
            # changes its id (the grader matches by id, then by this).
            cell.metadata[WRITTEN_METADATA] = nbformat.from_dict(
                {"written_answer": written_at[index].name,
                 "points": written_at[index].points})
        cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    check_no_leak(assignment, notebook)
    return notebook


def _strip_blocks(source: str, cell_type: str) -> str:
    lines: list[str] = []
    open_kind = None
    for line in source.split("\n"):
        marker = line.strip()
        if marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            open_kind = marker
            if marker == BEGIN_SOLUTION:
                indent = line[:len(line) - len(line.lstrip())]
                stub = CODE_STUB if cell_type == "code" else MARKDOWN_STUB
                lines.extend(indent + stub_line for stub_line in stub)
        elif marker in (END_SOLUTION, END_HIDDEN):
            open_kind = None
        elif not open_kind:
            lines.append(line)
    return "\n".join(lines).rstrip("\n")


def check_no_leak(assignment: Assignment, notebook: nbformat.NotebookNode) -> None:
    """Raise LeakError if a secret line of ``assignment`` appears in ``notebook``.

    Introduced in the chapter "Instructor guide". Secret lines are every
    non-blank line inside a solution or hidden-test block of the source, and
    the markers themselves. A secret line that also stands outside the blocks
    in the source (say, a hint that gives the answer away) counts as a leak
    too: the instructor has to remove it.

    Parameters
    ----------
    assignment : Assignment
    notebook : nbformat.NotebookNode
        The candidate student version.
    """
    secrets = {line.strip() for cell in assignment.notebook.cells
               for _, block in _blocks(cell.source, assignment.name)
               for line in block if line.strip()}
    secrets.update(MARKERS)
    student_lines = {line.strip() for cell in notebook.cells
                     for line in cell.source.split("\n")}
    everything_else = "\n".join(_strings(
        [notebook.metadata] + [{key: value for key, value in cell.items()
                                if key != "source"} for cell in notebook.cells]))
    leaked = sorted(secret for secret in secrets
                    if secret in student_lines or secret in everything_else)
    if leaked:
        shown = "\n  ".join(leaked[:10])
        raise LeakError(f"{assignment.path.name}: refusing to write a student version "
                        f"that contains solution or hidden-test text:\n  {shown}")


def _strings(value: object) -> Iterator[str]:
    """Every string inside nested dicts and lists, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def release(source_dir: str | Path, release_dir: str | Path) -> list[Path]:
    """Write the student version of every source notebook in ``source_dir``.

    Introduced in the chapter "Instructor guide". All notebooks are checked
    before any is written, so a refusal leaves ``release_dir`` untouched.

    Parameters
    ----------
    source_dir : str or Path
        Holds ``<assignment>.ipynb`` instructor notebooks.
    release_dir : str or Path
        Receives ``<assignment>.ipynb`` student notebooks.

    Returns
    -------
    list of Path
        The files written.
    """
    sources = find_assignments(source_dir)
    versions = [(path, student_version(load_assignment(path))) for path in sources]
    release_dir = Path(release_dir)
    release_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, notebook in versions:
        target = release_dir / path.name
        nbformat.write(notebook, target)
        written.append(target)
    return written


def check_release(source_dir: str | Path, release_dir: str | Path) -> list[Path]:
    """Check that ``release_dir`` holds exactly the current student versions.

    Introduced in the chapter "Instructor guide". Writes nothing: raises
    :class:`AssignmentError` naming a student version that is missing or
    differs from what ``release`` would write now (a source changed after
    the release), and :class:`LeakError` as ``release`` does.

    Parameters
    ----------
    source_dir : str or Path
    release_dir : str or Path

    Returns
    -------
    list of Path
        The student versions checked.
    """
    checked = []
    for path in find_assignments(source_dir):
        target = Path(release_dir) / path.name
        expected = nbformat.writes(student_version(load_assignment(path)))
        if not target.is_file() or target.is_symlink():
            raise AssignmentError(f"release_dir: {target} is missing; run "
                                  "course-grade release")
        if target.read_text(encoding="utf-8").rstrip("\n") != expected.rstrip("\n"):
            raise AssignmentError(f"release_dir: {target} differs from the "
                                  f"student version of {path}; release again")
        checked.append(target)
    return checked


def find_assignments(source_dir: str | Path) -> list[Path]:
    """The ``*.ipynb`` source notebooks in ``source_dir``, sorted.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    source_dir : str or Path

    Returns
    -------
    list of Path
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source_dir: {source_dir} is not a folder")
    sources = sorted(path for path in source_dir.glob("*.ipynb") if path.is_file())
    if not sources:
        raise FileNotFoundError(f"source_dir: no .ipynb notebooks in {source_dir}")
    return sources

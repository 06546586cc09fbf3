"""Submissions made from the released student version, as a student would.

Introduced in the chapter "Instructor guide". ``course-grade demo`` builds its
practice class with these functions, and the tests build their fixture
submissions with them: a student's notebook is the student version of the
source notebook (:func:`~course_utils.grading.assignment.student_version`)
with some graded cells filled in and the written answer typed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from course_utils.grading.assignment import (
    MARKERS,
    WRITTEN_METADATA,
    load_assignment,
    student_version,
)

ANSWER_STUB = "YOUR ANSWER HERE"


def reference_cells(source: str | Path) -> dict[str, str]:
    """The instructor's graded cells of ``source`` without the solution markers.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    source : str or Path
        An instructor notebook (``exercises/source/<assignment>.ipynb``).

    Returns
    -------
    dict of str to str
        Each graded function's full cell source, ``# GRADED FUNCTION`` line
        first, in source order.
    """
    parsed = load_assignment(source)
    return {name: "\n".join(line for line in
                            parsed.notebook.cells[function.cell_index].source
                            .split("\n") if line.strip() not in MARKERS)
            for name, function in parsed.functions.items()}


def practice_notebook(source: str | Path, graded: dict[str, str] | None = None,
                      answer: str | None = None, drop_test_cells: bool = False,
                      replace_test_cells: str | None = None
                      ) -> nbformat.NotebookNode:
    """The student version of ``source`` as a student hands it in.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    source : str or Path
        The instructor notebook.
    graded : dict of str to str, optional
        The full source of the graded cells the student filled in (each keeps
        its ``# GRADED FUNCTION`` first line); the others stay stubs.
    answer : str, optional
        Replaces ``YOUR ANSWER HERE`` in every written answer's cell.
    drop_test_cells : bool
        Delete the cells that call the public self-checks.
    replace_test_cells : str, optional
        Put this source in those cells instead.

    Returns
    -------
    nbformat.NotebookNode
    """
    notebook = student_version(load_assignment(source))
    checks = re.compile(rf"\b{re.escape(Path(source).stem)}\.check_")
    graded = graded or {}
    kept = []
    for cell in notebook.cells:
        first_line = cell.source.split("\n", 1)[0]
        name = next((name for name in graded
                     if f"GRADED FUNCTION: {name}" in first_line), None)
        if name:
            cell.source = graded[name]
        if answer is not None and WRITTEN_METADATA in cell.get("metadata", {}):
            cell.source = cell.source.replace(ANSWER_STUB, answer)
        is_test_cell = checks.search(cell.source) is not None
        if is_test_cell and drop_test_cells:
            continue
        if is_test_cell and replace_test_cells is not None:
            cell.source = replace_test_cells
        kept.append(cell)
    notebook.cells = kept
    return notebook


def practice_bytes(source: str | Path, graded: dict[str, str] | None = None,
                   answer: str | None = None) -> bytes:
    """:func:`practice_notebook` as the bytes of a ``.ipynb`` file.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    source : str or Path
    graded : dict of str to str, optional
    answer : str, optional

    Returns
    -------
    bytes
    """
    text = nbformat.writes(practice_notebook(source, graded, answer))
    return json.dumps(json.loads(text)).encode()

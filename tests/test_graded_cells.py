"""The grader finds a student's graded cell even when its header was edited."""

from __future__ import annotations

import nbformat
import pytest

from course_utils.grading.assignment import load_assignment, student_version
from course_utils.grading.grader import extract_cells
from tests.conftest import ASSIGNMENT, GRADED_FUNCTIONS, SOURCE_DIR, reference_sources

ZEROS = GRADED_FUNCTIONS[0]


@pytest.fixture(scope="module")
def assignment():
    return load_assignment(SOURCE_DIR / f"{ASSIGNMENT}.ipynb")


def _submission(assignment, edit_zeros_cell):
    """The released notebook with the zeros solution, its cell edited."""
    notebook = student_version(assignment)
    for cell in notebook.cells:
        if cell.source.startswith(f"# GRADED FUNCTION: {ZEROS}"):
            cell.source = edit_zeros_cell(reference_sources()[ZEROS])
            cell.id = "renumbered"  # as if copied into a new cell
    return nbformat.from_dict(notebook)


def _graded_sources(cells):
    return {cell["label"]: cell["source"] for cell in cells}


@pytest.mark.parametrize("edit", [
    lambda source: source.replace(" (2 points)", ""),          # points dropped
    lambda source: source.replace("(2 points)", "(200 points)"),  # points changed
    lambda source: source.split("\n", 1)[1],                   # header deleted
    lambda source: "# my solution\n" + source.split("\n", 1)[1],
])
def test_a_cell_with_an_edited_header_is_still_graded(assignment, edit):
    cells, not_found = extract_cells(assignment, _submission(assignment, edit))
    assert not_found == {}
    assert f"def {ZEROS}(" in _graded_sources(cells)[f"graded cell {ZEROS}"]


def test_a_renamed_function_is_reported_with_what_is_required(assignment):
    cells, not_found = extract_cells(assignment, _submission(
        assignment, lambda source: source.replace(f"def {ZEROS}(", "def zeros(")
        .split("\n", 1)[1]))
    assert f"graded cell {ZEROS}" not in _graded_sources(cells)
    assert not_found[ZEROS] == (
        f"no code cell defines the function {ZEROS}: keep its name, and its "
        f"cell's first line '# GRADED FUNCTION: {ZEROS} (2 points)'")


def test_the_last_defining_cell_wins_without_a_header(assignment):
    # Run top to bottom, the later definition is the one that counts.
    notebook = _submission(assignment, lambda source: source.split("\n", 1)[1])
    later = nbformat.v4.new_code_cell(
        reference_sources()[ZEROS].split("\n", 1)[1].replace("np.zeros", "np.ones"))
    notebook.cells.append(later)
    cells, _ = extract_cells(assignment, notebook)
    graded = _graded_sources(cells)[f"graded cell {ZEROS}"]
    assert "np.ones" in graded and "np.zeros" not in graded

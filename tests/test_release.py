"""Student versions: stubs in, solutions and hidden tests out, refusal on a leak."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from course_utils.grading.assignment import (
    AssignmentError,
    LeakError,
    load_assignment,
    release,
    student_version,
)
from course_utils.grading.cli import main as course_grade
from tests.conftest import (
    ASSIGNMENT,
    ASSIGNMENTS,
    BOOK_DIR,
    GRADED_FUNCTIONS,
    SOURCE_DIR,
)

SOURCE = SOURCE_DIR / f"{ASSIGNMENT}.ipynb"


def test_source_declares_points_and_hidden_tests():
    assignment = load_assignment(SOURCE)
    assert list(assignment.functions) == list(GRADED_FUNCTIONS)
    assert {name: function.points for name, function in assignment.functions.items()} \
        == dict(zip(GRADED_FUNCTIONS, (2.0, 2.0, 3.0), strict=True))
    assert all(len(function.cases) == 3 for function in assignment.functions.values())
    assert assignment.setup_cells == [1]


def test_student_version_has_stubs_and_no_secrets():
    text = json.dumps(student_version(load_assignment(SOURCE)))
    assert text.count("raise NotImplementedError") == len(GRADED_FUNCTIONS)
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "np.zeros((layers_dims[l], 1))",
                   "* 10", "scale = np.sqrt(2 / layers_dims[l - 1])",
                   "initialize_parameters_he([6, 3, 8, 1])", "sigmoid(0) = 0.5"):
        assert secret not in text
    assert "YOUR ANSWER HERE" in text


def test_second_student_version_has_stubs_and_no_secrets():
    text = json.dumps(student_version(load_assignment(SOURCE_DIR / "variance.ipynb")))
    assert text.count("raise NotImplementedError") == len(ASSIGNMENTS["variance"])
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "xavier_scale", "lecun_scale",
                   "hidden_layer_stats", "np.maximum(0, W @ A + b)",
                   "initialize_parameters_lecun([12, 4, 4, 2, 1])",
                   "activation_statistics({", "positively homogeneous"):
        assert secret not in text
    assert "YOUR ANSWER HERE" in text


def test_student_version_is_clean():
    notebook = student_version(load_assignment(SOURCE))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_every_assignment_declares_its_points():
    for name, points in ASSIGNMENTS.items():
        assignment = load_assignment(SOURCE_DIR / f"{name}.ipynb")
        assert {function: graded.points for function, graded
                in assignment.functions.items()} == points, name
        assert list(assignment.functions) == list(points), name
        assert all(len(graded.cases) >= 3 for graded
                   in assignment.functions.values()), name
        assert assignment.setup_cells == [1], name


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    release(SOURCE_DIR, folder)
    return folder


@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_published_student_version_is_in_sync(fresh_release, name):
    fresh = nbformat.read(fresh_release / f"{name}.ipynb", as_version=4)
    published = nbformat.read(BOOK_DIR / "exercises" / f"{name}.ipynb", as_version=4)
    assert fresh == published, \
        "out of sync; run: course-grade release exercises/source book/exercises"


def test_every_source_is_a_known_assignment():
    assert sorted(path.stem for path in SOURCE_DIR.glob("*.ipynb")) \
        == sorted(ASSIGNMENTS)


def _source_with(tmp_path, change):
    notebook = nbformat.read(SOURCE, as_version=4)
    change(notebook)
    folder = tmp_path / "source"
    folder.mkdir()
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    return folder


def test_release_refuses_a_hint_that_gives_the_solution_away(tmp_path, capsys):
    def add_hint(notebook):
        notebook.cells[2].source += ("\n\n    parameters[\"W\" + str(l)] = "
                                     "np.zeros((layers_dims[l], layers_dims[l - 1]))")

    source = _source_with(tmp_path, add_hint)
    release_dir = tmp_path / "release"
    assert course_grade(["release", str(source), str(release_dir)]) == 1
    assert "refusing to write a student version" in capsys.readouterr().err
    assert not release_dir.exists() or not any(release_dir.iterdir())


def test_release_refuses_secrets_in_cell_metadata(tmp_path):
    def add_metadata(notebook):
        notebook.cells[3].metadata["mystnb"] = {
            "note": "parameters[\"b\" + str(l)] = np.zeros((layers_dims[l], 1))"}

    with pytest.raises(LeakError):
        release(_source_with(tmp_path, add_metadata), tmp_path / "release")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda source: source.replace("### END SOLUTION", ""), "never closed"),
    (lambda source: source.replace("### BEGIN SOLUTION", ""), "without its BEGIN"),
    (lambda source: source.replace("GRADED FUNCTION:", "GRADED:"), "no .# GRADED"),
])
def test_malformed_markers_are_reported(tmp_path, edit, message):
    def change(notebook):
        for cell in notebook.cells:
            cell.source = edit(cell.source)

    with pytest.raises(AssignmentError, match=message):
        load_assignment(_source_with(tmp_path, change) / f"{ASSIGNMENT}.ipynb")


def test_hidden_tests_must_be_literal_calls(tmp_path):
    def change(notebook):
        notebook.cells[4].source = notebook.cells[4].source.replace(
            "initialize_parameters_zeros([3, 2, 1])",
            "initialize_parameters_zeros(list(range(3)))")

    with pytest.raises(AssignmentError, match="must be literals"):
        load_assignment(_source_with(tmp_path, change) / f"{ASSIGNMENT}.ipynb")


def test_release_needs_a_source_folder(tmp_path, capsys):
    assert course_grade(["release", str(tmp_path / "nowhere"), str(tmp_path)]) == 1
    assert "source_dir" in capsys.readouterr().err


def test_release_copies_nothing_else(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(SOURCE_DIR, source)
    written = release(source, tmp_path / "release")
    assert [path.name for path in written] == [f"{name}.ipynb"
                                               for name in sorted(ASSIGNMENTS)]
    assert sorted(path.name for path in (tmp_path / "release").iterdir()) \
        == [f"{name}.ipynb" for name in sorted(ASSIGNMENTS)]

"""Submissions by a student who has read the grader's source (issue 8).

One module-scoped run grades every hostile fixture beside correct submissions,
with ``--jobs 2``, as the tests run (as root in CI, so with the full sandbox).
Each test asserts the exact status and points of a hostile submission and that
the correct submissions graded in the same run got full marks.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import uuid
from pathlib import Path

import pytest

import course_utils.grading.grader as grader_module
from course_utils.grading.assignment import load_assignment
from course_utils.grading.cli import main as course_grade
from course_utils.grading.grader import GradingOptions, grade
from course_utils.grading.sandbox import JobRun, Limits, Sandbox, choose_isolation
from tests.conftest import (
    ASSIGNMENT,
    GRADED_FUNCTIONS,
    assert_graded_as_expected,
    gradebook_rows,
    graded_cell,
    reference_sources,
    single_assignment_source,
    write_submission,
)

ZEROS, RANDOM, HE = GRADED_FUNCTIONS
# Only the first assignment: the hostile fixtures are submissions of it.
SOURCE_DIR = single_assignment_source(ASSIGNMENT)
TIMEOUT = 3.0
ISOLATION = choose_isolation("auto")
needs_root = pytest.mark.skipif(ISOLATION != "root",
                                reason="per-sandbox users and limits need root")
MARKER = "hx" + uuid.uuid4().hex[:10]  # a thread name (at most 15 characters)
CORRECT = ("a_correct", "g_correct", "o_correct", "z_correct")  # spread out
EVENTS_PRELUDE = """
import os, sys
def _say(line):
    try:
        fd = int(sys.argv[2])  # the runner's events pipe
    except (IndexError, ValueError):  # before issue 8: a job file instead
        import json
        fd = json.load(open(sys.argv[1]))["events_fd"]
    os.write(fd, line + b"\\n")
"""
# A line for each class of event that crashed the grader or filled its memory.
EVENT_LINES = {
    "event_big_int": b'{"event": "result", "index": 0, "value": {"type": "number", '
                     b'"value": ' + b"9" * 400 + b"}}",
    "event_65_dims": b'{"event": "result", "index": 0, "value": {"type": "array", '
                     b'"shape": [' + b", ".join([b"1"] * 65) + b'], "data": [0.5]}}',
    "event_cell_index": b'{"event": "cell", "index": 999}\n'
                        b'{"event": "cell_error", "index": 999, "error": "x"}',
    "event_deep": b"[" * 100_000,
    "event_many_results": b"\n".join(
        b'{"event": "case", "index": %d}\n{"event": "result", "index": %d, '
        b'"value": {"type": "number", "value": 1}}' % (index, index)
        for index in range(1000, 1400)),
    "event_forged_error": b'{"event": "sandbox_error", "error": "forged: the '
                          b'sandbox failed"}',
}


def _zeros_saying(line: bytes, solutions: dict[str, str]) -> str:
    """The correct zeros cell, whose function first writes ``line`` as an event."""
    return (solutions[ZEROS] + EVENTS_PRELUDE
            + f"_real = {ZEROS}\ndef {ZEROS}(layers_dims):\n"
              f"    _say({line!r})\n    return _real(layers_dims)\n")


def _with_prelude(source: str, prelude: str) -> str:
    header, rest = source.split("\n", 1)
    return f"{header}\n{prelude}\n{rest}"


def _hidden_call_text() -> str:
    """How the last hidden call of the He function would appear in a job file."""
    assignment = load_assignment(SOURCE_DIR / f"{ASSIGNMENT}.ipynb")
    return json.dumps(list(assignment.functions[HE].cases[-1].args))


def _notebook_json(folder: Path) -> dict:
    return json.loads((folder / f"{ASSIGNMENT}.ipynb").read_text())


def build_hostile_class(folder: Path) -> dict[str, tuple]:
    """Write the fixtures; return ``student: (status, points, {function: status})``."""
    solutions = reference_sources()
    expected: dict[str, tuple] = {}
    all_pass = {name: "passed" for name in GRADED_FUNCTIONS}
    for student in CORRECT:
        write_submission(folder / student, solutions)
        expected[student] = ("graded", 7, all_pass)

    # 1. Events that crashed the grader: each ends only the check in progress.
    for student, line in EVENT_LINES.items():
        write_submission(folder / student,
                         solutions | {ZEROS: _zeros_saying(line, solutions)})
        expected[student] = ("graded", 5, all_pass | {ZEROS: "crashed"})

    # 2. Notebook files that crashed the grader.
    (folder / "nb_deep_brackets").mkdir()
    (folder / "nb_deep_brackets" / f"{ASSIGNMENT}.ipynb").write_bytes(
        b'{"cells": ' + b"[" * 100_000)
    expected["nb_deep_brackets"] = ("malformed", 0, None)
    write_submission(folder / "nb_deep_metadata", solutions)
    notebook = _notebook_json(folder / "nb_deep_metadata")
    nested: dict = {}
    for _ in range(900):
        nested = {"a": nested}
    notebook["cells"][0]["metadata"] = nested
    (folder / "nb_deep_metadata" / f"{ASSIGNMENT}.ipynb").write_text(
        json.dumps(notebook))
    expected["nb_deep_metadata"] = ("malformed", 0, None)
    (folder / "nb_v3_heading").mkdir()
    (folder / "nb_v3_heading" / f"{ASSIGNMENT}.ipynb").write_text(json.dumps({
        "nbformat": 3, "nbformat_minor": 0, "metadata": {},
        "worksheets": [{"metadata": {}, "cells": [
            {"cell_type": "heading", "level": 10**30, "source": "x",
             "metadata": {}}]}]}))
    expected["nb_v3_heading"] = ("malformed", 0, None)
    write_submission(Path(os.fsdecode(bytes(folder) + b"/not_utf8_\xff")), solutions)
    expected["not_utf8_\\xff"] = ("graded", 7, all_pass)

    # 3. Processes that outlived the grader: setsid() and a non-daemon thread.
    linger = ("import os, threading, time\nos.setsid()\n"
              "def _linger():\n"
              "    with open(f'/proc/self/task/{threading.get_native_id()}/comm',"
              " 'w') as handle:\n"
              f"        handle.write({MARKER!r})\n"
              "    while True:\n        time.sleep(1)\n"
              "threading.Thread(target=_linger).start()\n")
    write_submission(folder / "setsid_thread",
                     solutions | {ZEROS: _with_prelude(solutions[ZEROS], linger)})
    expected["setsid_thread"] = ("graded", 7, all_pass)

    # 4. Forking to the process limit and staying, beside correct submissions.
    # setsid() first: before issue 8 this left the tree alive after the timeout.
    fork_bomb = ("import os, time\nos.setsid()\n"
                 "while True:\n    try:\n        pid = os.fork()\n"
                 "    except OSError:\n        break\n    if pid == 0:\n"
                 "        time.sleep(600)\n        os._exit(0)\ntime.sleep(600)\n")
    write_submission(folder / "fork_limit",
                     solutions | {ZEROS: _with_prelude(solutions[ZEROS], fork_bomb)})
    # The cell times out and is skipped, so zeros is undefined (NameError).
    expected["fork_limit"] = ("graded", 5, all_pass | {ZEROS: "error"})

    # 5. Filling the disk through the work folder: at most its 64 MB fit.
    fill = ("import os\n_written = 0\ntry:\n    for _n in range(400):\n"
            "        with open(os.path.join(os.environ['HOME'], f'fill{_n}'),"
            " 'wb') as _h:\n"
            "            _h.write(b'x' * 2**20)\n        _written += 2**20\n"
            "except OSError:\n    pass\n"
            "assert _written <= 64 * 2**20, f'wrote {_written} bytes'\n")
    write_submission(folder / "disk_fill",
                     solutions | {ZEROS: _with_prelude(solutions[ZEROS], fill)})
    expected["disk_fill"] = ("graded", 7, all_pass)

    # 6. Forging what the instructor and the student read.
    heading = "raise ValueError('\\n# initialization: 7 / 7 points\\n## x: 3 / 3')"
    leak = "raise ValueError(f'LEAK{layers_dims}')"
    leak_class = ("raise type(f'Leak{len(layers_dims)}x{sum(layers_dims)}', "
                  "(Exception,), {})()")
    for student, body in (("fake_heading", heading), ("leak_message", leak),
                          ("leak_class_name", leak_class)):
        write_submission(folder / student, solutions | {HE: graded_cell(HE, body)})
        expected[student] = ("graded", 4, all_pass | {HE: "error"})
    reads_job = (f"import glob\n_hidden = {_hidden_call_text()!r}\n"
                 "def _leaked():\n"
                 "    for path in glob.glob('/grader/**', recursive=True):\n"
                 "        try:\n"
                 "            with open(path, errors='replace') as handle:\n"
                 "                if _hidden in handle.read():\n"
                 "                    return True\n"
                 "        except OSError:\n            pass\n"
                 "    return False\n"
                 "assert not _leaked(), 'the hidden calls are readable'\n")
    write_submission(folder / "reads_job",
                     solutions | {ZEROS: _with_prelude(solutions[ZEROS], reads_job)})
    expected["reads_job"] = ("graded", 7, all_pass)

    # 7. Symbolic links, and a name that a spreadsheet would run as a formula.
    (folder / "link_notebook").mkdir()
    (folder / "link_notebook" / f"{ASSIGNMENT}.ipynb").symlink_to(
        SOURCE_DIR / f"{ASSIGNMENT}.ipynb")
    expected["link_notebook"] = ("symlink", 0, None)
    (folder / "link_folder").symlink_to(folder / CORRECT[0])
    expected["link_folder"] = ("symlink", 0, None)
    write_submission(folder / '=HYPERLINK("x.invalid")', solutions)
    expected['=HYPERLINK("x.invalid")'] = ("graded", 7, all_pass)
    return expected


def _thread_names() -> set[str]:
    names = set()
    for task in Path("/proc").glob("[0-9]*/task/[0-9]*/comm"):
        with contextlib.suppress(OSError):
            names.add(task.read_text().strip())
    return names


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    expected = build_hostile_class(root / "submissions")
    gradebook = root / "grades" / "gradebook.sqlite"
    arguments = ["grade", str(SOURCE_DIR), str(root / "submissions"),
                 "--gradebook", str(gradebook), "--jobs", "2",
                 "--timeout", str(TIMEOUT)]
    exit_code = course_grade(arguments)
    threads_after = _thread_names()
    rerun_log: list[str] = []
    regraded = grade(SOURCE_DIR, root / "submissions", gradebook,
                     options=GradingOptions(jobs=2, timeout=TIMEOUT),
                     log=rerun_log.append)
    yield {"root": root, "gradebook": gradebook, "expected": expected,
           "exit_code": exit_code, "regraded": regraded, "rerun_log": rerun_log,
           "threads_after": threads_after}


def _assert_graded_as_expected(hostile_class, student: str) -> None:
    assert_graded_as_expected(hostile_class, student, CORRECT)


def test_grade_exits_0_and_every_folder_has_its_row(hostile_class):
    assert hostile_class["exit_code"] == 0
    submissions, _ = gradebook_rows(hostile_class["gradebook"])
    assert set(submissions) == set(hostile_class["expected"])


@pytest.mark.parametrize("student", sorted(EVENT_LINES))
def test_hostile_events_cost_only_the_check_in_progress(hostile_class, student):
    _assert_graded_as_expected(hostile_class, student)


@pytest.mark.parametrize("student", ["nb_deep_brackets", "nb_deep_metadata",
                                     "nb_v3_heading", "not_utf8_\\xff"])
def test_hostile_notebook_files_get_a_row(hostile_class, student):
    _assert_graded_as_expected(hostile_class, student)


@pytest.mark.skipif(ISOLATION == "none", reason="no sandbox here")
def test_setsid_and_a_thread_do_not_outlive_grading(hostile_class):
    _assert_graded_as_expected(hostile_class, "setsid_thread")
    assert MARKER not in hostile_class["threads_after"]
    assert MARKER not in _thread_names()


@needs_root
def test_forking_to_the_limit_costs_no_one_else(hostile_class):
    _assert_graded_as_expected(hostile_class, "fork_limit")


@needs_root
def test_the_work_folder_is_bounded(hostile_class):
    _assert_graded_as_expected(hostile_class, "disk_fill")


@pytest.mark.parametrize("student", ["fake_heading", "leak_message",
                                     "leak_class_name"])
def test_feedback_cannot_be_forged_nor_carry_hidden_arguments(hostile_class,
                                                               student):
    _assert_graded_as_expected(hostile_class, student)
    feedback = (hostile_class["gradebook"].parent / "feedback" / student
                / f"{ASSIGNMENT}.md").read_text()
    headings = [line for line in feedback.split("\n") if line.startswith("#")]
    assert headings == [f"# {ASSIGNMENT}: 4 / 7 points",
                        f"## {ZEROS}: 2 / 2 points (passed)",
                        f"## {RANDOM}: 2 / 2 points (passed)",
                        f"## {HE}: 0 / 3 points (error)"]
    items = [line for line in feedback.split("\n") if line.startswith("- ")]
    assert len(items) == 9  # one per hidden check, none added
    assert all(re.fullmatch(r"- hidden check [123]: [\w ]+", item) for item in items)
    assert "LEAK" not in feedback and "Leak" not in feedback
    assert "raised" in feedback


@pytest.mark.skipif(ISOLATION == "none", reason="no sandbox here")
def test_the_hidden_calls_are_not_readable_in_the_sandbox(hostile_class):
    _assert_graded_as_expected(hostile_class, "reads_job")


def test_forged_sandbox_error_is_not_trusted(hostile_class):
    _assert_graded_as_expected(hostile_class, "event_forged_error")


@pytest.mark.parametrize("student", ["link_notebook", "link_folder"])
def test_symbolic_links_are_not_followed(hostile_class, student):
    _assert_graded_as_expected(hostile_class, student)


def test_csv_export_neutralises_formulas(hostile_class, tmp_path):
    assert course_grade(["export", "--gradebook", str(hostile_class["gradebook"]),
                         "--csv", str(tmp_path / "grades.csv")]) == 0
    with open(tmp_path / "grades.csv", newline="") as handle:
        students = [row[0] for row in csv.reader(handle)][1:]
    assert "'=HYPERLINK(\"x.invalid\")" in students
    assert "not_utf8_\\xff" in students
    assert not any(name.startswith(("=", "+", "-", "@")) for name in students)
    _assert_graded_as_expected(hostile_class, '=HYPERLINK("x.invalid")')


def test_a_rerun_skips_every_hostile_row(hostile_class):
    # Nothing hostile made its row look like a fault of the grading machine.
    assert hostile_class["regraded"] == []
    lines = [line for line in hostile_class["rerun_log"] if f"/{ASSIGNMENT}:" in line]
    assert len(lines) == len(hostile_class["expected"])
    assert all(line.endswith("unchanged since graded, skipped") for line in lines)


def test_a_rerun_grades_again_after_an_environment_error(tmp_path, monkeypatch):
    solutions = reference_sources()
    for student in ("ada", "bob", "carl"):
        write_submission(tmp_path / "submissions" / student,
                         solutions | {ZEROS: f"{solutions[ZEROS]}\n# {student}\n"})
    real_run, real_extract = Sandbox.run, grader_module.extract_cells

    def run_failing_for_bob(self, cells, cases):
        if any("# bob" in cell["source"] for cell in cells):
            return JobRun(sandbox_error="OSError: no space left on device")
        return real_run(self, cells, cases)

    def extract_failing_for_carl(assignment, notebook):
        if any("# carl" in cell.source for cell in notebook.cells):
            raise RuntimeError("an unexpected bug")
        return real_extract(assignment, notebook)

    monkeypatch.setattr(Sandbox, "run", run_failing_for_bob)
    monkeypatch.setattr(grader_module, "extract_cells", extract_failing_for_carl)
    gradebook = tmp_path / "gradebook.sqlite"
    options = GradingOptions(jobs=2, timeout=TIMEOUT)
    first = {grade_.student: (grade_.status, grade_.points) for grade_ in
             grade(SOURCE_DIR, tmp_path / "submissions", gradebook, options=options,
                   log=lambda _: None)}
    assert first == {"ada": ("graded", 7), "bob": ("error", 0),
                     "carl": ("error", 0)}
    monkeypatch.undo()
    second = {grade_.student: (grade_.status, grade_.points) for grade_ in
              grade(SOURCE_DIR, tmp_path / "submissions", gradebook, options=options,
                    log=lambda _: None)}
    assert second == {"bob": ("graded", 7), "carl": ("graded", 7)}


MEMORY_HOG_CHILDREN = """
import os, time
def _escaped_the_bound():
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                block = b"x" * (200 * 2**20)
                time.sleep(1)
                os._exit(0)
            except MemoryError:
                os._exit(3)
        children.append(pid)
    return all(os.waitpid(pid, 0)[1] == 0 for pid in children)
assert not _escaped_the_bound(), "four processes held 800 MB together"
"""


@needs_root
def test_memory_is_bounded_for_all_processes_together(tmp_path):
    with Sandbox("root", Limits(memory_mb=512)) as probe:
        if probe.memory_bound != "cgroup":
            pytest.skip("this machine does not let the grader create a cgroup")
    solutions = reference_sources()
    write_submission(tmp_path / "submissions" / "correct", solutions)
    write_submission(tmp_path / "submissions" / "children", solutions | {
        ZEROS: _with_prelude(solutions[ZEROS], MEMORY_HOG_CHILDREN)})
    graded = grade(SOURCE_DIR, tmp_path / "submissions", tmp_path / "gradebook.sqlite",
                   options=GradingOptions(jobs=2, timeout=10, memory_mb=512),
                   log=lambda _: None)
    assert {grade_.student: (grade_.status, grade_.points) for grade_ in graded} \
        == {"correct": ("graded", 7), "children": ("graded", 7)}

"""Whole grading runs: interrupted and resumed, other isolation modes, the CLI."""

from __future__ import annotations

import csv
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from course_utils.grading.cli import main as course_grade
from course_utils.grading.grader import GradingOptions, grade
from course_utils.grading.sandbox.jobs import _can_use_user_namespaces
from course_utils.grading.sandbox.users import (
    FIRST_SANDBOX_UID,
    SANDBOX_UID_COUNT,
    claim_address,
)
from tests.conftest import (
    GRADED_FUNCTIONS,
    graded_cell,
    reference_sources,
    single_assignment_source,
)
from tests.conftest import write_submission as write

SOURCE_DIR = single_assignment_source()
COURSE_GRADE = [sys.executable, "-m", "course_utils.grading"]
# Spins: a time limit is CPU time, and a sleeping call would wait for the
# wall-clock ceiling (three times as long).
SLOW_RANDOM = graded_cell(GRADED_FUNCTIONS[1], "while True:\n    pass")


def _small_class(folder: Path, students: int, marker: str) -> None:
    """Correct, blank and slow submissions; each starts a detached sleeper."""
    solutions = reference_sources()
    sleeper = ("import subprocess, sys\n"
               "subprocess.Popen([sys.executable, '-c', "
               f"'import time; time.sleep(600)', {marker!r}], "
               "start_new_session=True)\n")
    zeros = GRADED_FUNCTIONS[0]
    for number in range(students):
        kind = number % 3
        graded = (solutions if kind == 0 else {} if kind == 1
                  else solutions | {GRADED_FUNCTIONS[1]: SLOW_RANDOM})
        zeros_cell = graded.get(zeros, graded_cell(zeros, "raise NotImplementedError"))
        header, rest = zeros_cell.split("\n", 1)
        write(folder / f"student{number:02d}",
              graded | {zeros: f"{header}\n{sleeper}{rest}"})


def _rows(gradebook: Path) -> tuple[list, list]:
    with sqlite3.connect(gradebook) as connection:
        submissions = connection.execute(
            "SELECT student, assignment, status, points FROM submissions "
            "ORDER BY student").fetchall()
        functions = connection.execute(
            "SELECT student, function, status, points FROM function_grades "
            "ORDER BY student, function").fetchall()
    return submissions, functions


def _count_submissions(gradebook: Path) -> int:
    try:
        with sqlite3.connect(gradebook, timeout=5) as connection:
            return connection.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _processes_with(marker: str) -> list[str]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in line:
                alive.append(line)
    return alive


def _sandbox_processes() -> list[int]:
    """Processes running as a sandbox user id that no grader claims any more.

    (A grader in another test worker may be running sandboxes of its own.)
    """
    return [pid for pid in _all_pids()
            if any(FIRST_SANDBOX_UID <= uid < FIRST_SANDBOX_UID + SANDBOX_UID_COUNT
                   and _unclaimed(uid) for uid in _uids(pid))]


def _unclaimed(uid: int) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(claim_address(uid))
        except OSError:
            return False
    return True


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit()]


def _uids(pid: int) -> list[int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return []
    line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return [int(field) for field in line.split()[1:]]


def _mount_points() -> set[str]:
    return {line.split()[4] for line in
            Path("/proc/self/mountinfo").read_text().splitlines()}


def _wait_until_gone(marker: str) -> None:
    """The kernel kills a sandbox's processes asynchronously: give it a moment."""
    deadline = time.monotonic() + 10
    while (_processes_with(marker) or _sandbox_processes()) \
            and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_killed_run_resumes_without_losing_or_duplicating_rows(tmp_path):
    marker = f"resume-test-sleeper-{uuid.uuid4().hex}"
    _small_class(tmp_path / "submissions", 6, marker)
    gradebook = tmp_path / "interrupted.sqlite"
    command = [*COURSE_GRADE, "grade", str(SOURCE_DIR), str(tmp_path / "submissions"),
               "--gradebook", str(gradebook), "--timeout", "2", "--jobs", "1"]
    temporary = tmp_path / "grader-tmp"
    temporary.mkdir()
    mounts_before = _mount_points()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                               env=os.environ | {"TMPDIR": str(temporary)})
    deadline = time.monotonic() + 120
    while _count_submissions(gradebook) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    recorded = _count_submissions(gradebook)
    assert 2 <= recorded < 6, "the run should have been cut off half-way"
    _wait_until_gone(marker)
    assert _processes_with(marker) == [], "sandboxed processes outlived the grader"
    assert _sandbox_processes() == [], "a sandbox user's process outlived the grader"
    assert list(temporary.iterdir()) == [], "the grader left temporary files"
    assert _mount_points() <= mounts_before, "the grader left a mount"

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("unchanged since graded, skipped") == recorded

    clean = tmp_path / "clean.sqlite"
    grade(SOURCE_DIR, tmp_path / "submissions", clean,
          options=GradingOptions(timeout=2, jobs=2), log=lambda _: None)
    assert _rows(gradebook) == _rows(clean)
    submissions, functions = _rows(gradebook)
    assert len(submissions) == 6 and len(functions) == 6 * len(GRADED_FUNCTIONS)
    assert _processes_with(marker) == []


def test_regrade_replaces_rows(tmp_path):
    solutions = reference_sources()
    write(tmp_path / "submissions" / "ada", solutions)
    gradebook = tmp_path / "gradebook.sqlite"
    quiet = {"log": lambda _: None}
    grade(SOURCE_DIR, tmp_path / "submissions", gradebook, **quiet)
    write(tmp_path / "submissions" / "ada", None)  # resubmits a blank notebook
    grade(SOURCE_DIR, tmp_path / "submissions", gradebook, **quiet)
    grade(SOURCE_DIR, tmp_path / "submissions", gradebook,
          options=GradingOptions(regrade=True), **quiet)
    submissions, functions = _rows(gradebook)
    assert submissions == [("ada", "initialization", "graded", 0.0)]
    assert len(functions) == len(GRADED_FUNCTIONS)


@pytest.mark.skipif(not _can_use_user_namespaces(),
                    reason="this kernel does not allow user namespaces")
def test_user_namespace_mode_grades_and_warns(tmp_path):
    solutions = reference_sources()
    write(tmp_path / "submissions" / "ada", solutions)
    write(tmp_path / "submissions" / "bob", None)
    log: list[str] = []
    grade(SOURCE_DIR, tmp_path / "submissions", tmp_path / "gradebook.sqlite",
          options=GradingOptions(isolation="userns", timeout=3), log=log.append)
    assert any("isolation" in line and "warning" in line for line in log)
    assert "ada/initialization: 7/7 graded" in log
    assert "bob/initialization: 0/7 graded" in log


def test_cli_rejects_bad_options_by_name(tmp_path, capsys):
    (tmp_path / "submissions").mkdir()
    arguments = ["grade", str(SOURCE_DIR), str(tmp_path / "submissions"),
                 "--gradebook", str(tmp_path / "gradebook.sqlite")]
    assert course_grade([*arguments, "--jobs", "0"]) == 1
    assert "jobs must be a positive int" in capsys.readouterr().err
    assert course_grade([*arguments, "--timeout", "-1"]) == 1
    assert "timeout must be a positive number" in capsys.readouterr().err
    assert course_grade(["export", "--gradebook", str(tmp_path / "none.sqlite"),
                         "--csv", str(tmp_path / "out.csv")]) == 1
    assert "gradebook:" in capsys.readouterr().err


def test_export_writes_one_row_per_student_and_assignment(tmp_path):
    write(tmp_path / "submissions" / "ada", reference_sources())
    (tmp_path / "submissions" / "bob").mkdir(parents=True)
    gradebook = tmp_path / "gradebook.sqlite"
    grade(SOURCE_DIR, tmp_path / "submissions", gradebook, log=lambda _: None)
    assert course_grade(["export", "--gradebook", str(gradebook),
                         "--csv", str(tmp_path / "grades.csv")]) == 0
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["student", "assignment", "points", "max_points", "status"],
                    ["ada", "initialization", "7", "9", "graded"],
                    ["bob", "initialization", "0", "9", "missing"]]

"""The instructor guide's commands, run exactly as printed.

The week on a fixture Canvas download of three students, the Moodle collect
with a worksheet, and the practice-class walkthroughs on ``course-grade demo``'s
output: Canvas with the default 24 students, Moodle with ``--students 14``
added to its ``demo`` command (grading 24 more would double the test's time).
"""

import csv
import re
import shlex
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from course_utils.grading.cli import main as course_grade
from course_utils.grading.platforms import demo
from tests.conftest import (
    BOOK_DIR,
    REPO_ROOT,
    reference_sources,
    submission_bytes,
)
from tests.platform_downloads import (
    WORKSHEET_HEADER,
    canvas_called,
    canvas_upload,
    moodle_entry,
    moodle_prefix,
    moodle_time,
    moodle_worksheet_row,
    ruby_csv,
    write_zip,
)

GUIDE = BOOK_DIR / "exercises" / "instructors.md"
COURSE_GRADE = Path(sys.executable).with_name("course-grade")
VERBS = ["release", "collect", "release", "grade", "answers", "answers", "score",
         "feedback", "report", "export"]


def _block_commands(marker: str) -> list[str]:
    """The commands of the guide's first bash block that contains ``marker``."""
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    block = next(block for block in blocks if marker in block)
    return [line for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _cycle_commands() -> list[str]:
    return _block_commands("course-grade release exercises/source ~/grading/release/")


def _words(command: str, home: Path) -> list[str]:
    words = [word.replace("~", str(home), 1) if word.startswith("~/") else word
             for word in shlex.split(command)]
    assert words[0] == "course-grade"
    return words


def _run(command: str, home: Path, capsys) -> str:
    """Run a printed command from the course folder, ``~`` being ``home``.

    In this process (``course-grade`` is ``cli.main``): a new Python per
    command would cost seconds each on a busy machine. The first command runs
    through the installed ``course-grade`` script.
    """
    capsys.readouterr()
    status = course_grade(_words(command, home)[1:])
    captured = capsys.readouterr()
    assert status == 0, captured.out + captured.err
    return captured.out


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--ignored"],
                          cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_the_guide_walks_through_the_whole_week():
    verbs = [shlex.split(command)[1] for command in _cycle_commands()]
    assert verbs == VERBS


def test_the_printed_week_works_and_writes_nothing_in_the_course(
        tmp_path, capsys, monkeypatch):
    status_before = _git_status()
    commands = _cycle_commands()
    completed = subprocess.run([str(COURSE_GRADE), *_words(commands[0], tmp_path)[1:]],
                               cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    monkeypatch.chdir(REPO_ROOT)
    grading = tmp_path / "grading"
    assert (grading / "release" / "initialization.ipynb").is_file()
    # The Canvas download (named as content_zipper.rb names it, every entry
    # at the moment of the download): Ada finished on time, Bob handed in the
    # untouched release late (Canvas marks it), Cy also uploaded a scratch
    # notebook.
    write_zip(grading / "submissions.zip", [
        (canvas_upload(canvas_called("Lovelace, Ada", 101), 9001,
                       "initialization.ipynb"),
         submission_bytes(tmp_path / "work", reference_sources(),
                          "All outputs are sigmoid(0) = 0.5.")),
        (canvas_upload(canvas_called("Babbage, Bob", 102, late=True), 9002,
                       "initialization.ipynb"), submission_bytes(tmp_path / "work")),
        (canvas_upload(canvas_called("Hopper, Cy", 103), 9003,
                       "initialization.ipynb"),
         submission_bytes(tmp_path / "work", answer="I do not know.")),
        (canvas_upload(canvas_called("Hopper, Cy", 103), 9004, "scratch.ipynb"),
         submission_bytes(tmp_path / "work"))])
    collected = _run(commands[1], tmp_path, capsys)
    assert "canvas: collected 3, of which 1 late; skipped 0; other files not " \
           "graded 1" in collected
    for command in commands[2:6]:
        _run(command, tmp_path, capsys)
    # The instructor types the points into review.csv.
    review = grading / "review.csv"
    with open(review, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["student"], row["answer"]) for row in rows
            if row["assignment"] == "initialization"] == [
        ("babbagebob_102", ""), ("hoppercy_103", "I do not know."),
        ("lovelaceada_101", "All outputs are sigmoid(0) = 0.5.")]
    points = {"babbagebob_102": "0", "hoppercy_103": "0.5", "lovelaceada_101": "2"}
    for row in rows:  # 0 for the questions of any other assignment
        row["points"] = points[row["student"]] \
            if row["assignment"] == "initialization" else "0"
    with open(review, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert f"scored {len(rows)} answer(s)" in _run(commands[6], tmp_path, capsys)
    # Canvas's gradebook export, as lib/gradebook_exporter.rb writes it: Dee
    # (104) submitted nothing, Quiz 1 is another assignment.
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
              "Quiz 1 (4700)", "Initialization (4711)", "Current Score",
              "Unposted Current Score", "Final Score", "Unposted Final Score"]
    people = [("Lovelace, Ada", "101"), ("Babbage, Bob", "102"),
              ("Hopper, Cy", "103"), ("Dee, Dee", "104")]

    def canvas_export(grades: dict[str, str]) -> str:
        rows = [header, ["    Points Possible", None, None, None, None, "10.00",
                         "9.00", *["(read only)"] * 4]]
        rows += [[name, user, None, f"u{user}", "Section 1", "7.00",
                  grades.get(user), "70.00", "70.00", "35.00", "35.00"]
                 for name, user in people]
        return ruby_csv(rows)
    (grading / "canvas-gradebook.csv").write_text(canvas_export({}),
                                                  encoding="utf-8")
    outputs = [_run(command, tmp_path, capsys) for command in commands[7:]]
    assert "filled 3 row(s) of 'Initialization (4711)'" in outputs[-1]
    # Only the assignment's cells differ: Ada 7 + 2, Bob 0 (late, no
    # penalty), Cy 0 + 0.5; Dee, who submitted nothing, stays blank.
    assert (grading / "grades.csv").read_bytes() == canvas_export(
        {"101": "9", "102": "0", "103": "0.5"}).encode("utf-8")
    with zipfile.ZipFile(grading / "feedback.zip") as archive:
        assert sorted(archive.namelist()) == [
            "babbagebob_LATE_102_9002_initialization_feedback.html",
            "hoppercy_103_9003_initialization_feedback.html",
            "lovelaceada_101_9001_initialization_feedback.html"]
    # Variance was not handed out: grade made no rows for it.
    with sqlite3.connect(grading / "gradebook.sqlite") as connection:
        assert connection.execute("SELECT DISTINCT assignment FROM "
                                  "submissions").fetchall() == [("initialization",)]
    page = (grading / "feedback" / "lovelaceada_101" / "initialization.html")
    assert "initialization: 9 / 9 points" in page.read_text()
    late = (grading / "feedback" / "babbagebob_102" / "initialization.md").read_text()
    assert "submitted late (no points taken off)" in late
    assert (grading / "review.md").is_file()
    assert "<img" in (grading / "report.html").read_text()
    assert _git_status() == status_before, "the week wrote into the repository"


def test_the_guides_moodle_collect_works_as_printed(tmp_path, capsys, monkeypatch):
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    command = next(block for block in blocks
                   if block.startswith("course-grade collect")).strip()
    monkeypatch.chdir(REPO_ROOT)
    grading = tmp_path / "grading"
    grading.mkdir()
    notebook = submission_bytes(tmp_path / "work")
    # Moodle 4.1+: Ada on time, Bo 9 h 31 min late, Cy late but Ada's
    # extension is hers alone; times as the worksheet writes them (Berlin).
    people = [("Ada Lovelace", 11, (2026, 11, 23, 10, 0)),
              ("Bo Babbage", 12, (2026, 11, 21, 9, 30)),
              ("Cy Hopper", 13, (2026, 11, 20, 23, 0))]
    write_zip(grading / "submissions.zip", [
        (moodle_entry(moodle_prefix(name, number), "initialization.ipynb"), notebook)
        for name, number, _ in people])
    with open(grading / "worksheet.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WORKSHEET_HEADER)
        writer.writerows(moodle_worksheet_row(number, name, moodle_time(*when))
                         for name, number, when in people)
    out = _run(command, tmp_path, capsys)
    assert "deadline: 2026-11-20 23:59 CET (2026-11-20 22:59 UTC)" in out
    assert "moodle: collected 3, of which 1 late; skipped 0" in out
    assert "-> bo-babbage_12 (named like the assignment (initialization.ipynb); " \
           "late by 9.5 h)" in out


# --- The practice class -------------------------------------------------------
# What each kind of demo submission gets wrong, stated here from the mistakes'
# descriptions (not from demo.AUTO_POINTS): the functions that must fail.
FAILS = {"correct": (), "random-factor": ("random",), "he-factor": ("he",),
         "he-layer": ("he",), "transposed": ("zeros",), "unseeded": ("random",),
         "blank": ("zeros", "random", "he")}
FUNCTION_POINTS = {"zeros": 2.0, "random": 2.0, "he": 3.0}
DEMO_VERBS = {"canvas": ["demo", "collect", "grade", "answers", "answers", "score",
                         "feedback", "report", "export"],
              "moodle": ["demo", "collect", "grade", "answers", "score", "feedback",
                         "export"]}


def _typed_points(answer: str) -> str:
    """What the instructor types after reading an answer."""
    if "sigmoid" in answer:
        return "2"
    return "1" if "0.5" in answer else "0"


def _auto_points(student) -> float:
    """The graded functions' points the plan's submission must earn."""
    return sum(points for name, points in FUNCTION_POINTS.items()
               if name not in FAILS[student.kind])


def _expected_points(student) -> float | None:
    """Functions' points from the plan plus the written points typed."""
    if student.extra in ("absent", "huge-notebook"):
        return None
    return _auto_points(student) + float(
        _typed_points(demo.ANSWERS.get(student.answer, "")))


def _type_points(review: Path) -> int:
    with open(review, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["points"] = _typed_points(row["answer"])
    with open(review, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _walk(platform: str, home: Path, capsys, students: int | None) -> list[str]:
    folder = "grading-demo" if platform == "canvas" else "grading-moodle"
    commands = _block_commands(f"course-grade demo ~/{folder} --platform {platform}")
    assert [shlex.split(command)[1] for command in commands] == DEMO_VERBS[platform]
    if students is not None:
        commands[0] += f" --students {students}"
    outputs = []
    for command in commands:
        if shlex.split(command)[1] == "score":
            review = _words(command, home)[-1]
            _type_points(Path(review))
        outputs.append(_run(command, home, capsys))
    return outputs


def _summary(roster) -> str:
    submitting = [s for s in roster if s.extra != "absent"]
    collected = [s for s in submitting if s.extra != "huge-notebook"]
    late = sum(s.late for s in collected)
    others = sum(s.extra in ("scratch", "huge-data", "duplicate") for s in collected)
    return (f"collected {len(collected)}, of which {late} late; skipped "
            f"{len(submitting) - len(collected)}; other files not graded {others}")


def _check_filled(template: Path, output: Path, key: str, column: str,
                  expected: dict[str, float | None], also: str = "") -> None:
    """Only ``column`` (and ``also``) differ; ``column`` holds the expected
    points (as in the template for None)."""
    def read(path):
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.reader(handle))
    before, after = read(template), read(output)
    header = before[0]
    assert after[0] == header and len(after) == len(before)
    index, key_index = header.index(column), header.index(key)
    filled = {index, header.index(also) if also else index}
    seen = set()
    for old, new in zip(before[1:], after[1:], strict=True):
        assert [v for i, v in enumerate(old) if i not in filled] == \
            [v for i, v in enumerate(new) if i not in filled]
        if old[key_index] not in expected:
            assert new == old  # the Points Possible row
            continue
        seen.add(old[key_index])
        points = expected[old[key_index]]
        if points is None:
            assert new[index] == old[index], old[key_index]
        else:
            assert float(new[index]) == points, (old[key_index], new[index])
    assert seen == set(expected)


def test_the_practice_class_walkthrough_on_canvas(tmp_path, capsys, monkeypatch):
    status_before = _git_status()
    monkeypatch.chdir(REPO_ROOT)
    outputs = _walk("canvas", tmp_path, capsys, None)
    roster = demo.plan()
    assert len([s for s in roster if s.extra != "absent"]) == 24
    folder = tmp_path / "grading-demo"
    assert f"canvas: {_summary(roster)}" in outputs[1]
    assert "-> garciajose_201 " in outputs[1] and "-> garciajose_202 " in outputs[1]
    assert "ångströmzoë_LATE_203_" in outputs[1]
    # grade prints each student's function points: they match the plan.
    printed = dict(re.findall(r"^(\S+)/initialization: (\d+)/7 graded$",
                              outputs[2], re.MULTILINE))
    assert len(printed) == 23
    with zipfile.ZipFile(folder / "feedback.zip") as archive:
        assert len(archive.namelist()) == 23
    assert (folder / "report.html").is_file()
    assert sorted(float(value) for value in printed.values()) == sorted(
        _auto_points(s) for s in roster if _expected_points(s) is not None)
    expected = {s.sortable_name: _expected_points(s) for s in roster}
    assert "filled 23 row(s) of 'Initialization (4711)'" in outputs[-1]
    _check_filled(folder / "canvas-gradebook.csv", folder / "grades.csv", "Student",
                  "Initialization (4711)", expected)
    assert _git_status() == status_before, "the walkthrough wrote into the course"


def test_the_practice_class_walkthrough_on_moodle(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    outputs = _walk("moodle", tmp_path, capsys, demo.MIN_STUDENTS)
    roster = demo.plan(demo.MIN_STUDENTS)
    folder = tmp_path / "grading-moodle"
    assert f"moodle: {_summary(roster)}" in outputs[1]
    assert "late (Moodle: 23 hours 31 mins late)" in outputs[1]
    assert "-> jose-garcia_5001 " in outputs[1] and "-> jose-garcia_5002 " in outputs[1]
    expected = {s.full_name: _expected_points(s) for s in roster}
    _check_filled(folder / "worksheet.csv", folder / "grades.csv", "Full name",
                  "Grade", expected, also="Feedback comments")
    with open(folder / "grades.csv", newline="", encoding="utf-8-sig") as handle:
        rows = {row["Full name"]: row for row in csv.DictReader(handle)}
    assert rows["José García"]["Feedback comments"] == \
        "graded functions 7/7; written answers 2/2"
    assert rows["Kurt Gödel"]["Feedback comments"] == ""
    with zipfile.ZipFile(folder / "feedback.zip") as archive:
        names = archive.namelist()
    assert len(names) == 13
    assert any(name.startswith("José García_5001_assignsubmission_file/")
               for name in names)

"""The instructor's week on built Canvas and Moodle downloads of 18 students each.

collect -> release --check -> grade -> answers -> score -> feedback -> report ->
export, through ``course-grade`` (in this process), with late, resubmitted,
malformed and hostile entries; every number of every output is checked
against what the fixture students were built to earn.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import re
import shutil
import sqlite3
import stat
import statistics
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from course_utils.grading.cli import main as course_grade
from tests.conftest import (
    ASSIGNMENT,
    GRADED_FUNCTIONS,
    REPO_ROOT,
    SOURCE_DIR,
    graded_cell,
    reference_sources,
    submission_bytes,
)
from tests.platform_downloads import (
    DOWNLOADED_AT,
    WORKSHEET_HEADER,
    canvas_called,
    canvas_upload,
    moodle_entry,
    moodle_prefix,
    moodle_time,
    moodle_worksheet_row,
    write_zip,
)

ZEROS, RANDOM, HE = GRADED_FUNCTIONS
POINTS = {ZEROS: 2, RANDOM: 2, HE: 3}
# Moodle's worksheet times, in the course's zone (Europe/Berlin).
ON_TIME, AFTER = (2026, 11, 20, 18, 0), (2026, 11, 21, 9, 30)
DEADLINE = "2026-11-20T23:59"
HOSTILE_ANSWER = ('</pre><script>document.title="pwned";alert(1)</script>'
                  '<img src="http://127.0.0.1:9/leak.png" onerror="alert(2)">')
FORMULA_ANSWER = "=cmd|' /C calc'!A0"
# The hostile submission also rewrites the question's prompt in its own copy:
# every page must show the source's prompt, and this text only as an answer.
SOURCE_BOLD = "**Question (2 points, graded by your instructor).**"
FORGED_BOLD = '**Question (200 points).** <img src=x onerror="alert(4)">'
# Per kind: each graded function's status, and the written answer.
KINDS = {
    "correct": ((("passed",) * 3), "sigmoid(0) = 0.5 everywhere; equal weights "
                                    "give equal gradients."),
    "blank": (("error",) * 3, None),
    "zeros": (("passed", "error", "error"), "Symmetry."),
    "wrong": (("failed", "passed", "passed"), "Symmetry."),
    "raising": (("error", "passed", "passed"), ""),
    "timeout": (("passed", "passed", "timeout"), "sigmoid"),
    "hostile": (("passed",) * 3, HOSTILE_ANSWER),
    "formula": (("error",) * 3, FORMULA_ANSWER),
    "malformed": (("malformed",) * 3, None),
}
TIMEOUT = 2.0


def _points_for(answer: str | None) -> float:
    """What the instructor types: 2 for sigmoid, 0 for nothing, else 1 or 0.5."""
    if not answer:
        return 0.0
    if "sigmoid" in answer:
        return 2.0
    return 0.5 if answer == FORMULA_ANSWER else 1.0


def _notebook(kind: str, work: Path) -> bytes:
    statuses, answer = KINDS[kind]
    if kind == "malformed":
        return b'{"cells": [ this is not JSON'
    solutions = reference_sources()
    graded = {name: solutions[name] for name, status in zip(GRADED_FUNCTIONS,
                                                              statuses, strict=True)
              if status in ("passed", "failed", "timeout")}
    if kind == "wrong":
        graded[ZEROS] = graded_cell(ZEROS, "return {}")
    if kind == "raising":
        graded[ZEROS] = graded_cell(ZEROS, "raise ValueError('secret [9, 9]')")
    if kind == "timeout":
        graded[HE] = graded_cell(HE, "while True:\n    pass")
    data = submission_bytes(work, graded, answer)
    if kind == "hostile":
        assert SOURCE_BOLD.encode() in data
        data = data.replace(SOURCE_BOLD.encode(),
                            json.dumps(FORGED_BOLD)[1:-1].encode())
    return data


def _release_prompt() -> str:
    """The question's prompt as the student notebook shows it (before the stub)."""
    notebook = json.loads((REPO_ROOT / "book" / "exercises"
                           / f"{ASSIGNMENT}.ipynb").read_text())
    cell = next(cell for cell in notebook["cells"]
                if "course_grade" in cell.get("metadata", {}))
    return "".join(cell["source"]).split("YOUR ANSWER HERE")[0].strip()


# 18 students per platform, every kind at least once: (kind, late, resubmitted).
# The hostile ones get hostile names as well as hostile answers.
PLAN = ([("correct", False, False)] * 3 + [("blank", False, False)] * 2
        + [("zeros", False, False)] * 2 + [("wrong", False, False)]
        + [("raising", False, False)] + [("timeout", False, False)]
        + [("malformed", False, False)] + [("correct", True, False)] * 2
        + [("zeros", True, False)] + [("correct", False, True)] * 2
        + [("hostile", False, False), ("formula", False, False)])
HOSTILE_NAMES = {"hostile": '<img src=x onerror=alert(3)>',
                 "formula": '=HYPERLINK("http:evil")'}
SURNAMES = ["lovelace", "babbage", "hopper", "turing", "noether", "curie", "gauss",
            "euler", "fermat", "riemann", "hilbert", "cantor"]
GIVEN = ["ada", "bo", "cy"]


def _students() -> list[dict]:
    students = []
    for number, (kind, late, resubmitted) in enumerate(PLAN):
        surname, given = SURNAMES[number % 12], GIVEN[number // 12]
        students.append({"kind": kind, "late": late, "resubmitted": resubmitted,
                         "id": str(1000 + number), "surname": surname,
                         "given": given, "scratch": number in (1, 15)})
    return students


def _special(mode: int, name: str, data: bytes = b"x") -> tuple:
    info = zipfile.ZipInfo(name, DOWNLOADED_AT)
    info.external_attr = mode << 16
    return info, data


# Canvas knows no folder names: the expected folder is the file name's
# sortable name (content_zipper.rb keeps only word characters) and user id.
def _canvas_zip(path: Path, work: Path, students: list[dict]) -> dict:
    """Named as content_zipper.rb names them; lateness only from Canvas's LATE."""
    entries, expected = [], {}
    for student in students:
        sortable = HOSTILE_NAMES.get(student["kind"],
                                     f"{student['surname'].title()}, "
                                     f"{student['given'].title()}")
        called = canvas_called(sortable, student["id"], late=student["late"])
        name = called.rsplit("_", 2 if student["late"] else 1)[0]
        number = int(student["id"])
        data = _notebook(student["kind"], work)
        if student["resubmitted"]:
            # Two files of the same name in one submission: Canvas renamed the
            # later one "-1" and gave it the larger file id.
            entries.append((canvas_upload(called, 50000 + number,
                                          "initialization.ipynb"),
                            _notebook("blank", work)))
            entries.append((canvas_upload(called, 60000 + number,
                                          "initialization-1.ipynb"), data))
        else:
            entries.append((canvas_upload(called, 60000 + number,
                                          "initialization.ipynb"), data))
        if student["scratch"]:
            entries.append((canvas_upload(called, 70000 + number, "scratch.ipynb"),
                            _notebook("blank", work)))
        expected[f"{normalise(name)}_{student['id']}"] = student | {"display": name}
    entries += [
        ("../../escaped_1_2_initialization.ipynb", b"{}"),
        ("/etc/absolute_3_4_initialization.ipynb", b"{}"),
        _special(stat.S_IFLNK | 0o777, "linky_5_6_initialization.ipynb",
                 b"/etc/shadow"),
        _special(stat.S_IFCHR | 0o644, "device_7_8_initialization.ipynb"),
        ("bomb_9_10_initialization.ipynb", b" " * (8 * 2**20)),
        (canvas_upload("essay_11", 12, "notes.pdf"), b"%PDF"),
        ("notes.txt", b"hello"),
        ("random.ipynb", b"{}")]
    write_zip(path, entries)
    skipped = {"path outside the target folder (zip slip)": 2, "symbolic link": 1,
               "not a regular file (device, pipe or socket)": 1,
               "compressed more than 100 times (a zip bomb?)": 1,
               "no notebook from this student: not a notebook (.ipynb)": 1,
               "not named like a canvas submission": 2}
    return {"students": expected, "skipped": skipped, "options": []}


def _moodle_zip(path: Path, work: Path, students: list[dict]) -> dict:
    """Moodle 4.1+ "download in folders", and its grading worksheet."""
    entries, expected, worksheet = [], {}, [WORKSHEET_HEADER]
    for student in students:
        full = HOSTILE_NAMES.get(student["kind"],
                                 f"{student['given'].title()} "
                                 f"{student['surname'].title()}")
        if student["kind"] == "correct" and student["id"] == "1000":
            full = "José Müller"
        prefix = moodle_prefix(full, student["id"])
        display = prefix.rsplit("_", 1)[0]
        if student["resubmitted"]:
            entries.append((moodle_entry(prefix, "initialization.ipynb"),
                            _notebook("blank", work)))
            entries.append((moodle_entry(prefix, "initialization (1).ipynb"),
                            _notebook(student["kind"], work)))
        else:
            entries.append((moodle_entry(prefix, "initialization.ipynb"),
                            _notebook(student["kind"], work)))
        if student["scratch"]:
            entries.append((moodle_entry(prefix, "scratch.ipynb"),
                            _notebook("blank", work)))
        when = moodle_time(*(AFTER if student["late"] else ON_TIME))
        worksheet.append(moodle_worksheet_row(student["id"], full, when,
                                              "9 hours 31 mins" if student["late"]
                                              else ""))
        expected[f"{normalise(display)}_{student['id']}"] = student | {
            "display": display}
    entries += [
        ("Eve Evil_999_assignsubmission_file/../../../etc/x.ipynb", b"{}"),
        (moodle_entry(moodle_prefix("Otto Online", 998), "onlinetext.html",
                      plugin="onlinetext"), b"<p>typed</p>"),
        _special(stat.S_IFLNK | 0o777,
                 "Lin Link_997_assignsubmission_file/initialization.ipynb",
                 b"/proc/self/environ"),
        ("loose.ipynb", b"{}")]
    write_zip(path, entries)
    sheet = path.parent / "worksheet.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(worksheet)
    skipped = {"path outside the target folder (zip slip)": 1,
               "no notebook from this student: a Moodle online text, not a "
               "notebook": 1, "symbolic link": 1,
               "not named like a moodle submission": 1}
    return {"students": expected, "skipped": skipped,
            "options": ["--worksheet", sheet, "--timezone", "Europe/Berlin",
                        "--late-after", DEADLINE, "--late-penalty", "10"]}


def normalise(name: str) -> str:
    """The folder name the guide promises: accents dropped, others made "-"."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-")


def _cli(*arguments: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = course_grade([str(argument) for argument in arguments])
    return status, out.getvalue(), err.getvalue()


def _ok(*arguments: object) -> str:
    status, out, err = _cli(*arguments)
    assert status == 0, out + err
    return out


@pytest.fixture(scope="module", params=["canvas", "moodle"])
def week(request, tmp_path_factory, monkeypatch_module):
    """Everything up to ``answers``; the tests below score, report and export."""
    platform = request.param
    root = tmp_path_factory.mktemp(platform)
    # This assignment only, whatever other assignments the course adds.
    source = root / "source"
    source.mkdir()
    shutil.copy(SOURCE_DIR / f"{ASSIGNMENT}.ipynb", source)
    students = _students()
    archive = root / "download.zip"
    build = _canvas_zip if platform == "canvas" else _moodle_zip
    built = build(archive, root / "work", students)
    gradebook, submissions = root / "gradebook.sqlite", root / "submissions"
    collect_out = _ok("collect", archive, submissions, "--assignment", ASSIGNMENT,
                      "--gradebook", gradebook, "--report", root / "collected.csv",
                      *built["options"])
    _ok("release", source, root / "release")
    _ok("release", source, root / "release", "--check")
    _ok("grade", source, submissions, "--gradebook", gradebook, "--jobs", "2",
        "--timeout", str(TIMEOUT))
    _ok("answers", "--gradebook", gradebook, "--out", root / "review.csv")
    _ok("answers", "--gradebook", gradebook, "--out", root / "review.md")
    return {"root": root, "gradebook": gradebook, "submissions": submissions,
            "students": built["students"], "skipped": built["skipped"],
            "collect_out": collect_out, "platform": platform,
            "penalty": 10.0 if platform == "moodle" else 0.0, "source": source}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO_ROOT)
        yield patch


def _expected(week: dict) -> dict[str, dict]:
    """Per student folder: function points and statuses, answer, written, total."""
    expected = {}
    for folder, student in week["students"].items():
        statuses, answer = KINDS[student["kind"]]
        functions = {name: (POINTS[name] if status == "passed" else 0, status)
                     for name, status in zip(GRADED_FUNCTIONS, statuses, strict=True)}
        auto = sum(points for points, _ in functions.values())
        written = None if student["kind"] == "malformed" else _points_for(answer)
        if student["kind"] == "hostile":
            # Its prompt no longer matches the source's: the whole cell is
            # its answer (the points the instructor gives stay those above).
            answer = (_release_prompt().replace(SOURCE_BOLD, FORGED_BOLD)
                      + "\n\n" + answer)
        before = auto + (written or 0)
        penalty = round(before * week["penalty"] / 100, 2) if student["late"] else 0
        expected[folder] = student | {
            "functions": functions, "auto": auto, "answer": answer or "",
            "written": written, "penalty": penalty, "total": before - penalty,
            "status": "malformed" if student["kind"] == "malformed" else "graded"}
    return expected


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(value: float) -> str:
    value = round(float(value), 4)
    return str(int(value)) if value.is_integer() else str(value)


def test_collect_reports_every_entry(week):
    students = week["students"]
    report = _read_csv(week["root"] / "collected.csv")
    collected = [row for row in report if row["status"] == "collected"]
    assert sorted(row["student"] for row in collected) == sorted(students)
    late = sum(1 for student in students.values() if student["late"])
    not_graded = sum(student["resubmitted"] + student["scratch"]
                     for student in students.values())
    assert (f"{week['platform']}: collected {len(students)}, of which {late} late; "
            f"skipped {sum(week['skipped'].values())}; other files not graded "
            f"{not_graded}") in week["collect_out"]
    reasons = Counter(row["reason"].split(" (")[0]
                      if row["reason"].startswith("not named like") else row["reason"]
                      for row in report if row["status"] == "skipped")
    assert reasons == week["skipped"]
    # The scratch notebooks and the first of two same-named files: not graded.
    assert Counter(row["reason"].split(";")[0] for row in report
                   if row["status"] == "not graded") == {
        "another notebook": 2,
        "an older candidate": 2}
    # Only normalised folders were written, each with one notebook.
    folders = sorted(path.name for path in week["submissions"].iterdir())
    assert folders == sorted(students)
    assert all(re.fullmatch(r"[a-z0-9-]+_\d+", name) for name in folders)
    assert all([path.name for path in (week["submissions"] / name).iterdir()]
               == [f"{ASSIGNMENT}.ipynb"] for name in folders)
    assert not (week["root"] / "escaped_1_2_initialization.ipynb").exists()
    # A formula in a name is neutralised in the report.
    originals = [row["original"] for row in report]
    if week["platform"] == "moodle":
        number = 1000 + len(PLAN) - 1
        assert (f"'=HYPERLINK(httpevil)_{number}_assignsubmission_file/"
                f"initialization.ipynb" in originals)
    with sqlite3.connect(week["gradebook"]) as connection:
        rows = connection.execute(
            "SELECT student, platform, platform_id, display_name, late, "
            "late_seconds, penalty_percent FROM collected").fetchall()
    assert len(rows) == len(students)
    for student, platform, platform_id, display, is_late, seconds, penalty in rows:
        plan = students[student]
        assert (platform, platform_id, display) == (week["platform"], plan["id"],
                                                    plan["display"])
        assert bool(is_late) == plan["late"]
        # Moodle: 9:30 the next morning, after 23:59 (the worksheet's times);
        # Canvas says late, not by how much.
        assert seconds == (9 * 3600 + 31 * 60 if plan["late"]
                           and platform == "moodle" else None)
        assert penalty == (week["penalty"] if plan["late"] else 0)


def test_grades_and_newest_resubmission(week):
    expected = _expected(week)
    with sqlite3.connect(week["gradebook"]) as connection:
        submissions = dict(connection.execute(
            "SELECT student, status || ' ' || points || ' ' || max_points "
            "FROM submissions").fetchall())
        functions = connection.execute(
            "SELECT student, function, status, points FROM function_grades"
        ).fetchall()
    assert submissions == {folder: f"{plan['status']} {float(plan['auto'])} 7.0"
                           for folder, plan in expected.items()}
    assert len(functions) == 3 * len(expected)
    for student, function, status, points in functions:
        assert (points, status) == expected[student]["functions"][function], \
            (student, function)
    resubmitted = [folder for folder, plan in expected.items() if plan["resubmitted"]]
    assert len(resubmitted) == 2
    assert all(expected[folder]["auto"] == 7 for folder in resubmitted)


def test_review_files_hold_every_answer_neutralised(week):
    expected = _expected(week)
    rows = _read_csv(week["root"] / "review.csv")
    answered = {folder: plan for folder, plan in expected.items()
                if plan["written"] is not None}
    assert len(rows) == len(answered)
    for row in rows:
        plan = answered[row["student"]]
        # A blank answer comes pre-scored 0 (marked), the others unscored.
        assert (row["assignment"], row["question"], row["max_points"],
                row["points"]) == (ASSIGNMENT, "question_1", "2",
                                   "" if plan["answer"] else "0")
        answer = plan["answer"]
        assert row["answer"] == ("'" + answer if answer.startswith("=") else answer)
    markdown = (week["root"] / "review.md").read_text()
    assert markdown.count("### ") == len(answered)
    # The question's prompt, from the source, as the Markdown it is (a block
    # quote, nothing escaped), once; the forged one only inside an answer.
    quoted = "\n".join(f"> {line}".rstrip() for line in _release_prompt().split("\n"))
    assert markdown.count(quoted) == 1 and "\\*" not in markdown
    assert all(line.startswith("    ") for line in markdown.split("\n")
               if "200 points" in line)
    # Answers are indented code blocks (shown literally); other text is escaped.
    assert all(line.startswith("    ") for line in markdown.split("\n")
               if "<" in line)


def _write_points(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def scored(week):
    """Refused imports first (nothing stored), then the instructor's points."""
    expected = _expected(week)
    gradebook, review = week["gradebook"], week["root"] / "review.csv"
    rows = _read_csv(review)
    for row in rows:
        row["points"] = _number(expected[row["student"]]["written"])
        row["comment"] = "=SUM(A1) <b>see me</b>" if row["answer"] else ""
    bad = week["root"] / "bad.csv"
    refusals = {
        "unknown student 'nobody_1'": [*rows, rows[0] | {"student": "nobody_1"}],
        "above the maximum 2": [rows[0] | {"points": "2.5"}, *rows[1:]],
        "no row for": rows[1:],
        "no points for": [rows[0] | {"points": ""}, *rows[1:]],
        "is not a number": [rows[0] | {"points": "two"}, *rows[1:]],
        "a second row for": [*rows, rows[0]],
    }
    for message, bad_rows in refusals.items():
        _write_points(bad, bad_rows)
        status, out, err = _cli("score", "--gradebook", gradebook, bad)
        assert status == 1 and message in err and len(err.strip().split("\n")) == 1, \
            (message, err)
        with sqlite3.connect(gradebook) as connection:
            # Only the blank answers' automatic 0s: nothing was imported.
            assert connection.execute(
                "SELECT COUNT(*) FROM written_answers WHERE points IS NOT NULL"
            ).fetchone() == (sum(not row["answer"] for row in rows),)
    _write_points(review, rows)
    out = _ok("score", "--gradebook", gradebook, review)
    assert f"scored {len(rows)} answer(s)" in out
    _ok("feedback", "--gradebook", gradebook)
    _ok("report", "--gradebook", gradebook, "--out", week["root"] / "report.html")
    for platform in ("generic", week["platform"]):
        _ok("export", "--gradebook", gradebook, "--csv",
            week["root"] / f"{platform}.csv", "--format", platform)
    return week | {"expected": expected}


def test_feedback_pages_show_every_number_and_no_secret(scored):
    hidden_arguments = ["[6, 3, 8, 1]", "[2, 4, 1]", "[5, 4, 3, 2, 1]",
                        "[4, 6, 3, 1]", "secret", "9, 9"]
    prompt = _release_prompt()
    prompt_html = "<p>" + re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>",
                                 prompt) + "</p>\n"
    quoted = "\n".join(f"> {line}".rstrip() for line in prompt.split("\n"))
    for folder, plan in scored["expected"].items():
        page = (scored["root"] / "feedback" / folder / f"{ASSIGNMENT}.html"
                ).read_text()
        markdown = (scored["root"] / "feedback" / folder / f"{ASSIGNMENT}.md"
                    ).read_text()
        title = f"{ASSIGNMENT}: {_number(plan['total'])} / 9 points"
        assert f"<h1>{title}</h1>" in page and markdown.startswith(f"# {title}")
        rows = re.findall(r"<tr><td><code>(\w+)</code></td><td>([\d.]+) / ([\d.]+)"
                          r'</td><td class="(\w+)">', page)
        assert {name: (float(points), status) for name, points, _, status in rows} \
            == {name: (float(points), status) for name, (points, status)
                in plan["functions"].items()}
        assert [float(maximum) for _, _, maximum, _ in rows] == [2, 2, 3]
        if plan["written"] is not None:
            assert f"question_1: {_number(plan['written'])} / 2 points" in page
            assert html.escape(plan["answer"]) in page or not plan["answer"]
            # The source's prompt, formatted (CommonMark: ** is <strong>).
            assert page.count(f'<blockquote class="prompt">{prompt_html}'
                              "</blockquote>") == 1, folder
            assert markdown.count(quoted) == 1, folder
        assert "**Question" not in page.replace(html.escape(plan["answer"]), "")
        assert all(line.startswith("    ") for line in markdown.split("\n")
                   if "200 points" in line)
        if plan["late"]:
            assert ("submitted late; " if scored["penalty"] else
                    "submitted late (no points taken off)") in page
        if plan["answer"]:
            assert "Comment: =SUM(A1) &lt;b&gt;see me&lt;/b&gt;" in page
        assert f"({html.escape(plan['display'])})" in page \
            or plan["display"] == folder
        assert "<script" not in page and "<img" not in page
        assert 'http-equiv="Content-Security-Policy"' in page
        assert (f'<a href="https://weight-init-course.github.io/weight-initialization/'
                f'book/exercises/{ASSIGNMENT}.html">') in page
        for secret in hidden_arguments:
            assert secret not in page and secret not in markdown, (folder, secret)
    # With the instructor's explicit option, the calls are named.
    out = scored["root"] / "with-calls"
    _ok("feedback", "--gradebook", scored["gradebook"], "--out", out,
        "--show-hidden-calls", "--source", scored["source"])
    some = next(folder for folder, plan in scored["expected"].items()
                if plan["kind"] == "correct")
    assert "<code>initialize_parameters_he([6, 3, 8, 1])</code>" in (
        out / some / f"{ASSIGNMENT}.html").read_text()
    # In Markdown, a code span: read as it is, not escaped (no "\[").
    with_calls = (out / some / f"{ASSIGNMENT}.md").read_text()
    assert "- hidden check 3, `initialize_parameters_he([6, 3, 8, 1])`: passed" \
        in with_calls and "\\[" not in with_calls
    status, _, err = _cli("feedback", "--gradebook", scored["gradebook"],
                          "--show-hidden-calls")
    assert status == 1 and "show_hidden_calls: needs source_dir" in err


def _table(page: str, table_id: str, attribute: str = "id") -> list[list[str]]:
    body = re.search(rf'<table {attribute}="{table_id}">(.*?)</table>', page,
                     re.DOTALL)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)][1:]


def test_class_report_counts(scored):
    expected = scored["expected"]
    page = (scored["root"] / "report.html").read_text()
    counts = {html.unescape(title): {float(points): int(count) for points, count in
                                     re.findall(r"<tr><td>([\d.]+)</td><td>(\d+)"
                                                r"</td></tr>", body)}
              for title, body in re.findall(
                  r'<table class="counts" data-title="([^"]+)">(.*?)</table>', page,
                  re.DOTALL)}
    wanted = {f"{ASSIGNMENT}: {name}": Counter(plan["functions"][name][0]
                                               for plan in expected.values())
              for name in GRADED_FUNCTIONS}
    wanted[f"{ASSIGNMENT}: question_1 (written)"] = Counter(
        plan["written"] for plan in expected.values() if plan["written"] is not None)
    wanted[f"{ASSIGNMENT}: total"] = Counter(plan["total"]
                                             for plan in expected.values())
    assert counts == {title: {float(points): count for points, count
                              in counter.items()} for title, counter in wanted.items()}
    assert page.count("<figure") == 5 and page.count("data:image/png;base64,") == 5
    kinds = Counter(plan["kind"] for plan in expected.values())
    failures = Counter()
    for function, message, count in _table(page, "failures"):
        failures[(re.sub(r"</?code>", "", function),
                  message.split(":", 1)[0])] += int(count)
    not_implemented = "raised NotImplementedError"
    assert failures[(ZEROS, not_implemented)] == kinds["blank"] + kinds["formula"]
    assert failures[(RANDOM, not_implemented)] == \
        kinds["blank"] + kinds["formula"] + kinds["zeros"]
    assert failures[(ZEROS, "raised ValueError")] == kinds["raising"]
    assert sum(count for (function, message), count in failures.items()
               if function == HE and "timed out" in message) >= kinds["timeout"]
    problems = _table(page, "problems")
    assert sorted((row[2], row[3]) for row in problems) == sorted(
        [(HE, "timeout")] * kinds["timeout"]
        + [("(whole submission)", "malformed")] * kinds["malformed"])
    runs = _table(page, "runs")
    assert len(runs) == 1 and runs[0][2:] == [str(len(expected)), "2"]
    assert float(runs[0][1]) > 0
    assert "<script" not in page


# What each kind's graded-function status reads as on the student's page: the
# "wrong" kind returns {} (no keys), the others raise or loop.
OUTCOME_OF = {"failed": "wrong shape or keys", "error": "raised an error",
              "timeout": "timed out"}
OUTCOMES = ("wrong value", "wrong shape or keys", "raised an error", "timed out",
            "crashed")


def test_class_report_opens_with_a_summary_and_shows_lateness_and_names(scored):
    expected = scored["expected"]
    page = (scored["root"] / "report.html").read_text()
    # The summary comes first, then the hidden checks, then lateness.
    order = [page.index(f'<table {name}>') for name in
             ('id="summary"', 'id="hidden-failures"', 'id="late"', 'id="failures"',
              'class="mapping"')]
    assert order == sorted(order) and page.index("<figure") > order[2]
    totals = sorted(plan["total"] for plan in expected.values())
    malformed = sum(plan["status"] == "malformed" for plan in expected.values())
    summary = [row[0].split(" (")[0] for row in _table(page, "summary")]
    assert summary == ["submitted", "graded", "not graded", "missing", "late",
                       "written answers not scored yet", "total: maximum",
                       "total: mean", "total: median", "total: lowest",
                       "total: highest", "total: full marks"]
    # Every folder has a notebook (none missing); the malformed one is not
    # graded; every written answer is scored by now.
    assert [row[1] for row in _table(page, "summary")] == [
        str(len(expected)), str(len(expected) - malformed), str(malformed), "0",
        str(sum(plan["late"] for plan in expected.values())), "0", "9",
        _number(round(statistics.fmean(totals), 2)),
        _number(statistics.median(totals)), _number(totals[0]),
        _number(totals[-1]), str(sum(total == 9 for total in totals))]
    # Each hidden check: the submissions that failed it, by outcome (every
    # check of a function fails alike in this class; malformed: no checks).
    wanted = {}
    for index, function in enumerate(GRADED_FUNCTIONS):
        outcomes = Counter(OUTCOME_OF[KINDS[plan["kind"]][0][index]]
                           for plan in expected.values()
                           if KINDS[plan["kind"]][0][index] in OUTCOME_OF)
        for number in (1, 2, 3):
            wanted[(function, number)] = [str(sum(outcomes.values()))] + [
                str(outcomes[outcome]) for outcome in OUTCOMES]
    rows = _table(page, "hidden-failures")
    assert {(re.sub(r"</?code>", "", row[0]), int(row[1])): row[2:]
            for row in rows} == wanted
    failed = [int(row[2]) for row in rows]
    assert failed == sorted(failed, reverse=True)
    # Lateness: who, how late (Moodle: 9 h 31 min by the worksheet; Canvas
    # says only that it is late), the penalty and the points it took.
    how = "9.5 h" if scored["platform"] == "moodle" else "marked LATE by Canvas"
    assert sorted(_table(page, "late")) == sorted(
        [html.escape(folder), ASSIGNMENT, how, _number(scored["penalty"]),
         _number(plan["penalty"])]
        for folder, plan in expected.items() if plan["late"])
    # The name mapping: one row per collected student, as collect read it.
    assert page.count('<table class="mapping">') == 1
    assert f"<h3>{ASSIGNMENT} (layout: {scored['platform']}" in page
    mapping = {html.unescape(row[0]): row for row in _table(page, "mapping",
                                                            "class")}
    assert set(mapping) == set(expected)
    for folder, plan in expected.items():
        row = [html.unescape(cell) for cell in mapping[folder]]
        others = (["initialization.ipynb"] if plan["resubmitted"] else []) + (
            ["scratch.ipynb"] if plan["scratch"] else [])
        assert row[1:3] == [plan["display"], f"{scored['platform']} {plan['id']}"]
        assert row[3].endswith(("initialization.ipynb", "initialization-1.ipynb",
                                "initialization (1).ipynb")), row[3]
        assert row[4] and row[5].split("; ") == (others or [""])
        assert row[6] == ("late" if plan["late"] else "")
    assert "no record" not in page  # every folder was collected


def test_exports_for_the_platform_and_generic(scored):
    expected = scored["expected"]
    generic = _read_csv(scored["root"] / "generic.csv")
    assert {row["student"]: (row["points"], row["max_points"], row["status"])
            for row in generic} == {folder: (_number(plan["total"]), "9",
                                             plan["status"])
                                    for folder, plan in expected.items()}
    rows = _read_csv(scored["root"] / f"{scored['platform']}.csv")
    neutral = {plan["display"]: ("'" + plan["display"]
                                 if plan["display"].startswith("=")
                                 else plan["display"]) for plan in expected.values()}
    if scored["platform"] == "canvas":
        assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID",
                                 "Section", ASSIGNMENT]
        assert {row["ID"]: (row["Student"], row[ASSIGNMENT]) for row in rows} == {
            plan["id"]: (neutral[plan["display"]], _number(plan["total"]))
            for plan in expected.values()}
    else:
        assert list(rows[0]) == ["Identifier", "Full name", "Grade",
                                 "Maximum Grade", "Feedback comments"]
        assert {row["Identifier"]: (row["Full name"], row["Grade"],
                                    row["Maximum Grade"]) for row in rows} == {
            f"Participant {plan['id']}": (neutral[plan["display"]],
                                          _number(plan["total"]), "9")
            for plan in expected.values()}
        late = [row for row in rows if "late" in row["Feedback comments"]]
        assert len(late) == sum(plan["late"] for plan in expected.values())


@pytest.mark.browser
def test_hostile_pages_run_no_script_and_request_nothing(scored, artifacts_dir):
    """Feedback pages of the hostile students and the report, in real Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.test_site import CHROMIUM, CHROMIUM_ARGS

    assert CHROMIUM, "chromium is not installed (make test installs it on Debian)"
    if scored["platform"] != "canvas":
        pytest.skip("checked on the Canvas week: the same code writes both")
    hostile = [folder for folder, plan in scored["expected"].items()
               if plan["kind"] in ("hostile", "formula")]
    pages = [scored["root"] / "feedback" / folder / f"{ASSIGNMENT}.html"
             for folder in hostile] + [scored["root"] / "report.html"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_ARGS)
        try:
            for path in pages:
                page = browser.new_page()
                requests, dialogs, errors = [], [], []
                page.on("request", lambda request, log=requests: log.append(
                    request.url))
                page.on("dialog", lambda dialog, log=dialogs: (
                    log.append(dialog.message), dialog.dismiss()))
                page.on("pageerror", lambda error, log=errors: log.append(str(error)))
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_timeout(300)
                title = page.title()
                text = page.inner_text("body")
                images = page.evaluate("[...document.images].map(i => i.src)")
                scripts = page.evaluate("document.scripts.length")
                # What a reader sees first: the report's summary; the question
                # in bold as the source formats it, never the forged prompt.
                headings = page.evaluate(
                    "[...document.querySelectorAll('h2')].map(h => h.textContent)")
                bold = page.evaluate(
                    "[...document.querySelectorAll('blockquote.prompt strong')]"
                    ".map(e => e.textContent)")
                shot = "report" if path.name == "report.html" else path.parent.name
                page.screenshot(path=str(artifacts_dir / f"week-{shot}.png"),
                                full_page=True)
                page.close()
                assert dialogs == [] and errors == [] and scripts == 0, path
                assert "pwned" not in title
                assert [url for url in requests
                        if url != path.as_uri() and not url.startswith("data:")] \
                    == [], path
                assert all(src.startswith("data:image/png") for src in images)
                if path.name != "report.html":
                    assert images == []
                    plan = scored["expected"][path.parent.name]
                    assert plan["display"] in text
                    if plan["kind"] == "hostile":
                        assert HOSTILE_ANSWER in text
                        assert FORGED_BOLD in text  # shown as the answer's text
                    assert bold == ["Question (2 points, graded by your "
                                    "instructor)."]
                else:
                    assert headings[:4] == ["Summary", "Hidden checks most often "
                                            "failed", "Late submissions", "Points"]
        finally:
            browser.close()


def test_class_report_summary_counts_missing_by_hand_and_plain_folders(tmp_path):
    """A gradebook written by hand: every number below is worked out by hand."""
    from course_utils.grading.gradebook import (
        FunctionGrade,
        Gradebook,
        SubmissionGrade,
        WrittenAnswer,
    )
    from course_utils.grading.pages import write_class_report

    path = tmp_path / "gradebook.sqlite"
    checks = {"a": "hidden check 1: passed\nhidden check 2: passed",
              "b": "hidden check 1: passed\nhidden check 2: wrong value"}
    with Gradebook(path) as book:
        book.record_questions("hw", [("q1", "Why?", 2.0)])
        for student, status, points in (("a", "graded", 3.0), ("b", "graded", 0.0),
                                        ("c", "missing", 0.0),
                                        ("d", "malformed", 0.0)):
            function = FunctionGrade("f", "passed" if points else "failed", points,
                                     3.0, "", checks.get(student, ""))
            book.record(SubmissionGrade(
                student, "hw", status, "", student, "source", (function,), "",
                (WrittenAnswer("q1", "because"),) if student in "ab" else None))
        columns = ("student, assignment, original_name, platform, platform_id, "
                   "display_name, submitted_at, late, late_seconds, "
                   "penalty_percent, layout, chosen_because, not_graded")
        book.transaction([
            (f"INSERT INTO collected ({columns}) VALUES "
             "(?, ?, ?, ?, ?, ?, '', 1, ?, ?, ?, ?, ?)", row) for row in (
                ("a", "hw", "ada_LATE_11_5_hw.ipynb", "canvas", "11", "ada", None,
                 0.0, "canvas", "named like the assignment (hw.ipynb)", ""),
                ("b", "hw", "Bo.ipynb", "folder", "", "Bo", 7200.0, 10.0,
                 "folder", "its only notebook", "notes.txt"))])
        book.transaction([("UPDATE written_answers SET points = ? WHERE student = ?",
                           (points, student)) for student, points in
                          (("a", 2.0), ("b", 1.0))])
    out = tmp_path / "report.html"
    numbers = write_class_report(path, out)
    page = out.read_text()
    # a: 3 + 2 = 5, late (Canvas), no penalty; b: 0 + 1 = 1 less 10 % = 0.9,
    # late by 2 h; c: missing; d: malformed, 0. Submitted: a, b, d.
    assert [row[1] for row in _table(page, "summary")] == [
        "3", "2", "1", "1", "2", "0", "5", "1.97", "0.9", "0", "5", "1"]
    assert numbers["summary"]["hw"]["mean"] == round((5 + 0.9 + 0) / 3, 2)
    assert _table(page, "hidden-failures") == [
        ["<code>f</code>", "2", "1", "1", "0", "0", "0", "0"]]
    assert _table(page, "late") == [["a", "hw", "marked LATE by Canvas", "0", "0"],
                                    ["b", "hw", "2.0 h", "10", "0.1"]]
    assert _table(page, "mapping", "class") == [
        ["a", "ada", "canvas 11", "ada_LATE_11_5_hw.ipynb",
         "named like the assignment (hw.ipynb)", "", "late"],
        ["b", "Bo", "folder", "Bo.ipynb", "its only notebook", "notes.txt", "late"]]
    # d was graded from a folder nobody collected; c submitted nothing.
    assert "1 submission(s) have no record (put in place by hand)." in page

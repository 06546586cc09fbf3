"""``course-grade export --template``: the platform's own gradebook file, filled in.

The templates are built here the way the platforms' source writes them, by
writers that follow the platforms' CSV libraries, not the code under test:

- Canvas: ``lib/gradebook_exporter.rb`` (instructure/canvas-lms) through
  Ruby's CSV (a field is quoted only when it holds the separator, a quote or a
  line end; ``nil`` is an empty field, ``""`` is written ``""``; rows end in
  ``\\n``): header ``Student, ID, SIS User ID, SIS Login ID, Section``, custom
  columns, ``Title (id)`` per assignment, totals; an optional ``Manual
  Posting`` row, the ``    Points Possible`` row (numbers to two decimals,
  ``(read only)`` under totals); ``N/A`` where an assignment is not assigned.
- Moodle: ``mod/assign/gradingtable.php`` through the csv dataformat (a UTF-8
  byte-order mark, PHP ``fputcsv``: a field with a space, tab, backslash,
  the delimiter, a quote or a line end is quoted; rows end in ``\\n``).

The expected output is the same writer given the same table with only the
assignment's cells changed, so every other byte must come back as it was.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest

from course_utils.grading.cli import main
from course_utils.grading.gradebook import Gradebook
from course_utils.grading.platforms import export_platform
from course_utils.grading.platforms.imitation import php_fputcsv, ruby_csv

ASSIGNMENT = "initialization"


# (canvas id, moodle id, sortable name, full name, auto points, written points
#  or None when unscored, status, late penalty percent)
STUDENTS = [
    ("101", "3001", "García, José", "José García", 7.0, 2.0, "graded", 0.0),
    ("102", "3002", "O'Brien, Pat", "Pat O'Brien", 4.0, 1.0, "graded", 10.0),
    ("103", "3003", "Li, Na", "Na Li", 0.0, 0.0, "missing", 0.0),
    ("104", "3004", "=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0", 3.0, 0.0,
     "graded", 0.0),
]
# What a person computes from the plan: functions + written - late penalty.
EXPECTED = {"101": "9", "102": "4.5", "104": "3"}
EXPECTED_MOODLE = {"3001": "9", "3002": "4.5", "3004": "3"}


def _gradebook(path: Path, platform: str, written: dict | None = None) -> Path:
    with Gradebook(path) as gradebook:
        gradebook.record_questions(ASSIGNMENT, [("q1", "Why?", 2.0)])
        statements = []
        for canvas_id, moodle_id, sortable, full, auto, points, status, late in \
                STUDENTS:
            student = f"student_{canvas_id}"
            platform_id = canvas_id if platform == "canvas" else moodle_id
            display = sortable if platform == "canvas" else full
            points = (written or {}).get(canvas_id, points)
            statements += [
                ("INSERT INTO submissions (student, assignment, status, points, "
                 "max_points, detail, submission_sha256, source_sha256, "
                 "graded_at) VALUES (?, ?, ?, ?, 7, '', '', '', '')",
                 (student, ASSIGNMENT, status, auto)),
                ("INSERT INTO written_answers (student, assignment, question, "
                 "answer, points) VALUES (?, ?, 'q1', 'because', ?)",
                 (student, ASSIGNMENT, points)),
            ]
            if status != "missing":
                statements.append((
                    "INSERT INTO collected (student, assignment, original_name, "
                    "platform, platform_id, display_name, submitted_at, late, "
                    "late_seconds, penalty_percent) VALUES "
                    "(?, ?, ?, ?, ?, ?, '2026-11-20T23:00:00', ?, NULL, ?)",
                    (student, ASSIGNMENT, f"{student}.ipynb", platform,
                     platform_id, display, int(late > 0), late)))
        gradebook.transaction(statements)
    return path


CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Notes",
                 "Quiz 1 (4700)", "Initialization (4711)", "Variance (4712)",
                 "Assignments Current Points", "Assignments Final Points",
                 "Assignments Current Score", "Assignments Unposted Current Score",
                 "Assignments Final Score", "Assignments Unposted Final Score",
                 "Current Points", "Final Points", "Current Score",
                 "Unposted Current Score", "Final Score", "Unposted Final Score"]
READ_ONLY = "(read only)"


def _canvas_rows(initialization: dict[str, str | None],
                 possible: str = "9.00") -> list[list[str | None]]:
    """Canvas's export; ``initialization`` gives the column's cell per user id."""
    rows = [list(CANVAS_HEADER),
            [None] * 7 + [None, "Manual Posting"] + [None] * 12,
            ["    Points Possible", None, None, None, None, None, "10.00", possible,
             "5.00"] + [READ_ONLY] * 12]
    people = [(c, s) for c, _, s, *_ in STUDENTS] + [
        ("105", "Zed, Never Submitted"), ("106", "Other, Section"),
        ("999", "Student, Test")]
    for canvas_id, sortable in people:
        name = f'="{sortable}"' if sortable.startswith("=") else sortable
        cell = initialization.get(canvas_id)
        if canvas_id == "106":
            cell = "N/A"
        rows.append([name, canvas_id, f"S{canvas_id}", f"login{canvas_id}",
                     "Section A, Tuesday", None, "8.50", cell, None,
                     "8.50", "8.50", "85.00", "85.00", "42.50", "42.50",
                     "8.50", "8.50", "85.00", "85.00", "42.50", "42.50"])
    return rows


def _run(tmp_path: Path, template_text: str, platform: str, encoding_bom: bool = False,
         **options):
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))
    template = tmp_path / f"{platform}-template.csv"
    template.write_bytes(("\ufeff" if encoding_bom else "").encode()
                         + template_text.encode("utf-8"))
    gradebook = _gradebook(tmp_path / "gradebook.sqlite", platform,
                           options.pop("written", None))
    out = tmp_path / "out.csv"
    result = export_platform(gradebook, out, platform, template=template, **options)
    (tmp_path.parent / "out.csv").write_bytes(out.read_bytes())
    return result, out.read_bytes()


def test_canvas_export_fills_one_column_and_keeps_every_other_byte(tmp_path):
    template = ruby_csv(_canvas_rows({}))
    result, output = _run(tmp_path, template, "canvas")
    expected = ruby_csv(_canvas_rows(EXPECTED))
    assert output == expected.encode("utf-8")
    assert result.for_upload and result.column == "Initialization (4711)"
    # 103 was never collected, 105 never submitted, 106 is not assigned (N/A),
    # 999 is Canvas's test student.
    assert result.left_blank == ["103", "105", "106", "999"]
    assert result.rows == 3


def test_canvas_missing_as_zero_fills_every_student_in_the_file(tmp_path):
    template = ruby_csv(_canvas_rows({}))
    result, output = _run(tmp_path, template, "canvas", missing_as_zero=True)
    zeros = {"103": "0", "105": "0", "999": "0"}
    assert output == ruby_csv(_canvas_rows(EXPECTED | zeros)).encode("utf-8")
    assert any("N/A" in note for note in result.notes)


def test_canvas_semicolon_export_with_bom_and_crlf(tmp_path):
    rows = _canvas_rows({}, possible="9,00")
    template = ruby_csv(rows, separator=";", row_end="\r\n")
    _, output = _run(tmp_path, template, "canvas", encoding_bom=True)
    expected = ruby_csv(_canvas_rows(EXPECTED, possible="9,00"), separator=";",
                        row_end="\r\n")
    assert output == ("\ufeff" + expected).encode("utf-8")


@pytest.mark.parametrize("column", ["Initialization (4711)", "Initialization"])
def test_canvas_column_chosen_by_header_or_title(tmp_path, column):
    template = ruby_csv(_canvas_rows({}))
    result, output = _run(tmp_path, template, "canvas", column=column)
    assert result.column == "Initialization (4711)"
    assert output == ruby_csv(_canvas_rows(EXPECTED)).encode("utf-8")


def test_canvas_refuses_instead_of_creating_an_assignment(tmp_path):
    rows = _canvas_rows({})
    for row in rows:
        del row[7]
    with pytest.raises(ValueError, match=r"no assignment column .* matches"):
        _run(tmp_path, ruby_csv(rows), "canvas")
    with pytest.raises(ValueError, match="no assignment column"):
        _run(tmp_path, ruby_csv(_canvas_rows({})), "canvas", column="Homework 9")
    with pytest.raises(ValueError, match="no assignment column"):
        _run(tmp_path, ruby_csv(_canvas_rows({})), "canvas",
             column="Current Score")


def test_canvas_two_columns_with_the_title_are_ambiguous(tmp_path):
    rows = _canvas_rows({})
    rows[0][8], rows[2][8] = "initialization (4712)", "9.00"
    with pytest.raises(ValueError, match="matches 2 columns"):
        _run(tmp_path, ruby_csv(rows), "canvas")
    result, _ = _run(tmp_path, ruby_csv(rows), "canvas",
                     column="initialization (4712)")
    assert result.column == "initialization (4712)"


def test_canvas_points_possible_must_match(tmp_path):
    with pytest.raises(ValueError, match=r"Points Possible '7\.00', the assignment 9"):
        _run(tmp_path, ruby_csv(_canvas_rows({}, possible="7.00")), "canvas")


def test_unscored_written_answers_refuse_unless_allowed(tmp_path):
    template = ruby_csv(_canvas_rows({}))
    with pytest.raises(ValueError, match="not scored"):
        _run(tmp_path, template, "canvas", written={"101": None})
    _, output = _run(tmp_path, template, "canvas", written={"101": None},
                     allow_unscored=True)
    assert output == ruby_csv(_canvas_rows(EXPECTED | {"101": "7"})).encode()


def test_a_graded_student_missing_from_the_template_is_an_error(tmp_path):
    rows = [row for row in _canvas_rows({}) if row[1] != "102"]
    with pytest.raises(ValueError, match=r"1 graded student.*102"):
        _run(tmp_path, ruby_csv(rows), "canvas")


MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade",
                 "Maximum Grade", "Grade can be changed",
                 "Last modified (submission)", "Online text",
                 "Last modified (grade)", "Feedback comments"]


def _moodle_rows(grades: dict[str, tuple[str, str]], maximum: str = "9.00",
                 header: list[str] = MOODLE_HEADER) -> list[list[str]]:
    rows = [list(header)]
    people = [(m, f) for _, m, _, f, *_ in STUDENTS] + [("3005", "Zed Never")]
    for moodle_id, full in people:
        grade, comment = grades.get(moodle_id, ("", ""))
        submitted = moodle_id not in ("3003", "3005")
        row = [f"Participant {moodle_id}", full, f"u{moodle_id}@example.org",
               "Submitted for grading" if submitted else "No submission", grade,
               maximum, "Yes",
               "Friday, 20 November 2026, 11:58 PM" if submitted else "-",
               "", "-", comment]
        rows.append([value for name, value in zip(MOODLE_HEADER, row, strict=True)
                     if name in header])
    return rows


MOODLE_MARKS = {
    "3001": ("9", "graded functions 7/7; written answers 2/2"),
    "3002": ("4.5", "graded functions 4/7; written answers 1/2; late, 0.5 "
                    "point(s) off"),
    "3004": ("3", "graded functions 3/7; written answers 0/2"),
}


def test_moodle_worksheet_round_trips_with_grade_and_comments(tmp_path):
    template = php_fputcsv(_moodle_rows({}))
    result, output = _run(tmp_path, template, "moodle", encoding_bom=True)
    expected = "\ufeff" + php_fputcsv(_moodle_rows(MOODLE_MARKS))
    assert output == expected.encode("utf-8")
    assert {mark[0] for mark in MOODLE_MARKS.values()} == set(
        EXPECTED_MOODLE.values())
    assert result.rows == 3 and result.column == "Grade"
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["Identifier"]: row["Grade"] for row in rows if row["Grade"]} == {
        f"Participant {key}": value for key, value in EXPECTED_MOODLE.items()}


def test_moodle_names_a_grade_that_cannot_be_changed(tmp_path):
    rows = _moodle_rows({})
    rows[2][6] = "No"  # Participant 3002
    result, output = _run(tmp_path, php_fputcsv(rows), "moodle")
    assert [note for note in result.notes if "cannot be changed" in note] == [
        "Participant 3002: the worksheet says the grade cannot be changed (locked "
        "or overridden in the gradebook); Moodle will skip it"]
    expected = _moodle_rows(MOODLE_MARKS)
    expected[2][6] = "No"
    assert output == php_fputcsv(expected).encode("utf-8")


def test_moodle_missing_as_zero(tmp_path):
    template = php_fputcsv(_moodle_rows({}))
    _, output = _run(tmp_path, template, "moodle", missing_as_zero=True)
    marks = MOODLE_MARKS | {"3005": ("0", "")}
    # 3003 was never collected (no download entry): like 3005, only a zero.
    marks["3003"] = ("0", "")
    assert output == php_fputcsv(_moodle_rows(marks)).encode("utf-8")


def test_moodle_checks_the_maximum_and_the_required_columns(tmp_path):
    with pytest.raises(ValueError, match=r"Maximum Grade .10\.00."):
        _run(tmp_path, php_fputcsv(_moodle_rows({}, maximum="10.00")), "moodle")
    without = [name for name in MOODLE_HEADER if name != "Last modified (grade)"]
    with pytest.raises(ValueError, match="Last modified \\(grade\\)"):
        _run(tmp_path, php_fputcsv(_moodle_rows({}, header=without)), "moodle")
    no_comments = [name for name in MOODLE_HEADER if name != "Feedback comments"]
    result, output = _run(tmp_path, php_fputcsv(_moodle_rows({}, header=no_comments)),
                          "moodle")
    grades_only = {key: (grade, "") for key, (grade, _) in MOODLE_MARKS.items()}
    assert output == php_fputcsv(_moodle_rows(grades_only,
                                              header=no_comments)).encode()
    assert any("Feedback comments" in note for note in result.notes)


def test_cli_says_a_file_without_template_is_for_review(tmp_path, capsys):
    gradebook = _gradebook(tmp_path / "gradebook.sqlite", "canvas")
    assert main(["export", "--gradebook", str(gradebook), "--csv",
                 str(tmp_path / "review.csv"), "--format", "canvas"]) == 0
    assert "FOR REVIEW, NOT FOR UPLOAD" in capsys.readouterr().out
    template = tmp_path / "canvas.csv"
    template.write_text(ruby_csv(_canvas_rows({})), encoding="utf-8")
    assert main(["export", "--gradebook", str(gradebook), "--csv",
                 str(tmp_path / "upload.csv"), "--format", "canvas",
                 "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "filled 3 row(s) of 'Initialization (4711)'" in out
    assert "4 other student row(s) (no submission, or not assigned) left as in " \
        "the template" in out
    assert main(["export", "--gradebook", str(gradebook), "--csv",
                 str(tmp_path / "x.csv"), "--format", "canvas",
                 "--missing-as-zero"]) == 1


# --- feedback --platform-zip --------------------------------------------------
# The platforms' matchers, written from their source (not from the code under
# test): Canvas app/models/assignment.rb infer_comment_context_from_filename;
# Moodle mod/assign/feedback/file/importziplib.php is_valid_filename_for_import.


def canvas_reads(entry: str) -> tuple[str | None, str | None]:
    filename = entry.rsplit("/", 1)[-1]
    split = filename.split("_")
    numbers = [part for part in split if re.fullmatch(r"\d+", part)][:2]
    user_id, attachment_id = [*numbers, None, None][:2]
    if split[-1].startswith("link") or filename.startswith("._"):
        attachment_id = None
    return user_id, attachment_id


def moodle_reads(entry: str) -> tuple[str, str, str, str] | None:
    if entry.endswith("/") or entry.rsplit("/", 1)[-1].startswith((".", "~")):
        return None
    parts = entry.split("/")
    while parts:
        info = parts.pop(0).split("_", 4)  # PHP explode('_', $part, 5)
        if len(info) < 4 or not info[1].isdigit():
            continue
        filename = "/".join([info[4] if len(info) == 5 else "", *parts])
        return info[1], info[2], info[3], filename.lstrip("/")
    return None


CANVAS_DOWNLOAD = {"101": "garciajose_101_9001_initialization.ipynb",
                   "102": "o_brienpat_LATE_102_9002_initialization.ipynb",
                   "104": "cmdcalca0_104_9004_Initialization-1.ipynb"}


def _feedback_zip(tmp_path: Path, platform: str, capsys) -> tuple[Path, str]:
    gradebook = _gradebook(tmp_path / "gradebook.sqlite", platform)
    if platform == "canvas":
        with sqlite3.connect(gradebook) as connection:
            for user_id, name in CANVAS_DOWNLOAD.items():
                connection.execute("UPDATE collected SET original_name = ? WHERE "
                                   "platform_id = ?", (name, user_id))
    archive = tmp_path / "feedback.zip"
    assert main(["feedback", "--gradebook", str(gradebook), "--out",
                 str(tmp_path / "pages"), "--platform-zip", str(archive)]) == 0
    return archive, capsys.readouterr().out


def test_canvas_feedback_zip_names_match_canvas_reupload(tmp_path, capsys):
    archive, out = _feedback_zip(tmp_path, "canvas", capsys)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        pages = {canvas_reads(name): opened.read(name) for name in names}
    assert set(pages) == {("101", "9001"), ("102", "9002"), ("104", "9004")}
    for (user_id, _), page in pages.items():
        page_path = tmp_path / "pages" / f"student_{user_id}" / f"{ASSIGNMENT}.html"
        assert page == page_path.read_bytes()
    assert all(name.endswith("_initialization_feedback.html") for name in names)
    assert "Re-upload submissions" in out and "wrote 3 page(s)" in out


def test_moodle_feedback_zip_names_match_moodle_import(tmp_path, capsys):
    archive, out = _feedback_zip(tmp_path, "moodle", capsys)
    with zipfile.ZipFile(archive) as opened:
        read = {moodle_reads(name): name for name in opened.namelist()}
    assert set(read) == {
        (moodle_id, "assignsubmission", "file", f"{ASSIGNMENT}_feedback.html")
        for _, moodle_id, _, _, _, _, status, _ in STUDENTS if status != "missing"}
    folders = {name.split("/")[0] for name in read.values()}
    assert "José García_3001_assignsubmission_file" in folders
    assert "Upload multiple feedback files in a zip" in out


def test_canvas_name_without_its_ids_is_left_out_and_said(tmp_path, capsys):
    CANVAS_DOWNLOAD["104"] = "anon_abcde_initialization.ipynb"
    try:
        archive, out = _feedback_zip(tmp_path, "canvas", capsys)
    finally:
        CANVAS_DOWNLOAD["104"] = "cmdcalca0_104_9004_Initialization-1.ipynb"
    with zipfile.ZipFile(archive) as opened:
        assert len(opened.namelist()) == 2
    assert "not in the zip: student_104" in out and "SpeedGrader" in out


def _anonymous(gradebook: Path, user_ids: list[str]) -> dict[str, str]:
    """Record these students as collect does under anonymous grading."""
    anonymous = {user_id: f"anon_x{user_id}" for user_id in user_ids}
    with sqlite3.connect(gradebook) as connection:
        connection.executemany(
            "UPDATE collected SET platform_id = ?, display_name = '' "
            "WHERE platform_id = ?",
            [(anonymous_id, user_id) for user_id, anonymous_id in anonymous.items()])
    return anonymous


def test_canvas_anonymous_students_are_left_out_for_speedgrader(tmp_path):
    """An anon_ id has no row in Canvas's export: left out and named, not fatal.

    Canvas names an anonymously graded student ``anon_<id>`` in the download
    (lib/content_zipper.rb); its gradebook export has one row per student by
    user id, never an anonymous id (lib/gradebook_exporter.rb, csv_data).
    """
    gradebook = _gradebook(tmp_path / "gradebook.sqlite", "canvas")
    _anonymous(gradebook, ["102"])
    template = tmp_path / "canvas-template.csv"
    template.write_text(ruby_csv(_canvas_rows({})), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = export_platform(gradebook, out, "canvas", template=template)
    # The others are filled as before; 102's row is left as Canvas wrote it.
    filled = {key: value for key, value in EXPECTED.items() if key != "102"}
    assert out.read_bytes() == ruby_csv(_canvas_rows(filled)).encode("utf-8")
    assert result.left_out == ["anon_x102"]
    note = next(note for note in result.notes if "anon_x102" in note)
    assert "student_102" in note and ": 4.5;" in note and "SpeedGrader" in note


def test_canvas_all_anonymous_export_keeps_the_file_and_says_so(tmp_path, capsys):
    # The realistic case: the whole assignment is graded anonymously, so
    # every name in the download is anon_..., and until the grades are
    # posted Canvas's export says N/A in its column for every student.
    gradebook = _gradebook(tmp_path / "gradebook.sqlite", "canvas")
    anonymous = _anonymous(gradebook, ["101", "102", "104"])
    people = ["101", "102", "103", "104", "105", "106", "999"]
    text = ruby_csv(_canvas_rows(dict.fromkeys(people, "N/A")))
    template = tmp_path / "canvas-template.csv"
    template.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    status = main(["export", "--gradebook", str(gradebook), "--csv", str(out),
                   "--format", "canvas", "--template", str(template)])
    printed = capsys.readouterr().out
    assert status == 0
    assert out.read_bytes() == text.encode("utf-8")
    for user_id, points in EXPECTED.items():
        assert (f"note: student_{user_id} (Canvas anonymous id "
                f"{anonymous[user_id]}): {points};") in printed
    assert printed.count("SpeedGrader") == 3 and "filled 0 row(s)" in printed


# --- Moodle: grades already in the worksheet, teams; Canvas names with digits ---


def test_moodle_export_leaves_an_existing_grade_unless_overwrite(tmp_path):
    # locallib.php process_import_grades replaces any differing grade and
    # comment; gradingtable.php writes the grade it holds (format_float).
    graded = {"3001": ("9.00", ""), "3002": ("5.00", "Old comment, kept?")}
    template = php_fputcsv(_moodle_rows(graded))
    result, output = _run(tmp_path, template, "moodle")
    # 3001 holds the same grade (9.00 = 9) and no comment: nothing to replace.
    expected = MOODLE_MARKS | {"3002": graded["3002"]}
    assert output == php_fputcsv(_moodle_rows(expected)).encode("utf-8")
    assert result.kept == ["3002"] and result.rows == 2
    assert [note for note in result.notes if "already graded" in note] == [
        "Participant 3002: already graded in Moodle (Grade '5.00' -> '4.5'; "
        "Feedback comments 'Old comment, kept?'); left as it is: Moodle's import "
        "would replace it; give --overwrite to replace it"]
    result, output = _run(tmp_path, template, "moodle", overwrite=True)
    assert output == php_fputcsv(_moodle_rows(MOODLE_MARKS)).encode("utf-8")
    assert any(note.endswith("replaced (--overwrite)") for note in result.notes)


def _team_gradebook(path: Path, people: list[tuple[str, str, str, str]]) -> Path:
    """(folder, platform id, display name, download name), each 7/7 and 2/2."""
    with Gradebook(path) as gradebook:
        gradebook.record_questions(ASSIGNMENT, [("q1", "Why?", 2.0)])
        statements = []
        for student, platform_id, display, original in people:
            statements += [
                ("INSERT INTO submissions (student, assignment, status, points, "
                 "max_points, detail, submission_sha256, source_sha256, "
                 "graded_at) VALUES (?, ?, 'graded', 7, 7, '', '', '', '')",
                 (student, ASSIGNMENT)),
                ("INSERT INTO written_answers (student, assignment, question, "
                 "answer, points) VALUES (?, ?, 'q1', 'because', 2)",
                 (student, ASSIGNMENT)),
                ("INSERT INTO collected (student, assignment, original_name, "
                 "platform, platform_id, display_name, submitted_at, late, "
                 "late_seconds, penalty_percent) VALUES "
                 "(?, ?, ?, 'moodle', ?, ?, '', 0, NULL, 0)",
                 (student, ASSIGNMENT, original, platform_id, display))]
        gradebook.transaction(statements)
    return path


def test_moodle_team_grade_goes_to_each_member_never_to_participant_7(tmp_path):
    template = tmp_path / "worksheet.csv"
    template.write_text(php_fputcsv(_moodle_rows({})), encoding="utf-8")
    # Collected with the worksheet: the team's folder under its members' ids.
    gradebook = _team_gradebook(tmp_path / "team.sqlite", [
        ("team-alpha_3001-3002", "3001,3002", "Team Alpha",
         "Team Alpha_7_assignsubmission_file/initialization.ipynb")])
    export_platform(gradebook, tmp_path / "out.csv", "moodle", template=template)
    comment = "graded functions 7/7; written answers 2/2"
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == php_fputcsv(
        _moodle_rows({"3001": ("9", comment), "3002": ("9", comment)}))
    # Collected without it, the group id 3005 reads as a participant id: the
    # worksheet's Full name says whose row that is, and the export refuses.
    gradebook = _team_gradebook(tmp_path / "wrong.sqlite", [
        ("team-alpha_3005", "3005", "Team Alpha",
         "Team Alpha_3005_assignsubmission_file/initialization.ipynb")])
    with pytest.raises(ValueError, match=r"Participant 3005 is 'Zed Never' in "
                                         r"the worksheet, 'Team Alpha' in the "
                                         r"download.*collect again with --worksheet"):
        export_platform(gradebook, tmp_path / "x.csv", "moodle", template=template)
    assert not (tmp_path / "x.csv").exists()


def test_moodle_team_feedback_goes_under_the_team_folder(tmp_path, capsys):
    gradebook = _team_gradebook(tmp_path / "team.sqlite", [
        ("team-alpha_3001-3002", "3001,3002", "Team Alpha",
         "Team Alpha_7_assignsubmission_file/initialization.ipynb"),
        ("default-group_3003", "3003", "Default group",
         "Default group_assignsubmission_file/initialization.ipynb"),
        ("na-li_3004", "3004", "Na Li",
         "Na Li_3004_assignsubmission_file/initialization.ipynb")])
    with sqlite3.connect(gradebook) as connection:  # a team of one
        connection.execute("UPDATE collected SET platform_id = '3003,' WHERE "
                           "student = 'default-group_3003'")
    archive = tmp_path / "feedback.zip"
    assert main(["feedback", "--gradebook", str(gradebook), "--out",
                 str(tmp_path / "pages"), "--platform-zip", str(archive)]) == 0
    out = capsys.readouterr().out
    with zipfile.ZipFile(archive) as opened:
        read = sorted(moodle_reads(name) for name in opened.namelist())
    # importziplib.php get_participant_mapping: the group id 7 -> its members.
    page = "initialization_feedback.html"
    assert read == [("3004", "assignsubmission", "file", page),
                    ("7", "assignsubmission", "file", page)]
    assert "not in the zip: default-group_3003: 'Default group_assignsubmission_" \
        "file' carries no group id" in out
    assert "an older one reads the number as a participant id: check first" in out


def test_canvas_feedback_name_with_digits_is_read_as_the_right_user(tmp_path,
                                                                     capsys):
    CANVAS_DOWNLOAD["101"] = "nguyenanh_2_101_9001_initialization.ipynb"
    try:
        archive, out = _feedback_zip(tmp_path, "canvas", capsys)
    finally:
        CANVAS_DOWNLOAD["101"] = "garciajose_101_9001_initialization.ipynb"
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    # infer_comment_context_from_filename: grep(/^\d+$/).take(2).
    assert {canvas_reads(name) for name in names} == {
        ("101", "9001"), ("102", "9002"), ("104", "9004")}
    assert "nguyenanh_101_9001_initialization_feedback.html" in names
    assert "under their notebook's file name" in out

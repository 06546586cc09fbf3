"""Written answers: the review files and the score import, on a gradebook built here."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from course_utils.grading.gradebook import (
    BLANK_ANSWER_COMMENT,
    FunctionGrade,
    Gradebook,
    SubmissionGrade,
    WrittenAnswer,
)
from course_utils.grading.pages import write_feedback_pages
from course_utils.grading.written import ScoreError, import_scores, write_answers

STUDENTS = {"=evil()": "=1+1 <b>bold</b>", "ada": "Because of symmetry.",
            "bob": ""}


@pytest.fixture
def gradebook(tmp_path):
    path = tmp_path / "gradebook.sqlite"
    with Gradebook(path) as book:
        book.record_questions("hw", [("question_1", "Why?", 2.0)])
        for student, answer in STUDENTS.items():
            book.record(SubmissionGrade(
                student, "hw", "graded", "", "sha-" + student, "source",
                (FunctionGrade("f", "passed", 3.0, 3.0),), "",
                (WrittenAnswer("question_1", answer),)))
    return path


def _rows(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _write(path, rows, bom=False):
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") \
            as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _scored(path):
    with sqlite3.connect(path) as connection:
        return dict(connection.execute(
            "SELECT student, points FROM written_answers"))


def test_neutralised_names_come_back_and_a_spreadsheet_bom_is_fine(gradebook,
                                                                   tmp_path):
    review = tmp_path / "review.csv"
    assert write_answers(gradebook, review) == 3
    rows = _rows(review)
    assert [(row["student"], row["answer"]) for row in rows] == [
        ("'=evil()", "'=1+1 <b>bold</b>"), ("ada", "Because of symmetry."),
        ("bob", "")]
    for row, points in zip(rows, ("0.5", "2", "0"), strict=True):
        row["points"] = points
    rows[0]["comment"] = "'=no formulas, please"
    _write(review, rows, bom=True)
    assert import_scores(gradebook, review) == 3
    assert _scored(gradebook) == {"=evil()": 0.5, "ada": 2.0, "bob": 0.0}
    with Gradebook(gradebook) as book:
        totals = {total.student: (total.points, total.max_points)
                  for total in book.totals()}
        comment = book.query("SELECT comment FROM written_answers WHERE "
                             "student = '=evil()'")
    assert totals == {"=evil()": (3.5, 5.0), "ada": (5.0, 5.0), "bob": (3.0, 5.0)}
    assert comment == [("=no formulas, please",)]


def test_every_problem_is_listed_and_nothing_is_imported(gradebook, tmp_path):
    review = tmp_path / "review.csv"
    write_answers(gradebook, review)
    rows = _rows(review)
    for row in rows:
        row["points"] = "1"
    rows[1]["points"] = "-1"
    rows[2]["points"] = "nan"
    _write(review, [*rows[1:], rows[1] | {"question": "question_9"}])
    with pytest.raises(ScoreError) as raised:
        import_scores(gradebook, review)
    message = str(raised.value)
    assert "row 2: points '-1' must be from 0 to 2" in message
    assert "row 3: points 'nan' must be from 0 to 2" in message
    assert "row 4: unknown assignment or question 'hw', 'question_9'" in message
    assert "no row for '=evil()', hw, question_1" in message
    assert "\n" not in message
    # Nothing imported: bob's blank answer keeps the 0 that grading gave it.
    assert _scored(gradebook) == {"=evil()": None, "ada": None, "bob": 0.0}


def test_a_changed_answer_loses_its_points_an_unchanged_one_keeps_them(gradebook,
                                                                      tmp_path):
    review = tmp_path / "review.csv"
    write_answers(gradebook, review)
    rows = _rows(review)
    for row in rows:
        row["points"] = "1"
    _write(review, rows)
    import_scores(gradebook, review)
    with Gradebook(gradebook) as book:
        for student, answer in (("ada", "Because of symmetry."),
                                ("bob", "Now I know.")):
            book.record(SubmissionGrade(
                student, "hw", "graded", "", "new", "source",
                (FunctionGrade("f", "passed", 3.0, 3.0),), "",
                (WrittenAnswer("question_1", answer),)))
    assert _scored(gradebook) == {"=evil()": 1.0, "ada": 1.0, "bob": None}
    markdown = tmp_path / "review.md"
    write_answers(gradebook, markdown)
    text = markdown.read_text()
    assert "### bob (not scored yet)" in text and "### ada (1 / 2 points)" in text
    assert "    =1+1 <b>bold</b>" in text  # an indented block: shown literally


def test_a_blank_answer_is_scored_0_and_marked_for_the_instructor(gradebook,
                                                                  tmp_path):
    # Nothing to read is worth nothing: 0 of 2 until the instructor says
    # otherwise, so `score` never waits on a row that only says 0.
    assert _scored(gradebook)["bob"] == 0.0
    review = tmp_path / "review.csv"
    write_answers(gradebook, review)
    bob = next(row for row in _rows(review) if row["student"] == "bob")
    assert (bob["points"], bob["comment"]) == ("0", BLANK_ANSWER_COMMENT)
    markdown = tmp_path / "review.md"
    write_answers(gradebook, markdown)
    assert "### bob (0 / 2 points)" in markdown.read_text()
    # The instructor overrides it like any other score.
    rows = _rows(review)
    for row in rows:
        row["points"] = "1" if row["student"] == "bob" else "2"
    _write(review, rows)
    assert import_scores(gradebook, review) == 3
    assert _scored(gradebook)["bob"] == 1.0
    # A resubmission that now answers loses the automatic score.
    with Gradebook(gradebook) as book:
        book.record(SubmissionGrade(
            "bob", "hw", "graded", "", "sha-bob-2", "source",
            (FunctionGrade("f", "passed", 3.0, 3.0),), "",
            (WrittenAnswer("question_1", "Because the units stay equal."),)))
    assert _scored(gradebook)["bob"] is None


# A prompt is the instructor's Markdown; even so, nothing in it may become markup
# beyond what CommonMark formats (no raw HTML, no script link, no request).
PROMPT = ("**Question (2 points).** Why do *equal* weights stay equal? Use "
          "`np.zeros`.\n\n- one\n- two\n\n"
          '<script>alert(1)</script> <img src="http://127.0.0.1:9/x.png">\n\n'
          "<div onclick=\"alert(2)\">block</div>\n\n"
          "[click](javascript:alert(3)) ![a chart](http://127.0.0.1:9/y.png)")


def test_the_prompt_is_formatted_and_injects_nothing(tmp_path):
    path = tmp_path / "gradebook.sqlite"
    with Gradebook(path) as book:
        book.record_questions("hw", [("question_1", PROMPT, 2.0)])
        book.record(SubmissionGrade(
            "ada", "hw", "graded", "", "sha", "source",
            (FunctionGrade("f", "passed", 3.0, 3.0),), "",
            (WrittenAnswer("question_1", "**not bold** <b>x</b>"),)))
    write_feedback_pages(path, tmp_path / "feedback")
    page = (tmp_path / "feedback" / "ada" / "hw.html").read_text()
    prompt = page.split('<blockquote class="prompt">')[1].split("</blockquote>")[0]
    # CommonMark's formatting, written out by hand from the spec.
    assert "<p><strong>Question (2 points).</strong> Why do <em>equal</em> " \
           "weights stay equal? Use <code>np.zeros</code>.</p>" in prompt
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in prompt
    # Raw HTML shown as text; the script link and the image are not made.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in prompt
    assert "&lt;div onclick=&quot;alert(2)&quot;&gt;block&lt;/div&gt;" in prompt
    assert "[click](javascript:alert(3))" in prompt
    assert "[image: a chart]" in prompt
    for tag in ("<script", "<img", "<div", "<a ", "href"):
        assert tag not in prompt, tag
    # The student's answer stays literal.
    assert "<pre>**not bold** &lt;b&gt;x&lt;/b&gt;</pre>" in page
    # In Markdown (the feedback file and review.md): the prompt as written.
    quoted = "\n".join(f"> {line}".rstrip() for line in PROMPT.split("\n"))
    assert quoted in (tmp_path / "feedback" / "ada" / "hw.md").read_text()
    write_answers(path, tmp_path / "review.md")
    assert quoted in (tmp_path / "review.md").read_text()


def test_names_that_a_spreadsheet_would_show_alike_stay_apart(tmp_path):
    # '@alice' is what the review CSV once made of "@alice": two students whose
    # cells were equal, so `score` refused the whole class's points.
    path = tmp_path / "gradebook.sqlite"
    with Gradebook(path) as book:
        book.record_questions("hw", [("question_1", "Why?", 2.0)])
        for student in ("@alice", "'@alice", "''x", "bob"):
            book.record(SubmissionGrade(
                student, "hw", "graded", "", "sha-" + student, "source",
                (FunctionGrade("f", "passed", 3.0, 3.0),), "",
                (WrittenAnswer("question_1", "An answer."),)))
    review = tmp_path / "review.csv"
    write_answers(path, review)
    rows = _rows(review)
    assert [row["student"] for row in rows] == ["'''x", "''@alice", "'@alice", "bob"]
    for row, points in zip(rows, ("0.5", "1", "1.5", "2"), strict=True):
        row["points"] = points
    _write(review, rows)
    assert import_scores(path, review) == 4
    assert _scored(path) == {"@alice": 1.5, "'@alice": 1.0, "''x": 0.5, "bob": 2.0}

"""Written answers: read them from submissions, review them, import the points.

Introduced in the chapter "Instructor guide". A written question is a
markdown cell of the source notebook with a solution block; its points are
the ``(N points)`` on the cell's first line. The release keeps the cell's id
and marks it with ``course_grade`` metadata, so the grader finds the student's
answer by id, or by that metadata when an editor changed the id.
``course-grade answers`` writes every student's answers per question for
reading (CSV with a points and a comment column, or Markdown), and
``course-grade score`` reads the CSV back, checks every row, and stores the
points in one transaction, or nothing.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import nbformat

from course_utils.grading import boundary
from course_utils.grading.assignment import MARKDOWN_STUB, WRITTEN_METADATA, Assignment
from course_utils.grading.boundary import clean_text, markdown_text
from course_utils.grading.gradebook import (
    WrittenAnswer,
    open_gradebook,
    spreadsheet_safe,
)
from course_utils.grading.gradebook import points_text as _number

MAX_ANSWER_CHARACTERS = 5_000
MAX_COMMENT_CHARACTERS = 2_000
MAX_REVIEW_BYTES = 50 * 2**20
MAX_PROMPT_CHARACTERS = 3000
REVIEW_COLUMNS = ("student", "assignment", "question", "max_points", "points",
                  "comment", "answer")


class ScoreError(ValueError):
    """A review file that cannot be imported; the message lists the rows.

    Introduced in the chapter "Instructor guide".
    """


def bounded_text(text: object, limit: int) -> str:
    """Untrusted multi-line text: control characters removed, at most ``limit``.

    Introduced in the chapter "Instructor guide". Newlines and tabs are kept;
    the text is cut at ``limit`` characters with a note that it was cut.

    Parameters
    ----------
    text : object
    limit : int

    Returns
    -------
    str
    """
    return boundary.bounded_text(str(text).replace("\r\n", "\n"), limit,
                                 f" [... cut at {limit} characters]",
                                 boundary.LINE_CONTROL_CHARACTERS)


def extract_answers(assignment: Assignment, notebook: nbformat.NotebookNode
                    ) -> tuple[WrittenAnswer, ...]:
    """Each written question's answer in a submission (empty if not answered).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    assignment : Assignment
    notebook : nbformat.NotebookNode
        The submission, parsed by :func:`boundary.parse_notebook`.

    Returns
    -------
    tuple of WrittenAnswer
        In the source's order; the prompt and the ``YOUR ANSWER HERE`` stub
        are left out, and the text is bounded.
    """
    markdown = [cell for cell in notebook.cells if cell.get("cell_type") == "markdown"]
    answers = []
    for question in assignment.questions.values():
        cell = next((cell for cell in markdown
                     if question.cell_id and cell.get("id") == question.cell_id),
                    None)
        if cell is None:
            cell = next((cell for cell in markdown if _marked(cell) == question.name),
                        None)
        text = cell.get("source", "") if cell is not None else ""
        text = text if isinstance(text, str) else ""
        if question.prompt and text.startswith(question.prompt):
            text = text[len(question.prompt):]
        text = text.strip()
        if text == MARKDOWN_STUB[0]:
            text = ""
        answers.append(WrittenAnswer(question.name,
                                     bounded_text(text, MAX_ANSWER_CHARACTERS)))
    return tuple(answers)


def prompt_markdown(prompt: str) -> list[str]:
    """A written question's prompt as Markdown lines of a block quote (unescaped).

    Introduced in the chapter "Instructor guide". The prompt comes from the
    instructor's source notebook, so it is written as the Markdown it is.

    Parameters
    ----------
    prompt : str

    Returns
    -------
    list of str
        ``"> "`` before each line (``">"`` for an empty one).
    """
    text = bounded_text(prompt, MAX_PROMPT_CHARACTERS)
    return [f"> {line}".rstrip() for line in text.split("\n")]


def _marked(cell) -> object:
    metadata = cell.get("metadata")
    mark = metadata.get(WRITTEN_METADATA) if isinstance(metadata, dict) else None
    return mark.get("written_answer") if isinstance(mark, dict) else None


def _answer_rows(gradebook) -> list[tuple]:
    return gradebook.query(
        "SELECT w.student, w.assignment, w.question, q.max_points, w.points, "
        "w.comment, w.answer, q.prompt FROM written_answers w JOIN questions q "
        "ON q.assignment = w.assignment AND q.question = w.question "
        "ORDER BY w.assignment, w.question, w.student")


def write_answers(gradebook_path: str | Path, out: str | Path) -> int:
    """Write every student's written answers, per question, for reading and scoring.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    gradebook_path : str or Path
        A gradebook that ``course-grade grade`` wrote.
    out : str or Path
        ``.csv``: one row per student and question with the columns
        ``student,assignment,question,max_points,points,comment,answer``
        (type the points and comments, then ``course-grade score``); every
        cell is neutralised against spreadsheet formulas. ``.md``: the same,
        grouped by question, for reading.

    Returns
    -------
    int
        The number of answers written.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".md"):
        raise ValueError(f"out: must end in .csv or .md; got {out.name!r}")
    with open_gradebook(gradebook_path) as gradebook:
        rows = _answer_rows(gradebook)
    if out.suffix == ".csv":
        with open(out, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REVIEW_COLUMNS)
            for student, assignment, question, maximum, points, comment, answer, _ \
                    in rows:
                writer.writerow([spreadsheet_safe(student),
                                 spreadsheet_safe(assignment), question,
                                 _number(maximum),
                                 "" if points is None else _number(points),
                                 spreadsheet_safe(comment),
                                 spreadsheet_safe(answer)])
        return len(rows)
    lines = ["# Written answers", ""]
    current = None
    for student, assignment, question, maximum, points, comment, answer, prompt \
            in rows:
        if (assignment, question) != current:
            current = (assignment, question)
            lines += [f"## {assignment}, {question} ({_number(maximum)} points)", ""]
            # The prompt is the source notebook's Markdown (never a
            # submission's): written as it is, so it reads formatted.
            lines += [*prompt_markdown(prompt), ""]
        scored = "not scored yet" if points is None \
            else f"{_number(points)} / {_number(maximum)} points"
        lines += [f"### {markdown_text(student, 200)} ({scored})", ""]
        body = [f"    {line}" for line in answer.split("\n")] if answer \
            else ["(no answer)"]
        lines += [*body, ""]
        if comment:
            lines += [f"Comment: {markdown_text(comment, MAX_COMMENT_CHARACTERS)}", ""]
    out.write_text("\n".join(lines))
    return len(rows)


def import_scores(gradebook_path: str | Path, review_csv: str | Path) -> int:
    """Store the points and comments typed into a review CSV; all rows or none.

    Introduced in the chapter "Instructor guide". Every row is checked before
    anything is stored: the student, assignment and question must be in the
    gradebook, points a number from 0 to the question's maximum, and every
    answer of the gradebook must have its row (exactly one).

    Parameters
    ----------
    gradebook_path : str or Path
    review_csv : str or Path
        As written by :func:`write_answers` (the ``answer`` column is not read).

    Returns
    -------
    int
        The number of answers scored.

    Raises
    ------
    ScoreError
        Listing the first problems with their row numbers; nothing was stored.
    """
    review_csv = Path(review_csv)
    if not review_csv.is_file():
        raise FileNotFoundError(f"review_csv: {review_csv} does not exist")
    if review_csv.stat().st_size > MAX_REVIEW_BYTES:
        raise ScoreError(f"review_csv: {review_csv.name} is over "
                         f"{MAX_REVIEW_BYTES} bytes")
    with open_gradebook(gradebook_path) as gradebook:
        expected: dict[tuple[str, str, str], float] = {}
        by_cell: dict[tuple[str, str, str], tuple[str, str, str] | None] = {}
        for student, assignment, question, maximum, *_ in _answer_rows(gradebook):
            key = (student, assignment, question)
            expected[key] = maximum
            cell_key = (spreadsheet_safe(student), spreadsheet_safe(assignment),
                        question)
            # Two names that look the same in a spreadsheet cannot be told apart.
            by_cell[cell_key] = None if cell_key in by_cell else key
        problems, updates, seen = [], [], set()
        try:
            with open(review_csv, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                missing = [column for column in ("student", "assignment", "question",
                                                 "points")
                           if column not in (reader.fieldnames or [])]
                if missing:
                    raise ScoreError(f"review_csv: no column {', '.join(missing)}")
                for number, row in enumerate(reader, start=2):
                    problem = _check_row(row, by_cell, expected, seen, updates)
                    if problem:
                        problems.append(f"row {number}: {problem}")
        except (UnicodeDecodeError, csv.Error) as error:
            raise ScoreError(f"review_csv: not a readable CSV file ({error})") \
                from None
        for key in sorted(set(expected) - seen):
            problems.append(f"no row for {key[0]!r}, {key[1]}, {key[2]}")
        if problems:
            shown = "; ".join(clean_text(problem, 200) for problem in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ScoreError(f"{review_csv.name}: nothing imported: {shown}{more}")
        gradebook.transaction([
            ("UPDATE written_answers SET points = ?, comment = ? WHERE student = ? "
             "AND assignment = ? AND question = ?", (points, comment, *key))
            for key, points, comment in updates])
    return len(updates)


def _check_row(row: dict, by_cell: dict, expected: dict, seen: set,
               updates: list) -> str | None:
    if None in row:
        return "more cells than columns"
    cell_key = (row.get("student") or "", row.get("assignment") or "",
                row.get("question") or "")
    if cell_key not in by_cell:
        known_students = {key[0] for key in by_cell}
        if cell_key[0] not in known_students:
            return f"unknown student {cell_key[0][:80]!r}"
        return f"unknown assignment or question {cell_key[1][:40]!r}, " \
               f"{cell_key[2][:40]!r}"
    key = by_cell[cell_key]
    if key is None:
        return f"student {cell_key[0][:80]!r} is ambiguous in a spreadsheet"
    if key in seen:
        return f"a second row for {cell_key[0][:80]!r}, {key[2]}"
    seen.add(key)
    text = (row.get("points") or "").strip()
    if not text:
        return f"no points for {cell_key[0][:80]!r}, {key[2]}"
    try:
        points = float(text)
    except ValueError:
        return f"points {text[:20]!r} is not a number"
    maximum = expected[key]
    if not math.isfinite(points) or points < 0:
        return f"points {text[:20]!r} must be from 0 to {_number(maximum)}"
    if points > maximum:
        return (f"points {_number(points)} above the maximum {_number(maximum)} "
                f"of {key[2]}")
    comment = bounded_text(_unneutralise(row.get("comment") or ""),
                           MAX_COMMENT_CHARACTERS)
    updates.append((key, points, comment))
    return None


def _unneutralise(text: str) -> str:
    """Undo the apostrophe that :func:`spreadsheet_safe` put before a cell."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r'":
        return text[1:]
    return text



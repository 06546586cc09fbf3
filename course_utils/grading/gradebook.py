"""The SQLite gradebook: one row per submission and per graded function.

Introduced in the chapter "Instructor guide". Each submission's rows are
written in one transaction, so an interrupted grading run leaves every
submission either fully recorded or not at all, and grading again replaces
rows instead of adding to them.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    status TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    detail TEXT NOT NULL,
    submission_sha256 TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS function_grades (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    function TEXT NOT NULL,
    status TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (student, assignment, function)
);
"""
CSV_COLUMNS = ("student", "assignment", "points", "max_points", "status")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class FunctionGrade:
    """The grade of one graded function in one submission.

    Introduced in the chapter "Instructor guide".
    """

    function: str
    status: str
    points: float
    max_points: float
    detail: str = ""
    feedback: str = ""  # what the student may read; not stored


@dataclass(frozen=True)
class SubmissionGrade:
    """Everything recorded for one student's submission of one assignment.

    Introduced in the chapter "Instructor guide".
    """

    student: str
    assignment: str
    status: str
    detail: str
    submission_sha256: str
    source_sha256: str
    functions: tuple[FunctionGrade, ...]
    feedback: str = ""  # what the student may read; not stored

    @property
    def points(self) -> float:
        return sum(function.points for function in self.functions)

    @property
    def max_points(self) -> float:
        return sum(function.max_points for function in self.functions)


class Gradebook:
    """An SQLite gradebook file, safe to share between grading threads.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    path : str or Path
        Created if it does not exist (readable by its owner only).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(mode=0o600, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False,
                                           isolation_level=None, timeout=30)
        self._connection.execute("PRAGMA synchronous = FULL")
        self._connection.executescript(SCHEMA)

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self._connection.close()

    def is_current(self, student: str, assignment: str, submission_sha256: str,
                   source_sha256: str) -> bool:
        """True if this exact submission was graded against this exact source."""
        with self._lock:
            row = self._connection.execute(
                "SELECT submission_sha256, source_sha256 FROM submissions "
                "WHERE student = ? AND assignment = ?", (student, assignment)
            ).fetchone()
        return row == (submission_sha256, source_sha256)

    def record(self, grade: SubmissionGrade) -> None:
        """Replace a submission's rows with ``grade``, in one transaction."""
        key = (grade.student, grade.assignment)
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute("DELETE FROM function_grades WHERE student = ? "
                                   "AND assignment = ?", key)
                connection.executemany(
                    "INSERT INTO function_grades VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*key, function.function, function.status, function.points,
                      function.max_points, function.detail)
                     for function in grade.functions])
                connection.execute(
                    "INSERT OR REPLACE INTO submissions "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*key, grade.status, grade.points, grade.max_points, grade.detail,
                     grade.submission_sha256, grade.source_sha256,
                     datetime.now(UTC).isoformat(timespec="seconds")))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def submission_rows(self) -> list[tuple]:
        """``(student, assignment, points, max_points, status)``, sorted."""
        with self._lock:
            return self._connection.execute(
                "SELECT student, assignment, points, max_points, status "
                "FROM submissions ORDER BY student, assignment").fetchall()


def export_csv(gradebook_path: str | Path, csv_path: str | Path) -> int:
    """Write one CSV row per student and assignment, for a learning platform.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    gradebook_path : str or Path
        An existing gradebook.
    csv_path : str or Path
        Written with the columns ``student,assignment,points,max_points,status``.

    Returns
    -------
    int
        The number of rows written.
    """
    gradebook_path = Path(gradebook_path)
    if not gradebook_path.is_file():
        raise FileNotFoundError(f"gradebook: {gradebook_path} does not exist")
    with Gradebook(gradebook_path) as gradebook:
        rows = gradebook.submission_rows()
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows((spreadsheet_safe(student), spreadsheet_safe(assignment),
                          _number(points), _number(maximum), spreadsheet_safe(status))
                         for student, assignment, points, maximum, status in rows)
    return len(rows)


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell that a spreadsheet shows as text, never as a formula.

    Introduced in the chapter "Instructor guide". A cell that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe (OWASP's advice against CSV injection).

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)

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

# The comment on a blank written answer, which grading scores 0 by itself.
BLANK_ANSWER_COMMENT = ("No answer: scored 0 automatically; type other points in "
                        "the review CSV to change it.")

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
CREATE TABLE IF NOT EXISTS questions (
    assignment TEXT NOT NULL,
    question TEXT NOT NULL,
    prompt TEXT NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (assignment, question)
);
CREATE TABLE IF NOT EXISTS written_answers (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    points REAL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (student, assignment, question)
);
CREATE TABLE IF NOT EXISTS collected (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    original_name TEXT NOT NULL,
    platform TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    late INTEGER NOT NULL,
    late_seconds REAL,
    penalty_percent REAL NOT NULL,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS runs (
    started_at TEXT NOT NULL,
    seconds REAL NOT NULL,
    submissions INTEGER NOT NULL,
    jobs INTEGER NOT NULL
);
"""
# Columns added after the first release; older gradebooks get them on opening.
ADDED_COLUMNS = (("submissions", "feedback", "TEXT NOT NULL DEFAULT ''"),
                 ("submissions", "seconds", "REAL NOT NULL DEFAULT 0"),
                 ("function_grades", "feedback", "TEXT NOT NULL DEFAULT ''"),
                 # collect: the download's layout, why this file was graded,
                 # and the student's other files (not graded).
                 ("collected", "layout", "TEXT NOT NULL DEFAULT ''"),
                 ("collected", "chosen_because", "TEXT NOT NULL DEFAULT ''"),
                 ("collected", "not_graded", "TEXT NOT NULL DEFAULT ''"))
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
    feedback: str = ""  # what the student may read (the fixed outcomes)


@dataclass(frozen=True)
class WrittenAnswer:
    """A student's written answer to one question, as read from the submission.

    Introduced in the chapter "Instructor guide".
    """

    question: str
    answer: str


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
    feedback: str = ""  # what the student may read
    answers: tuple[WrittenAnswer, ...] | None = None  # None: not read
    seconds: float = 0.0  # time taken to grade it

    @property
    def points(self) -> float:
        return sum(function.points for function in self.functions)

    @property
    def max_points(self) -> float:
        return sum(function.max_points for function in self.functions)


@dataclass(frozen=True)
class Total:
    """One submission's points, all parts counted.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    student, assignment, status : str
    auto_points, auto_max : float
        The graded functions.
    written_points, written_max : float
        The written answers the instructor scored (``course-grade score``).
    unscored : int
        Written answers not scored yet.
    late : bool
    penalty : float
        Points taken off for lateness (``collect --late-penalty``).
    points : float
        ``auto_points + written_points - penalty``.
    """

    student: str
    assignment: str
    status: str
    auto_points: float
    auto_max: float
    written_points: float
    written_max: float
    unscored: int
    late: bool
    penalty: float
    points: float

    @property
    def max_points(self) -> float:
        return self.auto_max + self.written_max


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
        for table, column, declaration in ADDED_COLUMNS:
            columns = {row[1] for row in self._connection.execute(
                f"PRAGMA table_info({table})")}
            if column not in columns:
                self._connection.execute(
                    f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

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
                    "INSERT INTO function_grades (student, assignment, function, "
                    "status, points, max_points, detail, feedback) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*key, function.function, function.status, function.points,
                      function.max_points, function.detail, function.feedback)
                     for function in grade.functions])
                connection.execute(
                    "INSERT OR REPLACE INTO submissions (student, assignment, "
                    "status, points, max_points, detail, submission_sha256, "
                    "source_sha256, graded_at, feedback, seconds) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*key, grade.status, grade.points, grade.max_points, grade.detail,
                     grade.submission_sha256, grade.source_sha256,
                     datetime.now(UTC).isoformat(timespec="seconds"),
                     grade.feedback, grade.seconds))
                self._record_answers(grade)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def _record_answers(self, grade: SubmissionGrade) -> None:
        """Replace the written answers; an unchanged answer keeps its points."""
        key = (grade.student, grade.assignment)
        if grade.answers is None:
            if grade.status != "error":  # a grader failure keeps what was there
                self._connection.execute("DELETE FROM written_answers WHERE "
                                         "student = ? AND assignment = ?", key)
            return
        old = {question: (answer, points, comment) for question, answer, points,
               comment in self._connection.execute(
                   "SELECT question, answer, points, comment FROM written_answers "
                   "WHERE student = ? AND assignment = ?", key)}
        self._connection.execute("DELETE FROM written_answers WHERE student = ? "
                                 "AND assignment = ?", key)
        for written in grade.answers:
            answer, points, comment = old.get(written.question, (None, None, ""))
            if answer != written.answer:
                points, comment = None, ""
                if not written.answer.strip():
                    # Nothing to read: 0 now, marked, for the instructor to
                    # override in the review CSV, instead of a row that blocks
                    # `score` until somebody types 0.
                    points, comment = 0.0, BLANK_ANSWER_COMMENT
            self._connection.execute(
                "INSERT INTO written_answers VALUES (?, ?, ?, ?, ?, ?)",
                (*key, written.question, written.answer, points, comment))

    def record_questions(self, assignment: str,
                         questions: list[tuple[str, str, float]]) -> None:
        """Store an assignment's written questions, replacing the old ones.

        Parameters
        ----------
        assignment : str
        questions : list of tuple
            ``(name, prompt, max_points)`` per question.
        """
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute("DELETE FROM questions WHERE assignment = ?",
                                   (assignment,))
                connection.executemany(
                    "INSERT INTO questions VALUES (?, ?, ?, ?)",
                    [(assignment, *question) for question in questions])
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def record_run(self, started_at: str, seconds: float, submissions: int,
                   jobs: int) -> None:
        """Remember how long a grading run took (for ``course-grade report``).

        Parameters
        ----------
        started_at : str
            ISO 8601, UTC.
        seconds : float
        submissions : int
            Submissions graded (unchanged ones skipped are not counted).
        jobs : int
        """
        with self._lock:
            self._connection.execute("INSERT INTO runs VALUES (?, ?, ?, ?)",
                                     (started_at, seconds, submissions, jobs))

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        """Rows of a query (for reports and exports).

        Parameters
        ----------
        sql : str
            Trusted SQL; values go in ``parameters``.
        parameters : tuple

        Returns
        -------
        list of tuple
        """
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def transaction(self, statements: list[tuple[str, tuple]]) -> None:
        """Run ``(sql, parameters)`` statements in one transaction: all or none.

        Parameters
        ----------
        statements : list of tuple
            ``(sql, parameters)`` pairs.
        """
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                for sql, parameters in statements:
                    connection.execute(sql, parameters)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def totals(self) -> list[Total]:
        """Every submission's total: graded functions, written answers, lateness.

        Introduced in the chapter "Instructor guide".

        Returns
        -------
        list of Total
            Sorted by student and assignment.
        """
        written_max = dict(self.query(
            "SELECT assignment, SUM(max_points) FROM questions GROUP BY assignment"))
        written = {(student, assignment): (points, unscored) for
                   student, assignment, points, unscored in self.query(
                       "SELECT student, assignment, COALESCE(SUM(points), 0), "
                       "SUM(points IS NULL) FROM written_answers "
                       "GROUP BY student, assignment")}
        late = {(student, assignment): (bool(is_late), penalty) for
                student, assignment, is_late, penalty in self.query(
                    "SELECT student, assignment, late, penalty_percent "
                    "FROM collected")}
        totals = []
        for student, assignment, points, maximum, status in self.submission_rows():
            key = (student, assignment)
            written_points, unscored = written.get(key, (0.0, 0))
            is_late, penalty_percent = late.get(key, (False, 0.0))
            before = points + written_points
            penalty = round(before * penalty_percent / 100, 2) if is_late else 0.0
            totals.append(Total(student, assignment, status, points, maximum,
                                written_points, written_max.get(assignment, 0.0),
                                int(unscored), is_late, penalty,
                                round(before - penalty, 2)))
        return totals

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
        Written with the columns ``student,assignment,points,max_points,status``;
        points and maximum include the written answers and any late penalty
        (see :meth:`Gradebook.totals`).

    Returns
    -------
    int
        The number of rows written.
    """
    gradebook_path = Path(gradebook_path)
    if not gradebook_path.is_file():
        raise FileNotFoundError(f"gradebook: {gradebook_path} does not exist")
    with Gradebook(gradebook_path) as gradebook:
        rows = gradebook.totals()
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows((spreadsheet_safe(row.student),
                          spreadsheet_safe(row.assignment), points_text(row.points),
                          points_text(row.max_points), spreadsheet_safe(row.status))
                         for row in rows)
    return len(rows)


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell that a spreadsheet shows as text, never as a formula.

    Introduced in the chapter "Instructor guide". A cell that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe (OWASP's advice against CSV injection), and so does one that
    starts with an apostrophe: so two different texts never give the same cell
    (``@a`` and ``'@a`` become ``'@a`` and ``''@a``), and removing one leading
    apostrophe from a cell that starts with one gives the text back.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return f"'{text}" if text.startswith((*FORMULA_STARTS, "'")) else text


def points_text(value: float) -> str:
    """Points as a person writes them: ``7``, ``4.5``, at most 4 decimals.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    value : float

    Returns
    -------
    str
    """
    value = round(float(value), 4)
    return str(int(value)) if value.is_integer() else str(value)


def open_gradebook(path: str | Path) -> Gradebook:
    """Open an existing gradebook; a missing file is an error naming ``gradebook``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Gradebook
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"gradebook: {path} does not exist")
    return Gradebook(path)

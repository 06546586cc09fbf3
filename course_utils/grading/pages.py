"""Feedback pages for students and the class report for the instructor.

Introduced in the chapter "Instructor guide". Both are single, self-contained
HTML files: the styles are inline, figures are embedded PNG images, and a
Content-Security-Policy forbids every script and every request to the network,
so a page opened from disk or from a learning platform loads nothing. Every
text that came from a student (names, answers, messages) is escaped with
:func:`html.escape` and bounded.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from course_utils.grading.assignment import load_assignment
from course_utils.grading.boundary import (
    bounded_text,
    markdown_text,
    student_file_name,
)
from course_utils.grading.gradebook import Gradebook, Total, open_gradebook

SITE_URL = "https://weight-init-course.github.io/weight-initialization"
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "form-action 'none'; base-uri 'none'")
STYLE = """
body { font-family: "DejaVu Sans", sans-serif; max-width: 52em; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
.passed { color: #14651f; } .failed, .error, .timeout, .crashed { color: #9b1c1c; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4;
      padding: 0.6em; }
td, li { overflow-wrap: anywhere; }
figure { margin: 1em 0; } img { max-width: 100%; }
"""
_CHECK = re.compile(r"^hidden check (?P<number>\d+): (?P<reason>.*)$")


def escape(text: object, limit: int = 2000) -> str:
    """Untrusted text as HTML that shows it literally (bounded to ``limit``).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : object
    limit : int

    Returns
    -------
    str
    """
    return html.escape(bounded_text(text, limit, " [...]"), quote=True)


def _page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title, 300)}</title>", f"<style>{STYLE}</style>", "</head>",
        "<body>", *body, "</body>", "</html>", ""])


@dataclass(frozen=True)
class FeedbackOptions:
    """What the feedback pages show.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    site_url : str
        The course website; each page links to the assignment's chapter,
        ``<site_url>/book/exercises/<assignment>.html``.
    show_hidden_calls : bool
        Name each hidden check's call (its arguments). Off by default; needs
        ``source_dir``.
    source_dir : str or Path or None
        The source notebooks, to read the hidden calls from.
    """

    site_url: str = SITE_URL
    show_hidden_calls: bool = False
    source_dir: str | Path | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"https?://[^\s\"'<>]+", self.site_url or ""):
            raise ValueError(f"site_url: must be an http(s) URL; got "
                             f"{self.site_url!r}")
        if self.show_hidden_calls and self.source_dir is None:
            raise ValueError("show_hidden_calls: needs source_dir (the source "
                             "notebooks hold the hidden calls)")


def write_feedback_pages(gradebook_path: str | Path, out_dir: str | Path,
                         options: FeedbackOptions | None = None) -> list[Path]:
    """Write ``<student>/<assignment>.html`` and ``.md`` for every submission.

    Introduced in the chapter "Instructor guide". Each page gives the
    student's total, the points and each hidden check's outcome per graded
    function (no expected values, no exception messages, no hidden arguments
    unless ``options.show_hidden_calls``), the written answers with the
    instructor's points and comment, lateness, and a link to the assignment's
    page on the course website.

    Parameters
    ----------
    gradebook_path : str or Path
    out_dir : str or Path
        Usually the ``feedback/`` folder beside the gradebook.
    options : FeedbackOptions, optional

    Returns
    -------
    list of Path
        The HTML files written.
    """
    options = options or FeedbackOptions()
    out_dir = Path(out_dir)
    with open_gradebook(gradebook_path) as gradebook:
        data = _feedback_data(gradebook)
    calls = _hidden_calls(options, {total.assignment for total in data["totals"]})
    written = []
    for total in data["totals"]:
        key = (total.student, total.assignment)
        sections = _Sections(total, data["submissions"][key],
                             data["functions"].get(key, []),
                             data["answers"].get(key, []),
                             calls.get(total.assignment, {}), options.site_url,
                             data["names"].get(total.student, ""))
        folder = out_dir / student_file_name(total.student)
        if folder.is_symlink():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, text in ((".html", sections.html()),
                             (".md", sections.markdown())):
            target = folder / f"{total.assignment}{suffix}"
            temporary = folder / f".{total.assignment}{suffix}.tmp"
            temporary.unlink(missing_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, target)
        written.append(folder / f"{total.assignment}.html")
    return written


def _feedback_data(gradebook: Gradebook) -> dict:
    submissions = {(student, assignment): (status, detail, feedback)
                   for student, assignment, status, detail, feedback in
                   gradebook.query("SELECT student, assignment, status, detail, "
                                   "feedback FROM submissions")}
    functions: dict[tuple[str, str], list[tuple]] = {}
    for student, assignment, *row in gradebook.query(
            "SELECT student, assignment, function, status, points, max_points, "
            "detail, feedback FROM function_grades ORDER BY rowid"):
        functions.setdefault((student, assignment), []).append(tuple(row))
    answers: dict[tuple[str, str], list[tuple]] = {}
    for student, assignment, *row in gradebook.query(
            "SELECT w.student, w.assignment, w.question, q.prompt, q.max_points, "
            "w.points, w.comment, w.answer FROM written_answers w JOIN questions q "
            "ON q.assignment = w.assignment AND q.question = w.question "
            "ORDER BY w.question"):
        answers.setdefault((student, assignment), []).append(tuple(row))
    names = dict(gradebook.query("SELECT student, display_name FROM collected "
                                 "ORDER BY rowid"))
    return {"totals": gradebook.totals(), "submissions": submissions,
            "functions": functions, "answers": answers, "names": names}


def _hidden_calls(options: FeedbackOptions, assignments: set[str]
                  ) -> dict[str, dict[str, list[str]]]:
    if not options.show_hidden_calls:
        return {}
    calls = {}
    for name in sorted(assignments):
        path = Path(options.source_dir) / f"{name}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"source_dir: no {name}.ipynb in "
                                    f"{options.source_dir}")
        assignment = load_assignment(path)
        calls[name] = {function.name: [_call_text(case) for case in function.cases]
                       for function in assignment.functions.values()}
    return calls


def _call_text(case) -> str:
    arguments = [repr(argument) for argument in case.args]
    arguments += [f"{key}={value!r}" for key, value in case.kwargs.items()]
    return f"{case.function}({', '.join(arguments)})"


class _Sections:
    """One student's feedback, as HTML and as Markdown."""

    def __init__(self, total: Total, submission: tuple, functions: list[tuple],
                 answers: list[tuple], calls: dict[str, list[str]],
                 site_url: str, display_name: str = "") -> None:
        self.total, self.functions, self.answers = total, functions, answers
        # The name on the learning platform, when collect recorded one.
        self.display = display_name if display_name != total.student else ""
        self.status, detail, feedback = submission
        self.note = feedback or detail
        self.calls = calls
        self.link = (f"{site_url.rstrip('/')}/book/exercises/"
                     f"{total.assignment}.html")

    def _checks(self, function: str, status: str, detail: str, feedback: str
                ) -> list[str]:
        lines = [line for line in (feedback or detail).split("\n") if line]
        calls = self.calls.get(function, [])
        shown = []
        for line in lines:
            match = _CHECK.match(line)
            if match and calls and int(match["number"]) <= len(calls):
                line = (f"hidden check {match['number']}, "
                        f"{calls[int(match['number']) - 1]}: {match['reason']}")
            shown.append(line)
        return shown

    def _summary(self) -> list[str]:
        total = self.total
        parts = [f"graded functions {_number(total.auto_points)} / "
                 f"{_number(total.auto_max)}"]
        if total.written_max or self.answers:
            parts.append(f"written answers {_number(total.written_points)} / "
                         f"{_number(total.written_max)}"
                         + (f" ({total.unscored} not scored yet)"
                            if total.unscored else ""))
        if total.late:
            parts.append(f"submitted late; {_number(total.penalty)} point(s) taken off"
                         if total.penalty else "submitted late (no points taken off)")
        return parts

    def html(self) -> str:
        total = self.total
        title = f"{total.assignment}: {_number(total.points)} / " \
                f"{_number(total.max_points)} points"
        body = [f"<h1>{escape(title)}</h1>",
                f"<p>Feedback for <strong>{escape(total.student, 200)}</strong>"
                + (f" ({escape(self.display, 200)})" if self.display else "")
                + ". "
                f"Status: <code>{escape(self.status)}</code>.</p>",
                "<ul>" + "".join(f"<li>{escape(part)}</li>" for part in
                                 self._summary()) + "</ul>"]
        if self.note:
            body.append(f"<p>Note: {escape(self.note)}</p>")
        body.append('<h2>Graded functions</h2><table id="functions"><tr>'
                    "<th>function</th><th>points</th><th>status</th>"
                    "<th>hidden checks</th></tr>")
        for function, status, points, maximum, detail, feedback in self.functions:
            checks = "".join(f"<li>{escape(line, 400)}</li>" for line in
                             self._checks(function, status, detail, feedback))
            body.append(f"<tr><td><code>{escape(function)}</code></td>"
                        f"<td>{_number(points)} / {_number(maximum)}</td>"
                        f'<td class="{escape(status)}">{escape(status)}</td>'
                        f"<td><ul>{checks}</ul></td></tr>")
        body.append("</table>")
        if self.answers:
            body.append("<h2>Written answers</h2>")
            for question, prompt, maximum, points, comment, answer in self.answers:
                scored = "not scored yet" if points is None \
                    else f"{_number(points)} / {_number(maximum)} points"
                body += [f'<section class="answer" id="{escape(question)}">',
                         f"<h3>{escape(question)}: {scored}</h3>",
                         f"<blockquote><pre>{escape(prompt, 3000)}</pre></blockquote>",
                         "<p>Your answer:</p>",
                         f"<pre>{escape(answer, 6000) or '(no answer)'}</pre>"]
                if comment:
                    body.append(f"<p>Comment: {escape(comment, 3000)}</p>")
                body.append("</section>")
        body.append(f'<p>Read the assignment again: <a href="{escape(self.link)}">'
                    f"{escape(total.assignment)} on the course website</a>.</p>")
        body.append(f"<p><small>Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
                    "course-grade. Expected values are never shown.</small></p>")
        return _page(title, body)

    def markdown(self) -> str:
        total = self.total
        lines = [f"# {markdown_text(total.assignment)}: {_number(total.points)} / "
                 f"{_number(total.max_points)} points", "",
                 f"Feedback for {markdown_text(total.student, 200)}"
                 + (f" ({markdown_text(self.display, 200)})" if self.display
                    else "") + f". Status: {markdown_text(self.status)}.", ""]
        lines += [f"- {markdown_text(part)}" for part in self._summary()] + [""]
        if self.note:
            lines += [f"Note: {markdown_text(self.note, 2000)}", ""]
        for function, status, points, maximum, detail, feedback in self.functions:
            lines += [f"## {function}: {_number(points)} / {_number(maximum)} points "
                      f"({markdown_text(status)})", ""]
            lines += [f"- {markdown_text(line)}"
                      for line in self._checks(function, status, detail, feedback)]
            lines.append("")
        for question, _, maximum, points, comment, answer in self.answers:
            scored = "not scored yet" if points is None \
                else f"{_number(points)} / {_number(maximum)} points"
            lines += [f"## {question}: {scored}", ""]
            lines += [f"    {line}" for line in answer.split("\n")] if answer \
                else ["(no answer)"]
            lines.append("")
            if comment:
                lines += [f"Comment: {markdown_text(comment, 2000)}", ""]
        lines += [f"The assignment: <{self.link}>", ""]
        return "\n".join(lines)


# --- The class report -----------------------------------------------------------


def write_class_report(gradebook_path: str | Path, out: str | Path) -> dict:
    """Write the class report: distributions, common failures, errors, grading time.

    Introduced in the chapter "Instructor guide". One histogram per graded
    function, per written question and for the total (each with a table of
    the same counts), the most common failure messages of the hidden checks
    with the number of submissions that had each, every submission that
    could not be graded (``error``, ``malformed``, ...) or had a function
    time out or crash, and how long grading took.

    Parameters
    ----------
    gradebook_path : str or Path
    out : str or Path
        The HTML file to write.

    Returns
    -------
    dict
        The numbers shown: ``distributions`` (title to {points: count}),
        ``failures`` ((function, message) to the number of submissions),
        ``problems`` (rows) and
        ``timing``.
    """
    with open_gradebook(gradebook_path) as gradebook:
        totals = gradebook.totals()
        function_rows = gradebook.query(
            "SELECT student, assignment, function, status, points, max_points, "
            "detail FROM function_grades ORDER BY assignment, rowid")
        written_rows = gradebook.query(
            "SELECT w.assignment, w.question, q.max_points, w.points "
            "FROM written_answers w JOIN questions q ON q.assignment = w.assignment "
            "AND q.question = w.question")
        runs = gradebook.query("SELECT started_at, seconds, submissions, jobs "
                               "FROM runs ORDER BY rowid")
        seconds = gradebook.query("SELECT student, assignment, seconds, status "
                                  "FROM submissions ORDER BY seconds DESC")
        details = {(student, assignment): detail for student, assignment, detail
                   in gradebook.query("SELECT student, assignment, detail "
                                      "FROM submissions")}
    distributions: dict[str, tuple[float, Counter]] = {}
    for student, assignment, function, status, points, maximum, _ in function_rows:
        del student, status
        _, counts = distributions.setdefault(f"{assignment}: {function}",
                                             (maximum, Counter()))
        counts[points] += 1
    for assignment, question, maximum, points in written_rows:
        if points is not None:
            _, counts = distributions.setdefault(
                f"{assignment}: {question} (written)", (maximum, Counter()))
            counts[points] += 1
    for total in totals:
        _, counts = distributions.setdefault(f"{total.assignment}: total",
                                             (total.max_points, Counter()))
        counts[total.points] += 1
    failures: Counter = Counter()
    problems = []
    for student, assignment, function, status, _, _, detail in function_rows:
        reasons = {match["reason"][:300] for match in map(_CHECK.match,
                                                          detail.split("\n"))
                   if match and match["reason"] != "passed"}
        failures.update((function, reason) for reason in reasons)
        if status in ("timeout", "crashed"):
            problems.append((student, assignment, function, status,
                             detail.replace("\n", "; ")))
    for student, assignment, _, status in seconds:
        if status not in ("graded", "missing"):
            problems.append((student, assignment, "(whole submission)", status,
                             details.get((student, assignment), "")))
    timing = {"runs": [(started, round(run_seconds, 1), count, jobs)
                       for started, run_seconds, count, jobs in runs],
              "submissions": len(seconds),
              "seconds_total": round(sum(row[2] for row in seconds), 1),
              "slowest": seconds[:5]}
    body = [f"<h1>Class report ({len(totals)} submissions)</h1>",
            f"<p>Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from the gradebook "
            f"{escape(Path(gradebook_path).name)}.</p>", "<h2>Points</h2>"]
    for number, (title, (maximum, counts)) in enumerate(distributions.items()):
        body += _histogram(number, title, maximum, counts)
    body += ['<h2>Most common failures of the hidden checks</h2>',
             '<table id="failures"><tr><th>function</th><th>what the check found'
             "</th><th>submissions</th></tr>"]
    body += [f"<tr><td><code>{escape(function)}</code></td><td>{escape(message)}"
             f"</td><td>{count}</td></tr>"
             for (function, message), count in failures.most_common(20)]
    body += ["</table>", "<h2>Not graded, timed out or crashed</h2>",
             '<table id="problems"><tr><th>student</th><th>assignment</th>'
             "<th>function</th><th>status</th><th>detail</th></tr>"]
    body += [f"<tr><td>{escape(student, 200)}</td><td>{escape(assignment)}</td>"
             f"<td>{escape(function)}</td><td>{escape(status)}</td>"
             f"<td>{escape(detail, 400)}</td></tr>"
             for student, assignment, function, status, detail in problems]
    body += ["</table>", "<h2>Grading time</h2>",
             '<table id="runs"><tr><th>run started (UTC)</th><th>seconds</th>'
             "<th>submissions graded</th><th>jobs</th></tr>"]
    body += [f"<tr><td>{escape(started)}</td><td>{run_seconds}</td><td>{count}</td>"
             f"<td>{jobs}</td></tr>" for started, run_seconds, count, jobs
             in timing["runs"]]
    body += ["</table>",
             f'<p id="seconds">Grading the {timing["submissions"]} submissions took '
             f"{timing['seconds_total']} s of sandbox time in all.</p>",
             '<table id="slowest"><tr><th>slowest</th><th>assignment</th>'
             "<th>seconds</th><th>status</th></tr>"]
    body += [f"<tr><td>{escape(student, 200)}</td><td>{escape(assignment)}</td>"
             f"<td>{round(row_seconds, 1)}</td><td>{escape(status)}</td></tr>"
             for student, assignment, row_seconds, status in timing["slowest"]]
    body.append("</table>")
    Path(out).write_text(_page("Class report", body), encoding="utf-8")
    return {"distributions": {title: dict(counts) for title, (_, counts)
                              in distributions.items()},
            "failures": dict(failures), "problems": problems, "timing": timing}


def _histogram(number: int, title: str, maximum: float, counts: Counter) -> list[str]:
    from matplotlib.figure import Figure  # no pyplot, no backend: nothing global

    figure = Figure(figsize=(5, 2.4), dpi=90)
    axes = figure.subplots()
    values = sorted(counts)
    axes.bar([str(_number(value)) for value in values],
             [counts[value] for value in values], color="#3b6ea5")
    axes.set_xlabel(f"points (maximum {_number(maximum)})")
    axes.set_ylabel("submissions")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    image = base64.b64encode(buffer.getvalue()).decode("ascii")
    rows = "".join(f"<tr><td>{_number(value)}</td><td>{counts[value]}</td></tr>"
                   for value in values)
    return [f'<figure id="figure-{number}">',
            f'<img alt="Histogram: {escape(title)}" src="data:image/png;base64,'
            f'{image}">', f"<figcaption>{escape(title)}</figcaption>",
            f'<table class="counts" data-title="{escape(title)}"><tr><th>points</th>'
            f"<th>submissions</th></tr>{rows}</table>", "</figure>"]


def _number(value: float) -> str:
    value = round(float(value), 4)
    return str(int(value)) if value.is_integer() else str(value)

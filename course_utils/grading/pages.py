"""Feedback pages for students and the class report for the instructor.

Introduced in the chapter "Instructor guide". Both are single, self-contained
HTML files: the styles are inline, figures are embedded PNG images, and a
Content-Security-Policy forbids every script and every request to the network,
so a page opened from disk or from a learning platform loads nothing. Every
text that came from a student (names, answers, messages) is escaped with
:func:`html.escape` and bounded. A written question's prompt is the one
exception: it comes from the instructor's source notebook (the gradebook's
``questions`` table, which only ``course-grade grade`` writes, from the
source), and is rendered as the Markdown it is (:func:`prompt_html`).
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

from course_utils.grading.assignment import load_assignment
from course_utils.grading.boundary import (
    bounded_text,
    markdown_text,
    student_file_name,
)
from course_utils.grading.gradebook import Gradebook, Total, open_gradebook
from course_utils.grading.gradebook import points_text as _number
from course_utils.grading.grader import student_function_text
from course_utils.grading.written import MAX_PROMPT_CHARACTERS, prompt_markdown
from course_utils.grading.written import bounded_text as bounded_lines

SITE_URL = "https://weight-init-course.github.io/weight-initialization"
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "form-action 'none'; base-uri 'none'")
STYLE = """
body { font-family: "DejaVu Sans", sans-serif; max-width: 52em; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
blockquote.prompt { margin: 0.5em 0 1em; padding: 0.1em 1em;
                    border-left: 4px solid #bbb; background: #fafafa; }
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


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML off: a tag in the prompt is shown as text.
    # markdown-it's validateLink already refuses javascript:, vbscript:,
    # file: and data: links; an image becomes its alt text, so a prompt never
    # makes the page request anything (the CSP would block it anyway).
    parser = MarkdownIt("commonmark", {"html": False})

    def image(renderer, tokens, index, options, env) -> str:
        alt = renderer.renderInlineAsText(tokens[index].children or [], options,
                                          env)
        return f"[image: {html.escape(alt)}]"

    parser.add_render_rule("image", image)
    return parser


def prompt_html(prompt: str) -> str:
    """A written question's prompt, Markdown from the source notebook, as HTML.

    Introduced in the chapter "Instructor guide". Rendered with markdown-it-py
    (CommonMark) with raw HTML disabled, so the text can format (emphasis,
    code, lists, links) but never inject markup: a tag is shown as text, a
    ``javascript:`` link stays text, an image is shown as its alt text.

    Parameters
    ----------
    prompt : str
        The prompt as the source notebook's markdown cell writes it (bounded
        to 3000 characters).

    Returns
    -------
    str

    Examples
    --------
    >>> print(prompt_html("**Question.** Why <b>not</b> `zeros`?"))
    <p><strong>Question.</strong> Why &lt;b&gt;not&lt;/b&gt; <code>zeros</code>?</p>
    <BLANKLINE>
    """
    return _markdown().render(bounded_lines(prompt, MAX_PROMPT_CHARACTERS))


def code_span(text: str) -> str:
    """``text`` as a Markdown code span, however many backticks it holds.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> code_span("f([1, 2])")
    '`f([1, 2])`'
    >>> code_span("a`b")
    '``a`b``'
    """
    text = " ".join(text.split("\n"))
    fence = "`" * (max(map(len, re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _page(title: str, body: list[str], style: str = "") -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title, 300)}</title>", f"<style>{STYLE}{style}</style>",
        "</head>",
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
                ) -> list[tuple[str, str, str]]:
        """Each line: ``(text before the call, the call or "", the outcome)``."""
        text = student_function_text(status, detail, feedback)
        lines = [line for line in text.split("\n") if line]
        calls = self.calls.get(function, [])
        shown = []
        for line in lines:
            match = _CHECK.match(line)
            if match and calls and int(match["number"]) <= len(calls):
                shown.append((f"hidden check {match['number']}, ",
                              calls[int(match["number"]) - 1],
                              f": {match['reason']}"))
            else:
                shown.append(("", "", line))
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
            checks = "".join(
                f"<li>{escape(before)}"
                + (f"<code>{escape(call, 400)}</code>" if call else "")
                + f"{escape(reason, 400)}</li>" for before, call, reason in
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
                         f'<blockquote class="prompt">{prompt_html(prompt)}'
                         "</blockquote>",
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
            lines += [f"- {markdown_text(before)}"
                      + (code_span(call) if call else "") + markdown_text(reason)
                      for before, call, reason in
                      self._checks(function, status, detail, feedback)]
            lines.append("")
        for question, prompt, maximum, points, comment, answer in self.answers:
            scored = "not scored yet" if points is None \
                else f"{_number(points)} / {_number(maximum)} points"
            lines += [f"## {question}: {scored}", "", *prompt_markdown(prompt), "",
                      "Your answer:", ""]
            lines += [f"    {line}" for line in answer.split("\n")] if answer \
                else ["(no answer)"]
            lines.append("")
            if comment:
                lines += [f"Comment: {markdown_text(comment, 2000)}", ""]
        lines += [f"The assignment: <{self.link}>", ""]
        return "\n".join(lines)


# --- The class report -----------------------------------------------------------


def write_class_report(gradebook_path: str | Path, out: str | Path) -> dict:
    """Write the class report: summary, lateness, distributions, failures, names.

    Introduced in the chapter "Instructor guide". The page opens with a
    summary per assignment (submitted, graded, not graded, missing, late,
    written answers not scored yet, and the totals of the submitted
    notebooks: mean, median, lowest, highest, full marks) and the hidden
    checks most often failed, counted by the outcome the students read
    (wrong value, wrong shape or keys, raised an error, timed out, crashed).
    Then: every late submission (how late, the penalty); one histogram per
    graded function, per written question and for the total (each with a
    table of the same counts); the most common failure messages of the hidden
    checks (the instructor's details) with the number of submissions that had
    each; every submission that could not be graded (``error``,
    ``malformed``, ...) or had a function time out or crash; how long grading
    took; and where each student folder came from (the name, platform id,
    file and layout that ``collect`` recorded, why that notebook was graded
    and which files were not). A folder put in place by hand has no such row.

    Parameters
    ----------
    gradebook_path : str or Path
    out : str or Path
        The HTML file to write.

    Returns
    -------
    dict
        The numbers shown: ``summary`` (assignment to its counts and
        totals), ``hidden_failures`` ((assignment, function, check number) to
        a Counter of outcomes), ``late`` (rows), ``distributions`` (title to
        {points: count}), ``failures`` ((function, message) to the number of
        submissions), ``problems`` (rows), ``timing`` and ``mapping`` (the
        collect records, as dicts).
    """
    with open_gradebook(gradebook_path) as gradebook:
        totals = gradebook.totals()
        function_rows = gradebook.query(
            "SELECT student, assignment, function, status, points, max_points, "
            "detail, feedback FROM function_grades ORDER BY assignment, rowid")
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
        mapping = [dict(zip(MAPPING_COLUMNS, row, strict=True)) for row in
                   gradebook.query(f"SELECT {', '.join(MAPPING_COLUMNS)} FROM "
                                   "collected ORDER BY assignment, student")]
    distributions: dict[str, tuple[float, Counter]] = {}
    for _, assignment, function, _, points, maximum, _, _ in function_rows:
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
    hidden_failures: dict[tuple[str, str, int], Counter] = {}
    problems = []
    for student, assignment, function, status, _, _, detail, feedback \
            in function_rows:
        reasons = {match["reason"][:300] for match in map(_CHECK.match,
                                                          detail.split("\n"))
                   if match and match["reason"] != "passed"}
        failures.update((function, reason) for reason in reasons)
        for match in map(_CHECK.match, feedback.split("\n")):
            if match and match["reason"] in FAILED_OUTCOMES:
                hidden_failures.setdefault(
                    (assignment, function, int(match["number"])), Counter()
                )[match["reason"]] += 1
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
    summary = _summary(totals)
    records = {(row["student"], row["assignment"]): row for row in mapping}
    late = [(total.student, total.assignment,
             _how_late(records.get((total.student, total.assignment))),
             records.get((total.student, total.assignment), {}).get(
                 "penalty_percent", 0.0), total.penalty)
            for total in totals if total.late]
    body = [f"<h1>Class report ({len(totals)} submissions)</h1>",
            f"<p>Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from the gradebook "
            f"{escape(Path(gradebook_path).name)}.</p>"]
    body += _summary_html(summary)
    body += _hidden_failures_html(hidden_failures)
    body += _late_html(late)
    body.append("<h2>Points</h2>")
    for number, (title, (maximum, counts)) in enumerate(distributions.items()):
        body += _histogram(number, title, maximum, counts)
    body += ['<h2>Most common failures of the hidden checks</h2>',
             "<p>What each check found, in the instructor's words (the students' "
             "pages give only the outcome).</p>",
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
    body += _mapping_html(mapping, {(total.student, total.assignment)
                                    for total in totals if total.status != "missing"})
    Path(out).write_text(_page("Class report", body, REPORT_STYLE),
                         encoding="utf-8")
    return {"summary": summary, "hidden_failures": hidden_failures, "late": late,
            "distributions": {title: dict(counts) for title, (_, counts)
                              in distributions.items()},
            "failures": dict(failures), "problems": problems, "timing": timing,
            "mapping": mapping}


# The report's tables are wide: a wider page, names of functions unbroken.
REPORT_STYLE = """
body { max-width: 78em; } td code { overflow-wrap: normal; white-space: nowrap; }
td.number { text-align: right; }
"""
# The outcomes a student's page gives for a failed hidden check (grader.OUTCOMES).
FAILED_OUTCOMES = ("wrong value", "wrong shape or keys", "raised an error",
                   "timed out", "crashed")
MAPPING_COLUMNS = ("student", "assignment", "display_name", "platform",
                   "platform_id", "original_name", "layout", "chosen_because",
                   "not_graded", "submitted_at", "late", "late_seconds",
                   "penalty_percent")


def _summary(totals: list[Total]) -> dict[str, dict]:
    """Per assignment: the counts and the totals of the submitted notebooks."""
    summary = {}
    for assignment in sorted({total.assignment for total in totals}):
        rows = [total for total in totals if total.assignment == assignment]
        submitted = [total for total in rows if total.status != "missing"]
        points = sorted(total.points for total in submitted)
        maximum = max(total.max_points for total in rows)
        summary[assignment] = {
            "folders": len(rows), "submitted": len(submitted),
            "graded": sum(total.status == "graded" for total in rows),
            "not_graded": sum(total.status not in ("graded", "missing")
                              for total in rows),
            "missing": sum(total.status == "missing" for total in rows),
            "late": sum(total.late for total in rows),
            "unscored": sum(total.unscored for total in rows),
            "max_points": maximum,
            "mean": round(statistics.fmean(points), 2) if points else None,
            "median": statistics.median(points) if points else None,
            "lowest": points[0] if points else None,
            "highest": points[-1] if points else None,
            "full_marks": sum(value >= maximum for value in points)}
    return summary


def _summary_html(summary: dict[str, dict]) -> list[str]:
    def shown(value: float | None) -> str:
        return "-" if value is None else _number(value)

    measures = [
        ("submitted (a notebook was found)", "submitted"), ("graded", "graded"),
        ("not graded (malformed, too large, ...)", "not_graded"),
        ("missing (the student folder has none)", "missing"), ("late", "late"),
        ("written answers not scored yet", "unscored"),
        ("total: maximum", "max_points"), ("total: mean", "mean"),
        ("total: median", "median"), ("total: lowest", "lowest"),
        ("total: highest", "highest"), ("total: full marks", "full_marks")]
    body = ["<h2>Summary</h2>",
            "<p>The totals are those of the submitted notebooks, written points "
            "and late penalties included; their histogram is under Points.</p>",
            '<table id="summary"><tr><th></th>'
            + "".join(f"<th>{escape(name)}</th>" for name in summary) + "</tr>"]
    for label, key in measures:
        body.append(f"<tr><td>{label}</td>" + "".join(
            f'<td class="number">{shown(row[key])}</td>'
            for row in summary.values()) + "</tr>")
    body.append("</table>")
    return body


def _hidden_failures_html(hidden_failures: dict) -> list[str]:
    ranked = sorted(hidden_failures.items(),
                    key=lambda item: (-sum(item[1].values()), item[0]))
    several = len({assignment for assignment, _, _ in hidden_failures}) > 1
    body = ["<h2>Hidden checks most often failed</h2>",
            "<p>The submissions that failed each hidden check, by the outcome "
            "their feedback gives (a blank notebook's checks count; a malformed "
            "one has none).</p>",
            '<table id="hidden-failures"><tr><th>function</th><th>hidden check</th>'
            "<th>failed</th>"
            + "".join(f"<th>{outcome}</th>" for outcome in FAILED_OUTCOMES)
            + "</tr>"]
    for (assignment, function, number), outcomes in ranked[:15]:
        where = f"{escape(assignment)}: " if several else ""
        body.append(
            f"<tr><td>{where}<code>{escape(function)}</code></td>"
            f'<td class="number">{number}</td>'
            f'<td class="number">{sum(outcomes.values())}</td>'
            + "".join(f'<td class="number">{outcomes[outcome]}</td>'
                      for outcome in FAILED_OUTCOMES) + "</tr>")
    body.append("</table>")
    return body


def _how_late(record: dict | None) -> str:
    if record is None:
        return "late"
    seconds = record["late_seconds"]
    if seconds is not None:
        minutes = round(seconds / 60)
        return (f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
                if minutes < 48 * 60 else f"{minutes / 1440:.1f} d")
    return {"canvas": "marked LATE by Canvas",
            "moodle": "late by Moodle's worksheet"}.get(record["platform"], "late")


def _late_html(late: list[tuple]) -> list[str]:
    body = ["<h2>Late submissions</h2>",
            '<table id="late"><tr><th>student</th><th>assignment</th>'
            "<th>how late</th><th>penalty (%)</th><th>points taken off</th></tr>"]
    body += [f"<tr><td>{escape(student, 200)}</td><td>{escape(assignment)}</td>"
             f"<td>{escape(how)}</td><td>{_number(percent)}</td>"
             f"<td>{_number(taken)}</td></tr>"
             for student, assignment, how, percent, taken in late]
    body.append("</table>")
    return body


def _mapping_html(mapping: list[dict], submitted: set[tuple[str, str]]
                  ) -> list[str]:
    recorded = {(row["student"], row["assignment"]) for row in mapping}
    by_hand = len(submitted - recorded)
    body = ["<h2>Where each folder came from</h2>",
            "<p>What <code>course-grade collect</code> recorded: the student's "
            "name and id on the platform, the file graded, why that notebook was "
            "chosen and the student's other files (not graded)."
            + (f" {by_hand} submission(s) have no record (put in place by "
               "hand)." if by_hand else "") + "</p>"]
    for assignment in sorted({row["assignment"] for row in mapping}):
        rows = [row for row in mapping if row["assignment"] == assignment]
        layouts = ", ".join(sorted({row["layout"] or row["platform"]
                                    for row in rows}))
        body += [f"<h3>{escape(assignment)} (layout: {escape(layouts)})</h3>",
                 '<table class="mapping"><tr><th>folder</th><th>name</th>'
                 "<th>platform id</th><th>file graded</th><th>why this notebook"
                 "</th><th>not graded</th><th>late</th></tr>"]
        body += [f"<tr><td>{escape(row['student'], 200)}</td>"
                 f"<td>{escape(row['display_name'], 200)}</td>"
                 f"<td>{escape(_platform_id(row), 200)}</td>"
                 f"<td>{escape(row['original_name'], 400)}</td>"
                 f"<td>{escape(row['chosen_because'], 600)}</td>"
                 f"<td>{escape(row['not_graded'], 600)}</td>"
                 f"<td>{'late' if row['late'] else ''}</td></tr>" for row in rows]
        body.append("</table>")
    return body


def _platform_id(row: dict) -> str:
    return " ".join(part for part in (row["platform"], row["platform_id"]) if part)


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



"""The ``course-grade`` command: the instructor's week, from release to export.

Introduced in the chapter "Instructor guide".
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

from course_utils.grading.assignment import (
    AssignmentError,
    LeakError,
    check_release,
    release,
)
from course_utils.grading.gradebook import export_csv
from course_utils.grading.grader import GradingOptions, grade
from course_utils.grading.handout import check_wheel, write_wheel
from course_utils.grading.pages import (
    SITE_URL,
    FeedbackOptions,
    write_class_report,
    write_feedback_pages,
)
from course_utils.grading.platforms import (
    FORMATS,
    LAYOUTS,
    CollectError,
    collect,
    demo,
    describe_moment,
    export_platform,
    parse_deadline,
    parse_extensions,
    time_zone,
    write_report,
)
from course_utils.grading.platforms.feedback_zip import write_platform_zip
from course_utils.grading.sandbox import SandboxError
from course_utils.grading.written import ScoreError, import_scores, write_answers


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course-grade",
        description="Release student notebooks, collect and grade submissions, "
                    "score written answers, write feedback and reports, "
                    "export grades.")
    commands = parser.add_subparsers(dest="command", required=True)

    release_parser = commands.add_parser(
        "release", help="write the student version of every source notebook "
                        "and the wheel of course_utils students install")
    release_parser.add_argument("source_dir")
    release_parser.add_argument("release_dir")
    release_parser.add_argument("--check", action="store_true",
                                help="write nothing; check that release_dir holds "
                                     "exactly the current student versions")

    collect_parser = commands.add_parser(
        "collect", help="turn a Canvas or Moodle zip, or a folder of notebooks, "
                        "into SUBMISSIONS_DIR/<student>/<assignment>.ipynb")
    collect_parser.add_argument("source", help="a .zip download or a folder")
    collect_parser.add_argument("submissions_dir")
    collect_parser.add_argument("--assignment", required=True)
    collect_parser.add_argument("--gradebook", help="records names, platform ids "
                                "and lateness (needed by export --format)")
    collect_parser.add_argument("--late-after", help="the deadline, ISO 8601, "
                                "in --timezone unless a zone is given (Moodle "
                                "with --worksheet, or a plain folder; Canvas "
                                "marks lateness itself)")
    collect_parser.add_argument("--timezone", help="the course's time zone, e.g. "
                                "Europe/Berlin, for --late-after, --extension "
                                "and the worksheet's dates (default: this "
                                "machine's)")
    collect_parser.add_argument("--worksheet", help="Moodle: the assignment's "
                                "grading worksheet (CSV), for each submission's "
                                "time and Moodle's own lateness")
    collect_parser.add_argument("--extension", action="append", default=[],
                                metavar="NAME_OR_ID=DATETIME",
                                help="a student's own deadline (repeatable), or "
                                     "a CSV file of student,datetime lines")
    collect_parser.add_argument("--duplicate-ids", choices=["error", "newest"],
                                default="error",
                                help="one platform id under two names: refuse "
                                     "(default) or keep the newer by the "
                                     "platform's own order")
    collect_parser.add_argument("--late-penalty", type=float, default=0.0,
                                help="percent of the points taken off a late "
                                     "submission (default 0: lateness is only "
                                     "recorded)")
    collect_parser.add_argument("--drafts", choices=["skip", "grade"],
                                default="skip",
                                help="moodle, with --worksheet: a submission whose "
                                     "Status is 'Draft (not submitted)' is "
                                     "skipped (default) or graded; reported "
                                     "both ways")
    collect_parser.add_argument("--report", help="also write the report as CSV")

    grade_parser = commands.add_parser(
        "grade", help="grade SUBMISSIONS_DIR/<student>/<assignment>.ipynb")
    grade_parser.add_argument("source_dir")
    grade_parser.add_argument("submissions_dir")
    grade_parser.add_argument("--gradebook", required=True, help="SQLite file")
    grade_parser.add_argument("--feedback", help="folder for feedback files "
                              "(default: feedback/ beside the gradebook)")
    grade_parser.add_argument("--jobs", type=int, default=1,
                              help="submissions graded in parallel (default 1)")
    grade_parser.add_argument("--timeout", type=float, default=10.0,
                              help="seconds of CPU time per cell and per hidden "
                                   "test (default 10; at most 3 times as long "
                                   "in wall-clock time)")
    grade_parser.add_argument("--memory-mb", type=int, default=2048,
                              help="memory limit of student code (default 2048)")
    grade_parser.add_argument("--regrade", action="store_true",
                              help="grade again submissions that are unchanged")
    grade_parser.add_argument("--assignment", action="append", default=[],
                              help="grade only this assignment (repeatable; "
                                   "default: every assignment at least one "
                                   "student submitted)")
    grade_parser.add_argument("--isolation", default="auto",
                              choices=["auto", "root", "userns", "none"],
                              help="sandbox mode (default: the strongest available)")

    answers_parser = commands.add_parser(
        "answers", help="write every written answer, per question, to score")
    answers_parser.add_argument("--gradebook", required=True)
    answers_parser.add_argument("--out", required=True, help="review.csv or .md")

    score_parser = commands.add_parser(
        "score", help="import the points typed into the review CSV")
    score_parser.add_argument("--gradebook", required=True)
    score_parser.add_argument("review_csv")

    feedback_parser = commands.add_parser(
        "feedback", help="write each student's feedback page (HTML and Markdown)")
    feedback_parser.add_argument("--gradebook", required=True)
    feedback_parser.add_argument("--out", help="folder (default: feedback/ beside "
                                               "the gradebook)")
    feedback_parser.add_argument("--site-url", default=SITE_URL,
                                 help="the course website the pages link to")
    feedback_parser.add_argument("--show-hidden-calls", action="store_true",
                                 help="name each hidden check's call and "
                                      "arguments (needs --source)")
    feedback_parser.add_argument("--source", help="the source notebooks' folder")
    feedback_parser.add_argument("--platform-zip", help="also write the pages into "
                                 "this zip, named for the platform's bulk "
                                 "feedback upload (Canvas: Re-upload "
                                 "submissions; Moodle: Upload multiple feedback "
                                 "files in a zip)")
    feedback_parser.add_argument("--assignment", help="with --platform-zip: the "
                                 "assignment, when several were collected")

    report_parser = commands.add_parser(
        "report", help="write the class report (HTML)")
    report_parser.add_argument("--gradebook", required=True)
    report_parser.add_argument("--out", required=True)

    export_parser = commands.add_parser("export", help="write grades as CSV")
    export_parser.add_argument("--gradebook", required=True)
    export_parser.add_argument("--csv", required=True)
    export_parser.add_argument("--format", default="generic", choices=FORMATS,
                               help="generic (default), canvas or moodle")
    export_parser.add_argument("--assignment", help="only this assignment")
    export_parser.add_argument("--column", help="canvas: the grade column's "
                               "header or title, as in Canvas, e.g. "
                               "'Initialization (4711)'")
    export_parser.add_argument("--template", help="the platform's own gradebook "
                               "file to fill (Canvas: Grades > Export; Moodle: "
                               "the assignment's grading worksheet); without it "
                               "the file is for review, not for upload")
    export_parser.add_argument("--missing-as-zero", action="store_true",
                               help="write 0 for students without a submission "
                                    "(default: leave their cell as it is)")
    export_parser.add_argument("--allow-unscored", action="store_true",
                               help="export although written answers are not "
                                    "scored (they count 0)")
    export_parser.add_argument("--overwrite", action="store_true",
                               help="moodle: replace a grade or feedback comment "
                                    "the worksheet already holds (default: leave "
                                    "such rows as they are; both ways they are "
                                    "listed)")
    demo_parser = commands.add_parser(
        "demo", help="write a practice class: a Canvas or Moodle download of "
                     "synthetic students and the matching gradebook file")
    demo_parser.add_argument("directory", help="a new or empty folder")
    demo_parser.add_argument("--platform", required=True, choices=demo.PLATFORMS)
    demo_parser.add_argument("--students", type=int, default=demo.DEFAULT_STUDENTS,
                             help=f"students who submit ({demo.MIN_STUDENTS} to "
                                  f"{demo.MAX_STUDENTS}; default "
                                  f"{demo.DEFAULT_STUDENTS})")
    demo_parser.add_argument("--source", default="exercises/source",
                             help="the source notebooks' folder (default: "
                                  "exercises/source)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``course-grade``; return the exit status.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    argv : list of str, optional
        Arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success, 1 when the input is wrong or unsafe, 2 for bad usage.
    """
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "release" and arguments.check:
            for path in check_release(arguments.source_dir, arguments.release_dir):
                print(f"up to date: {path}")
            print(f"up to date: {check_wheel(arguments.release_dir)}")
        elif arguments.command == "release":
            for path in release(arguments.source_dir, arguments.release_dir):
                print(f"wrote {path}")
            print(f"wrote {write_wheel(arguments.release_dir)} (the students' "
                  "course_utils, as on the course website)")
        elif arguments.command == "collect":
            _collect(arguments)
        elif arguments.command == "grade":
            options = GradingOptions(
                jobs=arguments.jobs, timeout=arguments.timeout,
                regrade=arguments.regrade, isolation=arguments.isolation,
                memory_mb=arguments.memory_mb,
                assignments=tuple(arguments.assignment))
            graded = grade(arguments.source_dir, arguments.submissions_dir,
                           arguments.gradebook, arguments.feedback, options)
            print(f"graded {len(graded)} submission(s); gradebook: "
                  f"{arguments.gradebook}")
        elif arguments.command == "answers":
            count = write_answers(arguments.gradebook, arguments.out)
            print(f"wrote {count} answer(s) to {arguments.out}")
        elif arguments.command == "score":
            count = import_scores(arguments.gradebook, arguments.review_csv)
            print(f"scored {count} answer(s) in {arguments.gradebook}")
        elif arguments.command == "feedback":
            out = arguments.out or Path(arguments.gradebook).parent / "feedback"
            options = FeedbackOptions(arguments.site_url, arguments.show_hidden_calls,
                                      arguments.source)
            if arguments.assignment and not arguments.platform_zip:
                raise ValueError("assignment: only with --platform-zip")
            pages = write_feedback_pages(arguments.gradebook, out, options)
            print(f"wrote {len(pages)} feedback page(s) (HTML and Markdown) in {out}")
            if arguments.platform_zip:
                _platform_zip(arguments, out)
        elif arguments.command == "demo":
            _demo(arguments)
        elif arguments.command == "report":
            write_class_report(arguments.gradebook, arguments.out)
            print(f"wrote {arguments.out}")
        elif arguments.format == "generic":
            if arguments.assignment or arguments.column or arguments.template \
                    or arguments.missing_as_zero or arguments.allow_unscored \
                    or arguments.overwrite:
                raise ValueError("assignment, column, template, missing-as-zero, "
                                 "allow-unscored, overwrite: only with --format "
                                 "canvas or moodle")
            count = export_csv(arguments.gradebook, arguments.csv)
            print(f"wrote {count} row(s) to {arguments.csv}")
        else:
            _export(arguments)
    except (AssignmentError, LeakError, SandboxError, CollectError, ScoreError,
            FileNotFoundError, ValueError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"course-grade: error: {message}", file=sys.stderr)
        return 1
    return 0


def _demo(arguments: argparse.Namespace) -> None:
    result = demo.write_demo(arguments.directory, arguments.platform,
                             arguments.students, arguments.source)
    for path, what in result.files:
        print(f"wrote {path}: {what}")
    print("the practice class (what each student handed in):")
    width = max(_columns(student.full_name) for student in result.students)
    for student in result.students:
        padding = " " * (width - _columns(student.full_name))
        print(f"  {student.full_name}{padding}  {demo.describe(student)}")
    print(f"next: {result.next_command}")


def _columns(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _platform_zip(arguments: argparse.Namespace, pages: Path) -> None:
    result = write_platform_zip(arguments.gradebook, pages, arguments.platform_zip,
                                arguments.assignment)
    for line in result.skipped:
        print(f"not in the zip: {line}")
    for line in result.notes:
        print(f"note: {line}")
    upload = {"canvas": "Canvas: the assignment's page > Re-upload submissions "
                        "(each student gets the page under their notebook's "
                        "file name)",
              "moodle": "Moodle: View all submissions > Grading action (Moodle "
                        "4.5+: Actions) > Upload multiple feedback files in a "
                        "zip"}[result.platform]
    print(f"wrote {len(result.entries)} page(s) of {result.assignment} into "
          f"{arguments.platform_zip} for {upload}")


def _export(arguments: argparse.Namespace) -> None:
    if arguments.template is None and (arguments.missing_as_zero
                                       or arguments.allow_unscored
                                       or arguments.overwrite):
        raise ValueError("missing-as-zero, allow-unscored, overwrite: only with "
                         "--template")
    result = export_platform(arguments.gradebook, arguments.csv, arguments.format,
                             arguments.assignment, arguments.column,
                             arguments.template, arguments.missing_as_zero,
                             arguments.allow_unscored, arguments.overwrite)
    if not result.for_upload:
        print(f"wrote {result.rows} row(s) for {arguments.format} to "
              f"{arguments.csv}: FOR REVIEW, NOT FOR UPLOAD (its columns are not "
              f"the platform's own; give --template with the file "
              f"{arguments.format.capitalize()} exports to get one to upload)")
        return
    for note in result.notes:
        print(f"note: {note}")
    blank = (f"; {len(result.left_blank)} other student row(s) (no submission, "
             f"or not assigned) left as in the template" if result.left_blank
             else "")
    kept = (f"; {len(result.kept)} row(s) already graded in Moodle left as they "
            f"are (--overwrite replaces them)" if result.kept else "")
    print(f"filled {result.rows} row(s) of {result.column!r} in {arguments.csv}"
          f"{blank}{kept}; every other cell as in {arguments.template}")


def _collect(arguments: argparse.Namespace) -> None:
    zone = time_zone(arguments.timezone)
    deadline = parse_deadline(arguments.late_after, zone) \
        if arguments.late_after else None
    extensions = parse_extensions(arguments.extension, zone)
    report = collect(arguments.source, arguments.submissions_dir,
                     arguments.assignment, arguments.gradebook, deadline,
                     arguments.late_penalty, worksheet=arguments.worksheet,
                     timezone=arguments.timezone, extensions=extensions,
                     duplicate_ids=arguments.duplicate_ids, drafts=arguments.drafts)
    print(f"layout: {LAYOUTS[report.layout]}")
    for note in report.notes:
        print(note)
    if deadline is not None:
        print(f"deadline: {describe_moment(deadline, zone)}")
    for who, moment in sorted(extensions.items()):
        print(f"extension: {who}: {describe_moment(moment, zone)}")
    for entry in report.entries:
        where = f" -> {entry.student}" if entry.student else ""
        reason = f" ({entry.reason})" if entry.reason else ""
        print(f"{entry.status}: {entry.original}{where}{reason}")
    for identity in report.identities:
        platform_id = f", {identity.platform} id {identity.platform_id}" \
            if identity.platform_id else ""
        print(f"folder: {identity.folder} <- {identity.display_name!r}{platform_id}")
    if arguments.report:
        write_report(report, arguments.report)
    late = sum(1 for entry in report.collected if entry.late)
    print(f"{report.platform}: collected {len(report.collected)}, of which {late} "
          f"late; skipped {len(report.skipped)}; other files not graded "
          f"{len(report.not_graded)}")


if __name__ == "__main__":
    sys.exit(main())

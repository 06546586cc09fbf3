"""The ``course-grade`` command: release, grade, export.

Introduced in the chapter "Instructor guide".
"""

from __future__ import annotations

import argparse
import sys

from course_utils.grading.assignment import AssignmentError, LeakError, release
from course_utils.grading.gradebook import export_csv
from course_utils.grading.grader import GradingOptions, grade
from course_utils.grading.sandbox import SandboxError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course-grade",
        description="Release student notebooks, grade submissions, export grades.")
    commands = parser.add_subparsers(dest="command", required=True)

    release_parser = commands.add_parser(
        "release", help="write the student version of every source notebook")
    release_parser.add_argument("source_dir")
    release_parser.add_argument("release_dir")

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
                              help="seconds per cell and per hidden test "
                                   "(default 10)")
    grade_parser.add_argument("--memory-mb", type=int, default=2048,
                              help="memory limit of student code (default 2048)")
    grade_parser.add_argument("--regrade", action="store_true",
                              help="grade again submissions that are unchanged")
    grade_parser.add_argument("--isolation", default="auto",
                              choices=["auto", "root", "userns", "none"],
                              help="sandbox mode (default: the strongest available)")

    export_parser = commands.add_parser("export", help="write grades as CSV")
    export_parser.add_argument("--gradebook", required=True)
    export_parser.add_argument("--csv", required=True)
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
        if arguments.command == "release":
            for path in release(arguments.source_dir, arguments.release_dir):
                print(f"wrote {path}")
        elif arguments.command == "grade":
            options = GradingOptions(
                jobs=arguments.jobs, timeout=arguments.timeout,
                regrade=arguments.regrade, isolation=arguments.isolation,
                memory_mb=arguments.memory_mb)
            graded = grade(arguments.source_dir, arguments.submissions_dir,
                           arguments.gradebook, arguments.feedback, options)
            print(f"graded {len(graded)} submission(s); gradebook: "
                  f"{arguments.gradebook}")
        else:
            count = export_csv(arguments.gradebook, arguments.csv)
            print(f"wrote {count} row(s) to {arguments.csv}")
    except (AssignmentError, LeakError, SandboxError, FileNotFoundError,
            ValueError) as error:
        print(f"course-grade: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

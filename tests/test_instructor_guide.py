"""The instructor guide's release-grade-export cycle, run exactly as printed."""

import csv
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import BOOK_DIR, REPO_ROOT, reference_sources, write_submission

GUIDE = BOOK_DIR / "exercises" / "instructors.md"
COURSE_GRADE = Path(sys.executable).with_name("course-grade")


def _cycle_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    cycle = next(block for block in blocks if "course-grade release" in block)
    return [line for line in cycle.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _run(command: str, home: Path) -> None:
    """Run a printed command from the course folder, ``~`` being ``home``."""
    words = [word.replace("~", str(home), 1) if word.startswith("~/") else word
             for word in shlex.split(command)]
    assert words[0] == "course-grade"
    completed = subprocess.run([str(COURSE_GRADE), *words[1:]], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--ignored"],
                          cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_the_guide_shows_release_grade_and_export():
    verbs = [shlex.split(command)[1] for command in _cycle_commands()]
    assert verbs == ["release", "grade", "export"]


def test_the_printed_cycle_works_and_writes_nothing_in_the_course(tmp_path):
    status_before = _git_status()
    release, grade, export = _cycle_commands()
    _run(release, tmp_path)
    grading = tmp_path / "grading"
    released = grading / "release" / "initialization.ipynb"
    assert released.is_file()
    # Two students: one hands in a finished notebook, one the untouched release.
    write_submission(grading / "submissions" / "ada", reference_sources())
    (grading / "submissions" / "bob").mkdir()
    shutil.copy(released, grading / "submissions" / "bob" / released.name)
    _run(grade, tmp_path)
    _run(export, tmp_path)
    with open(grading / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["student"], row["points"], row["max_points"], row["status"])
            for row in rows] == [("ada", "7", "7", "graded"),
                                 ("bob", "0", "7", "graded")]
    assert (grading / "feedback" / "bob" / "initialization.md").exists()
    assert _git_status() == status_before, "the cycle wrote into the repository"

"""The instructor guide's release-grade-export cycle, run exactly as printed."""

import csv
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import (
    ASSIGNMENTS,
    BOOK_DIR,
    REPO_ROOT,
    reference_sources,
    write_submission,
)

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
    (grading / "submissions" / "bob").mkdir(parents=True)
    # Two students: one hands in finished notebooks, one the untouched releases.
    for assignment in ASSIGNMENTS:
        released = grading / "release" / f"{assignment}.ipynb"
        assert released.is_file()
        write_submission(grading / "submissions" / "ada",
                         reference_sources(assignment), assignment=assignment)
        shutil.copy(released, grading / "submissions" / "bob" / released.name)
    _run(grade, tmp_path)
    _run(export, tmp_path)
    with open(grading / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    maximum = {name: f"{sum(points.values()):g}"
               for name, points in ASSIGNMENTS.items()}
    assert [(row["student"], row["assignment"], row["points"], row["max_points"],
             row["status"]) for row in rows] == [
        (student, name, maximum[name] if student == "ada" else "0", maximum[name],
         "graded") for student in ("ada", "bob") for name in sorted(ASSIGNMENTS)]
    for name in ASSIGNMENTS:
        assert (grading / "feedback" / "bob" / f"{name}.md").exists()
    assert _git_status() == status_before, "the cycle wrote into the repository"

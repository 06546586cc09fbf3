"""The grader against fixture submissions: correct, broken, hostile.

The class is graded once per module as the tests run: as root in CI, so the
sandbox's root path (chroot, unprivileged user, no network) is what is tested.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

import course_utils
from course_utils.grading.grader import GradingOptions, grade
from course_utils.grading.sandbox import choose_isolation
from tests.conftest import (
    ASSIGNMENT,
    GRADED_FUNCTIONS,
    graded_cell,
    reference_sources,
    single_assignment_source,
    write_submission,
)

SOURCE_DIR = single_assignment_source(ASSIGNMENT)
ZEROS, RANDOM, HE = GRADED_FUNCTIONS
POINTS = {ZEROS: 2, RANDOM: 2, HE: 3}
TIMEOUT = 3.0
ISOLATION = choose_isolation("auto")
needs_sandbox = pytest.mark.skipif(
    ISOLATION == "none", reason="no sandbox here: not root and no user namespaces")

WRONG = """
parameters = {}
for l in range(1, len(layers_dims)):
    parameters["W" + str(l)] = np.ones((layers_dims[l], layers_dims[l - 1]))
    parameters["b" + str(l)] = np.ones((layers_dims[l], 1))
return parameters
"""
# The right answer by calling the course library: what a tampering submission
# returns when its trick worked, so that its 0 proves the trick failed.
LIBRARY_ANSWER = f"""
from course_utils import initialize_parameters
kind = {{{ZEROS!r}: "zeros", {RANDOM!r}: "random", {HE!r}: "he"}}[NAME]
return initialize_parameters(kind, layers_dims, seed=3)
"""


def _if_then_library(condition: str, name: str) -> str:
    wrong = "\n".join("    " + line for line in WRONG.strip().split("\n"))
    right = "\n".join("    " + line for line in LIBRARY_ANSWER.strip().split("\n"))
    return f"NAME = {name!r}\nif {condition}:\n{right}\nelse:\n{wrong}"


def _all_functions(body_for, prelude: str = "") -> dict[str, str]:
    return {name: graded_cell(name, body_for(name), prelude)
            for name in GRADED_FUNCTIONS}


class Listener:
    """A TCP server on the host's loopback that records every connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


def build_class(folder: Path, gradebook: Path, listener_port: int) -> dict[str, dict]:
    """Write every fixture submission; return the expected grades per student."""
    solutions = reference_sources()
    real_init = Path(course_utils.__file__)
    expected: dict[str, dict] = {}

    def add(student, graded=None, expect=None, **options):
        write_submission(folder / student, graded, **options)
        expected[student] = expect

    def add_tampering(student, succeeded: str, prelude: str):
        """Every function returns the right answer only if ``succeeded`` is true."""
        add(student, _all_functions(lambda name: _if_then_library(succeeded, name),
                                    prelude=prelude),
            {name: "failed" for name in GRADED_FUNCTIONS})

    add("correct", solutions, {name: "passed" for name in GRADED_FUNCTIONS})
    add("blank", None, {name: "error" for name in GRADED_FUNCTIONS})
    noisy = {name: source.replace(
        f"def {name}(layers_dims):",
        "import os, sys\nprint('x' * 3_000_000)\nos.write(1, b'y' * 2_000_000)\n"
        f"def {name}(layers_dims):\n    print('z' * 1_000_000, file=sys.stderr)")
        for name, source in solutions.items()}
    add("noisy", noisy, {name: "passed" for name in GRADED_FUNCTIONS})
    add("raising", solutions | {HE: graded_cell(HE, "raise ValueError('oops')")},
        {ZEROS: "passed", RANDOM: "passed", HE: "error"})
    looping = graded_cell(RANDOM, """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)",
                  "course-grade-test-sleeper"], start_new_session=True)
while True:
    pass
""")
    add("looping", solutions | {RANDOM: looping},
        {ZEROS: "passed", RANDOM: "timeout", HE: "passed"})
    add("memory_hog", solutions | {HE: graded_cell(HE, "return np.ones(10**10)")},
        {ZEROS: "passed", RANDOM: "passed", HE: "error"})
    add("deleted_tests", solutions, {name: "passed" for name in GRADED_FUNCTIONS},
        drop_test_cells=True)
    add("edited_tests", _all_functions(lambda name: WRONG),
        {name: "failed" for name in GRADED_FUNCTIONS},
        replace_test_cells="print('All tests passed.')\n### BEGIN HIDDEN TESTS\n"
                           "### END HIDDEN TESTS")
    add("patch_numpy", _all_functions(lambda name: WRONG, prelude=(
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.array_equal = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "np.testing.assert_array_equal = lambda *args, **kwargs: None")),
        {name: "failed" for name in GRADED_FUNCTIONS})
    add("patch_grader", _all_functions(lambda name: WRONG, prelude=(
        "import sys\nimport course_utils.grading.values as values\n"
        "values.compare = lambda *args, **kwargs: values.Comparison(True)\n"
        "sys.modules['__main__'].encode = "
        "lambda value, depth=0: {'type': 'text', 'value': 'passed'}")),
        {name: "failed" for name in GRADED_FUNCTIONS})
    add("always_equal", {
        ZEROS: graded_cell(ZEROS, """
class AlwaysEqual:
    def __eq__(self, other):
        return True
return {f"{kind}{l}": AlwaysEqual()
        for l in range(1, len(layers_dims)) for kind in "Wb"}
"""),
        RANDOM: graded_cell(RANDOM, """
class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True
return {f"{kind}{l}": np.zeros(3).view(Sneaky)
        for l in range(1, len(layers_dims)) for kind in "Wb"}
"""),
        HE: graded_cell(HE, """
class FakeDict(dict):
    def __eq__(self, other):
        return True
return FakeDict()
""")}, {ZEROS: "error", RANDOM: "failed", HE: "error"})
    secrets = [str(SOURCE_DIR / f"{ASSIGNMENT}.ipynb"), str(gradebook)]
    add_tampering("reads_secrets", "_can_read()", f"""
def _can_read():
    try:
        for path in {secrets!r}:
            with open(path, "rb") as handle:
                handle.read(16)
        return True
    except OSError:
        return False
""")
    add_tampering("writes_gradebook", "_tamper()", f"""
import sqlite3
def _tamper():
    try:
        connection = sqlite3.connect({str(gradebook)!r})
        connection.execute("UPDATE function_grades SET points = 999")
        connection.commit()
        return True
    except Exception:
        return False
""")
    add_tampering("writes_course_utils", "_tamper()", f"""
def _tamper():
    changed = False
    for path in [{str(real_init)!r}, "/grader/lib/course_utils/__init__.py"]:
        try:
            with open(path, "a") as handle:
                handle.write("# tampered\\n")
            changed = True
        except OSError:
            pass
    return changed
""")
    add_tampering("network", "_connect()", f"""
import socket
def _connect():
    try:
        socket.create_connection(("127.0.0.1", {listener_port}), timeout=2).close()
        return True
    except OSError:
        return False
""")
    fake_done = solutions[ZEROS].replace(
        "def initialize_parameters_zeros",
        "import os, sys\n"
        "_fd = int(sys.argv[2])  # the runner's events pipe\n"
        "os.write(_fd, b'{\"event\": \"done\"}\\n')\n"
        "def initialize_parameters_zeros")
    # The forged event ends only the cell it was sent from.
    add("fake_done", solutions | {ZEROS: fake_done},
        {ZEROS: "error", RANDOM: "passed", HE: "passed"})
    add("malformed", None, "malformed")
    (folder / "malformed" / f"{ASSIGNMENT}.ipynb").write_text("{ this is not json")
    add("empty", None, "malformed")
    (folder / "empty" / f"{ASSIGNMENT}.ipynb").write_bytes(b"")
    add("wrong_name", None, "wrong_filename", filename="Initialization (1).ipynb")
    (folder / "missing").mkdir()
    expected["missing"] = "missing"
    return expected


def _process_commandlines() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ")
                             .decode(errors="replace"))
    return found


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    gradebook = root / "grades" / "gradebook.sqlite"
    listener = Listener()
    init_hash = hashlib.sha256(Path(course_utils.__file__).read_bytes()).hexdigest()
    expected = build_class(root / "submissions", gradebook, listener.port)
    log: list[str] = []
    graded = grade(SOURCE_DIR, root / "submissions", gradebook,
                   options=GradingOptions(jobs=2, timeout=TIMEOUT), log=log.append)
    listener.close()
    yield {"root": root, "gradebook": gradebook, "expected": expected, "log": log,
           "graded": graded, "listener": listener, "init_hash": init_hash}


def _function_rows(gradebook: Path) -> dict[tuple[str, str], tuple[str, float]]:
    with sqlite3.connect(gradebook) as connection:
        rows = connection.execute("SELECT student, function, status, points "
                                  "FROM function_grades").fetchall()
    return {(student, function): (status, points)
            for student, function, status, points in rows}


def _submission_rows(gradebook: Path) -> dict[str, tuple]:
    with sqlite3.connect(gradebook) as connection:
        rows = connection.execute("SELECT student, status, points, max_points "
                                  "FROM submissions").fetchall()
    return {student: (status, points, maximum) for student, status, points, maximum
            in rows}


def test_every_submission_has_its_rows(graded_class):
    submissions = _submission_rows(graded_class["gradebook"])
    assert set(submissions) == set(graded_class["expected"])
    functions = _function_rows(graded_class["gradebook"])
    assert len(functions) == len(submissions) * len(GRADED_FUNCTIONS)
    assert all(maximum == 7 for _, _, maximum in submissions.values())


@pytest.mark.parametrize("student", [
    "correct", "blank", "noisy", "raising", "looping", "memory_hog", "deleted_tests",
    "edited_tests", "patch_numpy", "patch_grader", "always_equal", "fake_done",
])
def test_function_grades(graded_class, student):
    rows = _function_rows(graded_class["gradebook"])
    for function, status in graded_class["expected"][student].items():
        points = POINTS[function] if status == "passed" else 0
        assert rows[(student, function)] == (status, points), function
    assert _submission_rows(graded_class["gradebook"])[student][0] == "graded"


@needs_sandbox
@pytest.mark.parametrize("student", ["reads_secrets", "writes_gradebook",
                                     "writes_course_utils", "network"])
def test_tampering_scores_nothing(graded_class, student):
    rows = _function_rows(graded_class["gradebook"])
    for function in GRADED_FUNCTIONS:
        assert rows[(student, function)] == ("failed", 0)


@needs_sandbox
def test_tampering_left_no_trace(graded_class):
    assert graded_class["listener"].connections == 0
    assert hashlib.sha256(Path(course_utils.__file__).read_bytes()).hexdigest() \
        == graded_class["init_hash"]
    assert all(points <= 3 for _, points in
               _function_rows(graded_class["gradebook"]).values())


@pytest.mark.parametrize(("student", "status"), [
    ("malformed", "malformed"), ("empty", "malformed"),
    ("wrong_name", "wrong_filename"), ("missing", "missing")])
def test_unreadable_or_absent_submissions_get_a_status(graded_class, student, status):
    submission_status, points, _ = _submission_rows(graded_class["gradebook"])[student]
    assert (submission_status, points) == (status, 0)
    rows = _function_rows(graded_class["gradebook"])
    assert all(rows[(student, function)] == (status, 0)
               for function in GRADED_FUNCTIONS)


def test_nothing_is_left_running(graded_class):
    # The looping submission started a detached process inside its sandbox.
    leftovers = [line for line in _process_commandlines()
                 if "course-grade-test-sleeper" in line]
    assert leftovers == []


def test_feedback_reports_checks_without_expected_values(graded_class):
    feedback_dir = graded_class["gradebook"].parent / "feedback"
    text = (feedback_dir / "raising" / f"{ASSIGNMENT}.md").read_text()
    assert text.startswith(f"# {ASSIGNMENT}: 4 / 7 points")
    # One fixed outcome per hidden check: no exception type nor message, which
    # could carry hidden arguments out; the instructor's report keeps the type.
    assert "hidden check 1: raised an error" in text
    assert "ValueError" not in text and "oops" not in text
    with sqlite3.connect(graded_class["gradebook"]) as connection:
        details = [detail for (detail,) in connection.execute(
            "SELECT detail FROM function_grades WHERE student = 'raising'")]
    assert any("raised ValueError" in detail for detail in details)
    assert "hidden check 1: passed" in text
    looping = (feedback_dir / "looping" / f"{ASSIGNMENT}.md").read_text()
    assert "timed out" in looping
    wrong = (feedback_dir / "edited_tests" / f"{ASSIGNMENT}.md").read_text()
    assert "hidden check 1: wrong value" in wrong and "W1" not in wrong
    # The published He weights appear nowhere in any feedback.
    for path in feedback_dir.rglob("*.md"):
        content = path.read_text()
        assert "1.788" not in content and "0.0309" not in content
    assert (feedback_dir / "missing" / f"{ASSIGNMENT}.md").exists()


def test_grading_again_is_idempotent(graded_class):
    gradebook = graded_class["gradebook"]
    before = (_submission_rows(gradebook), _function_rows(gradebook))
    log: list[str] = []
    regraded = grade(SOURCE_DIR, graded_class["root"] / "submissions", gradebook,
                     options=GradingOptions(jobs=2, timeout=TIMEOUT), log=log.append)
    assert regraded == []
    assert all("unchanged" in line for line in log if "/" in line)
    assert (_submission_rows(gradebook), _function_rows(gradebook)) == before


def test_log_has_one_line_per_submission(graded_class):
    lines = [line for line in graded_class["log"] if f"/{ASSIGNMENT}:" in line]
    assert len(lines) == len(graded_class["expected"])
    assert "correct/initialization: 7/7 graded" in lines


def test_the_tampering_fixtures_would_score_without_a_sandbox(tmp_path):
    """The same tricks succeed with isolation 'none': the sandbox is what stops them.

    (Only the read-only tricks are replayed here; the writing ones would really
    write.)
    """
    listener = Listener()
    gradebook = tmp_path / "gradebook.sqlite"
    gradebook.touch()
    build_class(tmp_path / "all", gradebook, listener.port)
    for student in ("reads_secrets", "network"):
        (tmp_path / "all" / student).rename(tmp_path / student)
    submissions = tmp_path / "unsandboxed"
    submissions.mkdir()
    for student in ("reads_secrets", "network"):
        (tmp_path / student).rename(submissions / student)
    grade(SOURCE_DIR, submissions, gradebook,
          options=GradingOptions(timeout=TIMEOUT, isolation="none"), log=lambda _: None)
    listener.close()
    rows = _submission_rows(gradebook)
    assert rows["reads_secrets"][:2] == ("graded", 7)
    assert rows["network"][:2] == ("graded", 7)
    assert listener.connections == 9  # one per hidden check (3 per function)

"""The third security review's six attack classes (issue 20).

One module-scoped ``course-grade`` run (``--jobs 2``, as root in CI, so with
the full sandbox) grades a hostile submission of each class beside correct
submissions; each test asserts the hostile submission's exact status and
points, and that the correct submissions got full marks. The forced ``error``
needs a controlled clock and is run on the sandbox directly.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import time
import uuid
from pathlib import Path

import pytest

import course_utils.grading.sandbox.jobs as sandbox_module
from course_utils.grading.boundary import folder_name, printable_name
from course_utils.grading.cli import main as course_grade
from course_utils.grading.sandbox import Limits, Sandbox, choose_isolation
from course_utils.grading.sandbox.users import (
    FIRST_SANDBOX_UID,
    SANDBOX_UID_COUNT,
)
from tests.conftest import (
    ASSIGNMENT,
    GRADED_FUNCTIONS,
    assert_graded_as_expected,
    gradebook_rows,
    graded_cell,
    reference_sources,
    single_assignment_source,
    write_submission,
)

ZEROS, RANDOM, HE = GRADED_FUNCTIONS
SOURCE_DIR = single_assignment_source(ASSIGNMENT)
TIMEOUT = 2.0
ISOLATION = choose_isolation("auto")
needs_root = pytest.mark.skipif(ISOLATION != "root",
                                reason="per-sandbox users and cgroups need root")
CORRECT = ("a_correct", "m_correct")
MARK = "kr" + uuid.uuid4().hex[:10]
SECRET_DESCRIPTION = f"{MARK}-instructor-secret"
ALL_PASS = {name: "passed" for name in GRADED_FUNCTIONS}
# What a feedback line may say about a hidden check, and nothing else.
OUTCOMES = ("passed", "wrong value", "wrong shape or keys", "raised an error",
            "timed out", "crashed")

_libc = ctypes.CDLL(None, use_errno=True)
# add_key, keyctl by architecture (the hostile submission uses the same numbers).
_KEY_SYSCALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}
KEY_SPEC_SESSION_KEYRING = -3
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_REVOKE = 1, 3

# 1. Kernel keyrings: find the planted key, read /proc/keys, leave a key behind.
KEYRING_PROBE = f"""
import ctypes, os
def _keyring_reachable():
    libc = ctypes.CDLL(None, use_errno=True)
    add_key, keyctl = {_KEY_SYSCALLS!r}[os.uname().machine]
    found = []
    key = libc.syscall(keyctl, ctypes.c_long(10), ctypes.c_long(-3), b"user",
                       {SECRET_DESCRIPTION.encode()!r}, ctypes.c_long(0))
    if key >= 0:
        found.append("search @s")
    for ring in (-3, -4, -5):  # session, user, user-session keyrings
        if libc.syscall(add_key, b"user", b"{MARK}-left", b"x", ctypes.c_long(1),
                        ctypes.c_long(ring)) >= 0:
            found.append(f"add_key {{ring}}")
    try:
        with open("/proc/keys") as handle:
            if "{MARK}" in handle.read():
                found.append("/proc/keys")
    except OSError:
        pass
    return found
assert not _keyring_reachable(), _keyring_reachable()
"""

# 3. Feedback that would carry the hidden arguments out.
RAISE_BY_ARGUMENT = ("import builtins\n_names = [name for name in dir(builtins) "
                     "if name.endswith('Error')]\n")
SOLUTION_BODY = ("parameters = {}\nfor l in range(1, len(layers_dims)):\n"
                 "    parameters['W' + str(l)] = np.zeros((layers_dims[l], "
                 "layers_dims[l - 1]))\n"
                 "    parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))\n")
LEAKS = {
    "leak_exception_type": ("raise getattr(builtins, _names[layers_dims[1]])()",
                            RAISE_BY_ARGUMENT, "error", "raised an error"),
    "leak_missing_keys": (SOLUTION_BODY + "del parameters['W' + str(len(layers_dims)"
                          " - 1)]\nreturn parameters", "import numpy as np",
                          "failed", "wrong shape or keys"),
    "leak_wrong_key": (SOLUTION_BODY + "parameters['W' + str(layers_dims[1] % 2 + 1)]"
                       " += 1\nreturn parameters", "import numpy as np",
                       "failed", "wrong value"),
}

# 4. 62 spinning processes, each in its own session, when zeros is called (at
# about the time the neighbour's zeros runs: both start their calls together).
HOG_BODY = """
import os
for _ in range(62):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
while True:
    pass
"""
# A correct zeros that needs 0.8 s of CPU time per call.
SLOW_ZEROS = """
import time
_start = time.process_time()
while time.process_time() - _start < 0.8:
    pass
""" + SOLUTION_BODY + "return parameters"

# 5 and 6. Names.
EVE_BYTE = b"eve\xff"  # a raw byte, not UTF-8
EVE_TEXT = b"eve\\xff"  # the text that escapes it
LONG = b"long" + b"\x01" * 70
# A long name, and a short folder named as the long one's file name was before
# short names that look shortened were shortened too (start, "-", 16 hex
# digits of its SHA-256): the two once shared one feedback file.
LONG_NAME = "alice_" + "a" * 200
COLLIDER = f"{LONG_NAME[:120]}-{hashlib.sha256(LONG_NAME.encode()).hexdigest()[:16]}"
HIDDEN = ".eve"  # a folder whose name starts with a dot is a student too


def _with_prelude(source: str, prelude: str) -> str:
    header, rest = source.split("\n", 1)
    return f"{header}\n{prelude}\n{rest}"


def build_class(folder: Path) -> dict[str, tuple]:
    """Write the fixtures; return ``student: (status, points, {function: status})``."""
    solutions = reference_sources()
    expected: dict[str, tuple] = {}
    for student in CORRECT:
        write_submission(folder / student, solutions)
        expected[student] = ("graded", 7, ALL_PASS)
    write_submission(folder / "keyring", solutions | {
        ZEROS: _with_prelude(solutions[ZEROS], KEYRING_PROBE)})
    expected["keyring"] = ("graded", 7, ALL_PASS)
    for student, (body, prelude, status, _) in LEAKS.items():
        write_submission(folder / student,
                         solutions | {HE: graded_cell(HE, body, prelude)})
        expected[student] = ("graded", 4, ALL_PASS | {HE: status})
    write_submission(folder / "hog", solutions | {ZEROS: graded_cell(ZEROS, HOG_BODY)})
    expected["hog"] = ("graded", 5, ALL_PASS | {ZEROS: "timeout"})
    write_submission(folder / "slow_correct", solutions | {
        ZEROS: graded_cell(ZEROS, SLOW_ZEROS, "import numpy as np")})
    expected["slow_correct"] = ("graded", 7, ALL_PASS)
    base = os.fsencode(folder)
    write_submission(Path(os.fsdecode(base + b"/" + EVE_BYTE)), solutions)
    expected[printable_name(os.fsdecode(EVE_BYTE))] = ("graded", 7, ALL_PASS)
    write_submission(Path(os.fsdecode(base + b"/" + EVE_TEXT)))  # stubs: 0 points
    expected[printable_name(os.fsdecode(EVE_TEXT))] = ("graded", 0, None)
    write_submission(Path(os.fsdecode(base + b"/" + LONG)), solutions)
    expected[printable_name(os.fsdecode(LONG))] = ("graded", 7, ALL_PASS)
    write_submission(folder / LONG_NAME, solutions)
    expected[LONG_NAME] = ("graded", 7, ALL_PASS)
    write_submission(folder / COLLIDER)  # stubs: 0 points
    expected[COLLIDER] = ("graded", 0, None)
    write_submission(folder / HIDDEN, solutions)
    expected[HIDDEN] = ("graded", 7, ALL_PASS)
    return expected


def _keyctl(*arguments: int | bytes | None) -> int:
    keyctl = _KEY_SYSCALLS[os.uname().machine][1]
    return _libc.syscall(keyctl, *[ctypes.c_long(value) if isinstance(value, int)
                                   else value for value in arguments])


def _plant_secret() -> int:
    """A key in a fresh session keyring of this process, which the grader inherits."""
    assert _keyctl(KEYCTL_JOIN_SESSION_KEYRING, None) >= 0
    add_key = _KEY_SYSCALLS[os.uname().machine][0]
    key = _libc.syscall(add_key, b"user", SECRET_DESCRIPTION.encode(), b"s3cret",
                        ctypes.c_long(6), ctypes.c_long(KEY_SPEC_SESSION_KEYRING))
    assert key >= 0, os.strerror(ctypes.get_errno())
    return key


def _sandbox_keys() -> dict[int, str]:
    """The key counts of the sandbox user ids (from /proc/key-users).

    Compared before and after grading: a key that an older grader let a
    sandbox leave in its user keyring stays until the machine restarts.
    """
    sandbox_uids = range(FIRST_SANDBOX_UID, FIRST_SANDBOX_UID + SANDBOX_UID_COUNT)
    counts = {}
    with open("/proc/key-users") as handle:
        for line in handle:
            uid, _, fields = line.partition(":")
            if uid.strip().isdigit() and int(uid) in sandbox_uids:
                counts[int(uid)] = fields.split()[1]  # keys / instantiated keys
    return counts


@pytest.fixture(scope="module")
def round3(tmp_path_factory):
    root = tmp_path_factory.mktemp("round3")
    expected = build_class(root / "submissions")
    gradebook = root / "grades" / "gradebook.sqlite"
    secret = _plant_secret() if ISOLATION == "root" else None
    keys_before = _sandbox_keys()
    arguments = ["grade", str(SOURCE_DIR), str(root / "submissions"),
                 "--gradebook", str(gradebook), "--jobs", "2",
                 "--timeout", str(TIMEOUT)]
    try:
        exit_code = course_grade(arguments)
        keys_after = _sandbox_keys()
    finally:
        if secret is not None:
            _keyctl(KEYCTL_REVOKE, secret)
    yield {"root": root, "gradebook": gradebook, "expected": expected,
           "exit_code": exit_code, "keys": (keys_before, keys_after)}


def _assert_graded_as_expected(round3, student: str) -> None:
    assert_graded_as_expected(round3, student, CORRECT)


def _feedback(round3, student: str) -> str:
    from course_utils.grading.boundary import student_file_name

    return (round3["gradebook"].parent / "feedback" / student_file_name(student)
            / f"{ASSIGNMENT}.md").read_text()


@needs_root
def test_no_keyring_is_reachable_nor_outlives_the_sandbox(round3):
    _assert_graded_as_expected(round3, "keyring")
    keys_before, keys_after = round3["keys"]
    assert keys_after == keys_before


@pytest.mark.parametrize("student", sorted(LEAKS))
def test_feedback_says_only_a_fixed_outcome_per_hidden_check(round3, student):
    _assert_graded_as_expected(round3, student)
    outcome = LEAKS[student][3]
    items = [line for line in _feedback(round3, student).split("\n")
             if line.startswith("- ")]
    assert items[6:] == [f"- hidden check {number}: {outcome}"
                         for number in (1, 2, 3)]
    assert all(re.fullmatch(r"- hidden check [123]: (" + "|".join(OUTCOMES) + ")",
                            item) for item in items)


def test_every_feedback_line_is_a_fixed_outcome(round3):
    for path in (round3["gradebook"].parent / "feedback").rglob("*.md"):
        for line in path.read_text().split("\n"):
            if line.startswith("- hidden check"):
                assert re.fullmatch(r"- hidden check \d: (" + "|".join(OUTCOMES)
                                    + ")", line), (path, line)


@needs_root
def test_a_cpu_hog_costs_its_neighbour_nothing(round3):
    _assert_graded_as_expected(round3, "hog")
    _assert_graded_as_expected(round3, "slow_correct")


def test_names_map_to_distinct_rows_and_back(round3):
    submissions, _ = gradebook_rows(round3["gradebook"])
    assert set(submissions) == set(round3["expected"])
    for name in (EVE_BYTE, EVE_TEXT, LONG):
        student = printable_name(os.fsdecode(name))
        _assert_graded_as_expected(round3, student)
        assert os.fsencode(folder_name(student)) == name


def test_a_long_name_gets_its_row_and_feedback(round3):
    assert round3["exit_code"] == 0
    student = printable_name(os.fsdecode(LONG))
    assert len(student.encode()) > 255
    assert _feedback(round3, student).startswith(f"# {ASSIGNMENT}: 7 / 7 points")


def test_no_two_folders_share_a_feedback_file(round3):
    # Each student's own points in their own file: the long name's 7 and the
    # look-alike short name's 0, and the hidden folder is graded like any other.
    assert _feedback(round3, LONG_NAME).startswith(f"# {ASSIGNMENT}: 7 / 7 points")
    assert _feedback(round3, COLLIDER).startswith(f"# {ASSIGNMENT}: 0 / 7 points")
    assert _feedback(round3, HIDDEN).startswith(f"# {ASSIGNMENT}: 7 / 7 points")
    folders = list((round3["gradebook"].parent / "feedback").iterdir())
    assert len(folders) == len(round3["expected"])


@pytest.mark.parametrize("name", [b"a\\b", b"\\x41", b"A", b"\xc2\x85", b"\x85",
                                  b"\xe2\x80\xa8x", b"tab\there", "José".encode(),
                                  b"\\\\xff\xff", b"\xed\xa0\x80"])
def test_printable_name_is_reversible(name):
    text = printable_name(os.fsdecode(name))
    assert text.isprintable()
    assert os.fsencode(folder_name(text)) == name


FORCED_ERROR_CELL = """
import os, time
_hard, _unit = {hard!r}, {unit!r}
def _spin_until(moment):
    while time.monotonic() < moment:
        pass
_now = time.monotonic()
if _hard - 0.08 - _now < _unit - 0.1:
    _spin_until(_hard - 0.08)
    os._exit(9)
_spin_until(_now + _unit - 0.1)
def f():
    while True:
        pass
"""
JOB_SECONDS = 5.5


@pytest.mark.skipif(ISOLATION == "none", reason="no sandbox here")
def test_a_restart_that_cannot_start_in_time_is_the_submissions_timeout(
        monkeypatch):
    """Burn units, force a restart and crash 80 ms before the job's hard deadline.

    The next attempt cannot send its first event in time; that time was spent by
    the submission, so its remaining check times out: never ``error``. (The job's
    wall-clock ceiling is set to 5.5 s here, to replay the attack quickly.)
    """
    monkeypatch.setattr(Sandbox, "job_seconds", lambda self, units: JOB_SECONDS)
    limits = Limits(timeout=1.5)
    with Sandbox(ISOLATION, limits) as sandbox:
        hard = time.monotonic() + JOB_SECONDS
        cell = FORCED_ERROR_CELL.format(hard=hard, unit=limits.timeout)
        cells = [{"label": f"cell {index}", "source": cell} for index in range(2)]
        run = sandbox.run(cells, [{"function": "f", "args": [], "kwargs": {}}])
    assert run.sandbox_error is None
    assert run.results == {0: {"ended": "timed out"}}


@pytest.mark.skipif(ISOLATION == "none", reason="no sandbox here")
def test_timeouts_are_judged_on_cpu_time_without_a_cgroup(monkeypatch):
    """Where no cpu cgroup can be made, the sandbox's CPU time comes from /proc.

    A call that spins in four processes ends once they used 1 s of CPU time
    together, before the wall-clock ceiling; one that sleeps ends at the ceiling.
    """
    readings: list[float] = []
    namespace_seconds = sandbox_module.namespace_seconds

    def traced(launcher: int) -> float:
        readings.append(namespace_seconds(launcher))
        return readings[-1]

    monkeypatch.setattr(sandbox_module, "cpu_group", lambda uid: None)
    monkeypatch.setattr(sandbox_module, "namespace_seconds", traced)
    define = ("import os, time\ndef spin():\n    for _ in range(3):\n"
              "        if os.fork() == 0:\n            break\n"
              "    while True:\n        pass\n"
              "def nap():\n    time.sleep(60)\n")
    cases = [{"function": name, "args": [], "kwargs": {}} for name in ("spin", "nap")]
    with Sandbox(ISOLATION, Limits(timeout=1.0)) as sandbox:
        assert sandbox.cpu_bound == "none"
        clocks = []
        # A high ceiling for the spinning call (the machine may be busy), a low
        # one for the sleeping call.
        for case, factor in zip(cases, (10.0, 2.0), strict=True):
            monkeypatch.setattr(sandbox_module, "WALL_CLOCK_FACTOR", factor)
            readings.clear()
            start = time.monotonic()
            run = sandbox.run([{"label": "define", "source": define}], [case])
            clocks.append(time.monotonic() - start)
            assert run.results == {0: {"ended": "timed out"}}
            if case["function"] == "spin":
                spun = max(readings) - min(readings)
    assert 1.0 <= spun < 1.5  # the four processes' time, read every 0.1 s
    assert clocks[1] >= 2.0


STEAL_FIRST_EVENT = """
import os, sys
try:  # a read end of the runner's events channel, to take its events
    _stolen = os.open(f"/proc/self/fd/{sys.argv[2]}", os.O_RDONLY | os.O_NONBLOCK)
except OSError:
    _stolen = None
if _stolen is not None:
    while True:
        try:
            os.read(_stolen, 65536)
        except BlockingIOError:
            break
    os._exit(9)
def f():
    return 1.0
"""


@pytest.mark.parametrize("mode", ["root", "userns"])
def test_the_first_event_cannot_be_taken_back(mode):
    """Student code cannot read the runner's events (and so hide that it ran).

    Where the sandbox runs as the grader's own user (``userns``), a pipe could
    be opened again for reading through ``/proc/self/fd``; the events channel
    is a socket, which cannot.
    """
    available = ISOLATION == "root" if mode == "root" \
        else sandbox_module._can_use_user_namespaces()
    if not available:
        pytest.skip(f"no {mode} sandbox here")
    cells = [{"label": "steal", "source": STEAL_FIRST_EVENT}]
    with Sandbox(mode, Limits(timeout=TIMEOUT)) as sandbox:
        run = sandbox.run(cells, [{"function": "f", "args": [], "kwargs": {}}])
    assert run.sandbox_error is None
    assert run.results == {0: {"value": 1.0}}


LATE_CELL = """
import os, time
def f():
    time.sleep(max(0.0, {moment!r} - time.monotonic()))
    os._exit(9)  # a restart follows, after this hidden call
if time.monotonic() > {moment!r}:  # only in the restart
    raise KeyError("any name, chosen from what the hidden call saw")
"""


@pytest.mark.skipif(ISOLATION == "none", reason="no sandbox here")
def test_a_cell_problem_after_hidden_calls_is_a_fixed_outcome():
    """A cell that fails only in a restart could carry what a hidden call saw.

    (Through the clock, say.) Its problem reaches the feedback as a fixed
    outcome; the instructor's report keeps the exception.
    """
    from course_utils.grading.grader import _student_reason

    moment = time.monotonic() + 2.0
    cells = [{"label": "cell 0", "source": LATE_CELL.format(moment=moment)}]
    with Sandbox(ISOLATION, Limits(timeout=TIMEOUT)) as sandbox:
        run = sandbox.run(cells, [{"function": "f", "args": [], "kwargs": {}}])
    assert run.results == {0: {"ended": "crashed"}}
    assert run.cell_problems[0].startswith("raised KeyError")
    assert run.late_cells == {0}
    assert _student_reason(run.cell_problems[0], late=True) == "raised an error"
    assert _student_reason(run.cell_problems[0]) == "raised KeyError"


REACH_KEYS_AROUND_THE_FILTER = """
import ctypes, os
def reach():
    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    if libc.umount2(b"/proc/keys", 2) == 0:  # MNT_DETACH: remove the mask
        found.append("unmasked /proc/keys")
    try:
        with open("/proc/keys") as handle:
            found.append(f"read {len(handle.read())} bytes of /proc/keys")
    except OSError:
        pass
    if libc.ptrace(16, 1, None, None) == 0:  # PTRACE_ATTACH to process 1
        found.append("traced process 1")
    return ", ".join(found) or "nothing"
"""


@pytest.mark.parametrize("mode", ["root", "userns"])
def test_no_way_around_the_keyring_filter(mode):
    """Neither unmasking /proc/keys nor tracing process 1 (which has no filter
    before this fix, and the grader's session keyring) works, in either mode."""
    available = ISOLATION == "root" if mode == "root" \
        else sandbox_module._can_use_user_namespaces()
    if not available:
        pytest.skip(f"no {mode} sandbox here")
    cells = [{"label": "reach", "source": REACH_KEYS_AROUND_THE_FILTER}]
    with Sandbox(mode, Limits(timeout=TIMEOUT)) as sandbox:
        run = sandbox.run(cells, [{"function": "reach", "args": [], "kwargs": {}}])
    assert run.results == {0: {"value": "nothing"}}


def test_a_gradebook_without_outcomes_shows_no_detail_of_a_check(tmp_path):
    # A row recorded before the fixed outcomes (feedback column empty) holds
    # the instructor's detail, which may depend on the hidden arguments: the
    # student's Markdown and HTML show the status, not that detail.
    from course_utils.grading.gradebook import (
        FunctionGrade,
        Gradebook,
        SubmissionGrade,
    )
    from course_utils.grading.grader import student_function_text, write_feedback
    from course_utils.grading.pages import FeedbackOptions, write_feedback_pages

    secret = "hidden check 1: 'W2' is missing from the keys"
    assert student_function_text("failed", secret, "") == ""
    assert student_function_text("not_found", "no code cell defines f", "") \
        == "no code cell defines f"
    assert student_function_text("failed", secret, "hidden check 1: wrong value") \
        == "hidden check 1: wrong value"
    grade = SubmissionGrade("ann", "initialization", "graded", "", "sha", "source",
                            (FunctionGrade("initialize_parameters_he", "failed",
                                           0.0, 3.0, secret),))
    gradebook = tmp_path / "gradebook.sqlite"
    with Gradebook(gradebook) as book:
        book.record(grade)
    markdown = write_feedback(tmp_path / "feedback", grade).read_text()
    write_feedback_pages(gradebook, tmp_path / "pages", FeedbackOptions())
    pages = "".join(path.read_text() for path in (tmp_path / "pages").rglob("*.html"))
    assert all("initialize_parameters_he" in text for text in (markdown, pages))
    assert "W2" not in markdown and "W2" not in pages

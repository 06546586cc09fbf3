"""Run untrusted submission code in a separate, limited process tree.

Introduced in the chapter "Instructor guide". Three isolation modes:

``root``
    The grader runs as root. Each job gets new mount, network, PID, IPC and UTS
    namespaces; :mod:`sandbox_init` mounts a new root that holds only the Python
    installation, the system libraries, a copy of ``course_utils`` and the job's
    files, read-only, plus a private ``/tmp`` and a writable work folder; it
    then ``chroot``\\ s into it and runs the student code as an unprivileged user
    (``nobody`` unless told otherwise), with no network and hard resource limits.
``userns``
    The grader runs as an ordinary user and the kernel allows unprivileged user
    namespaces: the same, except that the code runs as the grader's own user
    (mapped to root inside the namespace) and there is no process-count limit.
``none``
    Neither is possible: the code runs in a plain child process with resource
    limits only. It can read and write whatever the grader's user can.

In every mode the parent kills the whole process tree on a timeout, and
expected values never enter the child.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import course_utils

INTERNAL_LIB = "/grader/lib"
INTERNAL_JOB = "/grader/job"
INTERNAL_WORK = "/grader/work"
SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
EVENTS_FD = 3
MAX_EVENT_BYTES = 8 * 2**20
MAX_RUN_EVENT_BYTES = 32 * 2**20
STARTUP_ALLOWANCE = 20.0  # seconds for namespaces, chroot and importing numpy
# Machine-specific OpenBLAS settings are kept: on some processors they are
# needed for correct results.
PASSED_ENVIRONMENT_PREFIXES = ("OPENBLAS_",)


@dataclass(frozen=True)
class Limits:
    """Per-job resource limits.

    Introduced in the chapter "Instructor guide".
    """

    timeout: float = 10.0
    memory_mb: int = 2048
    file_size_mb: int = 16
    open_files: int = 64
    processes: int = 64
    tmp_size_mb: int = 64


@dataclass
class JobRun:
    """What one submission's code reported, after any restarts.

    Introduced in the chapter "Instructor guide".
    """

    results: dict[int, dict] = field(default_factory=dict)
    cell_problems: dict[int, str] = field(default_factory=dict)
    sandbox_error: str | None = None


class SandboxError(RuntimeError):
    """The sandbox itself could not be started.

    Introduced in the chapter "Instructor guide".
    """


def _can_use_user_namespaces() -> bool:
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    probe = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid",
             "--fork", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def choose_isolation(requested: str = "auto") -> str:
    """Pick the isolation mode: ``root``, ``userns`` or ``none``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    requested : {"auto", "root", "userns", "none"}
        ``auto`` picks the strongest mode this process can use.

    Returns
    -------
    str
    """
    if requested not in ("auto", "root", "userns", "none"):
        raise ValueError(f"isolation must be auto, root, userns or none; "
                         f"got {requested!r}")
    is_root = os.geteuid() == 0
    if requested == "root" and not is_root:
        raise SandboxError("isolation 'root' needs the grader to run as root")
    if requested == "auto":
        if is_root:
            return "root"
        return "userns" if _can_use_user_namespaces() else "none"
    return requested


ISOLATION_WARNINGS = {
    "userns": "warning: not running as root. Submissions run as your own user inside "
              "a user namespace (no network, a minimal read-only file system), "
              "but without a separate account or a process limit. Grade a class "
              "as root for the strongest isolation.",
    "none": "warning: no sandbox is available (not root, and user namespaces are "
            "disabled). Submissions run as your own user with resource limits "
            "only: they can read and change your files and use the network. "
            "Grade only trusted code this way, or run the grader as root.",
}


class Sandbox:
    """A staging folder and the means to run jobs in it.

    Introduced in the chapter "Instructor guide". Use as a context manager; the
    staging folder (private to the grader) is removed on exit.

    Parameters
    ----------
    isolation : {"auto", "root", "userns", "none"}
    user : str, default "nobody"
        The account student code runs as in ``root`` mode.
    limits : Limits
    """

    def __init__(self, isolation: str = "auto", user: str = "nobody",
                 limits: Limits | None = None) -> None:
        self.mode = choose_isolation(isolation)
        self.limits = limits or Limits()
        self.uid = self.gid = None
        if self.mode == "root":
            try:
                account = pwd.getpwnam(user)
            except KeyError:
                raise ValueError(f"sandbox user {user!r} does not exist") from None
            if account.pw_uid == 0:
                raise ValueError("sandbox user must not be root")
            self.uid, self.gid = account.pw_uid, account.pw_gid
        self.site_paths = _site_packages()
        self.python_paths = _python_paths(self.site_paths)
        self.staging = Path(tempfile.mkdtemp(prefix="course-grade-"))
        self.lib = self.staging / "lib"
        shutil.copytree(Path(course_utils.__file__).parent, self.lib / "course_utils",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for path in [self.lib, *self.lib.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    @property
    def warning(self) -> str | None:
        """A warning to print for weaker isolation modes, else None."""
        return ISOLATION_WARNINGS.get(self.mode)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def check(self) -> None:
        """Run an empty job; raise SandboxError if the sandbox cannot start."""
        run = self.run(cells=[], cases=[])
        if run.sandbox_error:
            raise SandboxError(f"the {self.mode} sandbox does not start: "
                               f"{run.sandbox_error}")

    def run(self, cells: list[dict], cases: list[dict]) -> JobRun:
        """Run cells then cases, restarting after a timeout or crash.

        Introduced in the chapter "Instructor guide".

        Parameters
        ----------
        cells : list of dict
            ``{"label": str, "source": str}`` to execute in order.
        cases : list of dict
            ``{"function": str, "args": list, "kwargs": dict}`` to call in order.

        Returns
        -------
        JobRun
            Each case's reported result (``{"value": ...}``, ``{"error": ...}``
            or ``{"ended": "timed out" | "crashed"}``), problems in cells, and
            a sandbox error if the code never started.
        """
        job_run = JobRun()
        skip: set[int] = set()
        start = 0
        units = len(cells) + len(cases)
        hard_deadline = (time.monotonic() + STARTUP_ALLOWANCE * 2
                         + self.limits.timeout * (units + 1))
        while True:
            # Cases at or after `start` that already have a result are skipped.
            skip_cases = {index for index in job_run.results if index >= start}
            events, ending = self._run_once(cells, cases, skip, skip_cases, start,
                                            hard_deadline)
            current, finished = _apply_events(events, job_run)
            if finished or job_run.sandbox_error:
                return job_run
            if current is None:
                job_run.sandbox_error = f"the sandbox {ending} before running any code"
                return job_run
            kind, index = current
            if kind == "cell":
                job_run.cell_problems.setdefault(index, ending)
                skip.add(index)
            else:
                job_run.results.setdefault(index, {"ended": ending})
                start = index + 1
                # A function that hung or crashed once is not called again.
                for later in range(start, len(cases)):
                    if cases[later]["function"] == cases[index]["function"]:
                        job_run.results.setdefault(later, {
                            "ended": f"not run: an earlier check {ending}"})
            if time.monotonic() >= hard_deadline:
                for index in range(start, len(cases)):
                    job_run.results.setdefault(index, {"ended": "timed out"})
                return job_run
            if kind == "case" and start >= len(cases):
                return job_run

    def _run_once(self, cells: list[dict], cases: list[dict], skip: set[int],
                  skip_cases: set[int], start: int, hard_deadline: float
                  ) -> tuple[list[dict], str]:
        job_dir = self.staging / "jobs" / uuid.uuid4().hex
        read_end, write_end = os.pipe()
        try:
            command, env = self._prepare(job_dir, cells, cases, skip, skip_cases,
                                         start, write_end)
            with open(job_dir / "stderr.log", "wb") as stderr:
                process = subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=(write_end,),
                    start_new_session=True, cwd=job_dir)
            os.close(write_end)
            write_end = -1
            events, ending = _collect_events(process, read_end, self.limits.timeout,
                                             hard_deadline)
            if ending == "crashed" and not events:
                log = (job_dir / "stderr.log").read_text(errors="replace")[-2000:]
                events = [{"event": "sandbox_error",
                           "error": log.strip() or "exited before starting"}]
            return events, ending
        finally:
            if write_end >= 0:
                os.close(write_end)
            os.close(read_end)
            shutil.rmtree(job_dir, ignore_errors=True)

    def _prepare(self, job_dir: Path, cells: list[dict], cases: list[dict],
                 skip: set[int], skip_cases: set[int], start: int, events_fd: int
                 ) -> tuple[list[str], dict[str, str]]:
        spec_dir, work_dir, root_dir = (job_dir / name for name in
                                        ("spec", "work", "root"))
        for folder in (spec_dir, work_dir, root_dir):
            folder.mkdir(parents=True)
        spec_dir.chmod(0o755)
        sandboxed = self.mode != "none"
        job = {"cells": cells, "cases": cases, "skip_cells": sorted(skip),
               "skip_cases": sorted(skip_cases), "start_case": start,
               "events_fd": events_fd,
               "sys_path": [INTERNAL_LIB if sandboxed else str(self.lib),
                            *self.site_paths]}
        job_file = spec_dir / "job.json"
        job_file.write_text(json.dumps(job))
        job_file.chmod(0o644)
        runner_args = [sys.executable, "-I", "-S"]
        env = self._child_environment(INTERNAL_WORK if sandboxed else str(work_dir))
        if not sandboxed:
            limits = [f"--as={self.limits.memory_mb * 2**20}",
                      f"--fsize={self.limits.file_size_mb * 2**20}",
                      f"--nofile={self.limits.open_files}", "--core=0"]
            # Without namespaces, pdeathsig still stops the runner if the grader
            # dies (not the runner's own children: one reason this mode is weak).
            guard = ["setpriv", "--pdeathsig", "KILL", "--"] \
                if shutil.which("setpriv") else []
            return ([*guard, "prlimit", *limits, "--", *runner_args,
                     str(self.lib / "course_utils/grading/runner.py"), str(job_file)],
                    env)
        if self.uid is not None:
            os.chown(work_dir, self.uid, self.gid)
        work_dir.chmod(0o700)
        init_config = {
            "root": str(root_dir),
            "system_paths": [path for path in SYSTEM_PATHS if os.path.lexists(path)],
            "binds": [*[(path, path, False) for path in self.python_paths],
                      (str(self.lib), INTERNAL_LIB, False),
                      (str(spec_dir), INTERNAL_JOB, False),
                      (str(work_dir), INTERNAL_WORK, True)],
            "tmp_size_mb": self.limits.tmp_size_mb,
            "workdir": INTERNAL_WORK,
            "limits": self._rlimits(),
            "uid": self.uid, "gid": self.gid,
            "events_fd": events_fd,
            "argv": [*runner_args, f"{INTERNAL_LIB}/course_utils/grading/runner.py",
                     f"{INTERNAL_JOB}/job.json"],
            "env": env,
        }
        init_file = job_dir / "init.json"
        init_file.write_text(json.dumps(init_config))
        init_file.chmod(0o600)
        namespaces = ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
                      "--kill-child"]
        if self.mode == "userns":
            namespaces = ["--user", "--map-root-user", *namespaces]
        # setpriv: if the grader dies, the kernel kills unshare, whose death kills
        # the namespace's first process and with it every process in the namespace.
        command = ["setpriv", "--pdeathsig", "KILL", "--", "unshare", *namespaces,
                   "--", *runner_args,
                   str(self.lib / "course_utils/grading/sandbox_init.py"),
                   str(init_file)]
        return command, os.environ.copy() | {"PYTHONDONTWRITEBYTECODE": "1"}

    def _rlimits(self) -> dict[str, int]:
        limits = {"RLIMIT_AS": self.limits.memory_mb * 2**20,
                  "RLIMIT_FSIZE": self.limits.file_size_mb * 2**20,
                  "RLIMIT_NOFILE": self.limits.open_files,
                  "RLIMIT_CORE": 0}
        if self.mode == "root":
            # Counted per user: a fork bomb by `nobody` stops here.
            limits["RLIMIT_NPROC"] = self.limits.processes
        return limits

    def _child_environment(self, work_dir: str) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": work_dir, "TMPDIR": "/tmp",
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": f"{work_dir}/.matplotlib",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0"}
        env.update({key: value for key, value in os.environ.items()
                    if key.startswith(PASSED_ENVIRONMENT_PREFIXES)
                    and key not in env})
        return env


def _site_packages() -> list[str]:
    import site

    paths = [path for path in site.getsitepackages() if os.path.isdir(path)]
    return list(dict.fromkeys(paths))


def _python_paths(site_paths: list[str]) -> list[str]:
    """Folders the interpreter needs, at their own paths, without nesting."""
    wanted = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(
        sys.executable)), *site_paths]
    system = tuple(path + "/" for path in SYSTEM_PATHS)
    unique: list[str] = []
    for path in sorted({os.path.realpath(path) for path in wanted}, key=len):
        if not path.startswith(system) and not any(
                path == kept or path.startswith(kept + "/") for kept in unique):
            unique.append(path)
    return unique


def _collect_events(process: subprocess.Popen, read_end: int, unit_timeout: float,
                    hard_deadline: float) -> tuple[list[dict], str]:
    """Read events until the child finishes, stalls in one unit, or overflows."""
    events: list[dict] = []
    ending = "crashed"
    deadlines = {"unit": time.monotonic() + STARTUP_ALLOWANCE + unit_timeout}
    for line in _lines(read_end, lambda: min(deadlines["unit"], hard_deadline)):
        if line is None:
            ending = "timed out"
            break
        try:
            event = json.loads(line)
        except ValueError:
            ending = "sent unreadable output"
            break
        if not isinstance(event, dict):
            ending = "sent unreadable output"
            break
        events.append(event)
        if event.get("event") in ("cell", "case"):
            deadlines["unit"] = time.monotonic() + unit_timeout
        if event.get("event") == "done":
            ending = "done"
            break
    else:
        ending = "crashed"
    _kill_tree(process)
    return events, ending


def _lines(fd: int, deadline) -> Iterator[str | None]:
    """Yield complete lines from ``fd``; yield None once a deadline passes."""
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    buffer = b""
    total = 0
    try:
        while True:
            remaining = deadline() - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                yield None
                return
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            total += len(chunk)
            buffer += chunk
            if total > MAX_RUN_EVENT_BYTES or (b"\n" not in buffer
                                               and len(buffer) > MAX_EVENT_BYTES):
                yield "\0"  # not JSON: ends the run as unreadable output
                return
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line.decode("utf-8", errors="replace")
    finally:
        selector.close()


def _kill_tree(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _apply_events(events: list[dict], job_run: JobRun
                  ) -> tuple[tuple[str, int] | None, bool]:
    """Fold one run's events into ``job_run``; return the unit in progress."""
    current = None
    for event in events:
        kind = event.get("event")
        index = event.get("index")
        if kind == "sandbox_error":
            job_run.sandbox_error = str(event.get("error"))[:2000]
        elif kind in ("cell", "case") and isinstance(index, int):
            current = (kind, index)
        elif kind == "cell_error" and current == ("cell", index):
            job_run.cell_problems.setdefault(index, f"raised {event.get('error')}")
        elif kind == "result" and current == ("case", index):
            result = ({"error": str(event["error"])[:400]} if "error" in event
                      else {"value": event.get("value")})
            job_run.results.setdefault(index, result)
        elif kind == "done":
            return current, True
    return current, False

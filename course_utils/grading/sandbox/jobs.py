"""Run untrusted submission code in a separate, limited process tree.

Introduced in the chapter "Instructor guide". Three isolation modes:

``root``
    The grader runs as root. Each job gets new mount, network, PID, IPC and UTS
    namespaces; :mod:`init`, as process 1 of the PID namespace, mounts
    a new root that holds only the Python installation, the system libraries
    and ``course_utils``, read-only, plus a size-limited in-memory work folder,
    ``/tmp`` and ``/dev/shm``; it ``chroot``\\ s into it and starts the runner
    as the job slot's own unprivileged user id (see :mod:`users`), with
    no network and hard resource limits.
``userns``
    The grader runs as an ordinary user and the kernel allows unprivileged user
    namespaces: the same, except that the code runs as the grader's own user
    (mapped to root inside the namespace) and there is no process-count limit.
``none``
    Neither is possible: the code runs in a plain child process with resource
    limits only. It can read and write whatever the grader's user can.

Nothing is written to the host's disk for a job: the job's cells reach the
runner through an anonymous in-memory file, the hidden calls through a pipe,
one call at a time and only after the previous call's result has arrived, and
every event that comes back passes :mod:`boundary` and must be the event the
grader expects next. Only the grader decides how a unit ended. A unit times
out on the CPU time of all the sandbox's processes together (:mod:`cpu`;
each sandbox is also held to one core where a cpu cgroup can be made), or at a
wall-clock ceiling of ``WALL_CLOCK_FACTOR`` times the limit; in ``none`` mode
on wall-clock time.
In every mode the parent kills the whole process tree on a timeout, and
expected values never enter the child. In ``root`` and ``userns`` mode the code
gets a new empty session keyring and cannot make any keyring system call.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import course_utils
from course_utils.grading.boundary import BoundaryError, clean_text, parse_event
from course_utils.grading.sandbox.cpu import (
    CpuGroup,
    cpu_group,
    namespace_seconds,
    remove_cpu_group,
)
from course_utils.grading.sandbox.memory import memory_group, remove_group
from course_utils.grading.sandbox.users import SandboxUser, claim_user, sweep

INTERNAL_LIB = "/grader/lib"
INTERNAL_WORK = "/grader/work"
SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
ROOT_MOUNT_POINTS = ("/mnt", "/media", "/srv", "/opt", "/tmp")
MAX_RUN_EVENT_BYTES = 32 * 2**20
MAX_STATUS_BYTES = 4096
STARTUP_ALLOWANCE = 20.0  # seconds for namespaces, chroot and importing numpy
# A unit (a cell or a hidden call) times out when the sandbox's processes
# together have used ``timeout`` seconds of CPU time on it, or, whatever they
# used, after this many times ``timeout`` of wall-clock time (a generous
# ceiling: a submission that sleeps, or waits, still ends).
WALL_CLOCK_FACTOR = 3.0
POLL_SECONDS = 0.1  # how often the grader reads the sandbox's CPU time
# Machine-specific OpenBLAS settings are kept: on some processors they are
# needed for correct results.
PASSED_ENVIRONMENT_PREFIXES = ("OPENBLAS_",)


@dataclass(frozen=True)
class Limits:
    """Per-job resource limits.

    Introduced in the chapter "Instructor guide". ``memory_mb`` is the address
    space of each process; ``processes`` is counted per sandbox (its own user
    id) in ``root`` mode; ``work_size_mb`` and ``tmp_size_mb`` are the sizes of
    the in-memory work folder and of ``/tmp`` and ``/dev/shm`` each.
    """

    timeout: float = 10.0
    memory_mb: int = 2048
    file_size_mb: int = 16
    open_files: int = 64
    processes: int = 64
    tmp_size_mb: int = 64
    work_size_mb: int = 64


@dataclass
class JobRun:
    """What one submission's code reported, after any restarts.

    Introduced in the chapter "Instructor guide". ``results`` maps a case index
    to ``{"value": decoded}``, ``{"error": text}`` or ``{"ended": reason}``;
    ``sandbox_error`` is set only when no student code ever ran in the job (a
    fault of the grading machine, never of the submission): once any attempt
    started, the job's time is the submission's, and calls still without a
    result are ``timed out``. ``late_cells`` are the cells whose problem was
    recorded after a hidden call had been sent (in a restart): what such a
    cell did may depend on the hidden arguments (through the clock, say).
    """

    results: dict[int, dict] = field(default_factory=dict)
    cell_problems: dict[int, str] = field(default_factory=dict)
    sandbox_error: str | None = None
    calls_sent: bool = False
    late_cells: set[int] = field(default_factory=set)

    def cell_problem(self, index: int, problem: str) -> None:
        """Record the first problem of a cell, and whether it came late."""
        if index not in self.cell_problems:
            self.cell_problems[index] = problem
            if self.calls_sent:
                self.late_cells.add(index)


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
    """The means to run jobs, one job slot per concurrent job.

    Introduced in the chapter "Instructor guide". Use as a context manager; the
    slots' user ids are released on exit.

    Parameters
    ----------
    isolation : {"auto", "root", "userns", "none"}
    limits : Limits
    slots : int, default 1
        Jobs that may run at once (each gets its own user id as root).
    """

    def __init__(self, isolation: str = "auto", limits: Limits | None = None,
                 slots: int = 1) -> None:
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise ValueError(f"slots must be a positive int; got {slots!r}")
        self.mode = choose_isolation(isolation)
        self.limits = limits or Limits()
        self.site_paths = _site_packages()
        self.python_paths = _python_paths(self.site_paths)
        self.lib = Path(course_utils.__file__).resolve().parent
        self._users: queue.Queue[SandboxUser | None] = queue.Queue()
        self._retired: list[SandboxUser] = []
        self._memory_groups: dict[int, Path | None] = {}
        self._cpu_groups: dict[int, CpuGroup | None] = {}
        if self.mode == "root":
            _check_world_readable(self.lib)
            for _ in range(slots):
                self._users.put(self._claim())
        else:
            for _ in range(slots):
                self._users.put(None)

    @property
    def memory_bound(self) -> str:
        """``cgroup`` if all processes of a sandbox share one memory limit, else
        ``per process``."""
        groups = self._memory_groups.values()
        return "cgroup" if groups and all(groups) else "per process"

    @property
    def cpu_bound(self) -> str:
        """``cgroup`` if all processes of a sandbox share one CPU quota, else
        ``none`` (their CPU time is still what timeouts are judged on)."""
        groups = self._cpu_groups.values()
        return "cgroup" if groups and all(groups) else "none"

    def job_seconds(self, units: int) -> float:
        """The wall-clock ceiling of a whole job of ``units`` cells and calls."""
        return (STARTUP_ALLOWANCE * 2
                + self.limits.timeout * WALL_CLOCK_FACTOR * (units + 1))

    def _claim(self) -> SandboxUser:
        user = claim_user()
        self._memory_groups[user.uid] = memory_group(
            user.uid, self.limits.memory_mb * 2**20)
        self._cpu_groups[user.uid] = cpu_group(user.uid)
        return user

    @property
    def warning(self) -> str | None:
        """A warning to print for weaker isolation modes, else None."""
        return ISOLATION_WARNINGS.get(self.mode)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the slots' user ids (once no process of theirs is left)."""
        while not self._users.empty():
            user = self._users.get_nowait()
            if user is not None and sweep(user.uid):
                remove_group(self._memory_groups.get(user.uid))
                remove_cpu_group(self._cpu_groups.get(user.uid))
                user.release()

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
            Each case's result (``{"value": ...}``, ``{"error": ...}`` or
            ``{"ended": "timed out" | "crashed" | ...}``), problems in cells,
            and a sandbox error if the code never started.
        """
        user = self._users.get()
        try:
            return self._run_with(user, cells, cases)
        finally:
            if user is not None and not sweep(user.uid):
                self._retired.append(user)  # never reused while processes remain
                user = self._claim()
            self._users.put(user)

    def _run_with(self, user: SandboxUser | None, cells: list[dict],
                  cases: list[dict]) -> JobRun:
        """Attempts until every unit has an ending.

        The rule: only a job in which no student code ever ran can end as a
        sandbox error (the machine's fault). Once an attempt has started, any
        time the job spends is the submission's: a later attempt that fails to
        start, even because the job's deadline came first, ends the remaining
        calls as ``timed out``.
        """
        job_run = JobRun()
        skip_cells: set[int] = set()
        units = len(cells) + len(cases)
        hard_deadline = time.monotonic() + self.job_seconds(units)
        ran_code = False
        for _ in range(units + 2):  # each started restart retires at least one unit
            attempt = Attempt(cells, cases, skip_cells, job_run, self.limits.timeout,
                              hard_deadline)
            self._run_attempt(attempt, user)
            if attempt.ending == "done":
                return job_run
            if not attempt.started:
                if not ran_code:
                    job_run.sandbox_error = (attempt.status or
                                             f"the sandbox {attempt.ending} before "
                                             "running any code")
                    return job_run
                if time.monotonic() >= hard_deadline:
                    break
                continue
            ran_code = True
            unit = attempt.unit_in_progress()
            if unit is None:
                return job_run
            _retire_unit(unit, attempt.ending, cases, skip_cells, job_run)
            if time.monotonic() >= hard_deadline:
                break
        for index in range(len(cases)):
            job_run.results.setdefault(index, {"ended": "timed out"})
        return job_run

    def _run_attempt(self, attempt: Attempt, user: SandboxUser | None) -> None:
        events_read, events_write = _one_way_socket()
        commands_read, commands_write = os.pipe()
        status_read, status_write = os.pipe()
        header = _memory_file(attempt.header(self._sys_path()))
        own = [events_read, commands_write, status_read]
        passed = [events_write, commands_read, status_write, header]
        try:
            command, config = self._command(user, header, events_write,
                                            commands_read, status_write)
            if config is not None:
                passed.append(config)
            with tempfile.TemporaryFile() as stderr:
                process = subprocess.Popen(
                    command, env=self._launcher_environment(), stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=tuple(passed),
                    start_new_session=True, cwd="/")
                for fd in passed:
                    os.close(fd)
                passed = []
                attempt.cpu_seconds = self._cpu_clock(user, process.pid)
                try:
                    attempt.converse(events_read, commands_write)
                finally:
                    _kill_tree(process)
                attempt.status = _read_status(status_read) or (
                    None if attempt.started else _tail(stderr))
        finally:
            for fd in own + passed:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _cpu_clock(self, user: SandboxUser | None, launcher: int):
        """A function returning the CPU seconds the sandbox used, or None."""
        if self.mode == "none":
            return None
        group = self._cpu_groups.get(user.uid) if user is not None else None
        if group is not None:
            return group.seconds
        return lambda: namespace_seconds(launcher)

    def _sys_path(self) -> list[str]:
        lib = INTERNAL_LIB if self.mode != "none" else str(self.lib.parent)
        return [lib, *self.site_paths]

    def _command(self, user: SandboxUser | None, header: int, events_fd: int,
                 commands_fd: int, status_fd: int) -> tuple[list[str], int | None]:
        python = [sys.executable, "-I", "-S"]
        fds = [str(header), str(events_fd), str(commands_fd)]
        if self.mode == "none":
            limits = [f"--as={self.limits.memory_mb * 2**20}",
                      f"--fsize={self.limits.file_size_mb * 2**20}",
                      f"--nofile={self.limits.open_files}", "--core=0"]
            # Without namespaces, pdeathsig still stops the runner if the grader
            # dies (not the runner's own children: one reason this mode is weak).
            guard = ["setpriv", "--pdeathsig", "KILL", "--"] \
                if shutil.which("setpriv") else []
            return ([*guard, "prlimit", *limits, "--", *python,
                     str(self.lib / "grading/sandbox/runner.py"), *fds], None)
        uid = user.uid if user is not None else None
        group = self._memory_groups.get(uid) if uid is not None else None
        cpu = self._cpu_groups.get(uid) if uid is not None else None
        config = {
            "cgroup_procs": [*([str(group / "cgroup.procs")] if group else []),
                             *(cpu.procs if cpu else [])],
            "root": _root_mount_point(self.python_paths),
            "system_paths": [path for path in SYSTEM_PATHS if os.path.lexists(path)],
            "binds": [*[(path, path, False) for path in self.python_paths],
                      (str(self.lib), f"{INTERNAL_LIB}/course_utils", False)],
            "tmp_size_mb": self.limits.tmp_size_mb,
            "work_size_mb": self.limits.work_size_mb,
            "workdir": INTERNAL_WORK,
            "limits": self._rlimits(),
            "uid": uid, "gid": uid,
            "status_fd": status_fd,
            "runner_fds": [header, events_fd, commands_fd],
            "argv": [*python,
                     f"{INTERNAL_LIB}/course_utils/grading/sandbox/runner.py", *fds],
            "env": self._child_environment(INTERNAL_WORK),
        }
        config_fd = _memory_file(json.dumps(config).encode())
        namespaces = ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
                      "--kill-child"]
        if self.mode == "userns":
            namespaces = ["--user", "--map-root-user", *namespaces]
        # setpriv: if the grader dies, the kernel kills unshare, whose death kills
        # the namespace's process 1 (which never changes user, so its
        # parent-death signal stays armed) and with it every process inside.
        command = ["setpriv", "--pdeathsig", "KILL", "--", "unshare", *namespaces,
                   "--", *python, str(self.lib / "grading/sandbox/init.py"),
                   str(config_fd)]
        return command, config_fd

    def _launcher_environment(self) -> dict[str, str]:
        if self.mode == "none":
            return self._child_environment(tempfile.gettempdir())
        return os.environ.copy() | {"PYTHONDONTWRITEBYTECODE": "1"}

    def _rlimits(self) -> dict[str, int]:
        limits = {"RLIMIT_AS": self.limits.memory_mb * 2**20,
                  "RLIMIT_FSIZE": self.limits.file_size_mb * 2**20,
                  "RLIMIT_NOFILE": self.limits.open_files,
                  "RLIMIT_CORE": 0}
        if self.mode == "root":
            # Counted per user id, and each sandbox has its own.
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


class ProtocolError(BoundaryError):
    """An event that is well formed but not the one the grader expects next.

    Introduced in the chapter "Instructor guide".
    """


class Attempt:
    """One start of a sandbox: sends the hidden calls, checks every event.

    Introduced in the chapter "Instructor guide". The grader expects, in order:
    ``cell`` events for the cells it asked to run (each optionally followed by
    ``cell_error``), ``ready``, then for each call it sends a ``case`` and a
    ``result`` event with that call's index, and ``done`` after it sent the end
    of the calls. Anything else ends the attempt as ``sent unreadable output``.

    Parameters
    ----------
    cells, cases : list of dict
    skip_cells : set of int
    job_run : JobRun
        Receives the results; cases that already have one are not sent.
    unit_timeout, hard_deadline : float
    """

    def __init__(self, cells: list[dict], cases: list[dict], skip_cells: set[int],
                 job_run: JobRun, unit_timeout: float, hard_deadline: float) -> None:
        self.cells, self.cases, self.skip_cells = cells, cases, skip_cells
        self.job_run = job_run
        self.unit_timeout, self.hard_deadline = unit_timeout, hard_deadline
        self.pending = [index for index in range(len(cases))
                        if index not in job_run.results]
        self.phase = "cells"
        self.current: tuple[str, int] | None = None
        self.last_cell = -1
        self.sent: int | None = None
        self.started = False
        self.ending = "crashed"
        self.status: str | None = None
        self._outgoing = b""
        self._events_left = 4 * (len(cells) + len(cases)) + 8
        # Before the first event no student code runs: a wall-clock allowance.
        self._deadline = time.monotonic() + STARTUP_ALLOWANCE + unit_timeout
        self._cpu_start: float | None = None
        self.cpu_seconds: Callable[[], float] | None = None

    def header(self, sys_path: list[str]) -> bytes:
        """The job header the runner reads first: cells and cells to skip."""
        return json.dumps({"cells": self.cells, "skip_cells": sorted(self.skip_cells),
                           "sys_path": sys_path}).encode()

    def unit_in_progress(self) -> tuple[str, int] | None:
        """The cell or case the sandbox was in when the attempt ended."""
        if self.current is not None:
            return self.current
        return ("case", self.sent) if self.sent is not None else None

    def _start_unit(self) -> None:
        """A cell or call begins: its CPU time and its wall-clock ceiling start."""
        if self.cpu_seconds is None:
            self._deadline = time.monotonic() + self.unit_timeout
            return
        self._deadline = time.monotonic() + self.unit_timeout * WALL_CLOCK_FACTOR
        self._cpu_start = None  # if unreadable: the wall-clock ceiling only
        with contextlib.suppress(OSError):
            self._cpu_start = self.cpu_seconds()

    def _cpu_exhausted(self) -> bool:
        """Whether the unit in progress has used ``unit_timeout`` of CPU time."""
        if self.cpu_seconds is None or self._cpu_start is None:
            return False
        with contextlib.suppress(OSError):
            return self.cpu_seconds() - self._cpu_start >= self.unit_timeout
        return False

    def converse(self, events_fd: int, commands_fd: int) -> None:
        """Read events and send calls until the runner is done or must be stopped."""
        os.set_blocking(commands_fd, False)
        with selectors.DefaultSelector() as selector:
            selector.register(events_fd, selectors.EVENT_READ)
            buffer, total = b"", 0
            while True:
                remaining = min(self._deadline, self.hard_deadline) - time.monotonic()
                if remaining <= 0 or self._cpu_exhausted():
                    self.ending = "timed out"
                    return
                if self.cpu_seconds is not None:
                    remaining = min(remaining, POLL_SECONDS)
                self._watch_commands(selector, commands_fd)
                for key, _ in selector.select(timeout=remaining):
                    if key.fd == commands_fd:
                        self._flush(commands_fd)
                        continue
                    chunk = os.read(events_fd, 65536)
                    total += len(chunk)
                    if not chunk or total > MAX_RUN_EVENT_BYTES:
                        self.ending = "crashed" if not chunk else "sent too much output"
                        return
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    if len(buffer) > MAX_RUN_EVENT_BYTES // 4:
                        self.ending = "sent too much output"
                        return
                    if not self._handle_lines(lines):
                        return

    def _watch_commands(self, selector: selectors.BaseSelector, fd: int) -> None:
        registered = fd in selector.get_map()
        if self._outgoing and not registered:
            selector.register(fd, selectors.EVENT_WRITE)
        elif not self._outgoing and registered:
            selector.unregister(fd)

    def _flush(self, fd: int) -> None:
        try:
            written = os.write(fd, self._outgoing)
        except BlockingIOError:
            return
        except OSError:  # the runner is gone; its end shows on the events pipe
            self._outgoing = b""
            return
        self._outgoing = self._outgoing[written:]

    def _handle_lines(self, lines: list[bytes]) -> bool:
        """Apply each line; False once the attempt is over."""
        for line in lines:
            self._events_left -= 1
            try:
                if self._events_left < 0:
                    raise ProtocolError("too many events")
                self._apply(parse_event(line, max(len(self.cells), len(self.cases))))
            except BoundaryError:
                self.ending = "sent unreadable output"
                return False
            if self.ending == "done":
                return False
        return True

    def _apply(self, event) -> None:
        kind, index = event.kind, event.index
        handler = {"cell": self._on_cell, "cell_error": self._on_cell_error,
                   "ready": self._on_ready, "case": self._on_case,
                   "result": self._on_result, "done": self._on_done}[kind]
        handler(event, index)
        self.started = True

    def _expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise ProtocolError(f"unexpected {what}")

    def _on_cell(self, event, index: int) -> None:
        self._expect(self.phase == "cells" and index > self.last_cell
                     and index < len(self.cells) and index not in self.skip_cells,
                     "cell event")
        self.current, self.last_cell = ("cell", index), index
        self._start_unit()

    def _on_cell_error(self, event, index: int) -> None:
        self._expect(self.current == ("cell", index), "cell error")
        self.job_run.cell_problem(index, f"raised {event.error}")

    def _on_ready(self, event, index: None) -> None:
        self._expect(self.phase == "cells", "ready event")
        self.phase, self.current = "cases", None
        self._send_next()

    def _on_case(self, event, index: int) -> None:
        self._expect(self.phase == "cases" and index == self.sent
                     and self.current is None, "case event")
        self.current = ("case", index)
        self._start_unit()

    def _on_result(self, event, index: int) -> None:
        self._expect(self.current == ("case", index), "result")
        self.job_run.results[index] = ({"error": event.error} if event.error
                                       is not None else {"value": event.value})
        self.current = self.sent = None
        self._send_next()

    def _on_done(self, event, index: None) -> None:
        self._expect(self.phase == "ended", "done event")
        self.ending = "done"

    def _send_next(self) -> None:
        self._start_unit()
        if self.pending:
            self.job_run.calls_sent = True
            self.sent = self.pending.pop(0)
            case = self.cases[self.sent]
            line = {"index": self.sent, "function": case["function"],
                    "args": case["args"], "kwargs": case["kwargs"]}
            self._outgoing += json.dumps(line).encode() + b"\n"
        else:
            self.phase = "ended"
            self._outgoing += b"\n"


def _retire_unit(unit: tuple[str, int], ending: str, cases: list[dict],
                 skip_cells: set[int], job_run: JobRun) -> None:
    """Record how the unit in progress ended, so that the next attempt skips it."""
    kind, index = unit
    if kind == "cell":
        job_run.cell_problem(index, ending)
        skip_cells.add(index)
        return
    job_run.results.setdefault(index, {"ended": ending})
    # A function that hung or crashed once is not called again.
    for later in range(len(cases)):
        if later not in job_run.results \
                and cases[later]["function"] == cases[index]["function"]:
            job_run.results[later] = {"ended": f"not run: an earlier check {ending}"}


def _one_way_socket() -> tuple[int, int]:
    """A connected pair of sockets that carries data only from the second fd.

    The events channel. Not a pipe: where the sandbox runs as the grader's own
    user (``userns``), a pipe's write end can be opened again for reading
    through ``/proc/self/fd``, so student code could take the runner's events
    (its first ``cell`` event among them) before the grader reads them. A
    socket cannot be opened that way, and the sandbox's end is shut for reading.
    """
    grader_end, sandbox_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    grader_end.shutdown(socket.SHUT_WR)
    sandbox_end.shutdown(socket.SHUT_RD)
    return grader_end.detach(), sandbox_end.detach()


def _memory_file(data: bytes) -> int:
    """An anonymous in-memory file holding ``data``, positioned at its start."""
    fd = os.memfd_create("course-grade-job", 0)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _read_status(fd: int) -> str | None:
    """What process 1 reported on its own pipe (never written by student code)."""
    os.set_blocking(fd, False)
    with contextlib.suppress(BlockingIOError):
        data = os.read(fd, MAX_STATUS_BYTES)
        return clean_text(data.decode(errors="replace"), 2000) or None
    return None


def _tail(stderr) -> str | None:
    stderr.seek(0, os.SEEK_END)
    stderr.seek(max(0, stderr.tell() - 2000))
    return clean_text(stderr.read().decode(errors="replace").strip(), 2000) or None


def _root_mount_point(python_paths: list[str]) -> str:
    """A folder to mount the new root on, in the job's own mount namespace only."""
    for candidate in ROOT_MOUNT_POINTS:
        if os.path.isdir(candidate) and not os.path.islink(candidate) and not any(
                path == candidate or path.startswith(candidate + "/")
                for path in python_paths):
            return candidate
    raise SandboxError(f"none of {', '.join(ROOT_MOUNT_POINTS)} can hold the "
                       "sandbox's root")


def _check_world_readable(folder: Path) -> None:
    """The sandbox user must be able to read ``course_utils``; say so if not."""
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        needed = 0o005 if path.is_dir() else 0o004
        if mode & needed != needed:
            raise SandboxError(f"{path} is not readable by other users; the sandbox "
                               "user needs to read course_utils (chmod -R o+rX)")


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


def _kill_tree(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()

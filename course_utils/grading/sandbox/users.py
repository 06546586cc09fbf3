"""One unprivileged user id per concurrent sandbox, and the sweep after each job.

Introduced in the chapter "Instructor guide". As root, each job slot of the
grader runs student code as its own user id, taken from a high range that
``/etc/passwd`` and ``/etc/group`` do not use. So the process-count limit
(``RLIMIT_NPROC``, which the kernel counts per user) belongs to that one
sandbox: no other sandbox and no process of the host shares it. A user id is
claimed by binding an abstract Unix socket named after it, which the kernel
releases when the grader ends, however it ends, so two graders on one machine
never share an id. After every job, :func:`sweep` kills whatever process of
that id is left and waits until there is none.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import signal
import socket
import time
from pathlib import Path

FIRST_SANDBOX_UID = 1_900_000_000
SANDBOX_UID_COUNT = 4096
SWEEP_PATIENCE = 10.0  # seconds to wait for killed processes to disappear


class SandboxUserError(RuntimeError):
    """No free sandbox user id could be claimed.

    Introduced in the chapter "Instructor guide".
    """


class SandboxUser:
    """A claimed user id (also used as the group id), released by :meth:`release`.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid : int
    claim : socket.socket
        The bound abstract socket that holds the claim.
    """

    def __init__(self, uid: int, claim: socket.socket) -> None:
        self.uid = uid
        self._claim = claim

    def release(self) -> None:
        """Give the id back (after :func:`sweep` found no process of it)."""
        self._claim.close()


def claim_address(uid: int) -> str:
    """The abstract Unix socket address whose binding claims ``uid``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid : int

    Returns
    -------
    str
    """
    return f"\0course-grade-sandbox-uid-{uid}"


def _unused_by_system(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        try:
            grp.getgrgid(uid)
        except KeyError:
            return True
    return False


def claim_user() -> SandboxUser:
    """Claim a free sandbox user id and clear any process it still has.

    Introduced in the chapter "Instructor guide".

    Returns
    -------
    SandboxUser

    Raises
    ------
    SandboxUserError
        If every id of the range is in use.
    """
    for uid in range(FIRST_SANDBOX_UID, FIRST_SANDBOX_UID + SANDBOX_UID_COUNT):
        if not _unused_by_system(uid):
            continue
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(claim_address(uid))
        except OSError:
            claim.close()
            continue
        if sweep(uid):  # leftovers of a grader that was killed are cleared here
            return SandboxUser(uid, claim)
        claim.close()
    raise SandboxUserError(f"no free sandbox user id between {FIRST_SANDBOX_UID} "
                           f"and {FIRST_SANDBOX_UID + SANDBOX_UID_COUNT - 1}")


def processes_of(uid: int) -> list[int]:
    """Process ids whose real, effective, saved or file-system user id is ``uid``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid : int

    Returns
    -------
    list of int
    """
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and uid in _user_ids(entry):
            found.append(int(entry.name))
    return found


def _user_ids(process: Path) -> set[int]:
    with contextlib.suppress(OSError, ValueError):
        for line in (process / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return {int(field) for field in line.split()[1:]}
    return set()


def _kill(pid: int, uid: int) -> None:
    """SIGKILL ``pid`` through a pidfd, after checking it still belongs to ``uid``."""
    with contextlib.suppress(OSError):
        pidfd = os.pidfd_open(pid)
        try:
            if uid in _user_ids(Path(f"/proc/{pid}")):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        finally:
            os.close(pidfd)


def sweep(uid: int, patience: float = SWEEP_PATIENCE) -> bool:
    """Kill every process of ``uid``; wait until there is none.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid : int
    patience : float
        Seconds to wait for the processes to disappear.

    Returns
    -------
    bool
        True once no process of ``uid`` is left; False if some still are after
        ``patience`` seconds (the caller then stops using this id).
    """
    deadline = time.monotonic() + patience
    while True:
        alive = processes_of(uid)
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in alive:
            _kill(pid, uid)
        time.sleep(0.02)

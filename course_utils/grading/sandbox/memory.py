"""A memory bound for all the processes of one sandbox together (a cgroup).

Introduced in the chapter "Instructor guide". As root, where the machine lets
the grader create a memory cgroup (cgroup v2, or the v1 memory controller),
each sandbox user id gets one, ``course-grade-<uid>``, whose limit is the
job's memory limit; process 1 of the sandbox joins it before it starts the
runner, so every process of the sandbox, and what it writes to its in-memory
folders, is counted together. Where no cgroup can be made, only the
per-process address-space limit applies (see the instructor guide).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

CGROUP_V2_ROOT = Path("/sys/fs/cgroup")
CGROUP_V1_MEMORY_ROOT = Path("/sys/fs/cgroup/memory")


def _write(path: Path, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _v2_group(name: str, limit: int) -> Path | None:
    if not (CGROUP_V2_ROOT / "cgroup.controllers").is_file():
        return None
    with contextlib.suppress(OSError):
        _write(CGROUP_V2_ROOT / "cgroup.subtree_control", "+memory")
    group = CGROUP_V2_ROOT / name
    group.mkdir(exist_ok=True)
    _write(group / "memory.max", str(limit))
    with contextlib.suppress(OSError):
        _write(group / "memory.swap.max", "0")
    return group


def _v1_group(name: str, limit: int) -> Path | None:
    if not (CGROUP_V1_MEMORY_ROOT / "memory.limit_in_bytes").is_file():
        return None
    group = CGROUP_V1_MEMORY_ROOT / name
    group.mkdir(exist_ok=True)
    _write(group / "memory.limit_in_bytes", str(limit))
    with contextlib.suppress(OSError):  # only where swap accounting is on
        _write(group / "memory.memsw.limit_in_bytes", str(limit))
    return group


def memory_group(uid: int, limit_bytes: int) -> Path | None:
    """Create (or reuse) the memory cgroup of sandbox user ``uid``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid : int
    limit_bytes : int
        The memory limit of all the sandbox's processes together.

    Returns
    -------
    Path or None
        The cgroup's folder (its ``cgroup.procs`` is what a process writes
        ``0`` to, to join), or None where the machine does not allow one.
    """
    name = f"course-grade-{uid}"
    for make in (_v2_group, _v1_group):
        try:
            group = make(name, limit_bytes)
        except OSError:
            group = None
        if group is not None:
            return group
    return None


def remove_group(group: Path | None) -> None:
    """Remove a cgroup made by :func:`memory_group` (once it has no process).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    group : Path or None
    """
    if group is not None:
        with contextlib.suppress(OSError):
            group.rmdir()

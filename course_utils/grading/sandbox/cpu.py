"""A CPU bound for all the processes of one sandbox together, and their CPU time.

Introduced in the chapter "Instructor guide". As root, where the machine lets
the grader create a cpu cgroup (cgroup v2 with the ``cpu`` controller, or the
v1 ``cpu`` and ``cpuacct`` controllers), each sandbox user id gets one,
``course-grade-<uid>``, whose quota is ``CPUS_PER_SANDBOX`` cores, however
many processes or sessions the sandbox starts; process 1 of the sandbox joins
it before it starts the runner. The grader reads the group's CPU time to judge
timeouts. Where no cgroup can be made, the CPU time of the sandbox's processes
is summed from ``/proc`` (every process in the sandbox's PID namespace, with
the time of the children each has reaped): the timeouts are judged on it
the same way, but no quota keeps a sandbox to one core.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_V2_ROOT = Path("/sys/fs/cgroup")
CGROUP_V1_CPU_ROOT = Path("/sys/fs/cgroup/cpu")
CGROUP_V1_CPUACCT_ROOT = Path("/sys/fs/cgroup/cpuacct")
CPUS_PER_SANDBOX = 1.0
PERIOD_MICROSECONDS = 100_000
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuGroup:
    """The cgroup(s) of one sandbox user id: what to join, where to read CPU time.

    Introduced in the chapter "Instructor guide".

    Attributes
    ----------
    folders : tuple of Path
        Each cgroup folder (one in v2; the ``cpu`` and ``cpuacct`` ones in v1).
    usage : Path
        The file holding the group's CPU time.
    """

    folders: tuple[Path, ...]
    usage: Path

    @property
    def procs(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes ``0`` to, to join."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def seconds(self) -> float:
        """CPU time used by every process that was ever in the group, in seconds."""
        text = self.usage.read_text()
        if self.usage.name == "cpu.stat":
            for line in text.splitlines():
                name, _, value = line.partition(" ")
                if name == "usage_usec":
                    return int(value) / 1e6
            raise OSError(f"{self.usage} has no usage_usec")
        return int(text) / 1e9  # cpuacct.usage, in nanoseconds


def _write(path: Path, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _quota(cpus: float) -> int:
    return max(1000, int(PERIOD_MICROSECONDS * cpus))


def _v2_group(name: str, cpus: float) -> CpuGroup | None:
    if not (CGROUP_V2_ROOT / "cgroup.controllers").is_file():
        return None
    with contextlib.suppress(OSError):
        _write(CGROUP_V2_ROOT / "cgroup.subtree_control", "+cpu")
    group = CGROUP_V2_ROOT / name
    group.mkdir(exist_ok=True)
    _write(group / "cpu.max", f"{_quota(cpus)} {PERIOD_MICROSECONDS}")
    return CpuGroup((group,), group / "cpu.stat")


def _v1_group(name: str, cpus: float) -> CpuGroup | None:
    if not ((CGROUP_V1_CPU_ROOT / "cpu.cfs_quota_us").is_file()
            and (CGROUP_V1_CPUACCT_ROOT / "cpuacct.usage").is_file()):
        return None
    cpu, cpuacct = CGROUP_V1_CPU_ROOT / name, CGROUP_V1_CPUACCT_ROOT / name
    cpu.mkdir(exist_ok=True)
    cpuacct.mkdir(exist_ok=True)  # the same folder where both share a hierarchy
    _write(cpu / "cpu.cfs_period_us", str(PERIOD_MICROSECONDS))
    _write(cpu / "cpu.cfs_quota_us", str(_quota(cpus)))
    folders = tuple(dict.fromkeys([cpu, cpuacct]))
    return CpuGroup(folders, cpuacct / "cpuacct.usage")


def cpu_group(uid: int, cpus: float = CPUS_PER_SANDBOX) -> CpuGroup | None:
    """Create (or reuse) the cpu cgroup of sandbox user ``uid``.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid : int
    cpus : float
        The quota of all the sandbox's processes together, in cores.

    Returns
    -------
    CpuGroup or None
        None where the machine does not allow one.
    """
    name = f"course-grade-{uid}"
    for make in (_v2_group, _v1_group):
        try:
            group = make(name, cpus)
            if group is not None:
                group.seconds()
        except (OSError, ValueError):
            group = None
        if group is not None:
            return group
    return None


def remove_cpu_group(group: CpuGroup | None) -> None:
    """Remove the folders of a group made by :func:`cpu_group` (once empty).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    group : CpuGroup or None
    """
    for folder in group.folders if group is not None else ():
        with contextlib.suppress(OSError):
            folder.rmdir()


def _process_seconds(pid: str) -> float:
    """utime + stime + cutime + cstime of one process, in seconds (0 if gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / _TICKS
    return 0.0


def namespace_seconds(launcher: int) -> float:
    """CPU time of every process in the PID namespace that ``launcher`` created.

    Introduced in the chapter "Instructor guide". ``launcher`` is the
    ``unshare`` process; the namespace is that of its child. The time of a
    process that ended counts once its parent reaped it (in the parent's
    children's time); a process not yet reaped is missed for that moment.

    Parameters
    ----------
    launcher : int

    Returns
    -------
    float
        Seconds; 0 once the namespace is gone.
    """
    try:
        with open(f"/proc/{launcher}/task/{launcher}/children") as handle:
            children = handle.read().split()
        namespace = os.readlink(f"/proc/{children[0]}/ns/pid")
    except (OSError, IndexError):
        return 0.0
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                    total += _process_seconds(entry)
    return total

"""First process in the grader's new namespaces: builds the sandbox, starts the runner.

Introduced in the chapter "Instructor guide". This file is started as a script
(``python -I -S init.py CONFIG_FD``) by :mod:`course_utils.grading.sandbox.jobs`
inside fresh mount, network and PID namespaces, as their process 1. It uses
only the standard library. It builds a new root file system that contains only
what the runner needs, read-only (the Python installation, the system
libraries and ``course_utils``), plus a size-limited in-memory work folder,
``/tmp`` and ``/dev/shm``, and moves into it with ``chroot``. It then forks:
the child sets resource limits, drops to the sandbox's own user, forbids
gaining privileges and replaces itself with the runner; process 1 itself never
changes user, so the parent-death signal that ``unshare --kill-child`` gave it
stays armed, and it only reaps processes until the runner ends. When process 1
ends, for whatever reason, the kernel kills every process in the namespace.
Failures are reported on a status pipe that the runner never holds. Nothing of
the source notebooks, the submissions, the gradebook or the rest of the
machine is mounted in the new root.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import resource
import sys

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    if _libc.mount(_bytes(source), _bytes(target), _bytes(fstype),
                   ctypes.c_ulong(flags), _bytes(data)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _bind(root: str, source: str, target: str, writable: bool = False,
          device: bool = False) -> None:
    """Bind ``source`` at ``target`` inside ``root``; read-only unless ``writable``.

    Device files work only where ``device`` is true (the few harmless ones).
    """
    destination = _inside(root, target)
    if os.path.isdir(source):
        os.makedirs(destination, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        if not os.path.exists(destination):
            open(destination, "a").close()
    _mount(source, destination, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (0 if device else MS_NODEV)
    if not writable:
        flags |= MS_RDONLY
    _mount(None, destination, None, flags)


def _copy_symlink(root: str, path: str) -> None:
    destination = _inside(root, path)
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    os.symlink(os.readlink(path), destination)


def build_root(config: dict) -> str:
    """Mount the new root file system described by ``config``; return its path.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    config : dict
        ``root`` (a folder to mount the new root on, in this mount namespace
        only), ``system_paths`` (bound read-only at their own paths), ``binds``
        (``[source, target, writable]``), ``tmp_size_mb``, ``workdir``,
        ``work_size_mb``, ``uid`` and ``gid``.

    Returns
    -------
    str
    """
    root = config["root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    for path in config["system_paths"]:
        if os.path.islink(path):
            _copy_symlink(root, path)
        elif os.path.exists(path):
            _bind(root, path, path)
    os.makedirs(_inside(root, "/dev"), exist_ok=True)
    for device in ("null", "zero", "full", "random", "urandom"):
        _bind(root, f"/dev/{device}", f"/dev/{device}", writable=True, device=True)
    for private in ("/tmp", "/dev/shm"):
        os.makedirs(_inside(root, private), exist_ok=True)
        _mount("tmpfs", _inside(root, private), "tmpfs", MS_NOSUID | MS_NODEV,
               f"mode=1777,size={config['tmp_size_mb']}m,nr_inodes=4096")
    # Shallow paths first, so that a deeper bind is not hidden by its parent's.
    for source, target, writable in sorted(config["binds"],
                                           key=lambda bind: bind[1].count("/")):
        _bind(root, source, target, writable)
    work = _inside(root, config["workdir"])
    os.makedirs(work, exist_ok=True)
    owner = "" if config.get("uid") is None else \
        f",uid={config['uid']},gid={config['gid']}"
    _mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=0700,size={config['work_size_mb']}m,nr_inodes=4096{owner}")
    os.makedirs(_inside(root, "/proc"), exist_ok=True)
    _mount("proc", _inside(root, "/proc"), "proc", MS_NOSUID | MS_NODEV)
    return root


def set_limits(limits: dict) -> None:
    """Apply hard resource limits (they are inherited by the runner).

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    limits : dict
        ``{"RLIMIT_AS": bytes, ...}``; soft and hard limits are both set.
    """
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def drop_privileges(uid: int | None, gid: int | None) -> None:
    """Become ``uid``/``gid`` (if given) and forbid ever gaining privileges.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    uid, gid : int or None
        The sandbox account; None keeps the current one (user namespaces).
    """
    if uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def _report_failure(status_fd: int, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    os.write(status_fd, message.encode(errors="replace"))


def start_runner(config: dict) -> None:
    """In the forked child: limits, the sandbox user, then ``exec`` of the runner.

    Introduced in the chapter "Instructor guide". The status pipe is closed on
    ``exec``, so the runner and the student code can never write to it.

    Parameters
    ----------
    config : dict
    """
    status_fd = config["status_fd"]
    try:
        os.set_inheritable(status_fd, False)
        set_limits(config["limits"])
        drop_privileges(config.get("uid"), config.get("gid"))
        os.execve(config["argv"][0], config["argv"], config["env"])
    except BaseException as error:  # the grader must learn why it never started
        _report_failure(status_fd, error)
    os._exit(70)


def reap_until(runner: int) -> int:
    """Reap every child (orphans are re-parented here) until ``runner`` ends.

    Introduced in the chapter "Instructor guide".

    Parameters
    ----------
    runner : int
        The process id of the runner.

    Returns
    -------
    int
        The runner's exit status as a shell reports it.
    """
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 70
        if pid == runner:
            return os.waitstatus_to_exitcode(status) % 256


def main() -> None:
    """Build the sandbox from the config on fd ``sys.argv[1]``, then run the runner.

    Introduced in the chapter "Instructor guide".
    """
    with os.fdopen(int(sys.argv[1]), "rb") as handle:
        config = json.loads(handle.read())
    status_fd = config["status_fd"]
    try:
        if config.get("cgroup_procs"):
            # Joined before anything else starts: every later process is counted.
            with open(config["cgroup_procs"], "w") as handle:
                handle.write("0")
        root = build_root(config)
        os.chroot(root)
        os.chdir(config["workdir"])
        runner = os.fork()
    except BaseException as error:  # the grader must learn why it never started
        _report_failure(status_fd, error)
        raise SystemExit(70) from None
    if runner == 0:
        start_runner(config)
    for fd in (status_fd, *config["runner_fds"]):
        os.close(fd)
    raise SystemExit(reap_until(runner))


if __name__ == "__main__":
    main()

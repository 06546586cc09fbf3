"""First process in the grader's new namespaces: builds the sandbox, starts the runner.

Introduced in the chapter "Instructor guide". This file is started as a script
(``python -I -S init.py CONFIG_FD``) by :mod:`course_utils.grading.sandbox.jobs`
inside fresh mount, network and PID namespaces, as their process 1. It uses
only the standard library. It builds a new root file system that contains only
what the runner needs, read-only (the Python installation, the system
libraries and ``course_utils``), plus a size-limited in-memory work folder,
``/tmp`` and ``/dev/shm``, and moves into it with ``chroot``. Before anything
else it joins a new, empty session keyring; after ``chroot`` it makes itself
non-dumpable and installs a seccomp filter that refuses every kernel keyring
system call, which every process of the sandbox inherits. It then forks: the
child sets resource limits, empties its capability bounding set, drops to the
sandbox's own user, forbids gaining privileges and replaces itself with the
runner; process 1 itself never changes user, so the parent-death signal that
``unshare --kill-child`` gave it stays armed, and it only reaps processes until
the runner ends. When process 1
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
PR_SET_SECCOMP = 22
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
EINVAL = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
EPERM, ENOSYS = 1, 38
KEYCTL_JOIN_SESSION_KEYRING = 1
# Per architecture: the audit arch of its native system calls, the numbers of
# add_key, request_key and keyctl, and the bit that marks x32 calls (x86_64).
KEY_SYSCALLS = {
    "x86_64": (0xC000003E, (248, 249, 250), 0x40000000),
    "aarch64": (0xC00000B7, (217, 218, 219), None),
}
# Files of the sandbox's /proc that show kernel keys (masked).
MASKED_PROC_FILES = ("/proc/keys", "/proc/key-users")

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
    for path in MASKED_PROC_FILES:
        try:  # /dev/null on a nodev mount: opening it fails
            _bind(root, "/dev/null", path)
        except OSError:
            if config.get("uid") is not None:  # required as root; tried in userns
                raise
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


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def keyring_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """The seccomp program that refuses every kernel keyring system call.

    Introduced in the chapter "Instructor guide". ``add_key``, ``request_key``
    and ``keyctl`` fail with ``EPERM`` (as in the default profile of container
    runtimes); on x86_64 so does every x32 call; a call made with another
    architecture's numbers (``int 0x80``) kills the process.

    Parameters
    ----------
    machine : str
        ``os.uname().machine``.

    Returns
    -------
    list of tuple
        ``(code, jt, jf, k)`` BPF instructions.
    """
    if machine not in KEY_SYSCALLS:
        raise OSError(f"no keyring filter for the architecture {machine}")
    arch, numbers, x32_bit = KEY_SYSCALLS[machine]
    checks = [(BPF_JGE_K, x32_bit)] if x32_bit is not None else []
    checks += [(BPF_JEQ_K, number) for number in numbers]
    program = [(BPF_LD_W_ABS, 0, 0, 4), (BPF_JEQ_K, 1, 0, arch),
               (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS), (BPF_LD_W_ABS, 0, 0, 0)]
    for position, (code, value) in enumerate(checks):
        # Jump to the final "refuse" (after the remaining checks and "allow").
        program.append((code, len(checks) - position, 0, value))
    program += [(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
                (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM)]
    return program


def leave_session_keyring() -> None:
    """Join a new, empty, anonymous session keyring (before dropping privileges).

    Introduced in the chapter "Instructor guide". The session keyring of
    whoever runs the grader (and whatever it holds) is no longer this
    process's. The new keyring belongs to the grader's user, so nothing is
    charged to, or left for, the sandbox's user id.
    """
    machine = os.uname().machine
    if machine not in KEY_SYSCALLS:
        raise OSError(f"no keyring filter for the architecture {machine}")
    keyctl = KEY_SYSCALLS[machine][1][2]
    if _libc.syscall(ctypes.c_long(keyctl), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING),
                     None) < 0 and ctypes.get_errno() != ENOSYS:
        raise OSError(ctypes.get_errno(), "keyctl(KEYCTL_JOIN_SESSION_KEYRING) failed")


def forbid_keyrings() -> None:
    """Refuse every kernel keyring system call from now on (seccomp).

    Introduced in the chapter "Instructor guide". Afterwards no keyring (the
    session keyring, the user id's own ones, any other) can be read, searched,
    created or linked to, by this process or any it starts. Needs
    ``PR_SET_NO_NEW_PRIVS`` first, which :func:`drop_privileges` sets.
    """
    program = keyring_filter(os.uname().machine)
    instructions = (_SockFilter * len(program))(*[_SockFilter(*instruction)
                                                  for instruction in program])
    fprog = _SockFprog(len(program), instructions)
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0,
                   0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _prctl(option: int, argument: int, what: str) -> None:
    if _libc.prctl(option, ctypes.c_ulong(argument), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({what}) failed")


def guard_process_1() -> None:
    """Process 1 of the sandbox, after ``chroot``: no keyrings, and not traceable.

    Introduced in the chapter "Instructor guide". It forbids gaining
    privileges and installs the keyring filter, which every process it starts
    inherits, and makes itself non-dumpable, so that no process of the
    sandbox without ``CAP_SYS_PTRACE`` can trace it.
    """
    _prctl(PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE")
    _prctl(PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS")
    forbid_keyrings()


def drop_capabilities() -> None:
    """Empty the capability bounding set and the ambient set (before ``exec``).

    Introduced in the chapter "Instructor guide". With ``PR_SET_NO_NEW_PRIVS``
    set, the runner then has no capability, even as user 0 of a user
    namespace (``userns`` mode): it can neither unmount nor mount anything,
    nor trace process 1.
    """
    for capability in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0) != 0:
            if ctypes.get_errno() == EINVAL:  # past the last capability
                break
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "PR_CAP_AMBIENT")


def _report_failure(status_fd: int, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    os.write(status_fd, message.encode(errors="replace"))


def start_runner(config: dict) -> None:
    """In the forked child: limits, the sandbox user, then ``exec`` of the runner.

    Introduced in the chapter "Instructor guide". The status pipe is closed on
    ``exec``, so the runner and the student code can never write to it. The
    runner starts with no capability, under the keyring filter of process 1.

    Parameters
    ----------
    config : dict
    """
    status_fd = config["status_fd"]
    try:
        os.set_inheritable(status_fd, False)
        set_limits(config["limits"])
        drop_capabilities()
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
        leave_session_keyring()  # before anything: every process inherits it
        for procs in config.get("cgroup_procs") or []:
            # Joined before anything else starts: every later process is counted.
            with open(procs, "w") as handle:
                handle.write("0")
        root = build_root(config)
        os.chroot(root)
        os.chdir(config["workdir"])
        guard_process_1()
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

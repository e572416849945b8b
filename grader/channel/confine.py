"""How a worker forked from the warm nursery confines itself before any candidate code runs.

Standard library only (ctypes for the system calls Python 3.11 lacks); shipped into the
nursery's sandbox with the worker shim. Every step runs as trusted code in the freshly forked
process; a step that fails raises, and the process exits without running the worker.

The nursery's bubblewrap sandbox already has no network, its own PID tree and a read-only view
of the Python installation. On top of that, each submission's worker gets:

* a user namespace of its own (the same user inside, no capabilities left once set up);
* a mount namespace in which its own stage is mounted read-only at ``/grader``, the spool of
  every stage is covered by an empty read-only folder, and ``/tmp``, ``/dev/shm`` and ``/proc``
  are fresh (``/proc`` read-only, listing only its own processes);
* its own PID, IPC, network (loopback only) and UTS namespaces, so it can neither see, signal nor
  trace the nursery, nor reach anything a worker before it left behind.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct

SPOOL = "/grader-spool"  # every stage of the batch, read-only: only the nursery sees it whole
HOST_PROC = "/grader-proc"  # a proc mount without covered sub-folders (see mount_proc)
STAGE_MOUNT = "/grader"

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)


class ConfineError(OSError):
    """A confinement step failed: the worker must not start."""


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise ConfineError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None), f"mount {target}")


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(0),
                       ctypes.c_ulong(0)), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def new_namespaces() -> None:
    """In the intermediate process: a user namespace mapping our user to itself, with new mount,
    IPC, network and UTS namespaces, and a PID namespace for the next child."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    unshare(CLONE_NEWPID)


def stage_name_ok(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name


def mount_view(stage: str, tmpfs_bytes: int) -> None:
    """In the worker (PID 1 of its namespace): its own mounts, then nothing of anyone else's."""
    if not stage_name_ok(stage) or not os.path.isdir(os.path.join(SPOOL, stage)):
        raise ConfineError(0, f"no stage {stage!r} in the spool")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # The kernel lets a user namespace mount a proc only where a proc is already fully visible;
    # bubblewrap's /proc has covered sub-folders, hence the nursery's read-only HOST_PROC, which
    # makes ours read-only as well. It is covered right after.
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    _mount("tmpfs", HOST_PROC, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
    _mount(os.path.join(SPOOL, stage), STAGE_MOUNT, None, MS_BIND | MS_REC)
    _mount(None, STAGE_MOUNT, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount("tmpfs", SPOOL, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(tmpfs_bytes)},mode=0755")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(tmpfs_bytes)},mode=1777")
    os.chdir("/tmp")


def loopback_up() -> None:
    """A new network namespace starts with its loopback down; bubblewrap's has it up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | IFF_UP))


def drop_capabilities() -> None:
    """No capability left in any set, none to be gained again (bounding set, no_new_privs)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} triples, all empty
    _check(_libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def capabilities_left() -> int:
    """The effective capability mask (0 once confined)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return -1


def confine(stage: str, tmpfs_bytes: int, open_files: int, file_size_bytes: int) -> None:
    """Everything the worker process does to itself before it becomes the worker."""
    prctl(PR_SET_PDEATHSIG, 9)
    # A process group is not bounded by PID namespaces: killpg(0) from the nursery's group would
    # reach the nursery. bubblewrap's --new-session does the same for a fresh sandbox.
    os.setsid()
    mount_view(stage, tmpfs_bytes)
    loopback_up()
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_bytes, file_size_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    drop_capabilities()

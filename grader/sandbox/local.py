"""The local sandbox: the worker as a subprocess, confined by bubblewrap where it works.

With bubblewrap every namespace is unshared (no network, own PID tree, own mounts), the root
is a read-only view of /usr and the Python installation, the only grader files visible are the
stage folder (candidate files, public exercise files, the worker shim), and the sandbox dies
with the judge. Without bubblewrap the worker still runs, as ``local-unconfined``, which is not a
security boundary: only rlimits and a wall-clock kill of its process group apply.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.sandbox.base import (
    STAGE_MOUNT,
    WORKER_BOOT,
    ExitInfo,
    Sandbox,
    SandboxLimits,
    SandboxProcess,
    WorkerEnv,
)

if TYPE_CHECKING:
    from grader.sandbox.warm import WarmProcess

UNCONFINED_WARNING = (
    "bubblewrap is not available: the local sandbox runs candidate code UNCONFINED "
    "(local-unconfined). This is not a security boundary; grade only trusted code this way, "
    "or install bubblewrap or use --sandbox docker."
)
PASSTHROUGH_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _python_roots() -> list[str]:
    """Folders the worker's interpreter and its libraries live in."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(r for r in roots if not r.startswith("/usr/") and r != "/usr")


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap can create a fully unshared sandbox here, and why not."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap is not installed"
    probe = [exe, *_bwrap_base_args(), "--", "/bin/true"]
    try:
        proc = subprocess.run(probe, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap failed to start: {exc}"
    if proc.returncode != 0:
        return False, "bwrap cannot create a sandbox here: " + proc.stderr.decode(errors="replace").strip()[:200]
    return True, subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()


def _bwrap_base_args() -> list[str]:
    args = [
        "--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
        "--uid", "65534", "--gid", "65534",
        "--ro-bind", "/usr", "/usr",
    ]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
                "/etc/localtime"):
        args += ["--ro-bind-try", etc, etc]
    for root in _python_roots():
        args += ["--ro-bind", root, root]
    # The sandbox's user is the host's root when the grader runs as root: without its
    # capabilities, but still the owner that sysctl permission checks ask for, so a writable
    # /proc/sys would let candidate code set kernel.core_pattern (a command the kernel runs as
    # root on the host). bubblewrap covers only what its own access() check finds writable.
    args += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
             "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger", "--dev", "/dev"]
    return args


def _set_rlimits(limits: SandboxLimits) -> None:
    """Runs in the forked child before exec: limits that bound the whole sandbox."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))


@functools.lru_cache(maxsize=1)
def pids_cgroup_parent() -> Path | None:
    """A pids-controller cgroup under which each sandbox gets its own process limit (root only).

    The kernel does not apply RLIMIT_NPROC to processes whose host uid is 0, and bubblewrap
    started by root maps the sandbox's user to root: without a pids cgroup, a fork bomb in the
    local sandbox would be bounded only by the host's pid_max. Non-root graders need none (the
    rlimit holds). None when no writable pids hierarchy exists (cgroup v1 ``pids``, or v2 with
    ``pids`` delegated).
    """
    if os.geteuid() != 0:
        return None
    candidates = [Path("/sys/fs/cgroup/pids")]
    try:
        if "pids" in Path("/sys/fs/cgroup/cgroup.subtree_control").read_text().split():
            candidates.append(Path("/sys/fs/cgroup"))
    except OSError:
        pass
    for parent in candidates:
        probe = parent / f"grader-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
            return parent
        except OSError:
            continue
    return None


class PidsCgroup:
    """One sandbox's pids cgroup: caps its processes and threads, finds every one of them at the end."""

    def __init__(self, parent: Path, limit: int) -> None:
        self.sweep(parent)
        self.path = parent / f"grader-{uuid.uuid4().hex[:12]}"
        self.path.mkdir()
        (self.path / "pids.max").write_text(str(limit))

    @staticmethod
    def sweep(parent: Path, older_than_s: float = 60.0) -> None:
        """Remove the empty cgroups of sandboxes whose judge was killed before it could close them.

        Only old ones: a cgroup just made by another launch is empty until its process enters.
        rmdir fails while any process is inside, so a live sandbox's cgroup is never removed.
        """
        now = time.time()
        for path in parent.glob("grader-*"):
            try:
                if now - path.stat().st_mtime > older_than_s:
                    path.rmdir()
            except OSError:
                pass

    def enter(self) -> None:
        """Runs in the forked child before exec: the sandbox starts inside the cgroup."""
        self.add(0)  # 0: the writing process itself

    def add(self, pid: int) -> None:
        """Move the running process ``pid`` (a host PID) and its later children into the cgroup."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        """Kill whatever is left in the cgroup (setsid escapees too), then remove it."""
        for _ in range(50):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.05)


def start_limited(argv: list[str], limits: SandboxLimits, max_processes: int,
                  **popen: Any) -> tuple[subprocess.Popen, PidsCgroup | None]:
    """Start a sandbox's first process in a session of its own, with the sandbox's rlimits and,
    where there is a pids hierarchy, in a pids cgroup of its own capped at ``max_processes``."""
    parent = pids_cgroup_parent()
    cgroup: PidsCgroup | None = None
    if parent is not None:
        try:
            cgroup = PidsCgroup(parent, max_processes)
        except OSError:  # the hierarchy went away or is full: the rlimits still apply
            cgroup = None

    def prepare() -> None:
        _set_rlimits(limits)
        if cgroup is not None:
            cgroup.enter()

    try:
        proc = subprocess.Popen(argv, start_new_session=True, close_fds=True, preexec_fn=prepare, **popen)
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        raise
    return proc, cgroup


class LocalProcess(SandboxProcess):
    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, limits: SandboxLimits) -> None:
        super().__init__(limits.log_bytes, limits.max_message_bytes)
        self._lock = threading.Lock()
        self._proc, self._cgroup = start_limited(
            argv, limits, limits.max_processes, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=cwd)
        self._start_readers(self._proc.stdout, self._proc.stderr)  # type: ignore[arg-type]

    def write(self, chunks: list) -> None:
        assert self._proc.stdin is not None
        with self._lock:
            for chunk in chunks:
                self._proc.stdin.write(chunk)
            self._proc.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def exit_info(self, timeout: float = 5.0) -> ExitInfo:
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return ExitInfo(detail="still running")
        if code < 0:
            return ExitInfo(signal=-code)
        return ExitInfo(exit_code=code)

    def close(self) -> None:
        self.kill()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if self._cgroup is not None:
            self._cgroup.remove()
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class LocalSandbox(Sandbox):
    """Subprocess worker; bubblewrap-confined unless ``confined`` is False or bwrap fails."""

    def __init__(self, limits: SandboxLimits, confined: bool | None = None, threads: int = 1,
                 warm_socket: str | None = None) -> None:
        super().__init__(limits)
        ok, self.bwrap_detail = bwrap_status()
        if confined and not ok:
            raise RuntimeError(f"bubblewrap was required but {self.bwrap_detail}")
        self.confined = ok if confined is None else confined
        self.name = "local" if self.confined else "local-unconfined"
        self.warning = "" if self.confined else UNCONFINED_WARNING
        self.threads = threads
        #: the batch's warm pool (grader.sandbox.warm): workers are forked there, not started afresh
        self.warm_socket = warm_socket if self.confined and not limits.gpu_ids else None
        self._last_warm: WarmProcess | None = None

    def stage_root_inside(self, stage: Path) -> str:
        return STAGE_MOUNT if self.confined else str(stage)

    def environment(self) -> dict[str, str]:
        env = {"bwrap": self.bwrap_detail if self.confined else "unavailable: " + self.bwrap_detail}
        if self.warm_socket:
            env["worker_start"] = "forked from a warm nursery"
        return env

    def infrastructure_problem(self) -> str:
        """A warm worker that the pool could not start or confine is the harness's failure."""
        return self._last_warm.problem if self._last_warm is not None else ""

    def _env(self, home: str) -> dict[str, str]:
        extra = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
        return WorkerEnv(self.threads, extra).variables(home)

    def launch(self, stage: Path) -> SandboxProcess:
        if self.warm_socket:
            from grader.sandbox.warm import WarmProcess

            self._last_warm = WarmProcess(self.warm_socket, stage, self.limits, self.threads)
            return self._last_warm
        root = self.stage_root_inside(stage)
        boot = [sys.executable, "-I", "-B", "-c", WORKER_BOOT.format(root=root)]
        if not self.confined:
            home = stage / "tmp"
            home.mkdir(exist_ok=True)
            return LocalProcess(boot, self._env(str(home)), str(home), self.limits)
        argv = [shutil.which("bwrap") or "bwrap", *_bwrap_base_args(),
                "--size", str(self.limits.tmpfs_bytes), "--tmpfs", "/tmp",
                "--ro-bind", str(stage), STAGE_MOUNT, "--chdir", "/tmp"]
        for gpu_dev in self._gpu_devices():
            argv += ["--dev-bind", gpu_dev, gpu_dev]
        for key, value in self._env("/tmp").items():
            argv += ["--setenv", key, value]
        argv += ["--", *boot]
        return LocalProcess(argv, {}, "/", self.limits)

    def _gpu_devices(self) -> list[str]:
        if not self.limits.gpu_ids:
            return []
        return [str(p) for p in sorted(Path("/dev").glob("nvidia*"))]

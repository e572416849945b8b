"""Warm workers for the local sandbox: forked from a nursery that has already imported torch.

A batch graded in the local sandbox keeps a :class:`WarmPool`: a thread in the grader process
that owns the nurseries (each a bubblewrap sandbox running :mod:`grader.channel.nursery`) and a
Unix socket that the batch's judges connect to. A judge asks for a worker with
:class:`WarmProcess` (its stage folder, its limits, and the three pipe ends of the worker's
stdin, stdout and stderr); the pool hands the request to an idle nursery, or starts one, relays
the nursery's reports back, and takes the nursery back once the worker and everything it started
are gone. Stages live in the pool's spool folder, which every nursery sees read-only and which
each worker covers before any candidate code runs (see :mod:`grader.channel.confine`).

Only one nursery per batch imports torch (the *mother*); the others are its forks (*clones*),
one per worker served at the same time. A clone serves one worker at a time and gets a pids
cgroup of its own, so a worker's limits and its end are exactly those of a sandbox started
afresh.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

from pydantic import BaseModel, ValidationError

from grader.sandbox.base import ExitInfo, SandboxLimits, SandboxProcess, WorkerEnv
from grader.sandbox.local import (PASSTHROUGH_ENV, PidsCgroup, _bwrap_base_args, bwrap_status, pids_cgroup_parent,
                                  start_limited)
from grader.channel.confine import HOST_PROC, SPOOL, STAGE_MOUNT
from grader.staging import CHANNEL_DIR, new_stage

SHIM_MOUNT = "/grader-shim"
NURSERY_BOOT = (f"import sys; sys.path.insert(0, {SHIM_MOUNT!r}); "
                "from grader_channel.nursery import main; main()")
PROBE_BOOT = (f"import sys; sys.path.insert(0, {SHIM_MOUNT!r}); "
              "from grader_channel.probe import main; main()")
SOCKET_NAME = "pool.sock"
SPOOL_NAME = "spool"
_ERROR_TAIL = 600
# A fresh sandbox's pids cgroup holds bubblewrap's two processes and the worker's. A clone's
# holds the clone, the intermediate process and the worker's init (one more than bubblewrap's
# two), so the worker gets exactly a fresh sandbox's limit. A mother's holds bubblewrap's two and
# itself, and a clone between its fork and its move.
CLONE_PROCESSES = 1
NURSERY_PROCESSES = 3
MOTHER_SPARE_PROCESSES = 16
_UCRED = struct.Struct("iII")  # struct ucred: pid, uid, gid


class WarmRequest(BaseModel):
    """A judge's request to the pool (the first message on its connection)."""

    stage: str
    threads: int = 1
    tmpfs_bytes: int
    open_files: int
    file_size_bytes: int
    max_processes: int


def _nursery_argv(spool: Path, threads: int, boot: str) -> list[str]:
    argv = [shutil.which("bwrap") or "bwrap", *_bwrap_base_args(),
            "--size", str(16 << 20), "--tmpfs", "/tmp",
            "--ro-bind", str(spool), SPOOL, "--dir", STAGE_MOUNT,
            # a proc without covered folders, which a worker needs to mount its own (confine.py)
            "--ro-bind", "/proc", HOST_PROC,
            "--ro-bind", str(CHANNEL_DIR), f"{SHIM_MOUNT}/grader_channel",
            "--chdir", "/tmp"]
    extra = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    for key, value in WorkerEnv(threads, extra).variables("/tmp").items():
        argv += ["--setenv", key, value]
    # Nothing a worker could write to outlives it: its /tmp and /dev/shm are its own, the rest
    # of the nursery's file system is read-only.
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--", sys.executable, "-I", "-B", "-c", boot]
    return argv


@functools.lru_cache(maxsize=1)
def warm_status() -> tuple[bool, str]:
    """Whether workers can be forked and confined here (nested namespaces in bubblewrap), and why not."""
    ok, detail = bwrap_status()
    if not ok:
        return False, detail
    root = Path(tempfile.mkdtemp(prefix="grader-warm-probe-"))
    try:
        (root / "probe").mkdir(mode=0o755)
        proc = subprocess.run(_nursery_argv(root, 1, PROBE_BOOT), capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        out = proc.stdout.decode(errors="replace").strip()
        if proc.returncode != 0 or out != "confined":
            reason = (proc.stderr.decode(errors="replace").strip() or out)[-300:]
            return False, f"a worker cannot confine itself in a nested sandbox here: {reason}"
        return True, "nursery"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"the nursery probe failed: {exc}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _messages(sock: socket.socket) -> Iterator[dict]:
    """The JSON messages arriving on a ``SOCK_SEQPACKET`` socket, until it closes."""
    while True:
        try:
            data = sock.recv(1 << 16)
        except OSError:
            return
        if not data:
            return
        try:
            message = json.loads(data)
        except ValueError:
            continue
        if isinstance(message, dict):
            yield message


class NurseryHandle:
    """One nursery, pool side: its control socket, its pids cgroup, and how to end it.

    A *mother* (:meth:`start`) is a bubblewrap sandbox that imports torch and serves no worker;
    a *clone* (:meth:`clone`) is a fork of a mother that serves one worker at a time.
    """

    def __init__(self, ctl: socket.socket, threads: int, cgroup: PidsCgroup | None,
                 proc: subprocess.Popen | None = None, pidfd: int | None = None) -> None:
        self.ctl = ctl
        self.threads = threads
        self.cgroup = cgroup
        self.proc = proc  # a mother's bubblewrap; None for a clone
        self.pidfd = pidfd
        self.log = bytearray()
        self.dead = False
        self.listener: "_Connection | None" = None
        self._lock = threading.Lock()
        if proc is not None:
            threading.Thread(target=self._read_log, daemon=True).start()
        threading.Thread(target=self._read_reports, daemon=True).start()

    @classmethod
    def start(cls, spool: Path, threads: int, limits: SandboxLimits) -> "NurseryHandle":
        """A mother: a nursery in a bubblewrap sandbox of its own.

        Call it from a thread that lives as long as the nursery should (``--die-with-parent``).
        """
        ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # Its cgroup holds bubblewrap's two processes and itself, and each clone for the
            # moment between its fork and its move into a cgroup of its own.
            proc, cgroup = start_limited(_nursery_argv(spool, threads, NURSERY_BOOT), limits,
                                         NURSERY_PROCESSES + MOTHER_SPARE_PROCESSES,
                                         stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except BaseException:
            ctl.close()
            raise
        finally:
            theirs.close()
        return cls(ctl, threads, cgroup, proc=proc)

    @classmethod
    def clone(cls, mother: "NurseryHandle", limits: SandboxLimits, timeout: float = 300.0) -> "NurseryHandle":
        """A nursery forked from ``mother``, in a pids cgroup of its own; OSError if none came.

        Waits for the mother to finish importing torch (``timeout``).
        """
        ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cgroup: PidsCgroup | None = None
        pidfd: int | None = None
        try:
            # The kernel stamps each message with its sender's PID as this process sees it:
            # the clone's host PID, whatever its own namespace numbers it.
            ctl.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            try:
                socket.send_fds(mother.ctl, [b'{"op": "clone"}'], [theirs.fileno()])
            finally:
                theirs.close()
            ctl.settimeout(timeout)
            try:
                data, ancillary, _, _ = ctl.recvmsg(1 << 10, socket.CMSG_SPACE(_UCRED.size))
            except socket.timeout:
                raise OSError("the warm nursery did not clone itself in time") from None
            ctl.settimeout(None)
            pid = _sender_pid(ancillary)
            if not data or pid is None:
                tail = mother.tail()
                raise OSError("the warm nursery could not clone itself" + (f": {tail}" if tail else ""))
            ctl.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 0)
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:  # a kernel before 5.3: the cgroup's sweep, and the closed socket, end it
                pidfd = None
            parent = pids_cgroup_parent()
            if parent is not None:
                cgroup = PidsCgroup(parent, limits.max_processes + CLONE_PROCESSES)
                cgroup.add(pid)
        except BaseException:
            ctl.close()  # the clone ends when its socket closes
            if pidfd is not None:
                _kill_pidfd(pidfd)
                os.close(pidfd)
            if cgroup is not None:
                cgroup.remove()
            raise
        return cls(ctl, mother.threads, cgroup, pidfd=pidfd)

    def alive(self) -> bool:
        return not self.dead and (self.proc is None or self.proc.poll() is None)

    def tail(self) -> str:
        return self.log.decode(errors="replace").strip()[-_ERROR_TAIL:]

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            if len(self.log) < 1 << 16:
                self.log += line

    def _read_reports(self) -> None:
        for report in _messages(self.ctl):
            listener = self.listener
            if listener is not None:
                listener.report(report)
        self.dead = True
        listener = self.listener
        if listener is not None:
            tail = self.tail()
            listener.report({"error": "the warm sandbox ended" + (f": {tail}" if tail else "")})
            listener.report({"exit": None})

    def spawn(self, request: WarmRequest, fds: list[int], listener: "_Connection") -> None:
        if self.cgroup is not None:
            try:
                (self.cgroup.path / "pids.max").write_text(str(request.max_processes + CLONE_PROCESSES))
            except OSError:
                pass
        with self._lock:
            self.listener = listener
        message = {"op": "spawn", "stage": request.stage, "tmpfs_bytes": request.tmpfs_bytes,
                   "open_files": request.open_files, "file_size_bytes": request.file_size_bytes}
        socket.send_fds(self.ctl, [json.dumps(message).encode()], fds)

    def kill_worker(self, listener: "_Connection") -> None:
        """Kill the worker of ``listener``: never a worker the nursery started for another."""
        with self._lock:
            if self.listener is not listener:
                return
            try:
                self.ctl.send(b'{"op": "kill"}')
            except OSError:
                pass

    def release(self, listener: "_Connection") -> None:
        with self._lock:
            if self.listener is listener:
                self.listener = None

    def close(self) -> None:
        """End the nursery, its worker and (for a mother) its clones."""
        with self._lock:
            try:
                self.ctl.close()
            except OSError:
                pass
            if self.proc is not None:
                try:
                    os.killpg(self.proc.pid, 9)
                except OSError:
                    pass
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            if self.pidfd is not None:
                _kill_pidfd(self.pidfd)
                os.close(self.pidfd)
                self.pidfd = None
            if self.cgroup is not None:
                self.cgroup.remove()


def _sender_pid(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(data) >= _UCRED.size:
            pid = _UCRED.unpack_from(data)[0]
            return pid if pid > 0 else None
    return None


def _kill_pidfd(pidfd: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:  # already gone
        pass


class _Connection:
    """One judge's request, from its spawn to the end of its worker (pool side)."""

    def __init__(self, pool: "WarmPool", conn: socket.socket) -> None:
        self.pool = pool
        self.conn = conn
        self.nursery: NurseryHandle | None = None
        self.ended = threading.Event()

    def report(self, message: dict) -> None:
        try:
            self.conn.send(json.dumps(message).encode())
        except OSError:
            pass
        if "exit" in message:
            nursery, self.nursery = self.nursery, None
            if nursery is not None:
                nursery.release(self)
                self.pool.give_back(nursery)
            self.ended.set()

    def serve(self) -> None:
        fds: list[int] = []
        try:
            data, fds, _, _ = socket.recv_fds(self.conn, 1 << 16, 3)
            request = WarmRequest.model_validate_json(data)
            stage = self.pool.spool / request.stage
            if len(fds) != 3 or request.stage != Path(request.stage).name or not stage.is_dir():
                raise ValueError(f"not a stage of this pool: {request.stage!r}")
            self.nursery = self.pool.take(request.threads)
            self.nursery.spawn(request, fds, self)
        except (OSError, ValueError, ValidationError) as exc:
            nursery, self.nursery = self.nursery, None
            if nursery is not None:  # it could not take the request: it is not used again
                nursery.release(self)
                self.pool.discard(nursery)
            self.report({"error": f"the warm pool refused the request: {exc}"})
            self.report({"exit": None})
        finally:
            for fd in fds:
                os.close(fd)
        while not self.ended.is_set():  # the judge asks for a kill, or hangs up (a kill too)
            try:
                data = self.conn.recv(1 << 10)
            except OSError:
                data = b""
            nursery = self.nursery
            if nursery is not None:
                nursery.kill_worker(self)
            if not data:
                if not self.ended.wait(10) and nursery is not None:
                    self.pool.discard(nursery)  # its worker would not die: end the whole sandbox
                    self.report({"exit": None})
                break
        self.conn.close()


class WarmPool:
    """The batch's nurseries and the socket its judges ask for workers on."""

    @classmethod
    def start(cls) -> "WarmPool | None":
        """A pool where workers can be forked and confined here, else None (workers start afresh)."""
        if not warm_status()[0]:
            return None
        try:
            return cls()
        except OSError:  # e.g. a temporary folder whose path is too long for a Unix socket
            return None

    def __init__(self, limits: SandboxLimits | None = None, ready: int = 1) -> None:
        """``ready``: start the mother nursery at once (``ready`` > 0), importing torch while the
        batch's first judges start, rather than when the first of them asks."""
        self.limits = limits or SandboxLimits()
        self.root = Path(tempfile.mkdtemp(prefix="grader-warm-"))
        self.spool = self.root / SPOOL_NAME
        self.spool.mkdir()
        self.socket_path = self.root / SOCKET_NAME
        self._mothers: dict[int, NurseryHandle] = {}  # by worker threads (set in their environment)
        self._idle: list[NurseryHandle] = []
        self._all: list[NurseryHandle] = []  # the clones, each serving one worker at a time
        self._lock = threading.Lock()
        self._mother_lock = threading.Lock()
        self._closed = False
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-nursery-start")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._server.bind(str(self.socket_path))
        self._server.listen(64)
        threading.Thread(target=self._accept, name="grader-warm-pool", daemon=True).start()
        if ready > 0:
            self.mother(1)

    def new_stage(self) -> Path:
        """A stage folder the pool's nurseries can hand to a worker."""
        return new_stage(parent=self.spool)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=_Connection(self, conn).serve, daemon=True).start()

    def mother(self, threads: int) -> NurseryHandle:
        """The live mother nursery for workers with ``threads`` threads, started if there is none."""
        with self._mother_lock:
            with self._lock:
                if self._closed:
                    raise OSError("the warm pool is closed")
                mother = self._mothers.get(threads)
            if mother is not None and mother.alive():
                return mother
            if mother is not None:
                mother.close()
            # bubblewrap's --die-with-parent follows the thread that started it: mothers are
            # started by the pool's own thread, which lives as long as the pool, never by a judge's.
            mother = self._starter.submit(NurseryHandle.start, self.spool, threads, self.limits).result()
            return self._keep(mother, lambda: self._mothers.__setitem__(threads, mother))

    def take(self, threads: int) -> NurseryHandle:
        with self._lock:
            if self._closed:
                raise OSError("the warm pool is closed")
            gone = [n for n in self._idle if not n.alive()]  # e.g. their mother died
            for nursery in self._idle:
                if nursery.threads == threads and nursery.alive():
                    self._idle.remove(nursery)
                    break
            else:
                nursery = None
        for dead in gone:
            self.discard(dead)
        if nursery is not None:
            return nursery
        mother = self.mother(threads)
        try:
            nursery = NurseryHandle.clone(mother, self.limits)
        except OSError:
            if mother.alive():
                raise
            # it died since it was last used: a new one clones (or this fails for good)
            nursery = NurseryHandle.clone(self.mother(threads), self.limits)
        return self._keep(nursery, lambda: self._all.append(nursery))

    def _keep(self, nursery: NurseryHandle, register: Callable[[], None]) -> NurseryHandle:
        """``register()`` the new ``nursery`` under the pool's lock, or end it if the pool closed meanwhile."""
        with self._lock:
            if not self._closed:
                register()
                return nursery
        nursery.close()
        raise OSError("the warm pool is closed")

    def give_back(self, nursery: NurseryHandle) -> None:
        with self._lock:
            if not self._closed and nursery.alive() and nursery not in self._idle:
                self._idle.append(nursery)
                return
        self.discard(nursery)

    def discard(self, nursery: NurseryHandle) -> None:
        with self._lock:
            if nursery in self._idle:
                self._idle.remove(nursery)
            if nursery in self._all:
                self._all.remove(nursery)
        nursery.close()

    def close(self) -> None:
        """End every nursery and remove the spool (each stage is removed by its own grading)."""
        with self._lock:
            self._closed = True
            nurseries, self._all, self._idle = list(self._all), [], []
            mothers, self._mothers = list(self._mothers.values()), {}
        try:
            self._server.close()
        except OSError:
            pass
        for nursery in nurseries + mothers:
            nursery.close()
        self._starter.shutdown(wait=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "WarmPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WarmProcess(SandboxProcess):
    """A worker forked from one of the pool's nurseries (judge side)."""

    def __init__(self, socket_path: str, stage: Path, limits: SandboxLimits, threads: int) -> None:
        super().__init__(limits.log_bytes, limits.max_message_bytes)
        self.problem = ""
        self._exit: ExitInfo | None = None
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._killed = False
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        theirs: list[int] = []
        try:
            self.conn.connect(socket_path)
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            theirs = [in_r, out_w, err_w]
            request = WarmRequest(stage=stage.name, threads=threads, tmpfs_bytes=limits.tmpfs_bytes,
                                  open_files=limits.open_files, file_size_bytes=limits.file_size_bytes,
                                  max_processes=limits.max_processes)
            socket.send_fds(self.conn, [request.model_dump_json().encode()], theirs)
        except BaseException:
            self.conn.close()
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self._stdin = os.fdopen(in_w, "wb")
        self._stdout = os.fdopen(out_r, "rb")
        self._stderr = os.fdopen(err_r, "rb")
        threading.Thread(target=self._read_reports, daemon=True).start()
        self._start_readers(self._stdout, self._stderr)

    def _read_reports(self) -> None:
        for report in _messages(self.conn):
            if "error" in report:
                self.problem = str(report["error"])[:_ERROR_TAIL]
            if "exit" in report:
                self._exit = _exit_info(report["exit"], self.problem)
                break
        self._ended.set()

    def write(self, chunks: list) -> None:
        with self._lock:
            for chunk in chunks:
                self._stdin.write(chunk)
            self._stdin.flush()

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        try:
            self.conn.send(b"kill")
        except OSError:
            pass

    def exit_info(self, timeout: float = 5.0) -> ExitInfo:
        if not self._ended.wait(timeout):
            return ExitInfo(detail="still running")
        return self._exit or ExitInfo(detail=self.problem or "the warm pool went away")

    def close(self) -> None:
        self.kill()
        self._ended.wait(10)
        try:
            self.conn.close()
        except OSError:
            pass
        for stream in (self._stdin, self._stdout, self._stderr):
            try:
                stream.close()
            except OSError:
                pass


def _exit_info(status: object, problem: str) -> ExitInfo:
    if not isinstance(status, int):
        return ExitInfo(detail=problem or "ended")
    if os.WIFSIGNALED(status):
        return ExitInfo(signal=os.WTERMSIG(status))
    return ExitInfo(exit_code=os.WEXITSTATUS(status), detail=problem)

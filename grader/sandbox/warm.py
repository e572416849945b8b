"""Warm workers for the local sandbox: forked from a nursery that has already imported torch.

A batch graded in the local sandbox keeps a :class:`WarmPool`: a thread in the grader process
that owns the nurseries (each a bubblewrap sandbox running :mod:`grader.channel.nursery`) and a
Unix socket that the batch's judges connect to. A judge asks for a worker with
:class:`WarmProcess` (its stage folder, its limits, and the three pipe ends of the worker's
stdin, stdout and stderr); the pool hands the request to an idle nursery, or starts one, relays
the nursery's reports back, and takes the nursery back once the worker and everything it started
are gone. Stages live in the pool's spool folder, which every nursery sees read-only and which
each worker covers before any candidate code runs (see :mod:`grader.channel.confine`).

One nursery serves one worker at a time and gets a pids cgroup of its own, so a worker's limits
and its end are exactly those of a sandbox started afresh.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ValidationError

from grader.sandbox.base import ExitInfo, SandboxLimits, SandboxProcess, WorkerEnv
from grader.sandbox.local import PASSTHROUGH_ENV, _bwrap_base_args, bwrap_status, start_limited
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
# The nursery, the intermediate process and the worker's init share the worker's pids cgroup
# (bubblewrap's two processes are in a fresh sandbox's too): the worker gets the same limit.
NURSERY_PROCESSES = 3


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
    """One nursery: its bubblewrap sandbox, control socket and pids cgroup (pool side)."""

    def __init__(self, spool: Path, threads: int, limits: SandboxLimits) -> None:
        self.threads = threads
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = bytearray()
        self.dead = False
        self.listener: "_Connection | None" = None
        self._lock = threading.Lock()
        try:
            self.proc, self.cgroup = start_limited(
                _nursery_argv(spool, threads, NURSERY_BOOT), limits, limits.max_processes + NURSERY_PROCESSES,
                stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        finally:
            theirs.close()
        threading.Thread(target=self._read_log, daemon=True).start()
        threading.Thread(target=self._read_reports, daemon=True).start()

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
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
            tail = self.log.decode(errors="replace").strip()[-_ERROR_TAIL:]
            listener.report({"error": "the warm sandbox ended" + (f": {tail}" if tail else "")})
            listener.report({"exit": None})

    def spawn(self, request: WarmRequest, fds: list[int], listener: "_Connection") -> None:
        if self.cgroup is not None:
            try:
                (self.cgroup.path / "pids.max").write_text(str(request.max_processes + NURSERY_PROCESSES))
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
        with self._lock:
            try:
                self.ctl.close()
            except OSError:
                pass
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if self.cgroup is not None:
                self.cgroup.remove()


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
        """``ready``: nurseries started at once (one thread each), importing torch while the
        batch's first judges start, rather than when they ask."""
        self.limits = limits or SandboxLimits()
        self.root = Path(tempfile.mkdtemp(prefix="grader-warm-"))
        self.spool = self.root / SPOOL_NAME
        self.spool.mkdir()
        self.socket_path = self.root / SOCKET_NAME
        self._idle: list[NurseryHandle] = []
        self._all: list[NurseryHandle] = []
        self._lock = threading.Lock()
        self._closed = False
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-nursery-start")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._server.bind(str(self.socket_path))
        self._server.listen(64)
        threading.Thread(target=self._accept, name="grader-warm-pool", daemon=True).start()
        for _ in range(ready):
            nursery = self._starter.submit(NurseryHandle, self.spool, 1, self.limits).result()
            self._all.append(nursery)
            self._idle.append(nursery)

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

    def take(self, threads: int) -> NurseryHandle:
        with self._lock:
            if self._closed:
                raise OSError("the warm pool is closed")
            for nursery in self._idle:
                if nursery.threads == threads and not nursery.dead:
                    self._idle.remove(nursery)
                    return nursery
        # bubblewrap's --die-with-parent follows the thread that started it: nurseries are
        # started by the pool's own thread, which lives as long as the pool, never by a judge's.
        nursery = self._starter.submit(NurseryHandle, self.spool, threads, self.limits).result()
        with self._lock:
            self._all.append(nursery)
        return nursery

    def give_back(self, nursery: NurseryHandle) -> None:
        with self._lock:
            if not self._closed and not nursery.dead and nursery not in self._idle:
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
        try:
            self._server.close()
        except OSError:
            pass
        for nursery in nurseries:
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

"""What every sandbox gives the judge: a running worker reached through byte streams.

A sandbox launches the worker shim over a *stage* folder (see :mod:`grader.staging`) and hands
back a :class:`SandboxProcess`: frames from the worker's stdout arrive on a queue, its stderr
(everything candidate code prints) lands in a capped log, and ``kill`` ends every process the
sandbox holds.
"""

from __future__ import annotations

import queue
import re
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from grader.channel import framing


# Where the stage folder appears inside a confining sandbox.
STAGE_MOUNT = "/grader"
WORKER_BOOT = "import sys; sys.path.insert(0, {root!r}); from grader_channel.worker import main; main()"


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one submission's sandbox."""

    memory_bytes: int = 2 << 30
    cpus: float = 1.0
    max_processes: int = 256
    tmpfs_bytes: int = 256 << 20
    file_size_bytes: int = 64 << 20
    open_files: int = 1024
    max_message_bytes: int = 512 << 20
    log_bytes: int = 64 << 10
    gpu_ids: tuple[str, ...] = ()
    #: the worker ends itself after this many seconds (None: when its judge goes away)
    lifetime_s: float | None = None


_LOG_MARK_RE = re.compile(re.escape(framing.LOG_MARK) + rb"([0-9a-f]{32})\x1e\n?")


class CappedLog:
    """Worker output, split into named segments, each kept up to a byte cap.

    Output arrives on its own pipe, read by its own thread: a test's last lines may still be in
    that pipe when the judge has its reply and moves on. The worker writes a *mark* on request
    (``WorkerSession.sync_log``); once the mark is read, everything printed before it is in.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.lock = threading.Lock()
        self.segments: dict[str, bytearray] = {"": bytearray()}
        self.dropped: dict[str, int] = {"": 0}
        self.current = ""
        self._marks: dict[str, threading.Event] = {}
        self._held = b""  # the start of a mark cut off at the end of a chunk

    def expect(self, token: str) -> threading.Event:
        """An event set when the mark ``token`` comes through (marks never reach the log)."""
        event = threading.Event()
        with self.lock:
            self._marks[token] = event
        return event

    def _take_marks(self, data: bytes) -> bytes:
        data = self._held + data
        self._held = b""
        if b"\x1e" not in data:
            return data

        def seen(match: re.Match) -> bytes:
            event = self._marks.pop(match.group(1).decode(), None)
            if event is not None:
                event.set()
            return b""

        data = _LOG_MARK_RE.sub(seen, data)
        cut = data.rfind(b"\x1e")
        tail = data[cut:] if cut != -1 else b""
        mark = framing.LOG_MARK
        if tail and len(tail) < framing.LOG_MARK_SIZE and (mark.startswith(tail) or tail.startswith(mark)):
            data, self._held = data[:cut], tail
        return data

    def switch(self, name: str) -> None:
        with self.lock:
            self.current = name
            self.segments.setdefault(name, bytearray())
            self.dropped.setdefault(name, 0)

    def feed(self, data: bytes) -> None:
        with self.lock:
            data = self._take_marks(data)
            buf = self.segments[self.current]
            room = self.cap - len(buf)
            if room > 0:
                buf += data[:room]
            if len(data) > room:
                self.dropped[self.current] += len(data) - max(room, 0)

    def text(self, name: str) -> str:
        with self.lock:
            buf = bytes(self.segments.get(name, b""))
            dropped = self.dropped.get(name, 0)
        text = buf.decode("utf-8", errors="replace")
        if dropped:
            text += f"\n[... {dropped} more bytes of output dropped: log capped at {self.cap} bytes]"
        return text


@dataclass
class ExitInfo:
    """How a sandbox ended, as far as the host can tell."""

    exit_code: int | None = None
    signal: int | None = None
    oom_killed: bool = False
    detail: str = ""

    def describe(self) -> str:
        if self.oom_killed:
            return "killed for exceeding its memory limit"
        if self.signal is not None:
            return f"killed by signal {self.signal}"
        if self.exit_code is not None:
            return f"exited with status {self.exit_code}"
        return self.detail or "ended"


class SandboxProcess(ABC):
    """A launched worker. Subclasses start the reader threads with :meth:`_start_readers`."""

    def __init__(self, log_cap: int, max_message_bytes: int) -> None:
        # One C lock per hand-off: queue.Queue's condition over Python locks woke the judge's
        # main thread with 2-3 futex calls per frame, 8 % of a judge's CPU (README, Performance).
        self.frames: queue.SimpleQueue[tuple[int, bytearray] | None] = queue.SimpleQueue()
        self.log = CappedLog(log_cap)
        self.max_message_bytes = max_message_bytes
        self.protocol_error = ""
        self._threads: list[threading.Thread] = []

    def _start_readers(self, stdout: BinaryIO | Callable[[int], bytes], stderr: BinaryIO | Callable[[int], bytes] | None) -> None:
        out_read = stdout if callable(stdout) else stdout.read1  # type: ignore[union-attr]
        t = threading.Thread(target=self._pump_frames, args=(out_read,), daemon=True)
        t.start()
        self._threads.append(t)
        if stderr is not None:
            err_read = stderr if callable(stderr) else stderr.read1  # type: ignore[union-attr]
            t = threading.Thread(target=self._pump_log, args=(err_read,), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump_frames(self, read: Callable[[int], bytes]) -> None:
        buf = bytearray()
        hs = framing.FRAME_HEADER.size
        try:
            while True:
                chunk = read(framing.read_size(buf))
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= hs:
                    kind, length = framing.FRAME_HEADER.unpack_from(buf)
                    if length > self.max_message_bytes or kind not in (framing.CONTROL, framing.DATA):
                        self.protocol_error = (f"worker sent a malformed or oversized message "
                                               f"({length} bytes; limit {self.max_message_bytes})")
                        self.kill()
                        return
                    if len(buf) < hs + length:
                        break
                    self.frames.put((kind, buf[hs: hs + length]))
                    del buf[: hs + length]
        except (OSError, ValueError):
            pass
        finally:
            self.frames.put(None)

    def _pump_log(self, read: Callable[[int], bytes]) -> None:
        try:
            while True:
                chunk = read(1 << 16)
                if not chunk:
                    return
                self.log.feed(chunk)
        except (OSError, ValueError):
            return

    @abstractmethod
    def write(self, chunks: list) -> None:
        """Send bytes to the worker's stdin; raises OSError when the worker is gone."""

    @abstractmethod
    def kill(self) -> None:
        """End every process of this sandbox (idempotent)."""

    @abstractmethod
    def exit_info(self, timeout: float = 5.0) -> ExitInfo:
        """Wait up to ``timeout`` for the sandbox to end and say how it ended."""

    def close(self) -> None:
        """Kill and release resources (idempotent)."""
        self.kill()

    def retire(self) -> None:
        """Release a worker that was told to shut down (the normal end of a session): by
        default the same as :meth:`close`."""
        self.close()


class Sandbox(ABC):
    """A kind of sandbox, configured with limits; launches one worker per call."""

    #: recorded in results: docker, local or local-unconfined
    name: str = ""
    #: a warning shown in the terminal and reports when the sandbox is not a security boundary
    warning: str = ""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits

    @abstractmethod
    def launch(self, stage: Path) -> SandboxProcess:
        """Start the worker over ``stage``."""

    @abstractmethod
    def stage_root_inside(self, stage: Path) -> str:
        """Path at which the worker sees the stage folder."""

    def environment(self) -> dict[str, str]:
        """Facts about the sandbox recorded in results (image digest, bwrap version...)."""
        return {}

    def infrastructure_problem(self) -> str:
        """Why the sandbox machinery itself is failing (e.g. the engine is gone), or "" if it is fine.

        Asked when a worker dies without a reason of its own, so that a dying engine is reported
        as the harness's fault and never scored as the candidate's crash.
        """
        return ""

    def pin_cpus(self, cpuset: str | None, running: SandboxProcess | None) -> None:
        """Confine the sandbox (the running one and any restarted later) to ``cpuset``.

        Called when a prestarted judge gets its slot; sandboxes that do not pin CPUs ignore it.
        """


@dataclass
class WorkerEnv:
    """Environment variables for the worker: only what it needs, never host secrets."""

    threads: int = 1
    extra: dict[str, str] = field(default_factory=dict)

    def variables(self, home: str) -> dict[str, str]:
        n = str(max(1, self.threads))
        env = {
            "HOME": home,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": n,
            "MKL_NUM_THREADS": n,
            "OPENBLAS_NUM_THREADS": n,
            "OMP_WAIT_POLICY": "PASSIVE",  # idle OpenMP threads sleep: the judge needs the other core
            "MALLOC_ARENA_MAX": "2",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HOME": f"{home}/hf",
            "TORCHINDUCTOR_CACHE_DIR": f"{home}/inductor",
            "TRITON_CACHE_DIR": f"{home}/triton",
            "MPLCONFIGDIR": f"{home}/mpl",
        }
        env.update(self.extra)
        return env

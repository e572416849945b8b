"""The worker shim: the only grader code that runs inside the sandbox.

It is untrusted by construction (candidate code shares its process), so it decides nothing:
it imports the candidate's module, performs the calls the judge asks for and sends back what
came out. It never sees hidden tests, reference solutions or expected values.

Process layout inside the sandbox:

* the *zygote* (this module's ``main``) imports torch once and never runs candidate code;
* for every test the judge asks it to ``spawn`` a *child* with ``fork``; the child imports the
  candidate's module and serves requests; the zygote relays whole frames both ways, so a child
  that dies mid-message cannot corrupt the stream, and reports how the child ended;
* the fork itself happens ahead of time: while a test runs, the zygote forks a *spare* that
  waits for the next test's spec, and a child the judge ends is reaped later, so neither a fork
  nor the end of a process holding torch sits between two tests.

Only the standard library, numpy, torch and ``codec`` (shipped alongside) may be imported here.
"""

from __future__ import annotations

import errno
import gc
import importlib
import importlib.util
import os
import resource
import select
import signal
import sys
import threading
import time
import traceback
import types
from typing import Any

try:  # inside the sandbox the shim is the package ``grader_channel``; on the host ``grader.channel``
    from . import codec, framing
except ImportError:  # pragma: no cover - executed as a plain script
    import codec  # type: ignore[no-redef]
    import framing  # type: ignore[no-redef]

import torch

CONSTRUCT_ALLOWED_PREFIXES = ("torch.nn.", "torch.optim.", "torch.utils.data.", "transformers.", "helpers.")
CONSTRUCT_ALLOWED_EXACT = ("torch.Generator",)


# --------------------------------------------------------------------------------------------
# Frame I/O


class FrameReader:
    """Incremental frame parser over a file descriptor."""

    def __init__(self, fd: int, max_bytes: int) -> None:
        self.fd = fd
        self.buf = bytearray()
        self.max_bytes = max_bytes
        self.eof = False

    def fill(self) -> None:
        try:
            chunk = os.read(self.fd, codec.read_size(self.buf))
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                return
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk

    def pop(self) -> tuple[int, bytearray] | None:
        hs = codec.FRAME_HEADER.size
        if len(self.buf) < hs:
            return None
        kind, length = codec.FRAME_HEADER.unpack_from(self.buf)
        if length > self.max_bytes:
            raise codec.CodecError(f"message of {length} bytes exceeds the limit of {self.max_bytes}")
        if len(self.buf) < hs + length:
            return None
        payload = self.buf[hs: hs + length]
        del self.buf[: hs + length]
        return kind, payload

    def read_frame(self) -> tuple[int, bytearray] | None:
        """Block until one frame arrives; None at end of file."""
        while True:
            frame = self.pop()
            if frame is not None:
                return frame
            if self.eof:
                return None
            self.fill()


def write_all(fd: int, chunks: list) -> None:
    # One writev for the whole frame: a write per chunk (header, JSON, each tensor) would wake
    # the reader on the other end once per chunk.
    views = [v for v in (memoryview(c).cast("B") for c in chunks) if v.nbytes]
    while views:
        n = os.writev(fd, views[:1024])  # IOV_MAX
        while n and views:
            if n >= views[0].nbytes:
                n -= views[0].nbytes
                views.pop(0)
            else:
                views[0] = views[0][n:]
                n = 0


def write_some(fd: int, pending: bytearray) -> None:
    """Write what a non-blocking ``fd`` takes now and drop it from ``pending`` (all of it if the
    reader is gone: a dead child's requests go nowhere)."""
    try:
        del pending[:os.write(fd, pending)]
    except BlockingIOError:
        pass
    except OSError:
        pending.clear()


def send_control(fd: int, message: dict) -> None:
    write_all(fd, codec.frame_chunks(codec.CONTROL, codec.encode_message(message)))


# --------------------------------------------------------------------------------------------
# Child: runs candidate code


class Child:
    def __init__(self, fd_in: int, fd_out: int, spec: dict) -> None:
        self.reader = FrameReader(fd_in, int(spec.get("max_message_bytes", 1 << 30)))
        self.fd_out = fd_out
        self.spec = spec
        self.objects: dict[int, Any] = {}
        self.next_id = 1
        self.max_reply = int(spec.get("max_message_bytes", 1 << 30))
        self.submission_dir = spec.get("submission_dir", "")
        self.pid = os.getpid()

    def _only_original(self) -> None:
        """A process forked by candidate code must never speak on the channel: it just ends."""
        if os.getpid() != self.pid:
            os._exit(0)

    # handles ------------------------------------------------------------------------------
    def register(self, obj: Any) -> codec.HandleRef:
        ident = self.next_id
        self.next_id += 1
        self.objects[ident] = obj
        cls = type(obj)
        text = ""
        if isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, type, types.ModuleType)):
            try:  # a name to show in messages ("calling roc_auc"); never run candidate __repr__
                text = str(obj.__qualname__ if not isinstance(obj, types.ModuleType) else obj.__name__)[:200]
            except Exception:
                text = ""
        return codec.HandleRef(ident, f"{cls.__module__}.{cls.__qualname__}", text)

    def lookup(self, ref: codec.HandleRef) -> Any:
        try:
            return self.objects[ref.id]
        except KeyError:
            raise codec.CodecError(f"unknown handle #{ref.id} (it belonged to an earlier worker)") from None

    def target(self, ident: Any) -> Any:
        if type(ident) is not int or ident not in self.objects:
            raise codec.CodecError(f"unknown handle #{ident}")
        return self.objects[ident]

    # replies ------------------------------------------------------------------------------
    def reply(self, value: Any, keep: bool = False, method: bool = False) -> None:
        self._only_original()
        if keep:
            value = self.register(value)
        message = {"ok": True, "value": value, "method": True} if method else {"ok": True, "value": value}
        try:
            chunks = codec.encode_message(message, self.register, self.max_reply)
        except RecursionError:
            self.error_reply(RecursionError("return value nested too deeply to send"), kind="encode")
            return
        except codec.CodecError as exc:
            self.error_reply(exc, kind="encode")
            return
        self.send(chunks)

    def error_reply(self, exc: BaseException, kind: str = "error") -> None:
        self._only_original()
        info = describe_exception(exc, self.submission_dir)
        if kind == "error" and (isinstance(exc, MemoryError) or (
                isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))):
            kind = "memory"
        info["kind"] = kind
        self.send(codec.encode_message({"ok": False, "error": info}))

    def send(self, chunks: list) -> None:
        """One reply, as one frame to the zygote."""
        write_all(self.fd_out, codec.frame_chunks(codec.DATA, chunks))

    # requests -----------------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            frame = self.reader.read_frame()
            if frame is None:
                return
            _, payload = frame
            try:
                msg = codec.decode_message(payload, self.lookup)
            except codec.CodecError as exc:
                self.error_reply(exc, kind="protocol")
                continue
            op = msg.get("op")
            if op == "exit":
                return
            try:
                self.dispatch(op, msg)
            except BaseException as exc:  # candidate code may raise SystemExit and friends
                try:
                    self.error_reply(exc, kind=getattr(exc, "_grader_kind", "error"))
                except BaseException:
                    os._exit(70)

    def dispatch(self, op: str, msg: dict) -> None:
        keep = bool(msg.get("keep"))
        args = msg.get("args") or ()
        kwargs = msg.get("kwargs") or {}
        if op == "import":
            self.reply(self.import_module(str(msg.get("module"))))
        elif op == "getattr":
            obj = self.target(msg.get("target"))
            name = str(msg.get("name"))
            try:
                value = getattr(obj, name)
            except AttributeError as exc:
                if isinstance(obj, type(sys)):
                    exc._grader_kind = "missing"  # type: ignore[attr-defined]
                raise
            self.reply(value, keep, method=is_class_method(obj, name, value))
        elif op == "setattr":
            setattr(self.target(msg.get("target")), str(msg.get("name")), args[0])
            self.reply(None)
        elif op == "call":
            self.reply(self.target(msg.get("target"))(*args, **kwargs), keep)
        elif op == "callattr":  # obj.name(...): the judge's getattr and call in one request
            self.reply(getattr(self.target(msg.get("target")), str(msg.get("name")))(*args, **kwargs), keep)
        elif op == "getitem":
            self.reply(self.target(msg.get("target"))[args[0]], keep)
        elif op == "setitem":
            self.target(msg.get("target"))[args[0]] = args[1]
            self.reply(None)
        elif op == "len":
            self.reply(len(self.target(msg.get("target"))))
        elif op == "fetch":
            self.reply(self.target(msg.get("target")))
        elif op == "construct":
            self.reply(self.resolve(str(msg.get("path")))(*args, **kwargs), True)
        elif op == "resolve":
            self.reply(self.resolve(str(msg.get("path"))), True)
        else:
            raise codec.CodecError(f"unknown request {op!r}")

    def import_module(self, name: str) -> Any:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                exc._grader_kind = "missing_module"  # type: ignore[attr-defined]
            else:
                exc._grader_kind = "import"  # type: ignore[attr-defined]
            raise
        except BaseException as exc:
            exc._grader_kind = "import"  # type: ignore[attr-defined]
            raise

    @staticmethod
    def resolve(path: str) -> Any:
        if not (path.startswith(CONSTRUCT_ALLOWED_PREFIXES) or path in CONSTRUCT_ALLOWED_EXACT):
            raise PermissionError(f"{path} is not on the construction allowlist")
        module_name, _, attr = path.rpartition(".")
        parts = module_name.split(".")
        # Find the longest importable module prefix, then walk attributes.
        for cut in range(len(parts), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for part in parts[cut:] + [attr]:
                obj = getattr(obj, part)
            return obj
        raise ImportError(f"cannot resolve {path}")


BOUND_METHOD_TYPES = (types.MethodType, types.BuiltinMethodType, types.MethodWrapperType)


def is_class_method(obj: Any, name: str, value: Any) -> bool:
    """Whether ``value``, read as ``obj.name``, is a method of ``obj``'s class bound to ``obj``
    (not an attribute of the object itself): the judge may then send ``x.name(...)`` for other
    objects of the class as one request."""
    if isinstance(obj, types.ModuleType) or not isinstance(value, BOUND_METHOD_TYPES):
        return False
    try:
        if value.__self__ is not obj:
            return False
        own = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        own = {}
    except Exception:
        return False
    if type(own) is not dict or name in own:
        return False
    return any(name in vars(klass) for klass in type.__getattribute__(type(obj), "__mro__"))


def describe_exception(exc: BaseException, submission_dir: str) -> dict:
    """Plain description of an exception, with the traceback cut down to candidate frames."""
    cls = type(exc)
    try:
        message = str(exc)
    except BaseException:
        message = "<unprintable exception>"
    info: dict[str, Any] = {
        "type": cls.__name__,
        "module": cls.__module__,
        "builtin_bases": [c.__name__ for c in cls.__mro__ if c.__module__ == "builtins"],
        "message": message[:4000],
    }
    if isinstance(exc, SyntaxError):
        info["filename"] = os.path.basename(exc.filename or "")
        info["lineno"] = exc.lineno
        info["text"] = (exc.text or "").rstrip("\n")[:500]
        info["message"] = str(exc.msg)[:4000]
    try:
        frames = traceback.extract_tb(exc.__traceback__)
        own = [f for f in frames if submission_dir and f.filename.startswith(submission_dir)]
        if own:
            last = own[-1]
            info.setdefault("filename", os.path.basename(last.filename))
            info.setdefault("lineno", last.lineno)
        shown = own or frames[-3:]
        lines = traceback.format_list(shown)
        lines += traceback.format_exception_only(cls, exc)
        text = "".join(lines)
        if submission_dir:  # show the candidate's own file names, not sandbox paths
            text = text.replace(submission_dir.rstrip("/") + "/", "")
        info["traceback"] = text[-8000:]
    except BaseException:
        info["traceback"] = ""
    return info


def seed_torch(seed: int) -> None:
    """``torch.manual_seed`` for the generators a test can use, without its cost.

    ``torch.manual_seed`` also queues a lazy CUDA seeding with a formatted stack trace: 0.5 ms in
    a warm process and several in a freshly forked one, on every test. The CPU generator (and
    CUDA's, where there is one) get exactly the same seed this way.
    """
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def apply_limits(spec: dict) -> None:
    """Resource limits for the child, set by trusted code before any candidate code runs."""
    memory = spec.get("memory_bytes")
    if memory and spec.get("rlimit_memory", True):
        # RLIMIT_AS counts address space, not resident memory: offset it by what the zygote
        # already maps (torch alone maps ~0.6 GB) so the limit means "this much more".
        vm = 0
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    vm = int(line.split()[1]) * 1024
        limit = vm + int(memory)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fsize = spec.get("file_size_bytes")
    if fsize:
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(fsize), int(fsize)))
    nproc = spec.get("max_processes")
    if nproc:
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (int(nproc), int(nproc)))
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def child_main(fd_in: int, fd_out: int, spec: dict) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threads = int(spec.get("threads", 1))
    torch.set_num_threads(max(1, threads))
    apply_limits(spec)
    for path in reversed(spec.get("sys_path", [])):
        sys.path.insert(0, path)
    seed = spec.get("seed")
    if seed is not None:
        import random

        random.seed(seed)
        seed_torch(seed)
    os.chdir(spec.get("cwd", "/tmp") if os.path.isdir(spec.get("cwd", "/tmp")) else "/")
    Child(fd_in, fd_out, spec).serve()


# --------------------------------------------------------------------------------------------
# Zygote


class Spare:
    """A child forked ahead of time that waits for its spec (see :meth:`Zygote.fork_spare`)."""

    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self.pid = pid
        self.to_child = to_child
        self.from_child = from_child

    def discard(self) -> None:
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def spare_main(fd_in: int, fd_out: int) -> None:
    """In a spare child: wait for the spec of the test it will run, then become its child."""
    # Not dumpable: the test's child (same uid) cannot ptrace this process or write its memory
    # while it waits, so the next test still starts from the zygote's state.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass
    prepare_pages()
    reader = FrameReader(fd_in, 1 << 24)
    frame = reader.read_frame()
    if frame is None or frame[0] != codec.CONTROL:
        os._exit(0)
    msg = codec.decode_message(frame[1], lambda ref: None)
    send_control(fd_out, {"op": "ready"})
    child_main(fd_in, fd_out, msg.get("spec", {}))


# Set by the warm nursery once it has run huge_pages(): a fork shares its 2 MiB pages, and
# collapsing them again in each worker cost ~0.2 s of kernel time per submission.
HUGE_PAGES_INHERITED = False


def huge_pages() -> None:
    """Back our large anonymous mappings (the heap, torch's) with 2 MiB pages where the kernel
    can: a fork then copies a few hundred page-table entries instead of ~40,000. A fork of the
    zygote took 8-15 ms on this machine, during which the relay answered nothing."""
    import ctypes
    import re

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/maps") as fh:
            lines = fh.readlines()
    except (OSError, AttributeError):
        return
    huge = 1 << 21
    for line in lines:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0", line)
        if not m:
            continue
        start = (int(m.group(1), 16) + huge - 1) & ~(huge - 1)
        end = int(m.group(2), 16) & ~(huge - 1)
        if end - start >= 2 * huge:  # the big ones: the collapse itself costs ~2 ms per MiB
            libc.madvise(start, end - start, 14)  # MADV_HUGEPAGE
            libc.madvise(start, end - start, 25)  # MADV_COLLAPSE (Linux 6.1+; fails harmlessly before)


def warm_torch() -> None:
    """Lazy one-time set-up of torch's generator and operator dispatch, done once in the zygote
    (or the nursery it is forked from) rather than in every test's child."""
    seed_torch(0)
    torch.ones(2, 2).matmul(torch.ones(2, 2)).sum()


def prepare_pages() -> None:
    """Run, while nobody waits, the code a test's start runs: after a fork, the first write to
    each page of the heap copies it (a fault each), and that added 1-3 ms to every start."""
    spec = {"sys_path": ["/nonexistent"], "submission_dir": "/nonexistent", "seed": 1, "threads": 1,
            "memory_bytes": 1 << 30, "rlimit_memory": False, "max_processes": 64, "cwd": "/tmp"}
    wire = codec.encode_message({"op": "spec", "spec": spec})
    codec.decode_message(bytearray(b"".join(bytes(c) for c in wire)), lambda ref: None)
    codec.frame_chunks(codec.CONTROL, codec.encode_message({"op": "ready"}))
    torch.set_num_threads(1)
    seed_torch(1)
    import random

    random.seed(1)
    importlib.util.find_spec("grader_no_such_module")


class Zygote:
    def __init__(self, fd_in: int, fd_out: int, max_bytes: int) -> None:
        self.reader = FrameReader(fd_in, max_bytes)
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.max_bytes = max_bytes
        self.spare: Spare | None = None
        self.dying: set[int] = set()  # killed children not reaped yet
        self.forwarded = 0  # frames passed on from children
        self.fork_error = ""

    def run(self) -> None:
        warm_torch()
        # The collapse takes 0.2-0.3 s of kernel time, and the judge's first request comes after
        # it has collected the tests: done on a thread (ctypes lets go of the GIL), it no longer
        # delays the hello. A fork meanwhile waits only for the range being collapsed. A worker
        # forked from a warm nursery inherits the nursery's huge pages and skips it.
        if not HUGE_PAGES_INHERITED:
            threading.Thread(target=huge_pages, name="huge-pages", daemon=True).start()
        send_control(self.fd_out, {"op": "hello", "pid": os.getpid(), "python": sys.version.split()[0],
                                   "torch": torch.__version__, "uid": os.getuid()})
        while True:
            frame = self.reader.read_frame()
            if frame is None:
                return
            kind, payload = frame
            if kind != codec.CONTROL:
                continue  # data for a child that is gone
            msg = codec.decode_message(payload, lambda ref: None)
            op = msg.get("op")
            if op == "shutdown":
                return
            if op == "preload":
                if self.spare is not None:  # forked without the new modules
                    self.spare.discard()
                    self.spare = None
                failed = {}
                for name in msg.get("modules", []):
                    try:
                        importlib.import_module(name)
                    except Exception as exc:  # a missing optional library is reported, not fatal
                        failed[name] = f"{type(exc).__name__}: {exc}"
                send_control(self.fd_out, {"op": "preloaded", "failed": failed})
            elif op == "spawn":
                self.spawn(msg.get("spec", {}))
            elif op == "ping":
                send_control(self.fd_out, {"op": "pong"})
            elif op == "mark":
                write_log_mark(msg)

    def reap_dying(self) -> None:
        for pid in list(self.dying):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.dying.discard(pid)

    def fork_spare(self, also_close: tuple[int, ...] = (), retry_s: float = 0.0) -> Spare | None:
        """Fork the next test's child now, while nothing waits for it.

        A fork of a process holding torch costs 4-15 ms here, and so does the end of one: done
        between tests, both sat on the judge's path once per test. The spare waits for its spec,
        so it starts exactly as a child forked at the spawn would, with the test's seed, limits
        and paths. With ``retry_s`` (at a spawn, where nothing else waits on this process) a fork
        that hits the process limit is retried while the last test's processes are reaped.
        """
        self.reap_dying()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        gc.freeze()
        retry_until = time.monotonic() + retry_s
        while True:
            try:
                pid = os.fork()
                break
            except BlockingIOError as exc:  # EAGAIN: processes of the last test not yet reaped
                if time.monotonic() < retry_until:
                    time.sleep(0.02)
                    continue
                error: OSError = exc
            except OSError as exc:
                error = exc
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            self.fork_error = str(error)
            return None
        if pid == 0:
            code = 70
            try:
                os.setpgid(0, 0)
                for fd in (to_child_w, from_child_r, self.fd_in, self.fd_out, *also_close):
                    os.close(fd)
                if self.spare is not None:
                    os.close(self.spare.to_child)
                    os.close(self.spare.from_child)
                spare_main(to_child_r, from_child_w)
                code = 0
            except BaseException:
                code = 70
            os._exit(code)
        os.close(to_child_r)
        os.close(from_child_w)
        return Spare(pid, to_child_w, from_child_r)

    def spawn(self, spec: dict) -> None:
        # The previous test's code ran next to the spare and may have killed or stopped it: a
        # spare that does not take its spec at once is replaced by a fresh one.
        for _ in range(2):
            spare, self.spare = self.spare, None
            if spare is None:
                spare = self.fork_spare(retry_s=2.0)
            if spare is None:
                send_control(self.fd_out, {"op": "spawned", "pid": 0, "error": f"fork failed: {self.fork_error}"})
                return
            if self.hand_over(spare, spec):
                send_control(self.fd_out, {"op": "spawned", "pid": spare.pid})
                self.relay(spare.pid, spare.to_child, spare.from_child, bool(spec.get("reap_all")))
                return
            spare.discard()
        send_control(self.fd_out, {"op": "spawned", "pid": 0, "error": "fork failed: the new process did not start"})

    @staticmethod
    def hand_over(spare: Spare, spec: dict, timeout: float = 2.0) -> bool:
        """Give ``spare`` its spec; True once it has confirmed."""
        try:
            send_control(spare.to_child, {"op": "spec", "spec": spec})
        except OSError:
            return False
        reader = FrameReader(spare.from_child, 1 << 16)
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = reader.pop()
            except codec.CodecError:
                return False
            if frame is not None:
                return frame[0] == codec.CONTROL
            remaining = deadline - time.monotonic()
            if reader.eof or remaining <= 0:
                return False
            readable, _, _ = select.select([spare.from_child], [], [], remaining)
            if readable:
                reader.fill()

    def others_alive(self, pid: int) -> bool:
        """Whether any process but us, our parent, init, the spare and the killed child ``pid`` is
        in this sandbox's PID namespace (a grandchild, a daemon, an escapee)."""
        known = {1, os.getpid(), os.getppid(), pid, *self.dying}
        if self.spare is not None:
            known.add(self.spare.pid)
        try:
            names = os.listdir("/proc")
        except OSError:
            return True
        return any(name.isdigit() and int(name) not in known for name in names)

    def relay(self, pid: int, to_child: int, from_child: int, reap_all: bool = False) -> None:
        """Forward frames between judge and child until the child ends."""
        child_reader = FrameReader(from_child, self.max_bytes)
        pending = bytearray()
        os.set_blocking(to_child, False)
        os.set_blocking(from_child, False)
        killed_reason = ""
        started = time.monotonic()
        status: int | None = None
        maxrss_kb = 0
        ooms_before = oom_kills()
        ended_by_judge = False
        # The child starts busy (setting up) and is busy from a request until its reply.
        child_busy = True
        while True:
            rlist = [self.fd_in, from_child]
            wlist = [to_child] if pending else []
            # No spare yet: fork one once the child waits for the judge and the judge has been
            # busy with its own work for a moment (a fork blocks this relay for ~10 ms; during
            # a call it would hold up the reply).
            timeout = 0.002 if self.spare is None and not child_busy else 0.2
            try:
                readable, writable, _ = select.select(rlist, wlist, [], timeout)
            except InterruptedError:
                continue
            if to_child in writable and pending:
                write_some(to_child, pending)
            if from_child in readable:
                child_reader.fill()
                forwarded = self.forwarded
                if self.forward(child_reader):
                    killed_reason = "output limit: a reply exceeded the message size limit"
                    os.kill(pid, signal.SIGKILL)
                    child_reader.eof = True
                if child_reader.eof:
                    break
                if self.forwarded != forwarded:
                    child_busy = False
            if self.fd_in in readable:
                self.reader.fill()
                if self.reader.eof:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    if self.spare is not None:
                        self.spare.discard()
                    sys.exit(0)
                while (frame := self.reader.pop()) is not None:
                    kind, payload = frame
                    if kind == codec.DATA:
                        pending += codec.FRAME_HEADER.pack(kind, len(payload)) + payload
                        child_busy = True
                        continue
                    msg = codec.decode_message(payload, lambda ref: None)
                    if msg.get("op") == "mark":
                        write_log_mark(msg)
                    elif msg.get("op") == "kill":
                        killed_reason = str(msg.get("reason", "killed by the judge"))
                        maxrss_kb = peak_rss_kb(pid)
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                        ended_by_judge = True
                        # what follows (the next spawn, sent without waiting) is for the main loop
                        break
                if ended_by_judge:
                    break
                if pending:  # straight on to the child, not after another select
                    write_some(to_child, pending)
            if not readable:
                done, raw, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    status = raw
                    maxrss_kb = usage.ru_maxrss
                    child_reader.fill()
                    self.forward(child_reader)
                    break
                if self.spare is None and not child_busy:
                    self.spare = self.fork_spare((to_child, from_child))
        try:  # the child's own process group: stray grandchildren go with it
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        if ended_by_judge and status is None and not (reap_all and self.others_alive(pid)):
            # Killed by the judge, and nothing else of it left: the judge need not wait while the
            # kernel tears down its memory. It is reaped later; its peak was read before the kill.
            self.dying.add(pid)
            status = signal.SIGKILL  # the wait status of a process killed by SIGKILL
            reap_all = False
        if status is None:
            try:  # it may have left its process group
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            # Reap the child first: as a zombie it would still count for kill(-1) below.
            _, status, usage = os.wait4(pid, 0)
            maxrss_kb = max(maxrss_kb, usage.ru_maxrss)
        if reap_all:
            # Inside the sandbox's own PID namespace, kill(-1) reaches every process but us and
            # its init: daemons, setsid escapees and fork-bomb leftovers die before the next test.
            # The spare dies with them: it could have been tampered with by what ran here.
            if self.spare is not None:
                self.spare.discard()
                self.spare = None
            # A killed process keeps its slot under the sandbox's process limit until init has
            # reaped it: after a fork bomb, the next fork would fail with EAGAIN. Wait (bounded)
            # until /proc shows nothing but us, or ~60 torch-sized exits can outlast the spawn.
            deadline = time.monotonic() + 5.0
            while True:
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError:
                    pass
                self.reap_dying()
                if not self.others_alive(pid) or time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        os.close(to_child)
        os.close(from_child)
        info: dict[str, Any] = {"op": "exited", "elapsed_s": round(time.monotonic() - started, 3),
                                "reason": killed_reason, "maxrss_kb": maxrss_kb,
                                "oom_kills": oom_kills() - ooms_before}
        if os.WIFSIGNALED(status):
            info["signal"] = os.WTERMSIG(status)
        else:
            info["exit_code"] = os.WEXITSTATUS(status)
        send_control(self.fd_out, info)
        if self.spare is None:
            # The child never waited long enough for one: fork now, while the judge reports
            # this test and sets up the next, rather than at the next spawn.
            self.spare = self.fork_spare()

    def forward(self, reader: FrameReader) -> bool:
        """Send complete frames from the child on to the judge; True if one was too large."""
        try:
            while (frame := reader.pop()) is not None:
                write_all(self.fd_out, codec.frame_chunks(codec.DATA, [frame[1]]))
                self.forwarded += 1
        except codec.CodecError:
            return True
        return False


def write_log_mark(msg: dict) -> None:
    """Write the judge's mark to the log stream, after everything written to it so far."""
    token = str(msg.get("token", ""))
    if len(token) == 32 and all(c in "0123456789abcdef" for c in token):
        try:
            os.write(2, framing.log_mark(token))
        except OSError:
            pass


def peak_rss_kb(pid: int) -> int:
    """A live process's peak resident memory (what wait4 reports once it has ended)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def oom_kills() -> int:
    """How many processes the kernel has OOM-killed in this sandbox's memory cgroup (0 if unknown)."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as fh:
                for line in fh:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


def main() -> None:
    """Entry point inside the sandbox: protocol on stdin/stdout, candidate output on stderr."""
    channel = os.environ.get("GRADER_CHANNEL_SOCKET")
    if channel:  # the Docker sandbox: the judge listens on a socket in the stage folder
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(channel)
        proto_in = sock.detach()
        proto_out = os.dup(proto_in)
    else:
        proto_in = os.dup(0)
        proto_out = os.dup(1)
    os.set_inheritable(proto_in, False)
    os.set_inheritable(proto_out, False)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # anything printed goes to the captured log, never into the protocol
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    max_bytes = int(os.environ.get("GRADER_MAX_MESSAGE_BYTES", str(1 << 30)))
    lifetime = os.environ.get("GRADER_WORKER_LIFETIME_S")
    if lifetime:
        signal.alarm(max(1, int(float(lifetime))))  # SIGALRM ends the zygote, and the container with it
    # Children reap themselves through the relay; a grandchild daemon does not block us.
    Zygote(proto_in, proto_out, max_bytes).run()
    # Told to shut down (or the judge is gone): the interpreter's own teardown of torch would
    # cost the sandbox's CPU another second for nothing.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


if __name__ == "__main__":
    main()

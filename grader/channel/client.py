"""The judge's side of the channel: a session with one sandboxed worker and proxies to its objects.

:class:`WorkerSession` owns one sandbox (one zygote) for a submission. Each test gets a fresh
child process (:meth:`WorkerSession.spawn`), reached through a :class:`Child`. Values come back
decoded by :mod:`grader.channel.codec` into plain data; everything else is a :class:`Handle`
whose attribute reads, calls and item access travel to the worker. Handles compare by identity
only, so an object with an always-true ``__eq__`` is just an opaque handle here.
"""

from __future__ import annotations

import queue
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from grader.channel import codec
from grader.channel.errors import (
    MissingModule,
    MissingName,
    OutputLimit,
    ProtocolError,
    SandboxStartError,
    StaleHandle,
    SubmissionImportError,
    TimeBudgetExceeded,
    WorkerCrashed,
    WorkerFault,
    WorkerMemoryLimit,
    WorkerTimeout,
    remote_error,
)
from grader.sandbox.base import Sandbox, SandboxProcess

SIGNAL_NAMES = {s.value: s.name for s in signal.Signals}


class WorkerSession:
    """One sandboxed worker for one submission, restarted when it dies."""

    def __init__(self, sandbox: Sandbox, stage: Path, start_timeout: float = 120.0) -> None:
        self.sandbox = sandbox
        self.stage = stage
        self.start_timeout = start_timeout
        self.process: SandboxProcess | None = None
        self.generation = 0
        self.hello: dict[str, Any] = {}
        self.preloaded: set[str] = set()
        self.starts = 0
        self.log_segment = ""
        self._retired_logs: list[SandboxProcess] = []
        self.active: Child | None = None
        #: a child told to end whose "exited" report has not been read yet (see Child.close)
        self.ending: Child | None = None

    # lifecycle --------------------------------------------------------------------------------
    def ensure_started(self, launch: Callable[[], SandboxProcess] | None = None) -> SandboxProcess:
        """The running worker, started first if need be (``launch``: an already launched sandbox
        process to adopt, see :class:`~grader.judge.warmup.WorkerWarmup`)."""
        if self.process is not None:
            return self.process
        self.starts += 1
        try:
            proc = launch() if launch is not None else self.sandbox.launch(self.stage)
        except Exception as exc:
            raise SandboxStartError(f"the {self.sandbox.name} sandbox could not be started: {exc}") from None
        proc.log.switch(self.log_segment)
        self.process = proc
        self.generation += 1
        self.preloaded = set()
        try:
            msg = self._control_reply("hello", self.start_timeout, "starting the worker")
        except WorkerFault as exc:
            log = proc.log.text(self.log_segment)[-2000:]
            raise SandboxStartError(f"the worker did not start: {exc}" + (f"; its output: {log}" if log else "")) from None
        self.hello = msg
        return proc

    def restart(self) -> None:
        """Kill the sandbox; the next request starts a fresh one."""
        self.ending = None
        if self.process is not None:
            old = self.process
            self.process = None
            old.close()
            # carry the log of the dead sandbox over to keep what the candidate printed
            self._retired_logs.append(old)

    def close(self) -> None:
        if self.process is not None:
            try:
                self._send(codec.CONTROL, {"op": "shutdown"})
            except OSError:
                pass
            self.process.retire()
            self.process = None

    def sync_log(self, timeout: float = 2.0) -> None:
        """Wait until everything the worker printed so far has been read into its log."""
        proc = self.process
        if proc is None:
            return
        token = uuid.uuid4().hex
        seen = proc.log.expect(token)
        try:
            self._send(codec.CONTROL, {"op": "mark", "token": token})
        except OSError:
            return
        seen.wait(timeout)

    def switch_log(self, segment: str) -> None:
        """Attribute subsequent worker output to ``segment`` (an exercise id)."""
        if segment != self.log_segment:
            self.sync_log()  # the last test's output belongs to the segment before
        self.log_segment = segment
        for proc in self._all_processes():
            proc.log.switch(segment)

    def log_text(self, segment: str) -> str:
        parts = [p.log.text(segment) for p in self._all_processes()]
        return "".join(p for p in parts if p)

    def _all_processes(self) -> list[SandboxProcess]:
        procs = list(self._retired_logs)
        if self.process is not None:
            procs.append(self.process)
        return procs

    # messaging --------------------------------------------------------------------------------
    def _send(self, kind: int, message: dict, to_handle: Callable[[Any], codec.HandleRef] | None = None,
              max_bytes: int = 1 << 62) -> None:
        assert self.process is not None
        chunks = codec.encode_message(message, to_handle, max_bytes)
        self.process.write(codec.frame_chunks(kind, chunks))

    def _next_frame(self, deadline: float) -> tuple[int, bytearray]:
        assert self.process is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise queue.Empty
        frame = self.process.frames.get(timeout=remaining)
        if frame is None:
            self.process.frames.put(None)  # keep reporting the end to later readers
            raise EOFError
        return frame

    def _dead_sandbox(self, during: str) -> WorkerFault:
        assert self.process is not None
        proc = self.process
        error = proc.protocol_error
        info = proc.exit_info(timeout=5.0)
        self.restart()
        problem = self.sandbox.infrastructure_problem()
        if problem:
            raise SandboxStartError(f"{problem} while {during}")
        if error:
            return ProtocolError(f"{error} while {during}")
        if info.oom_killed:
            return WorkerMemoryLimit(f"the sandbox was killed for exceeding its memory limit while {during}")
        return WorkerCrashed(f"the sandbox {info.describe()} while {during}")

    def _control_reply(self, expected: str, timeout: float, during: str) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                kind, payload = self._next_frame(deadline)
            except queue.Empty:
                self.restart()
                raise WorkerTimeout(f"no answer from the worker after {timeout:.0f} s while {during}") from None
            except EOFError:
                raise self._dead_sandbox(during) from None
            if kind != codec.CONTROL:
                continue  # late data from a child that was killed
            msg = self._decode(payload, during)
            if msg.get("op") == expected:
                return msg
            if msg.get("op") == "exited" and self.ending is not None:
                self.ending.ended(msg)
                self.ending = None

    def settle(self, timeout: float = 5.0) -> None:
        """Wait for the report of a child told to end (its peak memory comes with it)."""
        ending = self.ending
        if ending is None or self.process is None:
            return
        try:
            msg = self._control_reply("exited", timeout, "ending a test process")
        except WorkerFault:
            return  # the sandbox was restarted: its report is lost, and ``ending`` cleared
        ending.ended(msg)
        self.ending = None

    def _decode(self, payload: bytearray, during: str, child: "Child | None" = None, keep: bool = False) -> dict:
        try:
            return codec.decode_message(payload, (lambda ref: Handle(child, ref, keep)) if child else (lambda ref: None))
        except codec.CodecError as exc:
            self.restart()
            raise ProtocolError(f"malformed reply from the worker while {during}: {exc}") from None

    # children ---------------------------------------------------------------------------------
    def preload(self, modules: list[str]) -> dict[str, str]:
        """Import heavy libraries once in the zygote so every child starts with them."""
        missing = [m for m in modules if m not in self.preloaded]
        if not missing:
            return {}
        self.ensure_started()
        self._send(codec.CONTROL, {"op": "preload", "modules": missing})
        msg = self._control_reply("preloaded", self.start_timeout, "importing " + ", ".join(missing))
        self.preloaded.update(missing)
        return dict(msg.get("failed") or {})

    def spawn(self, spec: dict, timeout: float = 30.0) -> "Child":
        """Fork a fresh child for one test (ending the previous one if it is still running)."""
        if self.active is not None:
            self.active.close()
            self.active = None
        self.ensure_started()
        try:
            self._send(codec.CONTROL, {"op": "spawn", "spec": spec})
        except OSError:
            raise self._dead_sandbox("starting a test process") from None
        msg = self._control_reply("spawned", timeout, "starting a test process")
        if msg.get("error"):
            self.restart()
            raise WorkerCrashed(f"could not start a test process: {msg.get('error')}")
        self.active = Child(self, self.generation, int(msg.get("pid", 0)), int(spec.get("max_message_bytes", 1 << 30)))
        return self.active


class Child:
    """One forked process that runs candidate code for one test."""

    def __init__(self, session: WorkerSession, generation: int, pid: int, max_message_bytes: int) -> None:
        self.session = session
        self.generation = generation
        self.pid = pid
        self.alive = True
        self.max_message_bytes = max_message_bytes
        self.deadline: float | None = None  # the exercise's time budget, absolute
        self.budget_note = ""
        self.call_timeout = 10.0
        self.maxrss_kb = 0
        self.memory_mb = 0
        self.max_processes = 0
        #: (remote type, attribute) pairs read as a method of the class before: ``obj.name(...)``
        #: is then one request (see :class:`BoundMethod`)
        self.methods: dict[tuple[str, str], str] = {}
        self.last_was_method = False  # the last reply: a method of the object's class

    def _check(self) -> None:
        if not self.alive or self.session.generation != self.generation or self.session.process is None:
            raise StaleHandle("the worker process that held this object has ended (an earlier call crashed or timed out)")

    def request(self, message: dict, timeout: float, what: str, keep: bool = False) -> Any:
        """Send one request and wait for its reply; raises a WorkerFault or RemoteError."""
        self._check()
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeBudgetExceeded(self.budget_note or "the exercise's total time budget is spent")
            if left < timeout:
                timeout = left
                budget_bound = True
            else:
                budget_bound = False
        else:
            budget_bound = False
        session = self.session
        try:
            session._send(codec.DATA, message, _judge_ref, self.max_message_bytes)
        except codec.CodecError as exc:
            raise ValueError(f"cannot send arguments of {what}: {exc}") from None
        except OSError:
            self.alive = False
            raise session._dead_sandbox(what) from None
        deadline = time.monotonic() + timeout
        while True:
            try:
                kind, payload = session._next_frame(deadline)
            except queue.Empty:
                self._kill_after_timeout(what)
                if budget_bound:
                    raise TimeBudgetExceeded(
                        f"{what} was stopped when the exercise's total time budget ran out") from None
                raise WorkerTimeout(f"{what} did not finish within {timeout:.1f} s") from None
            except EOFError:
                self.alive = False
                raise session._dead_sandbox(what) from None
            if kind == codec.DATA:
                msg = session._decode(payload, what, self, keep)
                break
            ctl = session._decode(payload, what)
            if ctl.get("op") == "exited":
                self.alive = False
                self.maxrss_kb = max(self.maxrss_kb, int(ctl.get("maxrss_kb") or 0))
                raise self._exit_fault(ctl, what)
        if msg.get("ok") is True:
            self.last_was_method = msg.get("method") is True
            return msg.get("value")
        error = msg.get("error")
        if type(error) is not dict:
            raise ProtocolError(f"malformed error reply during {what}")
        raise self._error(error, what)

    def _exit_fault(self, ctl: dict, what: str) -> WorkerFault:
        reason = str(ctl.get("reason") or "")
        if reason.startswith("output limit"):
            return OutputLimit(f"{what}: {reason}")
        sig = ctl.get("signal")
        if int(ctl.get("oom_kills") or 0) > 0:
            return WorkerMemoryLimit(f"{what} was killed for exceeding the memory limit of {self.memory_mb} MB")
        if sig is not None:
            name = SIGNAL_NAMES.get(int(sig), str(sig))
            if int(sig) == signal.SIGKILL:
                return WorkerCrashed(f"the worker was killed (SIGKILL) during {what}; "
                                     "it may have exceeded its memory or process limit")
            return WorkerCrashed(f"the worker died from {name} during {what}")
        return WorkerCrashed(f"the worker exited (status {ctl.get('exit_code')}) during {what} "
                             "without answering: sys.exit/os._exit or a killed process")

    def _error(self, info: dict, what: str) -> Exception:
        kind = info.get("kind")
        message = str(info.get("message", ""))
        if kind == "memory":
            return WorkerMemoryLimit(f"{what} ran out of memory: the limit is {self.memory_mb} MB")
        if kind == "missing":
            return MissingName(message)
        if kind == "missing_module":
            return MissingModule(message)
        if kind == "import":
            where = ""
            if info.get("filename"):
                where = f" ({info.get('filename')}, line {info.get('lineno')})"
            text = f"import failed: {info.get('type')}{where}: {message}"
            if info.get("text"):
                text += f"\n    {info.get('text')}"
            exc = SubmissionImportError(text)
            exc.info = info  # type: ignore[attr-defined]
            return exc
        if kind == "encode":
            return OutputLimit(f"the value returned by {what} could not be sent back: {message}")
        if kind == "protocol":
            return ProtocolError(f"{what}: {message}")
        if info.get("type") == "BlockingIOError" and self.max_processes:
            info = dict(info, message=f"{message} (the sandbox's process limit is {self.max_processes} processes)")
        return remote_error(info)

    def _kill_after_timeout(self, what: str) -> None:
        """Ask the zygote to kill the child; if it does not confirm quickly, kill the sandbox."""
        session = self.session
        self.alive = False
        try:
            session._send(codec.CONTROL, {"op": "kill", "reason": f"timeout in {what}"})
            ctl = session._control_reply("exited", 3.0, "stopping a timed-out call")
            self.maxrss_kb = max(self.maxrss_kb, int(ctl.get("maxrss_kb") or 0))
        except (WorkerFault, OSError):
            session.restart()

    def ended(self, ctl: dict) -> None:
        """Take in the zygote's report that this child has ended."""
        self.maxrss_kb = max(self.maxrss_kb, int(ctl.get("maxrss_kb") or 0))

    def close(self) -> None:
        """End the child after its test (it is always discarded).

        The zygote's "exited" report is not awaited here: the judge reports the test meanwhile,
        and the next control reply (the next spawn's, or :meth:`WorkerSession.settle`) reads it.
        """
        if not self.alive or self.session.generation != self.generation or self.session.process is None:
            return
        self.alive = False
        session = self.session
        session.settle()  # at most one report outstanding: a request's reply never waits behind one
        try:
            session._send(codec.CONTROL, {"op": "kill", "reason": "test finished"})
        except OSError:
            session.restart()
            return
        session.ending = self


def _judge_ref(value: Any) -> codec.HandleRef:
    if type(value) is BoundMethod:
        value = value._resolve()
    if type(value) is Handle:
        return object.__getattribute__(value, "_ref")
    if isinstance(value, torch_module_types()):
        raise codec.CodecError(
            f"a {type(value).__name__} object of the judge cannot be sent by value; build it in the worker "
            "with remote.construct(...)")
    raise codec.CodecError(f"cannot send a value of type {type(value).__module__}.{type(value).__qualname__}")


def torch_module_types() -> tuple[type, ...]:
    import torch

    return (torch.nn.Module, torch.optim.Optimizer)


#: types of module attributes a handle remembers after the first read
STABLE_ATTRIBUTE_TYPES = ("builtins.function", "builtins.type", "builtins.builtin_function_or_method")
#: types of an object's attributes that are called where they are read (``tok.encode(text)``)
METHOD_TYPES = ("builtins.method", "builtins.builtin_function_or_method", "builtins.method-wrapper")


class Handle:
    """An opaque reference to an object in the worker.

    Attribute reads, calls and item access are forwarded; comparison, hashing, truth and
    arithmetic are not, so nothing the candidate defines can influence the judge's checks.
    """

    __slots__ = ("_child", "_ref", "_keep", "_functions")

    def __init__(self, child: Child | None, ref: codec.HandleRef, keep: bool = False) -> None:
        object.__setattr__(self, "_child", child)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_keep", keep)
        object.__setattr__(self, "_functions", {})

    # introspection without a round trip
    @property
    def remote_type(self) -> str:
        return object.__getattribute__(self, "_ref").type_name

    def __repr__(self) -> str:
        ref = object.__getattribute__(self, "_ref")
        name = f" {ref.text}" if ref.text else ""
        return f"<remote {ref.type_name}{name} #{ref.id}>"

    def _req(self, op: str, what: str, timeout: float | None = None, **fields: Any) -> Any:
        child: Child | None = object.__getattribute__(self, "_child")
        ref = object.__getattribute__(self, "_ref")
        if child is None:
            raise StaleHandle("handle without a worker")
        message = {"op": op, "target": ref.id, **fields}
        kept = object.__getattribute__(self, "_keep") and op != "fetch"
        if kept:
            message["keep"] = True
        return child.request(message, timeout if timeout is not None else _call_timeout(child), what, kept)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        functions: dict[str, Handle] = object.__getattribute__(self, "_functions")
        if name in functions:
            return functions[name]
        child: Child | None = object.__getattribute__(self, "_child")
        owner_type = object.__getattribute__(self, "_ref").type_name
        if child is not None and (owner_type, name) in child.methods:
            return BoundMethod(self, name, child.methods[(owner_type, name)])
        value = self._req("getattr", f"reading .{name} of {self!r}", name=name)
        # `submission.f(x)` in a loop would cost two round trips a call: a module's functions and
        # classes are read once per handle. Plain values (module constants) are always re-read.
        if type(value) is Handle:
            value_type = object.__getattribute__(value, "_ref").type_name
            if owner_type == "builtins.module":
                if value_type in STABLE_ATTRIBUTE_TYPES:
                    functions[name] = value
            elif value_type in METHOD_TYPES and child is not None and child.last_was_method:
                # `tok.encode(text)` on another object of this type: read and call in one request
                child.methods[(owner_type, name)] = object.__getattribute__(value, "_ref").text
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._req("setattr", f"setting .{name} of {self!r}", name=name, args=(value,))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._req("call", f"{_short(self)}", args=args, kwargs=kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._req("getitem", f"indexing {_short(self)}", args=(key,))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._req("setitem", f"assigning into {_short(self)}", args=(key, value))

    def __len__(self) -> int:
        value = self._req("len", f"len() of {_short(self)}")
        if type(value) is not int:
            raise TypeError("len() did not return an int")
        return value

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return True


class BoundMethod:
    """``obj.name`` where objects of ``obj``'s type had a method ``name`` before in this test.

    Called, it is one request: the worker reads the attribute and calls what it finds, as the
    two separate requests would have done, a moment later. Used any other way (an attribute,
    an argument, ``repr``, :func:`keep`, :func:`fetch`), the attribute is read first, so what the
    test sees is what the object holds, method or not.
    """

    __slots__ = ("_owner", "_name", "_text", "_value")

    def __init__(self, owner: Handle, name: str, text: str) -> None:
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_text", text)

    def _resolve(self) -> Any:
        try:
            return object.__getattribute__(self, "_value")
        except AttributeError:
            owner = object.__getattribute__(self, "_owner")
            name = object.__getattribute__(self, "_name")
            value = owner._req("getattr", f"reading .{name} of {owner!r}", name=name)
            object.__setattr__(self, "_value", value)
            return value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            value = object.__getattribute__(self, "_value")
        except AttributeError:
            owner = object.__getattribute__(self, "_owner")
            name = object.__getattribute__(self, "_name")
            text = object.__getattribute__(self, "_text")
            what = f"{text}()" if text else f"{_short(owner).removesuffix('()')}.{name}()"
            return owner._req("callattr", what, name=name, args=args, kwargs=kwargs)
        return value(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resolve(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._resolve(), name, value)

    def __repr__(self) -> str:
        return repr(self._resolve())

    # What the attribute holds decides (a method's handle compares by identity, as any handle).
    def __eq__(self, other: object) -> bool:
        return other is self or self._resolve() == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._resolve())

    def __bool__(self) -> bool:
        return bool(self._resolve())


def _short(handle: Handle) -> str:
    ref = object.__getattribute__(handle, "_ref")
    if ref.text:
        return f"{ref.text}()"
    return ref.type_name.rsplit(".", 1)[-1] or "object"


def _call_timeout(child: Child) -> float:
    return child.call_timeout


def keep(handle: Handle) -> Handle:
    """A view of ``handle`` whose reads and calls return handles (kept in the worker), not values.

    Handles reached through a kept view are kept views too; :func:`fetch` brings a value over::

        out = keep(model)(x, labels=y)           # a handle to the output dict
        out["loss"].backward()                   # the loss tensor stays in the worker
        grad = fetch(keep(model).bert.embeddings.word_embeddings.weight.grad)

    A plain value (not a handle) is returned as it is, so tests also run against objects in
    the same process (the benchmark's floor).
    """
    if type(handle) is BoundMethod:
        handle = handle._resolve()
    if type(handle) is not Handle:
        return handle
    return Handle(object.__getattribute__(handle, "_child"), object.__getattribute__(handle, "_ref"), True)


def fetch(handle: Handle) -> Any:
    """Bring the object behind ``handle`` over by value (plain data only; else another handle)."""
    if type(handle) is BoundMethod:
        handle = handle._resolve()
    if type(handle) is not Handle:
        return handle
    return Handle(object.__getattribute__(handle, "_child"), object.__getattribute__(handle, "_ref"))._req(
        "fetch", f"fetching {_short(handle)}")


def is_handle(value: Any) -> bool:
    """True if ``value`` is an opaque reference to a worker object."""
    if type(value) is BoundMethod:
        value = value._resolve()
    return type(value) is Handle

"""Exceptions the judge raises when talking to the worker.

Each maps to a test outcome of the results contract (see :data:`OUTCOME_OF`), so a hidden test
never needs to catch them: the judge's pytest plugin reads the outcome from the exception type.
"""

from __future__ import annotations

import builtins
from typing import Any


class WorkerFault(Exception):
    """Base class: the worker did not give an answer."""

    outcome = "crashed"


class WorkerTimeout(WorkerFault):
    """A call ran past its time limit; the worker was killed and will be restarted."""

    outcome = "timeout"


class WorkerMemoryLimit(WorkerFault):
    """The worker ran out of its memory allowance."""

    outcome = "memory_limit"


class WorkerCrashed(WorkerFault):
    """The worker process died (os._exit, a signal, killing its parent) during a call."""

    outcome = "crashed"


class StaleHandle(WorkerFault):
    """A handle from a worker that has since been restarted."""

    outcome = "crashed"


class ProtocolError(WorkerFault):
    """The worker sent something that is not a well-formed reply."""

    outcome = "crashed"


class OutputLimit(WorkerFault):
    """A reply exceeded the message size limit."""

    outcome = "error"


class TimeBudgetExceeded(WorkerFault):
    """The exercise's total time budget is spent; remaining tests are not run."""

    outcome = "timeout"


class SandboxStartError(WorkerFault):
    """The sandbox itself could not be started: an infrastructure fault, not the candidate's."""

    outcome = "crashed"


class SubmissionImportError(Exception):
    """The candidate's module failed to import (syntax error, exception at import time)."""

    outcome = "error"


class MissingName(AttributeError):
    """The candidate's module lacks a function or class the test needs."""

    outcome = "missing"


class MissingModule(Exception):
    """The candidate's submission lacks the module file."""

    outcome = "missing"


class RemoteError(Exception):
    """Candidate code raised an exception.

    Instances also derive from the matching builtin exception class (ValueError, KeyError...),
    so hidden tests can write ``with pytest.raises(ValueError)`` as usual.
    """

    outcome = "error"

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.remote_type = str(info.get("type", "Exception"))
        self.remote_message = str(info.get("message", ""))
        self.traceback_text = str(info.get("traceback", ""))
        super().__init__(f"{self.remote_type}: {self.remote_message}")

    def __str__(self) -> str:
        return f"{self.remote_type}: {self.remote_message}"


_REMOTE_CLASSES: dict[tuple[str, ...], type[RemoteError]] = {}
_SAFE_BASES = {
    name for name in dir(builtins)
    if isinstance(getattr(builtins, name), type) and issubclass(getattr(builtins, name), Exception)
    and name not in ("AssertionError", "StopIteration", "StopAsyncIteration", "GeneratorExit")
}


def remote_error(info: dict[str, Any]) -> RemoteError:
    """Build a RemoteError that is also an instance of the builtin classes the remote one had.

    AssertionError is never mirrored, so a candidate cannot turn its own exception into a
    "wrong answer" that looks like a judge assertion; StopIteration would confuse iteration.
    """
    bases = tuple(b for b in info.get("builtin_bases", []) if isinstance(b, str) and b in _SAFE_BASES)
    # keep the most specific builtin only (its own bases follow through the MRO)
    chosen: tuple[str, ...] = bases[:1]
    cls = _REMOTE_CLASSES.get(chosen)
    if cls is None:
        parents = (RemoteError, *(getattr(builtins, b) for b in chosen))
        name = "Remote" + (chosen[0] if chosen else "Error")
        cls = type(name, parents, {"__init__": RemoteError.__init__, "__str__": RemoteError.__str__})
        _REMOTE_CLASSES[chosen] = cls
    return cls(info)


OUTCOME_OF: dict[type, str] = {
    WorkerTimeout: "timeout",
    TimeBudgetExceeded: "timeout",
    WorkerMemoryLimit: "memory_limit",
    WorkerCrashed: "crashed",
    StaleHandle: "crashed",
    ProtocolError: "crashed",
    OutputLimit: "error",
    SubmissionImportError: "error",
    MissingName: "missing",
    MissingModule: "missing",
    RemoteError: "error",
    WorkerFault: "crashed",
}


def outcome_of(exc: BaseException) -> str | None:
    """The results-contract outcome for an exception raised by the channel, or None."""
    for cls in type(exc).__mro__:
        if cls in OUTCOME_OF:
            return OUTCOME_OF[cls]
    return None

"""Starting a submission's worker in the background.

Starting the sandbox and importing torch in it takes seconds. The judge launches the sandbox on
a thread as its very first step, before it imports torch and pytest itself (a judge started as a
plain subprocess, as for a single submission, would otherwise import them first and only then
start the worker: two imports of torch one after the other instead of side by side). Once the
judge has its :class:`~grader.channel.client.WorkerSession`, the same thread waits for the
worker's hello and imports the exercise's libraries in it, while pytest collects the hidden tests
and, for a prestarted judge, while it waits at its gate for a slot. The first test that needs the
worker waits for the warm-up and sees its error, just as if it had started the worker itself.

This module must stay light to import: no torch, no pytest.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from grader.sandbox.base import Sandbox, SandboxProcess

if TYPE_CHECKING:
    from grader.channel.client import WorkerSession


class WorkerWarmup:
    """Launch ``sandbox`` over ``stage`` on a background thread at once; :meth:`bind` hands it to
    a session, whose worker the thread then waits for (and imports ``preload`` in)."""

    def __init__(self, sandbox: Sandbox, stage: Path) -> None:
        self.sandbox = sandbox
        self.stage = stage
        self._process: SandboxProcess | None = None
        self._launch_error: BaseException | None = None
        self._session: WorkerSession | None = None
        self._preload: list[str] = []
        self._error: BaseException | None = None
        self._bound = threading.Event()
        self._finished = threading.Event()
        threading.Thread(target=self._run, name="grader-worker-warmup", daemon=True).start()

    def bind(self, session: "WorkerSession", preload: list[str] | None = None) -> "WorkerWarmup":
        """Give the launched worker to ``session`` and finish starting it there."""
        self._session = session
        self._preload = list(preload or [])
        self._bound.set()
        return self

    def _launched(self) -> SandboxProcess:
        if self._launch_error is not None:
            raise self._launch_error
        assert self._process is not None
        return self._process

    def _run(self) -> None:
        try:
            self._process = self.sandbox.launch(self.stage)
        except BaseException as exc:  # reported by the session as a start failure, with its reason
            self._launch_error = exc
        self._bound.wait()
        session = self._session
        assert session is not None
        try:
            session.ensure_started(launch=self._launched)
            if self._preload:
                session.preload(self._preload)
        except BaseException as exc:  # re-raised in the test that first needs the worker
            self._error = exc
        finally:
            self._finished.set()
        # bubblewrap runs with --die-with-parent (PR_SET_PDEATHSIG), which fires when the *thread*
        # that started it ends: this thread stays, parked, as long as the judge process.
        threading.Event().wait()

    def join(self) -> None:
        """Wait for the warm-up to finish, whatever its outcome."""
        self._finished.wait()

    def result(self) -> None:
        """Wait for the warm-up; raise its error once."""
        self._finished.wait()
        error, self._error = self._error, None
        if error is not None:
            raise error


"""Starting a submission's worker in the background.

Starting the sandbox and importing torch in it takes seconds. The judge starts it on a thread
while pytest collects the hidden tests and, for a prestarted judge, while it waits at its gate
for a slot. The first test that needs the worker waits for the warm-up and sees its error, just
as if it had started the worker itself.
"""

from __future__ import annotations

import threading

from grader.channel.client import WorkerSession


class WorkerWarmup:
    """Start ``session``'s worker (and import ``preload`` in it) on a background thread."""

    def __init__(self, session: WorkerSession, preload: list[str] | None = None) -> None:
        self.session = session
        self.preload = list(preload or [])
        self._error: BaseException | None = None
        self._finished = threading.Event()
        threading.Thread(target=self._run, name="grader-worker-warmup", daemon=True).start()

    def _run(self) -> None:
        try:
            self.session.ensure_started()
            if self.preload:
                self.session.preload(self.preload)
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

"""The Docker janitor: a helper process that removes our containers for a batch.

``python -m grader.sandbox.janitor BATCH`` removes the containers of judges that died with an
earlier grader (``kill -9``) at once. Then it reads lines on its standard input:

* ``reap JOB``: judge ``JOB`` has exited; remove its containers. A judge whose worker ended
  normally leaves its container to this (see ``SandboxSpec.reaped``): its exit, and the next
  submission's start, do not wait for the engine to remove it.
* ``end``: remove what is left of batch ``BATCH`` and of dead judges again (a container whose
  create request was still inside the engine when an earlier grader was killed can appear after
  the first sweep), say ``done`` and exit.

At end of input without ``end`` (its grader is gone) it sweeps the same way before it exits, and
it ignores Ctrl-C, which reaches the whole process group: the grader is the one to stop.

It runs at the lowest CPU priority. Importing the Docker SDK alone takes 0.25 s here: in the
grader that was CPU taken from the first judge's start, and time added after the last judge.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any


class Janitor:
    """The grader's handle on a janitor process for one batch."""

    def __init__(self, batch_id: str) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "grader.sandbox.janitor", batch_id],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True, preexec_fn=_lowly)
        except OSError:
            self.proc = None

    def reap(self, job: str) -> bool:
        """Ask for judge ``job``'s containers to be removed; False if the janitor cannot (the
        caller then removes them itself)."""
        with self._lock:
            proc = self.proc
            if proc is None or proc.stdin is None or proc.poll() is not None:
                return False
            try:
                proc.stdin.write(f"reap {job}\n")
                proc.stdin.flush()
            except (OSError, ValueError):
                return False
            return True

    def finish(self, timeout: float = 120.0) -> bool:
        """Run the end-of-batch sweep and wait for it; False if the janitor could not do it
        (the caller then sweeps itself)."""
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is None or proc.stdin is None or proc.stdout is None:
            return False
        try:
            proc.stdin.write("end\n")
            proc.stdin.close()
            # Its priority no longer matters: the batch is over and the grader waits for it.
            os.setpriority(os.PRIO_PROCESS, proc.pid, 0)
        except OSError:
            pass
        try:
            done = proc.stdout.readline().strip() == "done"
            proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            return False
        return done


def _lowly() -> None:
    """In the janitor's process before exec: lowest priority, and deaf to Ctrl-C from its
    start (an ignored SIGINT stays ignored through exec, and Python keeps it so)."""
    os.nice(19)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def sweep_batch_end(batch: str, client: Any = None) -> None:
    """Remove what is left of ``batch``, and the containers of dead judges again (a container
    whose create request was still inside the engine when an earlier grader was killed can
    appear after the sweep at the batch's start). ``client``: an engine connection to use."""
    from grader.sandbox.docker import remove_leftovers, remove_orphans

    try:
        if batch:
            remove_leftovers(batch, client=client)
    except Exception:
        pass  # an engine that does not answer: nothing to remove, and grading reported it
    remove_orphans(client)


def main() -> None:
    from grader.sandbox.docker import remove_leftovers, remove_orphans
    from grader.sandbox.engine import docker_client

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also when started by other means than Janitor
    batch = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        client = docker_client()
    except Exception:
        client = None  # no engine now: each sweep below tries again on its own
    remove_orphans(client)
    for line in sys.stdin:
        command, _, job = line.strip().partition(" ")
        if command == "reap" and job:
            try:
                remove_leftovers(job=job, client=client)
            except Exception:
                pass  # left for the sweep at the end
        elif command == "end":
            sweep_batch_end(batch, client)
            print("done", flush=True)
            # The grader waits for this process's exit: the interpreter's teardown of the
            # Docker SDK's modules took another 0.1 s at the end of every batch.
            os._exit(0)
    sweep_batch_end(batch, client)  # the grader is gone without a word: so are its judges


if __name__ == "__main__":
    main()

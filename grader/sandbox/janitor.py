"""The Docker janitor: a helper process that removes our leftover containers for a batch.

``python -m grader.sandbox.janitor BATCH`` removes the containers of judges that died with an
earlier grader (``kill -9``) at once, then waits for ``end`` on its standard input and removes
what is left of batch ``BATCH`` and of dead judges again (a container whose create request was
still inside the engine when an earlier grader was killed can appear after the first sweep).
It says ``done`` when finished; at end of input without ``end`` (its grader is gone) it exits.

It runs at the lowest CPU priority. Importing the Docker SDK alone takes 0.25 s here: in the
grader that was CPU taken from the first judge's start, and time added after the last judge.
"""

from __future__ import annotations

import os
import subprocess
import sys


class Janitor:
    """The grader's handle on a janitor process for one batch."""

    def __init__(self, batch_id: str) -> None:
        self.proc: subprocess.Popen[str] | None = None
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "grader.sandbox.janitor", batch_id],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True, preexec_fn=lambda: os.nice(19))
        except OSError:
            self.proc = None

    def finish(self, timeout: float = 120.0) -> bool:
        """Run the end-of-batch sweep and wait for it; False if the janitor could not do it
        (the caller then sweeps itself)."""
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


def sweep_batch_end(batch: str) -> None:
    """Remove what is left of ``batch``, and the containers of dead judges again (a container
    whose create request was still inside the engine when an earlier grader was killed can
    appear after the sweep at the batch's start)."""
    from grader.sandbox.docker import remove_leftovers, remove_orphans

    try:
        if batch:
            remove_leftovers(batch)
    except Exception:
        pass  # an engine that does not answer: nothing to remove, and grading reported it
    remove_orphans()


def main() -> None:
    from grader.sandbox.docker import remove_orphans

    batch = sys.argv[1] if len(sys.argv) > 1 else ""
    remove_orphans()
    if sys.stdin.readline().strip() != "end":
        return
    sweep_batch_end(batch)
    print("done", flush=True)


if __name__ == "__main__":
    main()

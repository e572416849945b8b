"""Whether a worker can confine itself here: the steps of :mod:`confine`, on an empty stage.

Run by the host (``grader.sandbox.warm.warm_status``) in a nursery's sandbox, without torch.
Prints ``confined`` when every step worked and the result holds: no capability left, the spool
covered, the stage mounted, its own /proc.
"""

from __future__ import annotations

import os
import sys

try:
    from . import confine
except ImportError:  # pragma: no cover - executed as a plain script
    import confine  # type: ignore[no-redef]


def _worker() -> None:
    try:
        confine.confine("probe", 1 << 20, 64, 1 << 20)
        checks = {
            "capabilities": confine.capabilities_left() == 0,
            "spool covered": os.listdir(confine.SPOOL) == [],
            "stage mounted": os.path.isdir(confine.STAGE_MOUNT),
            "own pids": os.getpid() == 1 and sorted(p for p in os.listdir("/proc") if p.isdigit()) == ["1"],
        }
        failed = [name for name, ok in checks.items() if not ok]
        print("confined" if not failed else "not confined: " + ", ".join(failed), flush=True)
        os._exit(0)
    except BaseException as exc:
        print(f"not confined: {exc}", file=sys.stderr, flush=True)
        os._exit(1)


def main() -> None:
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    pid = os.fork()
    if pid == 0:
        try:
            confine.new_namespaces()
            worker = os.fork()
            if worker == 0:
                _worker()
            _, status = os.waitpid(worker, 0)
            os._exit(os.waitstatus_to_exitcode(status) if status else 0)
        except BaseException as exc:
            print(f"not confined: {exc}", file=sys.stderr, flush=True)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()

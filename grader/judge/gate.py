"""The start gate of a prestarted judge: a FIFO in the judge's work folder.

With prestart, the grader launches the next submission's judge before a slot is free. The judge
starts its sandbox worker and collects its tests, then blocks at the gate. When a slot frees, the
grader opens the FIFO and writes one JSON line, :class:`Go` (the slot's CPU set), and only then
starts the judge's clock. A judge killed at the gate has run nothing.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Callable

from pydantic import BaseModel

POLL_S = 0.02


class Go(BaseModel):
    """What the grader tells a judge waiting at its gate."""

    cpuset: str | None = None


class GateClosed(RuntimeError):
    """The grader closed the gate without a go (it is shutting down)."""


def make_gate(path: Path) -> Path:
    """Create the FIFO a judge will wait on."""
    os.mkfifo(path, 0o600)
    return path


def wait_at_gate(path: Path) -> Go:
    """Block until the grader opens the gate; returns what it said (judge side)."""
    # A blocking open for reading returns once a writer opens the other end.
    with open(path, "rb") as fifo:
        line = fifo.readline()
    if not line.strip():
        raise GateClosed("the grader closed the gate without a go")
    return Go.model_validate_json(line)


def open_gate(path: Path, go: Go, alive: Callable[[], bool], deadline: float) -> bool:
    """Hand ``go`` to the judge once it waits at the gate (grader side).

    Returns False when the judge ended before reaching the gate or ``deadline`` (monotonic) passed.
    """
    while True:
        try:
            # Non-blocking: fails with ENXIO until the judge has opened its end.
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if not alive() or time.monotonic() > deadline:
                return False
            time.sleep(POLL_S)
            continue
        try:
            os.set_blocking(fd, True)
            os.write(fd, (go.model_dump_json() + "\n").encode())
        except BrokenPipeError:
            return False  # the judge died between opening the gate and reading it
        finally:
            os.close(fd)
        return True

"""Sharing the machine between submissions graded at once: GPUs and CPU sets.

Each running submission holds a :class:`Slot`: the GPUs pinned to it (one job per GPU unless
``jobs_per_gpu`` says otherwise) and, for Docker, a CPU set disjoint from the other jobs', so
``--jobs N`` never oversubscribes cores.
"""

from __future__ import annotations

import os
import queue
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from grader.errors import SandboxError


@dataclass(frozen=True)
class Slot:
    gpu_ids: tuple[str, ...] = ()
    cpuset: str | None = None


def cpu_sets(jobs: int, cpus: list[int] | None = None) -> list[str | None]:
    """Split the machine's CPUs into ``jobs`` disjoint sets (None each when there are too few)."""
    available = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    if jobs < 1 or len(available) < jobs:
        return [None] * max(jobs, 1)
    per = len(available) // jobs
    return [",".join(str(c) for c in available[i * per:(i + 1) * per]) for i in range(jobs)]


def gpu_list(gpus: int | None, gpu_ids: list[str]) -> list[str]:
    """The GPUs to use: explicit ids, or the first ``gpus`` device indices."""
    if gpu_ids:
        if len(set(gpu_ids)) != len(gpu_ids):
            raise SandboxError(f"--gpu-ids lists a GPU twice: {','.join(gpu_ids)}")
        return list(gpu_ids)
    return [str(i) for i in range(gpus or 0)]


class ResourcePool:
    """Hands out slots to concurrent jobs; a job waits when every GPU is busy."""

    def __init__(self, jobs: int, gpus: list[str], jobs_per_gpu: int = 1, pin_cpus: bool = False) -> None:
        if jobs_per_gpu < 1:
            raise SandboxError("--jobs-per-gpu must be at least 1")
        self.gpu_queue: queue.Queue[str] | None = None
        if gpus:
            self.gpu_queue = queue.Queue()
            for _ in range(jobs_per_gpu):
                for gpu in gpus:
                    self.gpu_queue.put(gpu)
        self.cpu_queue: queue.Queue[str | None] = queue.Queue()
        for cs in (cpu_sets(jobs) if pin_cpus else [None] * jobs):
            self.cpu_queue.put(cs)

    @property
    def concurrency_limit(self) -> int | None:
        """At most this many jobs can hold a GPU at once (None: no GPUs managed)."""
        return self.gpu_queue.qsize() if self.gpu_queue is not None else None

    def acquire(self, timeout: float | None = None) -> Slot | None:
        """Take a slot, waiting up to ``timeout`` seconds (forever if None); None if none freed."""
        try:
            gpu = self.gpu_queue.get(timeout=timeout) if self.gpu_queue is not None else None
        except queue.Empty:
            return None
        try:
            cpus = self.cpu_queue.get(timeout=timeout)
        except queue.Empty:
            if gpu is not None and self.gpu_queue is not None:
                self.gpu_queue.put(gpu)
            return None
        return Slot(gpu_ids=(gpu,) if gpu is not None else (), cpuset=cpus)

    def release(self, slot: Slot) -> None:
        """Give back a slot from :meth:`acquire`."""
        self.cpu_queue.put(slot.cpuset)
        for gpu in slot.gpu_ids:
            if self.gpu_queue is not None:
                self.gpu_queue.put(gpu)

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Hold a slot for the duration of the block (waits until one is free)."""
        taken = self.acquire()
        assert taken is not None
        try:
            yield taken
        finally:
            self.release(taken)

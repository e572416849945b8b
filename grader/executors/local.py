"""Grading on this machine: ``--jobs`` judge processes at once, from a thread pool."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Iterator

from grader.catalogue import Catalogue
from grader.grading import GradeOptions, check_gpus, grade_submission
from grader.judge.launcher import judge_preload, judge_server, reap_judges
from grader.results import CandidateResult
from grader.sandbox.factory import resolve_kind
from grader.sandbox.janitor import Janitor, sweep_batch_end
from grader.sandbox.warm import WarmPool
from grader.scheduling import ResourcePool, gpu_list
from grader.submission import Submission


def wants_prestart(opts: GradeOptions, pool: ResourcePool, submissions: int, cores: int | None = None) -> bool:
    """Whether one thread more than ``opts.jobs`` warms up the next sandbox while the others run.

    Only on a core they leave free: with as many jobs as cores the warm-up only slows the running
    tests (20 submissions, ``--jobs 2`` on 2 cores: 43.4 s with it, 40.9 s without). Never with
    GPUs (a slot's GPU is fixed when its container is made), nor when every submission has a slot.
    """
    cores = cores if cores is not None else len(os.sched_getaffinity(0))
    return (opts.prestart and pool.concurrency_limit is None and submissions > opts.jobs
            and opts.jobs < cores)


class LocalExecutor:
    """The default executor: each submission is graded by a thread that drives one judge process."""

    def __init__(self) -> None:
        self.sandbox = ""
        self.warning = ""
        self._opts: GradeOptions | None = None
        self._pool: ResourcePool | None = None
        self._janitor: Janitor | None = None  # Docker: removes leftover containers (start and end)
        self._warm: WarmPool | None = None  # local sandbox: the nurseries workers are forked from

    def start(self, opts: GradeOptions) -> None:
        """Resolve the sandbox and the GPUs once for the whole batch (errors before any grading)."""
        self._opts = opts
        self.sandbox = resolve_kind(opts.sandbox)
        gpus = gpu_list(opts.gpus, opts.gpu_ids)
        if gpus:
            check_gpus(self.sandbox)
        self._pool = ResourcePool(opts.jobs, gpus, opts.jobs_per_gpu, pin_cpus=self.sandbox == "docker")
        if self.sandbox == "docker":
            self._janitor = Janitor(opts.batch_id)
        if self.sandbox == "local-unconfined":
            from grader.sandbox.local import UNCONFINED_WARNING

            self.warning = UNCONFINED_WARNING
        if self.sandbox == "local" and opts.warm and not gpus:
            self._warm = WarmPool.start()  # None: every worker starts afresh (results say which)

    def grade(self, todo: list[Submission], catalogue: Catalogue, opts: GradeOptions,
              out: Path) -> Iterator[CandidateResult]:
        """Grade ``opts.jobs`` submissions at a time; sources and judge logs go straight to ``out``."""
        assert self._pool is not None, "start() first"
        if not todo:
            return
        cancel = threading.Event()
        # A zygote pays off from the second judge on. For a single submission it would only put
        # its imports before the worker's start, where a plain judge process launches the worker
        # first and imports side by side with it (see grader.judge.warmup).
        shared_imports = len(todo) > 1
        preload = judge_preload(catalogue, opts.exercises, todo) if shared_imports else []
        with judge_server(preload, enabled=shared_imports):
            prestart = wants_prestart(opts, self._pool, len(todo))
            executor = ThreadPoolExecutor(max_workers=max(1, opts.jobs) + int(prestart))
            try:
                reaper = self._janitor.reap if self._janitor is not None else None
                futures = [executor.submit(grade_submission, s, catalogue, opts, self.sandbox, cancel, out / ".logs",
                                           self._pool, out, prestart, reaper, self._warm) for s in todo]
                for fut in as_completed(futures):
                    yield fut.result()
            finally:
                # Reached on Ctrl-C, on an error and when the caller stops early: running judges see
                # the event and are killed within half a second; queued submissions never start.
                cancel.set()
                executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Reap the judges that are still exiting; remove the batch's containers that are left."""
        reap_judges()
        warm, self._warm = self._warm, None
        if warm is not None:
            warm.close()
        janitor, self._janitor = self._janitor, None
        if janitor is not None and janitor.finish():
            return
        if self.sandbox == "docker" and self._opts is not None:
            sweep_batch_end(self._opts.batch_id)  # the janitor could not: do it here

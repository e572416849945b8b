"""Where a batch's submissions are graded: this machine's threads or a Dask cluster.

:func:`grader.grading.grade_batch` owns what every executor shares (finding submissions,
``--resume`` skips, atomic ``results.json`` writes, progress callbacks, ``grades.csv``); an
executor only turns the submissions left to grade into :class:`~grader.results.CandidateResult`
objects, in the order they finish.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

if TYPE_CHECKING:
    from grader.catalogue import Catalogue
    from grader.grading import GradeOptions
    from grader.results import CandidateResult
    from grader.submission import Submission


class BatchExecutor(Protocol):
    """Grades submissions somewhere; :func:`grade_batch` calls start, grade, then close."""

    #: the sandbox named in the batch summary (``docker``, ``local``, ``local-unconfined``, or
    #: ``per-worker`` when each cluster worker picks its own)
    sandbox: str
    #: a warning for the whole batch (the unconfined local sandbox), or ""
    warning: str

    def start(self, opts: GradeOptions) -> None:
        """Get ready (resolve the sandbox, connect to a cluster); raises GraderError if it cannot."""

    def grade(self, todo: list[Submission], catalogue: Catalogue, opts: GradeOptions,
              out: Path) -> Iterator[CandidateResult]:
        """Yield one result per submission as each finishes; the candidate's sources are already
        under ``out/<candidate>/source`` when its result is yielded. Closing the iterator early
        (Ctrl-C, an error while writing) stops the grading still running."""
        ...

    def close(self) -> None:
        """Release what start took (threads, containers left by killed judges, connections)."""

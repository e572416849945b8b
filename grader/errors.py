"""Domain errors. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations


class GraderError(Exception):
    """Base class for errors a user can act on; never shown with a traceback."""

    exit_code = 1


class CatalogueError(GraderError):
    """Malformed or missing exercise metadata."""


class SubmissionError(GraderError):
    """A submission or batch path that cannot be read."""


class SandboxError(GraderError):
    """A sandbox cannot be started (dead Docker engine, missing image, no GPU runtime)."""


class ResultsError(GraderError):
    """Results cannot be read or written (corrupt results.json, full disk)."""


def os_error_line(exc: OSError) -> str:
    """An OSError as its reason and the file it concerns (the destination of a copy)."""
    where = exc.filename2 or exc.filename
    return f"{exc.strerror or exc}" + (f": {where}" if where else "")

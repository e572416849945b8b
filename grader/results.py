"""The results contract, version 1: ``OUT/<candidate>/results.json`` (and ``OUT/grades.csv``).

Other tools read these files, so the models are the single source of truth: every file is
written through them, atomically (temporary file, fsync, rename), and read back through them.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.errors import ResultsError

SCHEMA_VERSION = 1

Outcome = Literal[
    "passed", "failed", "error", "timeout", "memory_limit", "crashed", "missing", "forbidden_api",
    "invalid_submission",
]
SandboxName = Literal["docker", "local", "local-unconfined"]
# Exercise status: how far grading got, not how good the answer was.
ExerciseStatus = Literal["graded", "not_submitted", "import_error", "invalid_submission", "ungraded"]
# Candidate status: "ungraded" means an infrastructure fault stopped grading; never a score of 0.
CandidateStatus = Literal["graded", "invalid_submission", "ungraded"]


class TestResult(BaseModel):
    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")

    id: str
    outcome: Outcome
    points: float
    max_points: float
    message: str = ""
    duration_s: float = 0.0
    hint: str = ""
    visibility: Literal["hidden", "public"] = "hidden"


class ExerciseResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    score: float
    max_score: float
    status: ExerciseStatus
    duration_s: float
    log: str = ""
    peak_memory_mb: float | None = None
    message: str = ""
    tests: list[TestResult] = Field(default_factory=list)


class CandidateResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    candidate: str
    sandbox: SandboxName
    started_at: datetime
    duration_s: float
    environment: dict[str, str] = Field(default_factory=dict)
    score: float
    max_score: float
    status: CandidateStatus = "graded"
    message: str = ""
    exercises: list[ExerciseResult] = Field(default_factory=list)

    def exercise(self, exercise_id: str) -> ExerciseResult | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError while writing ``path`` (into OUT) into one :class:`ResultsError` line."""
    try:
        yield
    except OSError as exc:
        # a file where a folder should be says only "File exists" or "Not a directory" otherwise
        blocking = next((a for a in reversed(path.parents) if a.exists() and not a.is_dir()), None)
        why = f"{blocking} is a file, not a folder" if blocking is not None else exc.strerror or str(exc)
        raise ResultsError(f"cannot write {path}: {why}") from None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def results_path(out: Path, candidate: str) -> Path:
    return out / candidate / "results.json"


def write_result(out: Path, result: CandidateResult) -> Path:
    """Validate and atomically write one candidate's results.json."""
    CandidateResult.model_validate(result.model_dump())
    path = results_path(out, result.candidate)
    atomic_write_text(path, result.model_dump_json(indent=2) + "\n")
    return path


def read_result(path: Path) -> CandidateResult:
    """Read and validate a results.json; a bad file gives one clear line."""
    try:
        return CandidateResult.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ResultsError(f"{path}: not a valid results file ({where}: {err['msg']})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from None


def load_results(out: Path, required: bool = False) -> list[CandidateResult]:
    """Every candidate's results under ``out``, sorted by candidate id; ``required``: at least one."""
    if not out.is_dir():
        raise ResultsError(f"{out}: no such results folder")
    results = [read_result(p) for p in sorted(out.glob("*/results.json"))]
    if required and not results:
        raise ResultsError(f"{out}: no results (expected <candidate>/results.json files)")
    return sorted(results, key=lambda r: r.candidate)


def grades_csv(results: list[CandidateResult]) -> str:
    """One row per candidate, one column per exercise, then total and max (LMS friendly)."""
    exercise_ids = sorted({e.id for r in results for e in r.exercises})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["candidate", *exercise_ids, "total", "max_score", "status", "sandbox"])
    for r in results:
        scores = {e.id: e.score for e in r.exercises}
        writer.writerow([r.candidate, *[_fmt(scores[i]) if i in scores else "" for i in exercise_ids],
                         _fmt(r.score), _fmt(r.max_score), r.status, r.sandbox])
    return buf.getvalue()


def read_grades_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_grades_csv(out: Path, results: list[CandidateResult]) -> Path:
    path = out / "grades.csv"
    atomic_write_text(path, grades_csv(results))
    return path

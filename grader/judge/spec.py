"""What the grading process tells a judge process to do, and what the judge writes back.

The judge runs as its own process (``python -m grader.judge SPEC``) so that each submission's
pytest session starts clean and batches run in parallel. It writes one JSON line per event to a
verdict file that only it can write (it lives outside every sandbox).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, Field, TypeAdapter


class SandboxSpec(BaseModel):
    kind: Literal["local", "local-unconfined", "docker"]
    memory_bytes: int
    cpus: float
    max_processes: int = 256
    gpu_ids: list[str] = Field(default_factory=list)
    cpuset: str | None = None
    image: str | None = None
    log_bytes: int = 64 << 10
    max_message_bytes: int = 512 << 20
    lifetime_s: float | None = None
    #: the grader removes the judge's containers after the judge exits (Docker)
    reaped: bool = False
    #: the batch's warm pool: the local sandbox forks its worker there (grader.sandbox.warm)
    warm_socket: str | None = None


class ExerciseSpec(BaseModel):
    id: str
    root: Path
    solution_dir: Path
    modules: list[str]
    call_timeout_s: float
    total_time_s: float
    memory_bytes: int
    cpus: float
    max_processes: int
    preload: list[str] = Field(default_factory=list)


class JobSpec(BaseModel):
    """One submission: a folder under ``stage/submission/`` graded on some exercises."""

    label: str
    key: str
    exercises: list[str]
    verdicts: Path


class JudgeSpec(BaseModel):
    mode: Literal["hidden", "public"]
    stage: Path
    sandbox: SandboxSpec
    exercises: dict[str, ExerciseSpec]
    jobs: list[JobSpec]
    share_worker: bool = False
    #: torch threads for the judge's own computations (None: torch's default, every core)
    threads: int | None = None
    #: a prestarted judge's start gate (FIFO, :mod:`grader.judge.gate`): warm up, then wait there
    gate: Path | None = None


# ---- verdict file events --------------------------------------------------------------------


class ExpectedEvent(BaseModel):
    type: Literal["expected"] = "expected"
    exercise: str
    test: str
    points: float
    hint: str = ""


class VerdictEvent(BaseModel):
    type: Literal["verdict"] = "verdict"
    exercise: str
    test: str
    outcome: str
    message: str = ""
    duration_s: float = 0.0


class ExerciseEndEvent(BaseModel):
    type: Literal["exercise_end"] = "exercise_end"
    exercise: str
    duration_s: float
    log: str = ""
    peak_memory_mb: float | None = None


class WorkerEvent(BaseModel):
    type: Literal["worker"] = "worker"
    sandbox: str
    info: dict = Field(default_factory=dict)
    warning: str = ""


class JobEndEvent(BaseModel):
    type: Literal["job_end"] = "job_end"
    exit_status: int = 0


class JudgeErrorEvent(BaseModel):
    type: Literal["judge_error"] = "judge_error"
    message: str
    infrastructure: bool = True


Event = Union[ExpectedEvent, VerdictEvent, ExerciseEndEvent, WorkerEvent, JobEndEvent, JudgeErrorEvent]
_EVENT = TypeAdapter(Event)


def read_events(path: Path) -> list[Event]:
    """Read a verdict file; a truncated last line (the judge was killed mid-write) is ignored."""
    events: list[Event] = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            events.append(_EVENT.validate_python(json.loads(line)))
        except ValueError:
            continue
    return events


class EventWriter:
    """Append-only JSON-lines writer, flushed after every event."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("a", encoding="utf-8")

    def write(self, event: BaseModel) -> None:
        self._fh.write(event.model_dump_json() + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

"""Gradescope autograder output, one file per candidate: ``OUT/<candidate>/gradescope.json``.

The format is Gradescope's documented ``results.json`` (gradescope/autograder_samples,
docs/specs.md, "Output format"); :class:`GradescopeResults` models it and every file is
validated through it before it is written. The file is not called ``results.json`` because that
name belongs to the grader's own results contract; a Gradescope ``run_autograder`` script copies
it: ``cp OUT/<candidate>/gradescope.json /autograder/results/results.json``.

Choices:
- every string is sent with the ``text`` format (top-level ``output_format`` defaults to
  ``simple_format``, which renders HTML: candidate output must never be rendered);
- public tests are ``visible``; hidden tests default to ``after_due_date`` (students see their
  name, points and hint once the deadline has passed, so hidden tests cannot be probed by
  resubmitting); callers may choose another visibility;
- ``status`` is set from the outcome, so a test worth 0 points still shows passed or failed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from grader.results import CandidateResult, atomic_write_text

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
OutputFormat = Literal["text", "html", "simple_format", "md", "ansi"]
MAX_OUTPUT = 16 * 1024


class GradescopeTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    name: str | None = None
    name_format: OutputFormat | None = None
    number: str | None = None
    output: str | None = None
    output_format: OutputFormat | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None
    extra_data: dict[str, Any] | None = None


class LeaderboardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    value: float | str
    order: Literal["asc", "desc"] | None = None


class GradescopeResults(BaseModel):
    """The top level of Gradescope's results.json."""

    model_config = ConfigDict(extra="forbid")

    score: float | None = None
    execution_time: float | None = Field(None, ge=0, description="seconds")
    output: str | None = None
    output_format: OutputFormat | None = None
    test_output_format: OutputFormat | None = None
    test_name_format: OutputFormat | None = None
    visibility: Visibility | None = None
    stdout_visibility: Visibility | None = None
    extra_data: dict[str, Any] | None = None
    tests: list[GradescopeTest] | None = None
    leaderboard: list[LeaderboardEntry] | None = None

    @model_validator(mode="after")
    def _score_somewhere(self) -> "GradescopeResults":
        # "score: optional, but required if not on each test case"; "tests: required if no top-level score".
        if self.score is None:
            if not self.tests:
                raise ValueError("either a top-level score or tests are required")
            if any(t.score is None for t in self.tests):
                raise ValueError("score is required on every test when there is no top-level score")
        for x in [self.score, *(t.score for t in self.tests or []), *(t.max_score for t in self.tests or [])]:
            if x is not None and not math.isfinite(x):
                raise ValueError("scores must be finite numbers")
        return self


def _cap(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + f"\n... ({len(text) - MAX_OUTPUT} characters cut)"


def to_gradescope(result: CandidateResult, hidden_visibility: Visibility = "after_due_date",
                  title: Any = None) -> GradescopeResults:
    """Convert one candidate's results. ``title(exercise_id)`` names exercises in test names."""
    tests: list[GradescopeTest] = []
    for n, e in enumerate(result.exercises, 1):
        label = f"{e.id}: {title(e.id)}" if title and title(e.id) != e.id else e.id
        for m, t in enumerate(e.tests, 1):
            lines = [f"outcome: {t.outcome}"]
            if t.hint:
                lines.append(f"checks: {t.hint}")
            if t.message:
                lines.append(t.message)
            tests.append(GradescopeTest(
                score=t.points, max_score=t.max_points, status="passed" if t.outcome == "passed" else "failed",
                name=f"{label} / {t.id}", name_format="text", number=f"{n}.{m}", output=_cap("\n".join(lines)),
                output_format="text", tags=[e.id, t.outcome],
                visibility="visible" if t.visibility == "public" else hidden_visibility,
                extra_data={"exercise": e.id, "test": t.id, "outcome": t.outcome, "duration_s": t.duration_s}))
        if not e.tests:
            tests.append(GradescopeTest(
                score=0.0, max_score=e.max_score, status="failed" if e.max_score > 0 else "passed",
                name=f"{label} / ({e.status})", name_format="text", number=f"{n}.0",
                output=_cap(e.message or e.status), output_format="text", tags=[e.id, e.status], visibility="visible",
                extra_data={"exercise": e.id, "status": e.status}))
    output = f"{result.candidate}: {result.score:g} / {result.max_score:g} ({result.status}); sandbox {result.sandbox}"
    if result.message:
        output += f"\n{result.message}"
    return GradescopeResults(
        score=result.score, execution_time=round(result.duration_s, 3), output=_cap(output), output_format="text",
        test_output_format="text", test_name_format="text", stdout_visibility="hidden", tests=tests,
        extra_data={"candidate": result.candidate, "max_score": result.max_score, "status": result.status,
                    "sandbox": result.sandbox, "schema_version": result.schema_version})


def gradescope_path(out: Path, candidate: str) -> Path:
    return out / candidate / "gradescope.json"


def write_gradescope(out: Path, result: CandidateResult, **kwargs: Any) -> Path:
    doc = to_gradescope(result, **kwargs)
    GradescopeResults.model_validate(doc.model_dump())
    path = gradescope_path(out, result.candidate)
    atomic_write_text(path, doc.model_dump_json(indent=2, exclude_none=True) + "\n")
    return path

"""The authoring gate over the whole catalogue, as CI runs it.

All exercises are validated once (two at a time, in the local sandbox), then each exercise is
its own test: stub 0, reference and alternatives full marks, each mutant failing exactly its
declared tests, metadata and points consistent.
"""

from __future__ import annotations

import pytest

from grader.catalogue import Catalogue, default_root
from grader.sandbox.factory import resolve_kind
from grader.validate import ExerciseCheck, validate

pytestmark = pytest.mark.slow

IDS = Catalogue(default_root()).ids()


@pytest.fixture(scope="session")
def checks(project_catalogue) -> dict[str, ExerciseCheck]:
    return {c.exercise: c for c in validate(project_catalogue, IDS, resolve_kind("local"), jobs=2)}


@pytest.mark.parametrize("exercise_id", IDS)
def test_exercise_passes_the_gate(checks: dict[str, ExerciseCheck], exercise_id: str) -> None:
    check = checks[exercise_id]
    report = "\n".join(check.problems + [f"{v.variant}: {v.problem}" for v in check.variants if not v.ok])
    assert check.ok, report
    assert {v.variant for v in check.variants} >= {"stub", "reference"}
    assert any(v.variant.startswith("alternative:") for v in check.variants)
    assert sum(v.variant.startswith("mutant:") for v in check.variants) >= 3

"""The authoring gate behind ``grader validate``.

For each exercise: metadata is valid and its points add up; the stub scores 0; the reference
and every alternative solution score full marks; every mutant fails exactly the tests it
declares. All variants of an exercise run through the real judge and sandbox, sharing one
worker (they are the authors' code, not candidates').
"""

from __future__ import annotations

import fnmatch
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from grader.catalogue import Catalogue, Exercise
from grader.errors import GraderError
from grader.judge.launcher import judge_server
from grader.grading import GradeOptions, JudgeRun, assemble, exercise_spec, judge_timeout, run_judge, sandbox_spec
from grader.judge.spec import JobSpec, JudgeSpec, read_events
from grader.results import CandidateResult
from grader.sandbox.warm import WarmPool
from grader.staging import new_stage, open_permissions, precompile, remove_stage, stage_common, stage_files


@dataclass
class VariantCheck:
    variant: str
    ok: bool
    score: float
    max_score: float
    problem: str = ""


@dataclass
class ExerciseCheck:
    exercise: str
    problems: list[str] = field(default_factory=list)
    variants: list[VariantCheck] = field(default_factory=list)
    duration_s: float = 0.0
    reference_duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(v.ok for v in self.variants)


def variant_files(ex: Exercise) -> dict[str, list[Path]]:
    """Every variant to run: stub, reference, alternatives and mutants, as module files."""
    variants: dict[str, list[Path]] = {}
    reference = {m: ex.solution_dir / m for m in ex.meta.modules}
    variants["stub"] = [ex.stub_dir / m for m in ex.meta.modules]
    variants["reference"] = list(reference.values())
    for name, folder in ex.alternatives().items():
        variants[f"alternative:{name}"] = [folder / m for m in ex.meta.modules]
    for name, (folder, _meta) in ex.mutants.items():
        # A mutant may change only some modules; the others come from the reference.
        variants[f"mutant:{name}"] = [folder / m if (folder / m).exists() else reference[m] for m in ex.meta.modules]
    return variants


def static_problems(ex: Exercise, variants: dict[str, list[Path]]) -> list[str]:
    problems = []
    for name, files in variants.items():
        for f in files:
            if not f.is_file():
                problems.append(f"{name}: {f} is missing")
    if not ex.hidden_tests.is_dir() or not any(ex.hidden_tests.glob("test_*.py")):
        problems.append(f"{ex.hidden_tests} has no test files")
    if not ex.public_tests.is_dir() or not any(ex.public_tests.glob("test_*.py")):
        problems.append(f"{ex.public_tests} has no test files")
    if not (ex.root / "README.md").is_file():
        problems.append("README.md is missing")
    if len(ex.mutants) < 3:
        problems.append(f"only {len(ex.mutants)} mutants (at least 3 required)")
    if not ex.alternatives():
        problems.append("no alternative solution under solutions/<id>/alternatives/")
    return problems


def judge_variant(result: CandidateResult, variant: str, ex: Exercise) -> VariantCheck:
    e = result.exercises[0]
    score, max_score = e.score, e.max_score
    if result.status == "ungraded":
        return VariantCheck(variant, False, score, max_score, result.message)
    failed = {t.id for t in e.tests if t.outcome != "passed"}
    if variant == "stub":
        ok = score == 0
        problem = "" if ok else f"the stub scores {score:g} (must be 0): passes " + ", ".join(
            t.id for t in e.tests if t.outcome == "passed")
    elif variant == "reference" or variant.startswith("alternative:"):
        ok = score == max_score and max_score > 0
        problem = "" if ok else "fails " + "; ".join(f"{t.id} ({t.outcome}: {t.message.splitlines()[0] if t.message else ''})"
                                                  for t in e.tests if t.outcome != "passed")
        if ok and variant == "reference" and abs(max_score - ex.meta.points) > 1e-9:
            ok, problem = False, f"tests add up to {max_score:g} points but exercise.toml says points = {ex.meta.points:g}"
    else:
        declared = ex.mutants[variant.split(":", 1)[1]][1].fails
        all_ids = [t.id for t in e.tests]
        expected = {t for t in all_ids if any(fnmatch.fnmatchcase(t, pat) for pat in declared)}
        unmatched = [pat for pat in declared if not any(fnmatch.fnmatchcase(t, pat) for t in all_ids)]
        ok = failed == expected and not unmatched
        parts = []
        if unmatched:
            parts.append("declares tests that do not exist: " + ", ".join(unmatched))
        if expected - failed:
            parts.append("passes tests it declares: " + ", ".join(sorted(expected - failed)))
        if failed - expected:
            parts.append("also fails: " + ", ".join(sorted(failed - expected)))
        problem = "; ".join(parts)
    return VariantCheck(variant, ok, score, max_score, problem)


def validate_exercise(ex: Exercise, kind: str, opts: GradeOptions, warm: WarmPool | None = None) -> ExerciseCheck:
    """Grade every variant of ``ex`` (``warm``: fork the worker from the pool's nurseries)."""
    t0 = time.monotonic()
    check = ExerciseCheck(ex.id)
    variants = variant_files(ex)
    check.problems = static_problems(ex, variants)
    runnable = {k: v for k, v in variants.items() if all(f.is_file() for f in v)}
    if "reference" not in runnable:
        return check
    stage = warm.new_stage() if warm is not None else new_stage()
    workdir = Path(tempfile.mkdtemp(prefix="grader-validate-"))
    try:
        stage_common(stage, [ex])
        keys = {}
        for i, (name, files) in enumerate(runnable.items()):
            key = f"v{i}"
            keys[name] = key
            stage_files(stage, key, ex.id, files)
        precompile(stage)
        open_permissions(stage)
        jobs = [JobSpec(label=name, key=key, exercises=[ex.id], verdicts=workdir / f"{key}.jsonl")
                for name, key in keys.items()]
        spec = JudgeSpec(mode="hidden", stage=stage, sandbox=sandbox_spec(kind, [ex], opts, runs=len(jobs), warm=warm),  # type: ignore[arg-type]
                         exercises={ex.id: exercise_spec(ex)}, jobs=jobs, share_worker=True)
        log = workdir / "judge.log"
        code, problem = run_judge(JudgeRun(spec, workdir, log), judge_timeout([ex]) * len(jobs))
        for name, key in keys.items():
            events = read_events(workdir / f"{key}.jsonl")
            submitted = {ex.id: stage / "submission" / key / ex.id}
            result = assemble(name, [ex], events, submitted, datetime.now(timezone.utc), 0.0, kind,
                              problem or (f"judge exited with status {code}" if code else ""))
            if name == "reference":
                check.reference_duration_s = result.exercises[0].duration_s
            check.variants.append(judge_variant(result, name, ex))
    finally:
        remove_stage(stage)
        remove_stage(workdir)
    check.duration_s = time.monotonic() - t0
    return check


def validate(catalogue: Catalogue, ids: list[str] | None, kind: str, jobs: int = 1,
             on_done: Callable[[ExerciseCheck], None] | None = None) -> list[ExerciseCheck]:
    """Run the gate on the given exercises (all when ``ids`` is empty)."""
    checks: list[ExerciseCheck] = []
    exercises: list[Exercise] = []
    for ex_id in ids or catalogue.ids():
        try:
            exercises.append(catalogue.get(ex_id))
        except GraderError as exc:  # malformed metadata is a failed check, not a crash
            check = ExerciseCheck(ex_id, problems=[str(exc)])
            checks.append(check)
            if on_done:
                on_done(check)
    opts = GradeOptions(sandbox=kind)
    preload = sorted({name for ex in exercises for name in ex.meta.preload})
    warm = WarmPool.start() if kind == "local" and len(exercises) > 1 else None
    try:
        with judge_server(preload, enabled=len(exercises) > 1), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for check in pool.map(lambda e: validate_exercise(e, kind, opts, warm), exercises):
                checks.append(check)
                if on_done:
                    on_done(check)
    finally:
        if warm is not None:
            warm.close()
    return checks

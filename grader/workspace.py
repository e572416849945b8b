"""Candidate workspaces: ``grader init`` writes one, ``grader check`` runs its public tests.

A workspace is a submission in the making: ``<dir>/<exercise id>/<module>.py`` (the stub), with
the exercise's README, helpers and public tests beside it. ``check`` grades the workspace with
the catalogue's public tests, through the same judge and sandbox as real grading.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.catalogue import Catalogue, Exercise
from grader.errors import SubmissionError
from grader.grading import GradeOptions, grade_submission
from grader.results import CandidateResult
from grader.sandbox.factory import resolve_kind
from grader.submission import Submission, exercise_ids_in

WORKSPACE_README = """# Your exercises

Fill in each `<exercise>/<module>.py`; the task is in `<exercise>/README.md`.

Check your work with the public tests (they run in the same sandbox as grading):

    grader check {dir}

Hidden tests decide the grade: they compare your functions with a reference solution on
random inputs and edge cases, so make your code correct in general, not just for the public
tests. Hand in this folder (or a .zip of it) as it is.

Exercises:
{listing}
"""


def init_workspace(catalogue: Catalogue, target: Path, ids: list[str] | None, force: bool = False) -> list[Exercise]:
    """Write a candidate workspace with stubs, READMEs, helpers and public tests."""
    exercises = catalogue.select(ids)
    if target.exists() and any(target.iterdir()) and not force:
        existing = [e.id for e in exercises if (target / e.id).exists()]
        if existing:
            raise SubmissionError(f"{target} already holds {', '.join(existing)}; use --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    for ex in exercises:
        dest = target / ex.id
        dest.mkdir(parents=True, exist_ok=True)
        for module in ex.meta.modules:
            shutil.copyfile(ex.stub_dir / module, dest / module)
        shutil.copyfile(ex.root / "README.md", dest / "README.md")
        for path in ex.public_paths():
            rel = path.resolve().relative_to(ex.root.resolve())
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, dest / rel, dirs_exist_ok=True)
            else:
                shutil.copyfile(path, dest / rel)
        tests = dest / "tests"
        tests.mkdir(exist_ok=True)
        for test in sorted(ex.public_tests.glob("test_*.py")):
            shutil.copyfile(test, tests / test.name)
    listing = "\n".join(f"- `{e.id}`: {e.meta.title} ({e.meta.title_zh})" for e in exercises)
    (target / "README.md").write_text(WORKSPACE_README.format(dir=target, listing=listing), encoding="utf-8")
    return exercises


def check_workspace(catalogue: Catalogue, workspace: Path, ids: list[str] | None, sandbox: str = "auto") -> CandidateResult:
    """Run the public tests on a workspace; returns results (nothing is written)."""
    if not workspace.is_dir():
        raise SubmissionError(f"{workspace}: no such folder")
    present = [i for i in exercise_ids_in(workspace) if i in set(catalogue.ids())]
    chosen = ids or present
    if not chosen:
        raise SubmissionError(f"{workspace}: no exercise folders found (run `grader init {workspace}` first)")
    opts = GradeOptions(sandbox=sandbox, exercises=chosen, mode="public")
    sub = Submission(candidate=workspace.resolve().name or "workspace", path=workspace)
    return grade_submission(sub, catalogue, opts, resolve_kind(sandbox))

"""Hostile submissions, graded for real in each sandbox: the harness holds and the score is honest.

One batch per sandbox holds the honest candidate and one candidate per case of
:mod:`hostile_cases`; it is graded once (module-scoped fixture, two jobs at a time, as
``grader grade -j 2`` does) and every assertion reads the results. For each case:

* the attacked tests get the expected outcome, with the expected reason in their message;
* every other test of the submission, including the whole second exercise that shares the
  attacked one's sandbox, scores exactly as the honest candidate's;
* no secret (hidden tests, reference solution, another candidate's files, the grader's
  environment) reaches the candidate's results.json;

and for the batch: the honest candidate scores full marks, and no judge, bubblewrap or worker
process and no container of ours is left. Regrading gives identical scores.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.grading import GradeOptions, grade_batch
from grader.results import CandidateResult, ExerciseResult, read_result

from hostile_cases import (
    ATTACKED,
    CANARIES,
    CASES,
    CATALOGUE,
    CLEAN,
    ENV_CANARY_NAME,
    ENV_CANARY_VALUE,
    Case,
    write_batch,
)

pytestmark = pytest.mark.slow

JOBS = 2
FULL = 11.0  # q91_attacked (8) + q92_clean (3)
PR_SET_CHILD_SUBREAPER = 36
# Command-line fragments of our processes: the judge, bubblewrap, the worker (and its forks).
OUR_PROCESSES = ("grader.judge", "bwrap", "grader_channel")
# Graded once per sandbox and shared: the local batch also serves the determinism test.
_GRADED: dict[str, "Graded"] = {}


@dataclass
class Graded:
    """One sandbox's grading of the hostile batch."""

    sandbox: str
    batch: Path
    out: Path
    seconds: float
    results: dict[str, CandidateResult]
    raw: dict[str, str]  # results.json as written
    leftover_processes: list[str]
    leftover_containers: list[str]
    containers_after_candidate: list[int] = field(default_factory=list)


def need_sandbox(sandbox: str) -> None:
    """Skip where the sandbox cannot run here, except in CI, where that is a failure."""
    if sandbox == "docker":
        from grader.sandbox import docker as docker_sandbox

        ready, why = docker_sandbox.ready(), "no Docker engine or runner image"
    else:
        from grader.sandbox.local import bwrap_status

        ready, why = bwrap_status()
    if not ready:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the {sandbox} sandbox: {why}")
        pytest.skip(f"the {sandbox} sandbox is unavailable: {why}")


def _set_subreaper(on: bool) -> None:
    """Orphans of our descendants (a daemon that escaped its judge) are re-parented to this process,
    so that leftovers can be told apart from the processes of whatever else runs on the host."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)


def our_processes() -> list[str]:
    """Live descendants of this process whose command line is a judge's, bubblewrap's or a worker's."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[str, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, ppid = fields[0], int(fields[1])
        children.setdefault(ppid, []).append(int(entry))
        info[int(entry)] = (state, cmdline)
    found, todo = [], list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        state, cmdline = info.get(pid, ("?", ""))
        if state != "Z" and any(p in cmdline for p in OUR_PROCESSES):
            found.append(f"{pid} {state} {cmdline[:200]}")
    return found


def _batch_containers(batch_id: str, running_only: bool = False) -> list[str]:
    from grader.sandbox.docker import leftovers
    from grader.sandbox.engine import docker_client

    client = docker_client()
    try:
        return [c.name for c in leftovers(client, batch_id) if not running_only or c.status == "running"]
    finally:
        client.close()


def grade_once(variant: str, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """Grade the hostile batch in ``variant`` (once per session): ``local`` (workers forked from a
    warm nursery), ``local-cold`` (the local sandbox, every worker started afresh) or ``docker``."""
    if variant in _GRADED:
        return _GRADED[variant]
    sandbox = "docker" if variant == "docker" else "local"
    need_sandbox(sandbox)
    root = tmp_path_factory.mktemp(f"hostile-{variant}")
    batch, out = root / "batch", root / "out"
    write_batch(batch)
    opts = GradeOptions(sandbox=sandbox, jobs=JOBS, warm=variant != "local-cold")
    after_candidate: list[int] = []

    def on_done(result: CandidateResult) -> None:
        # This candidate's judge has ended, and its container with it (the batch's janitor removes
        # it soon after): only the other running candidates may hold a running container.
        if sandbox == "docker":
            deadline = time.monotonic() + 10  # the engine may take a moment to see it stop
            while len(running := _batch_containers(opts.batch_id, running_only=True)) > JOBS and time.monotonic() < deadline:
                time.sleep(0.2)
            after_candidate.append(len(running))

    os.environ[ENV_CANARY_NAME] = ENV_CANARY_VALUE  # the judges inherit it; no sandbox may see it
    _set_subreaper(True)
    try:
        t0 = time.monotonic()
        summary = grade_batch([batch], out, Catalogue(CATALOGUE), opts, on_done=on_done)
        seconds = time.monotonic() - t0
        time.sleep(1.0)  # a daemon that outlived its sandbox would still be there
        left = our_processes()
    finally:
        _set_subreaper(False)
        os.environ.pop(ENV_CANARY_NAME, None)
    assert summary.sandbox == sandbox
    containers = _batch_containers(opts.batch_id) if sandbox == "docker" else []
    names = ["honest", *(c.name for c in CASES)]
    graded = Graded(
        sandbox=sandbox, batch=batch, out=out, seconds=seconds,
        results={n: read_result(out / n / "results.json") for n in names},
        raw={n: (out / n / "results.json").read_text() for n in names},
        leftover_processes=left, leftover_containers=containers, containers_after_candidate=after_candidate,
    )
    print(f"\nhostile batch of {len(names)} candidates in {variant}: {seconds:.0f} s")
    if variant == "local":
        from grader.sandbox.warm import warm_status

        ok, why = warm_status()
        if not ok and os.environ.get("CI"):
            pytest.fail(f"CI needs warm workers: {why}")
        started = {r.environment.get("worker_start") for r in graded.results.values()}
        assert started == ({"forked from a warm nursery"} if ok else {None}), started
    _GRADED[variant] = graded
    return graded


@pytest.fixture(scope="module", params=["local", "local-cold", pytest.param("docker", marks=pytest.mark.docker)])
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    return grade_once(request.param, tmp_path_factory)


def exercise(result: CandidateResult, ex_id: str) -> ExerciseResult:
    return next(e for e in result.exercises if e.id == ex_id)


def by_case(case: Case) -> str:
    return case.name


# ------------------------------------------------------------------------------ the batch


def test_honest_candidate_scores_full_marks(graded: Graded) -> None:
    result = graded.results["honest"]
    assert result.status == "graded" and result.sandbox == graded.sandbox
    assert (result.score, result.max_score) == (FULL, FULL)
    assert all(t.outcome == "passed" for e in result.exercises for t in e.tests)


def test_nothing_of_ours_is_left(graded: Graded) -> None:
    assert graded.leftover_processes == [], "processes left behind"
    assert graded.leftover_containers == [], "containers left behind"
    if graded.sandbox == "docker":
        # each judge's container ended with it: at most the other running candidates' still ran,
        # and the one prestarted for the next candidate (the janitor removed all by the end)
        assert graded.containers_after_candidate and max(graded.containers_after_candidate) <= JOBS


def test_no_fake_file_reaches_the_output_folder(graded: Graded) -> None:
    """fake_results wrote results.json, verdicts.jsonl... wherever it could: none of it is ours."""
    expected_top = {"grades.csv", ".logs", "honest", *(c.name for c in CASES)}
    assert {p.name for p in graded.out.iterdir()} <= expected_top
    for path in graded.out.rglob("*"):
        assert path.name not in ("verdicts.jsonl", "judge-spec.json"), path
    fake = graded.results["fake_results"]
    assert fake.candidate == "fake_results" and fake.score < 1e9


def test_batch_time(graded: Graded) -> None:
    """The suite's budget: about 4 minutes per sandbox on the 2-core CI machine (limit with slack)."""
    assert graded.seconds < 480, f"grading the hostile batch took {graded.seconds:.0f} s"


# ------------------------------------------------------------------------------ every case


@pytest.mark.parametrize("case", CASES, ids=by_case)
def test_attacked_tests_get_their_verdict(graded: Graded, case: Case) -> None:
    result = graded.results[case.name]
    assert result.status == "graded", result.message
    ex = exercise(result, ATTACKED)
    assert ex.status == ("import_error" if case.import_error else "graded"), ex.message
    tests = {t.id: t for t in ex.tests}
    for test_id, want in case.expected(graded.sandbox).items():
        got = tests[test_id]
        assert got.outcome == want.outcome, f"{test_id}: {got.outcome}: {got.message}"
        assert got.points == (got.max_points if want.outcome == "passed" else 0.0)
        assert want.reason in got.message, f"{test_id}: {got.message}"
    if case.log_contains:
        assert case.log_contains in ex.log


@pytest.mark.parametrize("case", CASES, ids=by_case)
def test_everything_else_scores_as_a_clean_run(graded: Graded, case: Case) -> None:
    honest = graded.results["honest"]
    result = graded.results[case.name]
    attacked = case.expected(graded.sandbox)
    for clean_ex in honest.exercises:
        ex = exercise(result, clean_ex.id)
        tests = {t.id: t for t in ex.tests}
        assert set(tests) == {t.id for t in clean_ex.tests}
        for clean in clean_ex.tests:
            if clean_ex.id == ATTACKED and clean.id in attacked:
                continue
            got = tests[clean.id]
            assert (got.outcome, got.points, got.message) == (clean.outcome, clean.points, clean.message), clean.id
    assert exercise(result, CLEAN).score == exercise(honest, CLEAN).score
    assert exercise(result, CLEAN).status == "graded"
    lost = sum(t.max_points for t in exercise(honest, ATTACKED).tests
               if t.id in attacked and attacked[t.id].outcome != "passed")
    assert result.score == FULL - lost


@pytest.mark.parametrize("case", CASES, ids=by_case)
def test_no_secret_reaches_the_results(graded: Graded, case: Case) -> None:
    raw = graded.raw[case.name]
    assert [c for c in CANARIES if c in raw] == []
    # what the candidate printed is kept, capped
    for ex in graded.results[case.name].exercises:
        assert len(ex.log.encode()) <= (64 << 10) + 200


# ------------------------------------------------------------------------------ determinism

REGRADED = ["nan_inf", "infinite_loop", "fork_bomb"]


def _scores(out: Path, names: list[str]) -> dict[str, list[tuple[str, str, str, float]]]:
    table = {}
    for name in names:
        result = read_result(out / name / "results.json")
        table[name] = [(e.id, t.id, t.outcome, t.points) for e in result.exercises for t in e.tests]
        table[name].append(("total", "", result.status, result.score))
    return table


def test_three_regrades_give_identical_scores(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Part of the hostile batch graded three times: the same verdicts and scores.

    The first grading is the local hostile batch's; the second is a local regrade; the third is
    the Docker grading where it ran (the same scores are expected in every sandbox), else
    another local regrade.
    """
    first = grade_once("local", tmp_path_factory)
    names = ["honest", *REGRADED]
    batch = tmp_path_factory.mktemp("regrade") / "batch"
    batch.mkdir()
    for name in names:
        shutil.copytree(first.batch / name, batch / name)
    runs = [_scores(first.out, names)]
    for i in (2, 3):
        if i == 3 and "docker" in _GRADED:
            runs.append(_scores(_GRADED["docker"].out, names))
            continue
        out = batch.parent / f"out{i}"
        grade_batch([batch], out, Catalogue(CATALOGUE), GradeOptions(sandbox="local", jobs=JOBS))
        runs.append(_scores(out, names))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0]["honest"][-1] == ("total", "", "graded", FULL)

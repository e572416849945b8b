"""Grading: submissions in, results out.

:func:`grade_batch` is the library entry point behind ``grader grade``: it unpacks each
submission, stages it, runs a judge process over it (one per candidate, ``jobs`` at a time),
turns the judge's events into a :class:`~grader.results.CandidateResult` and writes it
atomically. A failed submission becomes a result, never a crashed batch.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from grader.catalogue import Catalogue, Exercise
from grader.errors import GraderError, ResultsError, SandboxError, os_error_line
from grader.forbidden import find_violations
from grader.judge.gate import Go, make_gate, open_gate
from grader.judge.launcher import judge_environment, launch_judge
from grader.judge.spec import (
    ExerciseEndEvent,
    ExerciseSpec,
    ExpectedEvent,
    JobEndEvent,
    JobSpec,
    JudgeErrorEvent,
    JudgeSpec,
    SandboxSpec,
    VerdictEvent,
    WorkerEvent,
    read_events,
)
from grader.results import (
    CandidateResult,
    ExerciseResult,
    TestResult,
    read_result,
    results_path,
    write_grades_csv,
    write_result,
    writing,
)
from grader.scheduling import ResourcePool, Slot, gpu_list
from grader.staging import new_stage, open_permissions, precompile, remove_stage, stage_common, stage_submission
from grader.submission import InvalidSubmission, Submission, discover, exercise_ids_in, unpack

if TYPE_CHECKING:
    from grader.executors import BatchExecutor
    from grader.sandbox.warm import WarmPool

IMPORT_FAILED = "import failed: "
WORKER_START_ALLOWANCE_S = 180.0


@dataclass
class GradeOptions:
    """How to grade; the CLI fills it from its flags."""

    sandbox: str = "auto"
    jobs: int = 1
    resume: bool = False
    exercises: list[str] | None = None
    memory_mb: int | None = None
    cpus: float | None = None
    gpu_ids: list[str] = field(default_factory=list)
    gpus: int | None = None
    jobs_per_gpu: int = 1
    mode: str = "hidden"
    image: str | None = None
    #: warm up the next submission's sandbox while the current ones run (never with GPUs)
    prestart: bool = True
    #: local sandbox: fork each worker from a warm nursery instead of starting it afresh
    warm: bool = True
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass
class JudgeRun:
    """Where one judge process reads and writes."""

    spec: JudgeSpec
    workdir: Path
    log: Path
    #: seconds a prestarted judge waited for a slot (not the submission's grading time)
    waited_s: float = 0.0


def exercise_spec(ex: Exercise, memory_mb: int | None = None, cpus: float | None = None) -> ExerciseSpec:
    lim = ex.meta.limits
    return ExerciseSpec(
        id=ex.id, root=ex.root.resolve(), solution_dir=ex.solution_dir.resolve(), modules=ex.meta.modules,
        call_timeout_s=lim.call_timeout_s, total_time_s=lim.total_time_s,
        memory_bytes=(memory_mb or lim.memory_mb) << 20, cpus=cpus or lim.cpus,
        max_processes=lim.max_processes, preload=ex.meta.preload,
    )


def sandbox_spec(kind: str, exercises: list[Exercise], opts: GradeOptions, slot: Slot | None = None,
                 runs: int = 1, wait_s: float = 0.0, reaped: bool = False,
                 warm: WarmPool | None = None) -> SandboxSpec:
    """Limits for a submission's sandbox: the largest among its exercises, unless overridden.

    ``wait_s``: how long a prestarted sandbox may wait for its turn before its tests start.
    ``reaped``: its containers are removed for the judge once it has exited (see :func:`run_judge`).
    ``warm``: the batch's pool of warm nurseries (local sandbox without GPUs).
    """
    memory_mb = opts.memory_mb or max((e.meta.limits.memory_mb for e in exercises), default=2048)
    cpus = opts.cpus or max((e.meta.limits.cpus for e in exercises), default=1.0)
    procs = max((e.meta.limits.max_processes for e in exercises), default=256)
    slot = slot or Slot()
    # The sandbox holds the zygote and a relay besides the test's child: give it headroom.
    return SandboxSpec(kind=kind, memory_bytes=(memory_mb + 512) << 20, cpus=cpus, max_processes=procs,
                       gpu_ids=list(slot.gpu_ids), cpuset=slot.cpuset, image=opts.image,
                       lifetime_s=judge_timeout(exercises) * runs + wait_s + 60, reaped=reaped and kind == "docker",
                       warm_socket=str(warm.socket_path) if warm is not None and kind == "local" and not slot.gpu_ids
                       else None)


def judge_timeout(exercises: list[Exercise]) -> float:
    return sum(e.meta.limits.total_time_s + e.meta.limits.call_timeout_s for e in exercises) + WORKER_START_ALLOWANCE_S


def longest_judge(catalogue: Catalogue, opts: GradeOptions) -> float:
    """The longest any submission of the batch may hold a slot: a prestarted judge's longest wait."""
    exercises = []
    for ex_id in opts.exercises or catalogue.ids():
        try:
            exercises.append(catalogue.get(ex_id))
        except GraderError:
            continue  # a broken exercise is reported where a submission uses it
    return judge_timeout(exercises)


@dataclass
class Admission:
    """How a prestarted judge gets its turn: a slot from ``pool``, then a go through ``gate``."""

    pool: ResourcePool
    gate: Path


def run_judge(run: JudgeRun, timeout: float, cancel: threading.Event | None = None,
              batch_id: str = "", admission: Admission | None = None,
              reaper: Callable[[str], bool] | None = None) -> tuple[int | None, str]:
    """Run a judge process; returns (exit status or None if it was killed, reason).

    With ``admission`` the judge warms up at once and its ``timeout`` starts when it gets a slot.
    ``reaper``: asked to remove the containers of a judge that ended (by its job id) when its spec
    says ``reaped``; returns False when it cannot, and they are removed here.
    """
    spec_path = run.workdir / "judge-spec.json"
    spec_path.write_text(run.spec.model_dump_json())
    env = judge_environment({k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONSTARTUP"))})
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    job_id = uuid.uuid4().hex[:12]
    env["GRADER_JOB_ID"] = job_id  # labels this judge's containers
    if batch_id:
        env["GRADER_BATCH_ID"] = batch_id  # and this batch's
    code: int | None = None
    try:
        code, reason = _run_judge_process(spec_path, run.log, env, timeout, cancel, admission, run)
        return code, reason
    finally:
        if run.spec.sandbox.kind == "docker" and code not in (0, 3):
            # A judge killed on timeout or Ctrl-C, or one that crashed, cannot have removed its
            # own containers: removed now, before its result is reported.
            _remove_containers(job=job_id)
        elif run.spec.sandbox.reaped and not (reaper is not None and reaper(job_id)):
            # One that ended left them to the reaper (a judge without one removed its own; the
            # batch's last sweep checks again either way).
            _remove_containers(job=job_id)


class _Judge:
    """A launched judge whose exit status can be asked for more than once."""

    def __init__(self, spec_path: Path, log_path: Path, env: dict[str, str]) -> None:
        self.proc = launch_judge(spec_path, log_path, env)
        self.code: int | None = None
        self.done = False

    def wait(self, timeout: float) -> int | None:
        if not self.done:
            self.code = self.proc.wait(timeout)
            self.done = self.code is not None
        return self.code

    def alive(self) -> bool:
        return self.wait(0) is None

    def kill(self) -> None:
        if not self.done:
            self.proc.kill()


def _run_judge_process(spec_path: Path, log_path: Path, env: dict[str, str], timeout: float,
                       cancel: threading.Event | None, admission: Admission | None = None,
                       run: JudgeRun | None = None) -> tuple[int | None, str]:
    judge = _Judge(spec_path, log_path, env)
    slot: Slot | None = None
    try:
        if admission is not None:
            t0 = time.monotonic()
            # Warming up while every slot is busy: wait for one (or for the judge's early end).
            while slot is None:
                if judge.wait(0) is not None:
                    return judge.code, ""
                if cancel is not None and cancel.is_set():
                    judge.kill()
                    return None, "grading was interrupted"
                slot = admission.pool.acquire(timeout=0.2)
            if run is not None:
                run.waited_s = time.monotonic() - t0
        deadline = time.monotonic() + timeout
        if admission is not None and slot is not None:
            if not open_gate(admission.gate, Go(cpuset=slot.cpuset), judge.alive, deadline):
                if judge.wait(5.0) is not None:
                    return judge.code, ""
                judge.kill()
                return None, f"the judge did not get ready within its overall limit of {timeout:.0f} s"
        while True:
            code = judge.wait(0.5)
            if code is not None:
                return code, ""
            reason = ""
            if time.monotonic() > deadline:
                reason = f"the judge ran past its overall limit of {timeout:.0f} s"
            elif cancel is not None and cancel.is_set():
                reason = "grading was interrupted"
            if reason:
                judge.kill()
                return None, reason
    finally:
        if admission is not None and slot is not None:
            admission.pool.release(slot)


def _tail(path: Path, n: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


MAX_SOURCE_BYTES = 256 << 10


def copy_sources(submitted: dict[str, Path | None], exercises: list[Exercise], dest: Path) -> None:
    """Keep the candidate's modules beside its results, for the report (regular files only, capped).

    Raises :class:`ResultsError` when the results folder cannot take them (a full disk).
    """
    import shutil

    shutil.rmtree(dest, ignore_errors=True)
    for ex in exercises:
        folder = submitted.get(ex.id)
        if folder is None:
            continue
        for name in ex.meta.modules:
            path = folder / name
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SOURCE_BYTES:
                target = dest / ex.id / name
                with writing(target):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)


def start_judge_log(log: Path) -> None:
    """Create (or empty) a judge's log; :class:`ResultsError` when its folder cannot take it."""
    with writing(log):
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")


def forbidden_test(ex: Exercise, submitted_dir: Path | None, any_passed: bool = True) -> TestResult | None:
    """The forbidden-API rule of an exercise as a test of its own."""
    rule = ex.meta.forbidden
    if not (rule.apis or rule.attributes):
        return None
    hint = rule.hint or "does not call the library functions the exercise asks you to write yourself"
    if submitted_dir is None or not submitted_dir.is_dir():
        return TestResult(id="forbidden_api", outcome="missing", points=0, max_points=rule.points,
                          message="exercise not submitted", hint=hint)
    problems: list[str] = []
    # The public tests handed out with the workspace may use what candidates may not.
    shipped = {p.read_bytes() for p in ex.public_tests.glob("*.py")} if ex.public_tests.is_dir() else set()
    for path in sorted(submitted_dir.rglob("*.py")):
        if path.read_bytes() in shipped:
            continue
        source = path.read_text(encoding="utf-8", errors="replace")
        problems += [v.describe(path.relative_to(submitted_dir).as_posix())
                     for v in find_violations(source, rule.apis, rule.attributes)]
    if problems:
        return TestResult(id="forbidden_api", outcome="forbidden_api", points=0, max_points=rule.points,
                          message="\n".join(problems[:20]), hint=hint)
    if not any_passed:
        return TestResult(id="forbidden_api", outcome="failed", points=0, max_points=rule.points, hint=hint,
                          message="no points for this rule until another test of the exercise passes")
    return TestResult(id="forbidden_api", outcome="passed", points=rule.points, max_points=rule.points, hint=hint)


def assemble(candidate: str, exercises: list[Exercise], events: list, submitted: dict[str, Path | None],
             started_at: datetime, duration_s: float, sandbox_name: str, judge_problem: str,
             visibility: str = "hidden") -> CandidateResult:
    """Turn a judge's events into the candidate's results; tests without a verdict score 0."""
    expected: dict[str, list[ExpectedEvent]] = {e.id: [] for e in exercises}
    verdicts: dict[tuple[str, str], VerdictEvent] = {}
    ends: dict[str, ExerciseEndEvent] = {}
    env: dict[str, str] = {"python": sys.version.split()[0]}
    infra = ""
    finished = False
    for ev in events:
        if isinstance(ev, ExpectedEvent) and ev.exercise in expected:
            expected[ev.exercise].append(ev)
        elif isinstance(ev, VerdictEvent):
            verdicts.setdefault((ev.exercise, ev.test), ev)
        elif isinstance(ev, ExerciseEndEvent):
            ends[ev.exercise] = ev
        elif isinstance(ev, WorkerEvent):
            env.update({f"worker_{k}" if k in ("python", "uid") else k: str(v) for k, v in ev.info.items()})
            if ev.warning:
                env["warning"] = ev.warning
        elif isinstance(ev, JudgeErrorEvent):
            infra = ev.message
        elif isinstance(ev, JobEndEvent):
            finished = True
    if not finished and not infra:
        infra = judge_problem or "the judge ended without finishing"
    no_verdict = f"no verdict was recorded for this test ({infra or judge_problem or 'the judge stopped early'})"
    ex_results: list[ExerciseResult] = []
    for ex in exercises:
        sub_dir = submitted.get(ex.id)
        tests: list[TestResult] = []
        for exp in expected[ex.id]:
            v = verdicts.get((ex.id, exp.test))
            outcome = v.outcome if v else "crashed"
            points = exp.points if outcome == "passed" else 0.0
            tests.append(TestResult(id=exp.test, outcome=outcome, points=points, max_points=exp.points,  # type: ignore[arg-type]
                                    message=v.message if v else no_verdict, duration_s=v.duration_s if v else 0.0,
                                    hint=exp.hint, visibility=visibility))  # type: ignore[arg-type]
        rule = forbidden_test(ex, sub_dir, any(t.outcome == "passed" for t in tests))
        if rule is not None:
            tests.append(rule)
        end = ends.get(ex.id)
        status = "graded"
        message = ""
        if sub_dir is None:
            status, message = "not_submitted", f"{ex.id}/ was not in the submission"
        elif any(t.message.startswith(IMPORT_FAILED) for t in tests):
            status = "import_error"
            message = next(t.message for t in tests if t.message.startswith(IMPORT_FAILED))
        if infra and (not end or any(not verdicts.get((ex.id, e.test)) for e in expected[ex.id])):
            status = "ungraded"
        ex_results.append(ExerciseResult(
            id=ex.id, score=round(sum(t.points for t in tests), 6), max_score=round(sum(t.max_points for t in tests), 6),
            status=status, duration_s=end.duration_s if end else 0.0, log=end.log if end else "",  # type: ignore[arg-type]
            peak_memory_mb=end.peak_memory_mb if end else None, message=message, tests=tests))
    result = CandidateResult(
        candidate=candidate, sandbox=sandbox_name, started_at=started_at, duration_s=round(duration_s, 3),  # type: ignore[arg-type]
        environment=env, score=round(sum(e.score for e in ex_results), 6),
        max_score=round(sum(e.max_score for e in ex_results), 6), exercises=ex_results,
    )
    if infra:
        result.status = "ungraded"
        result.message = f"infrastructure error, not the candidate's fault: {infra}"
    return result


def environment_versions() -> dict[str, str]:
    """Versions recorded in every result (from package metadata: importing torch here costs seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    info = {"grader": _grader_version()}
    for name in ("torch", "transformers"):
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            pass
    return info


def _grader_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("grader")
    except PackageNotFoundError:
        return "dev"


def invalid_result(candidate: str, exercises: list[Exercise], reason: str, sandbox_name: str,
                   started_at: datetime) -> CandidateResult:
    """Results for a submission that cannot be graded at all (broken archive, links...)."""
    ex_results = []
    for ex in exercises:
        tests = [TestResult(id="submission", outcome="invalid_submission", points=0, max_points=ex.meta.points,
                            message=reason)]
        ex_results.append(ExerciseResult(id=ex.id, score=0, max_score=ex.meta.points, status="invalid_submission",
                                         duration_s=0, message=reason, tests=tests))
    return CandidateResult(candidate=candidate, sandbox=sandbox_name, started_at=started_at,  # type: ignore[arg-type]
                           duration_s=0.0, score=0, max_score=sum(e.max_score for e in ex_results),
                           status="invalid_submission", message=reason, exercises=ex_results,
                           environment={"python": sys.version.split()[0]})


def ungraded_result(candidate: str, exercises: list[Exercise], message: str, sandbox_name: str,
                    started_at: datetime, environment: dict[str, str] | None = None) -> CandidateResult:
    """An ``ungraded`` result (never a 0): grading could not happen here; ``--resume`` tries again."""
    ex_results = [ExerciseResult(id=ex.id, score=0, max_score=ex.meta.points, status="ungraded", duration_s=0,
                                 message=message) for ex in exercises]
    return CandidateResult(candidate=candidate, sandbox=sandbox_name, started_at=started_at,  # type: ignore[arg-type]
                           duration_s=0.0, score=0, max_score=sum(e.max_score for e in ex_results),
                           status="ungraded", message=message, exercises=ex_results,
                           environment=environment or {"python": sys.version.split()[0]})


def grade_submission(sub: Submission, catalogue: Catalogue, opts: GradeOptions, kind: str,
                     cancel: threading.Event | None = None, judge_log_dir: Path | None = None,
                     pool: ResourcePool | None = None, source_out: Path | None = None,
                     prestart: bool = False, reaper: Callable[[str], bool] | None = None,
                     warm: WarmPool | None = None) -> CandidateResult:
    """Grade one submission in its own sandbox and return its results (never raises for bad code).

    ``prestart``: start the judge and its sandbox before a slot of ``pool`` is free, so that its
    worker warms up while other submissions run. ``reaper``: removes a judge's Docker containers
    after it exits (the batch's :class:`~grader.sandbox.janitor.Janitor`), so that the judge
    does not wait for that itself. ``warm``: the batch's pool of warm nurseries (local sandbox),
    which forks the worker instead of starting it afresh; the stage is made in its spool.
    """
    started_at = datetime.now(timezone.utc)
    t0 = time.monotonic()
    workdir: Path | None = None
    stage: Path | None = None
    try:
        workdir = Path(tempfile.mkdtemp(prefix="grader-job-"))
        stage = warm.new_stage() if warm is not None else new_stage()
        unpacked = workdir / "unpacked"
        requested = catalogue.select(opts.exercises) if opts.exercises else None
        try:
            unpack(sub, unpacked)
        except InvalidSubmission as exc:
            return invalid_result(sub.candidate, requested or [], str(exc), kind, started_at)
        ids = opts.exercises or [i for i in exercise_ids_in(unpacked) if i in set(catalogue.ids())]
        if not ids:
            present = ", ".join(exercise_ids_in(unpacked)) or "none"
            return invalid_result(sub.candidate, [], f"no known exercise folders in the submission (found: {present})",
                                  kind, started_at)
        exercises = catalogue.select(ids)
        no_gpu = [e.id for e in exercises if e.meta.limits.gpu == "required" and not (opts.gpu_ids or opts.gpus)]
        if no_gpu:
            return ungraded_result(sub.candidate, exercises,
                                   f"{', '.join(no_gpu)} require a GPU: grade with --gpus N or --gpu-ids", kind, started_at)
        stage_common(stage, exercises)
        present = stage_submission(stage, "candidate", unpacked, ids)
        precompile(stage)
        open_permissions(stage)
        submitted = {i: (unpacked / i if i in present else None) for i in ids}
        if source_out is not None:
            copy_sources(submitted, exercises, source_out / sub.candidate / "source")
        log = (judge_log_dir / f"{sub.candidate}.judge.log") if judge_log_dir else workdir / "judge.log"
        start_judge_log(log)
        pool = pool or ResourcePool(1, gpu_list(opts.gpus, opts.gpu_ids), opts.jobs_per_gpu)

        def judge_spec(sandbox: SandboxSpec, gate: Path | None = None) -> JudgeSpec:
            return JudgeSpec(mode=opts.mode, stage=stage, sandbox=sandbox,
                             exercises={e.id: exercise_spec(e, opts.memory_mb, opts.cpus) for e in exercises},
                             jobs=[JobSpec(label=sub.candidate, key="candidate", exercises=ids,
                                           verdicts=workdir / "verdicts.jsonl")],
                             # concurrent judges share the cores instead of each taking them all
                             threads=max(1, (os.cpu_count() or 1) // opts.jobs) if opts.jobs > 1 else None,
                             gate=gate)

        if prestart and pool.concurrency_limit is None:
            # Start the sandbox now and take a slot when one frees: the GPU of a slot is fixed
            # when its container is made, so GPU batches never prestart.
            gate = make_gate(workdir / "gate")
            spec = judge_spec(sandbox_spec(kind, exercises, opts, wait_s=longest_judge(catalogue, opts),
                                           reaped=reaper is not None, warm=warm), gate)
            prestarted = JudgeRun(spec, workdir, log)
            code, problem = run_judge(prestarted, judge_timeout(exercises), cancel, opts.batch_id, Admission(pool, gate),
                                      reaper)
            t0 += prestarted.waited_s  # waiting for a slot is not grading time
        else:
            with pool.slot() as slot:
                spec = judge_spec(sandbox_spec(kind, exercises, opts, slot, reaped=reaper is not None, warm=warm))
                code, problem = run_judge(JudgeRun(spec, workdir, log), judge_timeout(exercises), cancel, opts.batch_id,
                                          reaper=reaper)
        if code not in (0, 3, None) and not problem:
            problem = f"the judge exited with status {code}: {_tail(log, 600)}"
        events = read_events(workdir / "verdicts.jsonl")
        result = assemble(sub.candidate, exercises, events, submitted, started_at, time.monotonic() - t0,
                          kind, problem, visibility="hidden" if opts.mode == "hidden" else "public")
        result.environment.update(environment_versions())
        return result
    except OSError as exc:
        # This machine, not the candidate's code, failed (a full /tmp, a read-only folder): the
        # batch stops with one line and keeps what it wrote; --resume goes on from here.
        raise GraderError(f"cannot grade {sub.candidate}: {os_error_line(exc)}") from None
    finally:
        for folder in (stage, workdir):
            if folder is not None:
                remove_stage(folder)


@dataclass
class BatchSummary:
    results: list[CandidateResult]
    skipped: list[str]
    sandbox: str
    warning: str


def grade_batch(paths: Iterable[Path], out: Path, catalogue: Catalogue, opts: GradeOptions,
                on_start: Callable[[int], None] | None = None,
                on_done: Callable[[CandidateResult], None] | None = None,
                on_skip: Callable[[str], None] | None = None,
                executor: BatchExecutor | None = None) -> BatchSummary:
    """Grade every submission under ``paths`` into ``out``; finished candidates are kept on resume.

    ``executor`` says where submissions are graded (default: this machine, ``opts.jobs`` at a
    time; :class:`grader.executors.dask.DaskExecutor`: a Dask cluster). Whatever grades them,
    results are written here, one by one as they finish, with the same resume and progress logic.
    """
    subs = discover(list(paths))
    if executor is None:
        from grader.executors.local import LocalExecutor

        executor = LocalExecutor()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"cannot make the results folder {out}: {exc.strerror or exc}") from None
    executor.start(opts)
    todo: list[Submission] = []
    skipped: list[str] = []
    for sub in subs:
        path = results_path(out, sub.candidate)
        if opts.resume and path.exists():
            try:
                previous = read_result(path)
            except GraderError:
                previous = None
            if previous is not None and previous.status != "ungraded":
                skipped.append(sub.candidate)
                if on_skip:
                    on_skip(sub.candidate)
                continue
        todo.append(sub)
    results: list[CandidateResult] = []
    try:
        if on_start:
            on_start(len(todo))
        # closing(): Ctrl-C or a failed write here stops the executor's running judges at once
        with closing(executor.grade(todo, catalogue, opts, out)) as finished:
            for result in finished:
                write_result(out, result)
                results.append(result)
                if on_done:
                    on_done(result)
    except BaseException:
        try:
            executor.close()
            _write_summary_files(out)
        except GraderError:
            pass  # e.g. the disk is still full: the first error is the one to report
        raise
    executor.close()
    _write_summary_files(out)
    return BatchSummary(results=sorted(results, key=lambda r: r.candidate), skipped=skipped,
                        sandbox=executor.sandbox, warning=executor.warning)


def check_gpus(kind: str) -> None:
    """GPUs were asked for: the sandbox must be able to give them, else one clear error."""
    if kind == "docker":
        from grader.sandbox.engine import docker_client, gpu_runtime_available

        client = docker_client()
        try:
            if not gpu_runtime_available(client):
                raise SandboxError("GPUs were requested but the Docker engine has no GPU runtime "
                                   "(install nvidia-container-toolkit) ")
        finally:
            client.close()
    elif not Path("/dev/nvidiactl").exists():
        raise SandboxError("GPUs were requested but this host has no NVIDIA GPU devices (/dev/nvidiactl)")


def _remove_containers(batch_id: str | None = None, job: str | None = None) -> None:
    """Containers left by a killed judge (Ctrl-C, judge timeout) are removed by label."""
    from grader.sandbox.docker import remove_leftovers

    try:
        remove_leftovers(batch_id, job)
    except GraderError:
        pass


def _write_summary_files(out: Path) -> None:
    from grader.results import load_results

    try:
        all_results = load_results(out)
    except GraderError:
        return
    write_grades_csv(out, all_results)

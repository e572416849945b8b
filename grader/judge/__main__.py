"""``python -m grader.judge SPEC.json``: run the tests of each job in the spec.

Exit status: 0 when every job ran (whatever the scores), 3 on an infrastructure error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

# Only light imports here: a judge started as a plain subprocess launches its first sandbox
# before it imports torch and pytest (see run()).
from grader.errors import SandboxError
from grader.judge.gate import wait_at_gate
from grader.judge.launcher import report_done, take_done_fd
from grader.judge.spec import EventWriter, JobEndEvent, JudgeErrorEvent, JudgeSpec, WorkerEvent
from grader.judge.warmup import WorkerWarmup
from grader.sandbox.base import Sandbox
from grader.sandbox.factory import sandbox_from_spec

if TYPE_CHECKING:
    from grader.channel.client import WorkerSession

INI = Path(__file__).with_name("pytest.ini")


def pytest_args(spec: JudgeSpec, job_exercises: list[str]) -> list[str]:
    sub = "hidden" if spec.mode == "hidden" else "public"
    args = [
        "-c", str(INI), "--rootdir", str(next(iter(spec.exercises.values())).root.parent),
        "--noconftest", "--import-mode=importlib", "-p", "no:cacheprovider", "-p", "no:stepwise",
        "-q", "--no-header", "-rN",
        # Verdict messages come from our own classification, never from pytest's report: only the
        # judge log shows these tracebacks, and "native" skips the source parsing of "short"
        # (about 0.1 s per failed test).
        "--tb=native",
        # Its clean-up runs gc.collect() five times over a heap holding torch: seconds per
        # submission, to report unraisable exceptions nobody reads.
        "-p", "no:unraisableexception",
    ]
    if spec.mode == "hidden":
        # No assertion introspection: messages must not reveal hidden inputs or expected values.
        args.append("--assert=plain")
    for ex_id in job_exercises:
        folder = spec.exercises[ex_id].root / "tests" / sub
        if folder.is_dir():
            args.append(str(folder))
    return args


def _gate_keeper(gate: Path, sandbox: Sandbox, session: "WorkerSession",
                 warmup: WorkerWarmup | None) -> Callable[[], None]:
    """Before the first test: finish warming up, wait for the grader's go, take the slot's CPUs."""

    def before_tests() -> None:
        if warmup is not None:
            warmup.join()
        go = wait_at_gate(gate)
        try:
            sandbox.pin_cpus(go.cpuset, session.process)
        except SandboxError as exc:
            # Unpinned is still correct, only less fair to a concurrent job; an engine that is
            # really gone shows up in the first test, as the harness's fault.
            print(f"grader judge: {exc}", file=sys.stderr)

    return before_tests


def run(spec: JudgeSpec) -> int:
    try:
        sandbox = sandbox_from_spec(spec.sandbox)
    except Exception as exc:  # e.g. the Docker engine is gone: every job is ungraded, with the reason
        for job in spec.jobs:
            writer = EventWriter(job.verdicts)
            writer.write(JudgeErrorEvent(message=f"the {spec.sandbox.kind} sandbox is unavailable: {exc}"))
            writer.close()
        return 3
    # The first worker starts now: in a fresh judge process its torch import then runs side by
    # side with the judge's own imports below (in a judge forked from the zygote they are done).
    first_warmup = WorkerWarmup(sandbox, spec.stage) if spec.jobs else None

    import pytest

    from grader.channel.client import WorkerSession
    from grader.judge.plugin import GraderPlugin

    if spec.threads:
        import torch

        torch.set_num_threads(spec.threads)
    shared = WorkerSession(sandbox, spec.stage) if spec.share_worker else None
    status = 0
    for n, job in enumerate(spec.jobs):
        writer = EventWriter(job.verdicts)
        session = shared or WorkerSession(sandbox, spec.stage)
        warmup = None
        if n == 0 or shared is None:
            first = spec.exercises[job.exercises[0]] if job.exercises else None
            launched = first_warmup if n == 0 else WorkerWarmup(sandbox, spec.stage)
            assert launched is not None
            warmup = launched.bind(session, first.preload if first else [])
        before_tests = None
        if n == 0 and spec.gate is not None:
            before_tests = _gate_keeper(spec.gate, sandbox, session, warmup)
        writer.write(WorkerEvent(sandbox=sandbox.name, info=sandbox.environment(), warning=sandbox.warning))
        plugin = GraderPlugin(spec, job, session, writer, sandbox.stage_root_inside(spec.stage), warmup, before_tests)
        args = pytest_args(spec, job.exercises)
        try:
            code = pytest.main(args, plugins=[plugin])
        except Exception as exc:  # a judge bug must not pass silently as a score
            writer.write(JudgeErrorEvent(message=f"judge failed: {type(exc).__name__}: {exc}"))
            code = 3
        finally:
            if shared is None:
                session.close()
        if not plugin.infrastructure_error:
            # A worker that died with the engine looks like a crash: never score that as one.
            problem = sandbox.infrastructure_problem()
            if problem:
                plugin.infrastructure_error = problem
                writer.write(JudgeErrorEvent(message=problem))
        if plugin.infrastructure_error:
            status = 3
        writer.write(WorkerEvent(sandbox=sandbox.name, info={**sandbox.environment(), **{
            k: str(v) for k, v in session.hello.items() if k in ("python", "torch", "uid")},
            "worker_starts": str(session.starts)}, warning=sandbox.warning))
        writer.write(JobEndEvent(exit_status=int(code)))
        writer.close()
        if plugin.infrastructure_error:
            break
    if shared is not None:
        shared.close()
    return status


def main() -> None:
    take_done_fd()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ.pop("PYTEST_ADDOPTS", None)
    spec = JudgeSpec.model_validate_json(Path(sys.argv[1]).read_text())
    code = run(spec)
    # Everything the grader reads is written and closed by now. A normal interpreter exit would
    # then tear down torch's and pytest's modules one by one: over a second per submission.
    sys.stdout.flush()
    sys.stderr.flush()
    report_done(code)
    os._exit(code)


if __name__ == "__main__":
    main()

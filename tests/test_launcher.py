"""The judge's start-up environment (grader/judge/launcher.py)."""

from __future__ import annotations

import pytest

from grader.judge.launcher import JUDGE_ENV_DEFAULTS, judge_environment
from grader.sandbox.base import WorkerEnv


def test_judges_get_passive_openmp_threads_unless_told_otherwise() -> None:
    env = judge_environment({"PATH": "/bin"})
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert env["PATH"] == "/bin"
    assert set(JUDGE_ENV_DEFAULTS) <= set(env)
    # a setting of the caller's wins over the default
    assert judge_environment({"OMP_WAIT_POLICY": "ACTIVE"})["OMP_WAIT_POLICY"] == "ACTIVE"


def test_workers_get_passive_openmp_threads() -> None:
    assert WorkerEnv(threads=2).variables("/tmp/home")["OMP_WAIT_POLICY"] == "PASSIVE"


def test_a_subprocess_judge_is_waited_for_and_reports_its_status_every_time(tmp_path) -> None:
    import os
    import signal

    from grader.judge.launcher import SubprocessJudge

    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)  # the judge blocks reading its spec: alive until killed
    judge = SubprocessJudge(fifo, tmp_path / "judge.log", dict(os.environ))
    assert judge.wait(0.2) is None and judge.wait(0) is None
    judge.kill()
    assert judge.wait(10) == -signal.SIGKILL
    assert judge.wait(0) == -signal.SIGKILL

    broken = SubprocessJudge(tmp_path / "missing.json", tmp_path / "judge2.log", dict(os.environ))
    assert broken.wait(60) == 1  # no such spec: a traceback and status 1
    assert broken.wait(1) == 1


def test_a_judge_that_reports_its_status_is_done_before_its_exit(tmp_path, monkeypatch) -> None:
    """A judge writes its status on the done pipe just before ``os._exit``; the kernel's freeing
    of its memory after that is not waited for."""
    import os
    import sys
    import time

    from grader.judge import launcher

    fake = tmp_path / "judge.py"  # stands in for `python -m grader.judge SPEC`
    fake.write_text(f"#!{sys.executable}\nimport os, time\n"
                    "os.write(int(os.environ['GRADER_JUDGE_DONE_FD']), b'3\\n')\ntime.sleep(5)\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    judge = launcher.SubprocessJudge(tmp_path / "spec.json", tmp_path / "judge.log", dict(os.environ))
    try:
        assert judge.wait(30) == 3
        assert judge.proc.poll() is None  # still there: the status came first
        assert judge.wait(0) == 3
        launcher.reap_judges(wait=False)  # at the next judge's start: not gone yet, kept
        assert judge in launcher._exiting
        launcher.reap_judges()  # at the batch's end
        assert judge.proc.returncode == 0 and judge not in launcher._exiting  # reaped: no zombie left
    finally:
        judge.kill()
    assert judge.wait(0) == 3  # the status it reported

    silent = tmp_path / "silent.sh"  # dies without a word: its exit status counts
    silent.write_text("#!/bin/sh\nexit 5\n")
    silent.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(silent))
    judge = launcher.SubprocessJudge(tmp_path / "spec.json", tmp_path / "judge2.log", dict(os.environ))
    deadline = time.monotonic() + 30
    code = None
    while code is None and time.monotonic() < deadline:
        code = judge.wait(1)
    assert code == 5


@pytest.mark.slow
def test_the_judges_own_exit_report_reaches_the_grader_through_the_zygote(tmp_path) -> None:
    """A forked judge says ``exited`` itself; the zygote's later report of the same job is ignored."""
    import os

    from grader.judge.launcher import ForkServer

    server = ForkServer()
    server.start()
    try:
        spec = tmp_path / "missing-spec.json"  # the judge fails at once, with status 70
        judge = server.launch(spec, tmp_path / "judge.log", dict(os.environ))
        assert judge.wait(60) == 70
        assert judge.job in server.ended
        assert server.wait(judge.job, 0.5) is None  # the zygote's second report did not come back as a status
    finally:
        server.close()
    assert "Traceback" in (tmp_path / "judge.log").read_text()

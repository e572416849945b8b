"""The judge's start-up environment (grader/judge/launcher.py)."""

from __future__ import annotations

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

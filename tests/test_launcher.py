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

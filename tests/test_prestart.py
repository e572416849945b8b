"""Prestart: the next submission's judge and sandbox warm up before a slot is free.

The gate (a FIFO) on its own, then real judges on the toy catalogue: the sandbox is up while
every slot is held, nothing runs until one frees, the wait is not counted as grading time, a
Ctrl-C while waiting kills the warmed-up judge, and in Docker the container moves to the CPUs of
the slot it finally gets.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest

from grader.grading import GradeOptions, grade_submission
from grader.judge.gate import GateClosed, Go, make_gate, open_gate, wait_at_gate
from grader.scheduling import ResourcePool
from grader.submission import Submission

from conftest import reference_with, wait_until, write_submission


def test_go_goes_through_the_gate(tmp_path: Path) -> None:
    gate = make_gate(tmp_path / "gate")
    got: list[Go] = []
    waiter = threading.Thread(target=lambda: got.append(wait_at_gate(gate)))
    waiter.start()
    assert open_gate(gate, Go(cpuset="1"), alive=lambda: True, deadline=time.monotonic() + 30)
    waiter.join(10)
    assert got == [Go(cpuset="1")]


def test_the_grader_stops_knocking_when_the_judge_is_gone_or_late(tmp_path: Path) -> None:
    gate = make_gate(tmp_path / "gate")
    t0 = time.monotonic()
    assert not open_gate(gate, Go(), alive=lambda: False, deadline=t0 + 30)
    assert not open_gate(gate, Go(), alive=lambda: True, deadline=time.monotonic() + 0.3)
    assert time.monotonic() - t0 < 5


def test_a_gate_closed_without_a_go_is_an_error(tmp_path: Path) -> None:
    gate = make_gate(tmp_path / "gate")
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            wait_at_gate(gate)
        except GateClosed as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.2)
    with open(gate, "wb"):
        pass
    waiter.join(10)
    assert len(errors) == 1


# ---- real judges --------------------------------------------------------------------------------

SANDBOXES = ["local", pytest.param("docker", marks=pytest.mark.docker)]


def _needs(sandbox: str) -> None:
    if sandbox == "docker":
        from grader.sandbox import docker as docker_sandbox

        if not docker_sandbox.ready():
            pytest.skip("needs a running Docker engine and the runner image")


def _sandbox_up(sandbox: str, batch_id: str) -> bool:
    if sandbox == "docker":
        from grader.sandbox.docker import docker_client, leftovers

        client = docker_client()
        try:
            return any(c.status == "running" for c in leftovers(client, batch=batch_id))
        finally:
            client.close()
    return any("bwrap" in " ".join(p.cmdline()) for p in _children())


def _children() -> list[psutil.Process]:
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            p.cmdline()
            found.append(p)
        except psutil.Error:
            pass
    return found


def _grade_in_background(sub: Submission, catalogue, opts: GradeOptions, sandbox: str, pool: ResourcePool,
                         cancel: threading.Event | None = None) -> tuple[threading.Thread, dict]:
    state: dict = {}

    def work() -> None:
        try:
            state["result"] = grade_submission(sub, catalogue, opts, sandbox, cancel, pool=pool, prestart=True)
        except BaseException as exc:  # surfaced by the test
            state["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, state


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_the_sandbox_warms_up_while_every_slot_is_busy(tmp_path: Path, toy_catalogue, sandbox: str) -> None:
    _needs(sandbox)
    sub = Submission("honest", write_submission(tmp_path / "honest", {"toy.py": reference_with()}))
    opts = GradeOptions(sandbox=sandbox, jobs=2)
    pool = ResourcePool(2, [], pin_cpus=True)
    held = [pool.acquire(), pool.acquire()]  # every slot busy
    assert None not in held
    thread, state = _grade_in_background(sub, toy_catalogue, opts, sandbox, pool)
    wait_until(lambda: _sandbox_up(sandbox, opts.batch_id), 120, "the prestarted sandbox")
    hold_s = 3.0
    time.sleep(hold_s)
    assert thread.is_alive(), "graded without a slot"
    assert not state
    second = held.pop()
    pool.release(second)
    if sandbox == "docker":
        # The container was made before its slot was known; it now runs on the slot's CPUs.
        from grader.sandbox.docker import docker_client, leftovers

        def pinned() -> bool:
            client = docker_client()
            try:
                running = [c for c in leftovers(client, batch=opts.batch_id) if c.status == "running"]
                return any(c.attrs["HostConfig"].get("CpusetCpus") == second.cpuset for c in running)
            finally:
                client.close()

        wait_until(lambda: pinned() or not thread.is_alive(), 60, "the container pinned to the slot's CPUs")
        assert thread.is_alive(), "the run ended before the container could be seen pinned"
    thread.join(300)
    assert not thread.is_alive() and "error" not in state, state.get("error")
    result = state["result"]
    assert (result.status, result.score) == ("graded", 9), result.message
    # waiting for the slot is not the candidate's grading time
    assert result.duration_s < hold_s + 60
    assert pool.acquire(timeout=1) == second  # the judge gave its slot back


@pytest.mark.slow
def test_ctrl_c_while_waiting_for_a_slot_kills_the_warm_judge(tmp_path: Path, toy_catalogue) -> None:
    sub = Submission("honest", write_submission(tmp_path / "honest", {"toy.py": reference_with()}))
    opts = GradeOptions(sandbox="local", jobs=1)
    pool = ResourcePool(1, [])
    assert pool.acquire() is not None
    cancel = threading.Event()
    thread, state = _grade_in_background(sub, toy_catalogue, opts, "local", pool, cancel)
    wait_until(lambda: _sandbox_up("local", opts.batch_id), 120, "the prestarted sandbox")
    cancel.set()
    thread.join(30)
    assert not thread.is_alive()
    result = state["result"]
    assert result.status == "ungraded" and "interrupted" in result.message
    assert not [p for p in _children() if "grader" in " ".join(p.cmdline()) or "bwrap" in " ".join(p.cmdline())]

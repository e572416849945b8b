"""Faults of the grader's own world: killed mid-batch, the Docker engine stopping, a full disk.

Each test runs the real ``grader grade`` command as a subprocess on the toy catalogue, breaks
something while it grades, and checks that finished results survive intact, that nothing of ours
keeps running, and that a rerun with ``--resume`` finishes the batch without regrading anyone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, TOY_ROOT, fill, reference_with, wait_until, write_submission

pytestmark = pytest.mark.slow

# Each call sleeps within the toy's 3 s call timeout, so a candidate takes a few seconds.
SLOW = {"average": """
    def average(x):
        import time
        time.sleep(0.7)
        if x.numel() == 0:
            raise ValueError("empty")
        return float(x.sum().item() / x.numel())
    """}


def make_batch(root: Path, n: int) -> Path:
    batch = root / "batch"
    for i in range(n):
        write_submission(batch / f"c{i:02d}", {"toy.py": reference_with(replace=SLOW)})
    return batch


def grader_cmd(batch: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "--catalogue", str(TOY_ROOT), "grade", str(batch), "-o", str(out),
            "--no-report", *extra]


def marked_env(mark: str) -> dict[str, str]:
    # Every judge and sandbox launcher inherits the grader's environment: the mark finds them.
    return {**os.environ, "GRADER_TEST_MARK": mark}


def processes_with_mark(mark: str) -> list[str]:
    found = []
    needle = f"GRADER_TEST_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name}: {cmdline[:120]}")
        except OSError:
            continue
    return found


def finished(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in out.glob("*/results.json")}


def leftover_temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.tmp")]


def our_containers(since: float) -> list[str]:
    """Containers of ours created since ``since`` (epoch seconds), running or not."""
    from grader.sandbox.engine import docker_client

    client = docker_client()
    try:
        listed = client.containers.list(all=True, sparse=True, filters={"label": "grader.sandbox"})
        return [f"{c.short_id} {c.attrs.get('State')} created={c.attrs.get('Created')} labels={c.attrs.get('Labels')}"
                for c in listed if c.attrs.get("Created", 0) >= since]
    finally:
        client.close()


@pytest.mark.parametrize("sandbox", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_kill_9_mid_batch_then_resume(tmp_path: Path, sandbox: str) -> None:
    if sandbox == "docker":
        from grader.sandbox import docker as docker_sandbox

        if not docker_sandbox.ready():
            pytest.skip("needs a running Docker engine and the runner image")
    since = time.time() - 1
    batch = make_batch(tmp_path, 5)
    out = tmp_path / "out"
    mark = uuid.uuid4().hex
    proc = subprocess.Popen(grader_cmd(batch, out, "--sandbox", sandbox, "-j", "1"), env=marked_env(mark),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(finished(out)) >= 2, 240, "two finished candidates")
        assert processes_with_mark(mark), "the batch should still be grading"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = finished(out)
    assert 2 <= len(before) < 5
    # Judges and sandboxes die with the grader: nobody grades on for nobody.
    wait_until(lambda: not processes_with_mark(mark), 15, f"no process left: {processes_with_mark(mark)}")
    assert not leftover_temp_files(out)
    for data in before.values():
        json.loads(data)  # complete, never truncated
    left_by_the_kill = our_containers(since) if sandbox == "docker" else []

    res = subprocess.run(grader_cmd(batch, out, "--sandbox", sandbox, "-j", "1", "--resume"), env=marked_env(mark),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    after = finished(out)
    assert sorted(after) == [f"c{i:02d}" for i in range(5)]
    for cand, data in before.items():
        assert after[cand] == data, f"{cand} was regraded"
    scores = {c: json.loads(d)["score"] for c, d in after.items()}
    assert set(scores.values()) == {9.0}, scores
    rows = (out / "grades.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 5
    assert not processes_with_mark(mark)
    if sandbox == "docker":
        # the killed judges' containers are swept by the next run, by label
        assert not our_containers(since), f"left by the killed run: {left_by_the_kill}"


def test_full_disk_while_writing_results(tmp_path: Path, small_disk: Path) -> None:
    batch = make_batch(tmp_path, 4)
    out = small_disk / "out"
    proc = subprocess.Popen(grader_cmd(batch, out, "--sandbox", "local", "-j", "1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(finished(out)) >= 1, 240, "a finished candidate")
        first = finished(out)
        fill(small_disk)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (stdout, stderr)
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith(("grading", "sandbox"))]
    error = [line for line in lines if line.startswith("Error:")]
    assert len(error) == 1 and "No space left on device" in error[0], stderr
    # The write that failed first names its file: a results.json, or, while the next submission
    # is being prepared (prestart), the copy of its sources or its judge log.
    assert f"cannot write {out}/" in error[0], error
    assert "Traceback" not in stderr
    for cand, data in first.items():
        assert (out / cand / "results.json").read_bytes() == data
        json.loads(data)
    for path in out.glob("*/results.json"):
        json.loads(path.read_text())  # whatever was written is whole
    assert not leftover_temp_files(out)


def test_full_disk_before_the_first_result(tmp_path: Path, small_disk: Path) -> None:
    batch = make_batch(tmp_path, 2)
    out = small_disk / "out"
    out.mkdir()
    fill(small_disk)
    res = subprocess.run(grader_cmd(batch, out, "--sandbox", "local"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    error = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and f"cannot write {out}/c0" in error[0] and "No space left on device" in error[0], \
        res.stderr


@pytest.mark.parametrize("failing", ["new_stage", "stage_common"])
def test_full_temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    # A full temp folder cannot be made for real here: Python's tempfile quietly falls back to
    # /tmp when TMPDIR cannot take its probe file. So the first write into it fails instead.
    import errno

    import grader.grading as grading
    from grader.catalogue import Catalogue
    from grader.errors import GraderError
    from grader.submission import discover

    made: list[Path] = []
    real_mkdtemp = grading.tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(Path(real_mkdtemp(*args, **kwargs)))
        return str(made[-1])

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "tmp" / "grader-stage-x"))

    monkeypatch.setattr(grading.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(grading, failing, full)
    [sub] = discover([make_batch(tmp_path, 1)])
    with pytest.raises(GraderError) as caught:
        grading.grade_submission(sub, Catalogue(TOY_ROOT), grading.GradeOptions(sandbox="local"), "local")
    message = str(caught.value)
    assert message.startswith("cannot grade c00: ") and "No space left on device" in message, message
    assert "\n" not in message
    assert made and not [p for p in made if p.exists()], "the half-made submission's folders are removed"


def dockerd_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "dockerd":
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def stoppable_engine():
    """The machine's dockerd, which this test stops; it is always started again afterwards."""
    from grader.sandbox import docker as docker_sandbox

    if not docker_sandbox.ready():
        pytest.skip("needs a running Docker engine and the runner image")
    if not dockerd_pids():
        pytest.skip("the engine is not a local dockerd this test may stop")
    yield
    res = subprocess.run(["bash", str(ROOT / ".ci" / "install-docker.sh")], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, f"the Docker engine did not come back: {res.stdout} {res.stderr}"


@pytest.mark.docker
def test_engine_stops_mid_batch(tmp_path: Path, stoppable_engine) -> None:
    batch = make_batch(tmp_path, 4)
    out = tmp_path / "out"
    proc = subprocess.Popen(grader_cmd(batch, out, "--sandbox", "docker", "-j", "1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(finished(out)) >= 1, 240, "a finished candidate")
        first = finished(out)
        for pid in dockerd_pids():
            os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not dockerd_pids(), 90, "dockerd to stop")
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in stderr
    results = {c: json.loads(d) for c, d in finished(out).items()}
    assert sorted(results) == ["c00", "c01", "c02", "c03"], stderr
    affected = [c for c in results if c not in first]
    assert affected
    for cand in affected:
        result = results[cand]
        # the engine's fault, never the candidate's: no score, picked up again by --resume
        assert result["status"] == "ungraded", (cand, result["status"], result["message"])
        assert "infrastructure error" in result["message"], result["message"]
    for cand in first:
        assert results[cand]["status"] == "graded" and results[cand]["score"] == 9.0

    subprocess.run(["bash", str(ROOT / ".ci" / "install-docker.sh")], check=True, capture_output=True, timeout=180)
    res = subprocess.run(grader_cmd(batch, out, "--sandbox", "docker", "-j", "1", "--resume"),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    after = finished(out)
    for cand, data in first.items():
        assert after[cand] == data, f"{cand} was regraded"
    for cand in affected:
        result = json.loads(after[cand])
        assert (result["status"], result["score"]) == ("graded", 9.0), result["message"]


def test_a_zombie_judge_owns_no_containers() -> None:
    # After kill -9 of the grader its judges may stay unreaped (an init that does not reap);
    # the orphan sweep must count them as dead, or their containers outlive every --resume.
    from grader.sandbox.docker import process_identity

    me = process_identity(os.getpid())
    assert me and me.split(":")[1] == str(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_until(lambda: open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 30,
                   "the child to exit")
        assert process_identity(child.pid) == ""  # exited, not yet reaped
    finally:
        child.wait()
    assert process_identity(child.pid) == ""  # gone

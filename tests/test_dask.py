"""Grading on a real local Dask cluster (two worker processes): same scores as local grading,
a worker killed mid-batch loses nothing, a submission whose workers keep dying ends ungraded."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.executors.dask import DaskExecutor
from grader.grading import GradeOptions, grade_batch
from grader.results import CandidateResult, load_results, read_grades_csv, read_result

from conftest import TOY_ROOT, fill, reference_with, write_submission

distributed = pytest.importorskip("distributed")

MUTANTS = TOY_ROOT / "exercises" / "q90_toy" / "mutants"
STUB = TOY_ROOT / "exercises" / "q90_toy" / "stub" / "toy.py"
# Within the toy's 3 s call timeout: a kill aimed at this candidate lands while its judge runs.
SLOW = reference_with(replace={"maximum": """
    def maximum(values):
        import time
        time.sleep(2.5)
        return max(values)
    """})


def _local_cluster() -> Any:
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=logging.CRITICAL)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, shared by the tests that never kill a worker."""
    c = _local_cluster()
    yield c
    c.close()


@pytest.fixture(scope="module")
def client(cluster):
    from distributed import Client

    with Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture
def doomed_cluster():
    """A cluster of its own for a test that SIGKILLs workers: how long the nanny takes to bring a
    killed worker back is Dask's business, and no other test should wait on it."""
    from distributed import Client

    c = _local_cluster()
    with Client(c, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=120)
        yield c, client
    c.close()


def write_variant(batch: Path, name: str, variant: str) -> None:
    """One submission of each kind that local grading distinguishes."""
    if variant == "honest":
        write_submission(batch / name, {"toy.py": reference_with()})
    elif variant == "honest_zip":
        with zipfile.ZipFile(batch / f"{name}.zip", "w") as zf:
            zf.writestr(f"{name}/q90_toy/toy.py", reference_with())  # a zipped folder: one top folder
    elif variant == "stub":
        write_submission(batch / name, {"toy.py": STUB.read_text()})
    elif variant == "uses_mean":
        write_submission(batch / name, {"toy.py": (MUTANTS / variant / "toy.py").read_text()})
    elif variant == "syntax_error":
        write_submission(batch / name, {"toy.py": "import torch\n\ndef scale(x, k)\n    return x * k\n"})
    elif variant == "os_exit":
        write_submission(batch / name, {"toy.py": reference_with(replace={"average": """
            def average(x):
                import os
                os._exit(0)
            """})})
    elif variant == "broken_zip":
        (batch / f"{name}.zip").write_bytes(b"not a zip at all")
    elif variant == "symlink":  # refused by the client's folder checks, before any task is sent
        write_submission(batch / name, {"toy.py": reference_with()})
        (batch / name / "q90_toy" / "link.py").symlink_to("/etc/hostname")
    elif variant == "zip_slip":  # refused by the worker's archive checks
        with zipfile.ZipFile(batch / f"{name}.zip", "w") as zf:
            zf.writestr("q90_toy/toy.py", reference_with())
            zf.writestr("../evil.py", "print('escaped')\n")
    elif variant == "no_exercise":
        (batch / name / "notes").mkdir(parents=True)
        (batch / name / "notes" / "readme.txt").write_text("where is my code?\n")
    else:
        raise AssertionError(variant)


# six that run the judge (full marks, zipped, stub, forbidden API, a crash, a syntax error) and four
# refused before it runs (on the client or on the worker): every path a result can take
VARIANTS = ["honest", "honest_zip", "stub", "uses_mean", "os_exit", "syntax_error",
            "broken_zip", "symlink", "zip_slip", "no_exercise"]


def detail(result: CandidateResult) -> tuple:
    """Everything graded about a candidate, without timings and host details."""
    return (result.status, result.message, result.score, result.max_score, result.sandbox,
            [(e.id, e.status, e.score, e.max_score, e.message,
              [(t.id, t.outcome, t.points, t.max_points, t.message) for t in e.tests]) for e in result.exercises])


def dask_opts() -> GradeOptions:
    return GradeOptions(sandbox="local")


@pytest.mark.slow
def test_twenty_submissions_on_the_cluster_grade_as_locally(tmp_path, toy_catalogue, cluster):
    # Two copies of ten kinds of submission. Grading is deterministic (seeds come from exercise and
    # test ids), so local grading of one copy of each is the reference for both copies.
    for copy in ("a", "b"):
        for variant in VARIANTS:
            write_variant(tmp_path / f"batch_{copy}", f"{variant}-{copy}", variant)
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    grade_batch([tmp_path / "batch_a"], local_out, toy_catalogue, GradeOptions(sandbox="local", jobs=2))
    done: list[str] = []
    summary = grade_batch([tmp_path / "batch_a", tmp_path / "batch_b"], dask_out, toy_catalogue, dask_opts(),
                          on_done=lambda r: done.append(r.candidate),
                          executor=DaskExecutor(cluster.scheduler_address))
    assert sorted(done) == sorted(f"{v}-{c}" for v in VARIANTS for c in "ab")
    assert len(summary.results) == 20
    assert not [(r.candidate, r.message) for r in summary.results if r.status == "ungraded"]

    local_rows = read_grades_csv((local_out / "grades.csv").read_text())
    dask_rows = read_grades_csv((dask_out / "grades.csv").read_text())
    assert [r for r in dask_rows if r["candidate"].endswith("-a")] == local_rows
    for row in dask_rows:
        if row["candidate"].endswith("-b"):
            twin = next(r for r in local_rows if r["candidate"] == row["candidate"][:-1] + "a")
            assert {**row, "candidate": twin["candidate"]} == twin
    by_variant = {r["candidate"].rsplit("-", 1)[0]: r for r in local_rows}
    assert by_variant["honest"]["total"] == "9" and by_variant["honest_zip"]["total"] == "9"
    assert by_variant["uses_mean"]["total"] == "8" and by_variant["stub"]["total"] == "0"
    assert {by_variant[v]["status"] for v in VARIANTS[6:]} == {"invalid_submission"}

    for variant in VARIANTS:
        local = read_result(local_out / f"{variant}-a" / "results.json")
        remote = read_result(dask_out / f"{variant}-a" / "results.json")
        assert detail(remote) == detail(local), variant
        twin = read_result(dask_out / f"{variant}-b" / "results.json")
        assert [(t.id, t.outcome, t.points) for e in twin.exercises for t in e.tests] == \
            [(t.id, t.outcome, t.points) for e in local.exercises for t in e.tests], variant
        if local.status == "graded":
            assert remote.environment["dask_worker"].startswith("tcp://")
            # the sources for the report and the judge log came back too
            assert (dask_out / f"{variant}-a" / "source" / "q90_toy" / "toy.py").read_bytes() == \
                (local_out / f"{variant}-a" / "source" / "q90_toy" / "toy.py").read_bytes()
            assert (dask_out / ".logs" / f"{variant}-a.judge.log").is_file()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return "?"


def _executing(client: Any) -> dict[str, list[str]]:
    """Keys each worker is running right now (not merely assigned)."""
    def running(dask_worker: Any) -> list[str]:
        return [str(k) for k, ts in dask_worker.state.tasks.items() if ts.state in ("executing", "long-running")]

    return client.run(running, on_error="return")


def _grade_in_background(paths: list[Path], out: Path, catalogue: Any, scheduler: str) -> tuple[threading.Thread, dict]:
    state: dict[str, Any] = {"done": []}

    def work() -> None:
        try:
            state["summary"] = grade_batch(paths, out, catalogue, dask_opts(),
                                           on_done=lambda r: state["done"].append(r.candidate),
                                           executor=DaskExecutor(scheduler))
        except BaseException as exc:  # reported by the test's thread
            state["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, state


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_nothing(tmp_path, toy_catalogue, doomed_cluster):
    cluster, client = doomed_cluster
    batch = tmp_path / "batch"
    names = ["slow", "honest", "stub"]
    write_submission(batch / "slow", {"toy.py": SLOW})
    write_submission(batch / "honest", {"toy.py": reference_with()})
    write_submission(batch / "stub", {"toy.py": STUB.read_text()})
    out = tmp_path / "out"
    thread, state = _grade_in_background([batch], out, toy_catalogue, cluster.scheduler_address)

    # Wait for the slow candidate's judge to run on a worker, then SIGKILL that worker process.
    victim_pid, doomed = None, []
    deadline = time.monotonic() + 120
    while victim_pid is None and time.monotonic() < deadline and thread.is_alive():
        for addr, keys in _executing(client).items():
            if isinstance(keys, list) and any("grade-slow-" in k for k in keys):
                pid = client.run(os.getpid, workers=[addr])[addr]
                below = _descendants(pid)
                # its judge has started the sandbox (bubblewrap, or the bare worker shim without it)
                if any("bwrap" in _cmdline(p) or "grader_channel" in _cmdline(p) for p in below):
                    victim_pid, doomed = pid, below
        time.sleep(0.2)
    assert victim_pid is not None, "the slow candidate's sandbox never started"
    assert any("grader.judge" in _cmdline(p) for p in doomed)
    time.sleep(0.5)
    os.kill(victim_pid, signal.SIGKILL)

    thread.join(180)
    assert not thread.is_alive() and "error" not in state, state.get("error")
    # Every candidate was written exactly once and graded: the killed task ran again elsewhere.
    assert sorted(state["done"]) == sorted(names)
    assert sorted(p.parent.name for p in out.glob("*/results.json")) == sorted(names)
    assert not list(out.rglob("*.tmp"))
    assert not [(r.candidate, r.message) for r in load_results(out) if r.status == "ungraded"]
    scores = {r.candidate: (r.status, r.score) for r in load_results(out)}
    assert scores == {"slow": ("graded", 9), "honest": ("graded", 9), "stub": ("graded", 0)}
    assert read_result(out / "slow" / "results.json").environment["dask_worker"] != ""
    # The killed worker's judge and sandbox did not outlive it.
    gone, alive = psutil.wait_procs(doomed, timeout=15)
    assert not alive, f"orphaned after the worker was killed: {[_cmdline(p) for p in alive]}"


@pytest.mark.slow
def test_a_submission_that_keeps_killing_its_worker_ends_ungraded(tmp_path, toy_catalogue, doomed_cluster):
    # Sandboxed candidate code cannot reach the Dask worker, so the test plays the poison pill:
    # it kills whichever worker starts grading "poison", every time.
    cluster, client = doomed_cluster
    batch = tmp_path / "batch"
    write_submission(batch / "poison", {"toy.py": reference_with()})
    write_submission(batch / "honest", {"toy.py": reference_with()})
    out = tmp_path / "out"
    kills: list[str] = []
    stop = threading.Event()

    def killer() -> None:
        while not stop.is_set():
            try:
                executing = _executing(client)
            except Exception:
                executing = {}
            for addr, keys in executing.items():
                if isinstance(keys, list) and any("grade-poison-" in k for k in keys) and addr not in kills:
                    try:
                        pid = client.run(os.getpid, workers=[addr])[addr]
                        os.kill(pid, signal.SIGKILL)
                        kills.append(addr)
                    except Exception:
                        pass
            time.sleep(0.1)

    watcher = threading.Thread(target=killer, daemon=True)
    watcher.start()
    try:
        thread, state = _grade_in_background([batch], out, toy_catalogue, cluster.scheduler_address)
        thread.join(180)
    finally:
        stop.set()
        watcher.join()
    assert not thread.is_alive() and "error" not in state, state.get("error")
    assert len(kills) == 2  # allowed-failures is 1: one retry, then KilledWorker
    poison = read_result(out / "poison" / "results.json")
    assert poison.status == "ungraded" and poison.score == 0
    assert "KilledWorker" in poison.message and "died 2 times" in poison.message
    assert [(e.id, e.status) for e in poison.exercises] == [("q90_toy", "ungraded")]
    honest = read_result(out / "honest" / "results.json")
    assert (honest.status, honest.score) == ("graded", 9)
    rows = {r["candidate"]: r for r in read_grades_csv((out / "grades.csv").read_text())}
    assert rows["poison"]["status"] == "ungraded" and rows["honest"]["total"] == "9"


def run_cli(*args: str):
    return CliRunner().invoke(cli, ["--catalogue", str(TOY_ROOT), *args], catch_exceptions=False)


@pytest.mark.slow
def test_cli_grades_on_the_cluster_and_resumes(tmp_path, cluster, client):
    client.wait_for_workers(2, timeout=60)
    batch = tmp_path / "batch"
    write_submission(batch / "good", {"toy.py": reference_with()})
    out = tmp_path / "out"
    res = run_cli("grade", str(batch), "-o", str(out), "--sandbox", "local", "--no-report",
                  "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert res.exit_code == 0, res.output
    assert "on the Dask cluster at tcp://" in res.output and "2 workers" in res.output
    assert read_result(out / "good" / "results.json").score == 9
    assert read_grades_csv((out / "grades.csv").read_text())[0]["total"] == "9"
    res = run_cli("grade", str(batch), "-o", str(out), "--sandbox", "local", "--no-report", "--resume",
                  "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert res.exit_code == 0 and "good: already graded, skipped (--resume)" in res.output
    # A worker without the catalogue at the given path: ungraded with the reason, exit 1.
    res = run_cli("grade", str(batch), "-o", str(tmp_path / "out2"), "--sandbox", "local", "--no-report",
                  "--executor", "dask", "--scheduler", cluster.scheduler_address,
                  "--worker-catalogue", str(tmp_path / "nowhere"))
    assert res.exit_code == 1
    result = read_result(tmp_path / "out2" / "good" / "results.json")
    assert result.status == "ungraded" and "has no catalogue at" in result.message and "--worker-catalogue" in result.message


@pytest.mark.slow
def test_a_full_results_disk_stops_the_batch_in_one_line(tmp_path, small_disk, cluster, client):
    client.wait_for_workers(2, timeout=60)
    batch = tmp_path / "batch"
    write_submission(batch / "good", {"toy.py": reference_with()})
    out = small_disk / "out"
    out.mkdir()
    fill(small_disk)
    res = run_cli("grade", str(batch), "-o", str(out), "--sandbox", "local", "--no-report",
                  "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert res.exit_code == 1, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"cannot write {out}/" in errors[0] and "No space left on device" in errors[0], \
        res.output


def test_unreachable_scheduler_is_one_line(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_submission(tmp_path / "batch" / "good", {"toy.py": reference_with()})
    res = run_cli("grade", str(tmp_path / "batch"), "-o", str(tmp_path / "out"), "--executor", "dask",
                  "--scheduler", f"tcp://127.0.0.1:{port}")
    assert res.exit_code == 1
    assert res.output.count("\n") == 1 and "cannot reach the Dask scheduler" in res.output, res.output
    assert "Traceback" not in res.output
    res = run_cli("grade", str(tmp_path / "batch"), "-o", str(tmp_path / "out"), "--executor", "dask")
    assert res.exit_code == 2 and "--scheduler" in res.output
    res = run_cli("grade", str(tmp_path / "batch"), "-o", str(tmp_path / "out"), "--scheduler", "tcp://h:1")
    assert res.exit_code == 2 and "--executor dask" in res.output

"""Warm workers (grader/sandbox/warm.py, grader/channel/nursery.py, grader/channel/confine.py).

Real bubblewrap, real nurseries: a worker forked from a nursery must be as confined as one
started afresh, and nothing one worker does may reach the next worker of the same nursery, another
worker running beside it, or the nursery itself.
"""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from grader.channel.client import WorkerSession
from grader.channel.errors import SandboxStartError
from grader.sandbox.base import SandboxLimits
from grader.sandbox.local import LocalSandbox
from grader.sandbox.warm import WarmPool, warm_status
from grader.staging import open_permissions, remove_stage, stage_common

from conftest import need_warm_workers

pytestmark = pytest.mark.slow

CANDIDATE = r'''
import ctypes, os, socket, time

TRACES = ("/tmp/trace", "/dev/shm/trace", "/dev/trace", "/trace", "/grader/trace", "/grader-shim/trace",
          "/grader-spool/trace", "/grader-proc/trace", "/usr/trace")
ABSTRACT = "\0grader-warm-trace"
libc = ctypes.CDLL(None, use_errno=True)


def leave_traces():
    written = []
    for path in TRACES:
        try:
            with open(path, "w") as fh:
                fh.write("left by the worker before")
            written.append(path)
        except OSError:
            pass
    pid = os.fork()
    if pid == 0:  # a daemon in its own session, holding an abstract socket, meant to outlive us
        os.setsid()
        if os.fork() == 0:
            server = socket.socket(socket.AF_UNIX)
            server.bind(ABSTRACT)
            server.listen(1)
            while True:
                time.sleep(1)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.2)
    return written


def find_traces():
    found = [path for path in TRACES if os.path.exists(path)]
    client = socket.socket(socket.AF_UNIX)
    try:
        client.connect(ABSTRACT)
        found.append("the abstract socket")
    except OSError:
        pass
    return found


def pids():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())


def processes(upto):
    """The processes /proc lists, and every PID below ``upto`` that a signal reaches."""
    visible = pids()
    reached = []
    for pid in range(1, upto):
        try:
            os.kill(pid, 0)
            reached.append(pid)
        except OSError:
            pass
    return visible, reached


def privileges():
    status = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key.startswith("Cap") or key == "NoNewPrivs":
                status[key] = value.strip()
    out = {"status": status, "uid": os.getuid(), "spool": os.listdir("/grader-spool"),
           "host_proc": os.listdir("/grader-proc")}
    out["umount"] = [p for p in ("/grader-spool", "/grader-proc", "/proc", "/grader", "/tmp")
                     if libc.umount2(p.encode(), 2) == 0]
    out["mount"] = libc.mount(b"tmpfs", b"/grader-spool", b"tmpfs", 0, None) == 0
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
        out["proc_writable"] = True
    except OSError:
        out["proc_writable"] = False
    return out


def reach_init():
    """What of its namespace's init (the nursery's side) this process can trace or read."""
    reached = []
    if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH
        reached.append("ptrace")
    for name in ("mem", "environ"):
        try:
            with open(f"/proc/1/{name}", "rb") as fh:
                fh.read(1)
            reached.append(name)
        except OSError:
            pass
    try:  # the listing may show (the sandbox's user owns what an undumpable process's /proc holds)
        fds = os.listdir("/proc/1/fd")
    except OSError:
        fds = []
    for fd in fds:
        try:
            os.readlink(f"/proc/1/fd/{fd}")
            reached.append("fd")
            break
        except OSError:
            pass
    return reached


def unshare_and_uncover():
    """A user namespace of its own gives capabilities back, over mounts it cannot uncover."""
    if libc.unshare(0x10000000 | 0x00020000) != 0:
        return "unshare refused"
    uncovered = [p for p in ("/grader-spool", "/grader-proc", "/proc", "/tmp") if libc.umount2(p.encode(), 2) == 0]
    return uncovered or os.listdir("/grader-spool")


def kill_everything():
    """Every process group and process a signal may reach from here, its own last."""
    import signal
    for target in (os.getpgid(os.getppid()), os.getpgid(1), os.getpgid(0)):
        try:
            os.killpg(target, signal.SIGKILL)
        except OSError:
            pass
    os.kill(-1, signal.SIGKILL)


def process_ceiling():
    """How many processes and threads this namespace holds once no more can be started.

    The worker's own processes come and go (a spare forked for the next test, a thread; a fork
    the zygote attempts holds a place in the cgroup while it lasts), so this function's children
    fill the rest, and the count is the largest taken over repeated attempts at the ceiling.
    """
    children, counts = [], []
    try:
        while len(children) < 1000 and len(counts) < 20:
            try:
                pid = os.fork()
            except OSError:
                counts.append(sum(len(os.listdir(f"/proc/{p}/task")) for p in os.listdir("/proc") if p.isdigit()))
                time.sleep(0.02)
                continue
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children.append(pid)
    finally:
        for pid in children:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    return max(counts, default=-1)


def loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=2)
    conn, _ = server.accept()
    client.sendall(b"ping")
    data = conn.recv(4)
    for s in (client, conn, server):
        s.close()
    return data.decode()
'''


@pytest.fixture(scope="module")
def pool() -> Iterator[WarmPool]:
    need_warm_workers()
    with WarmPool() as pool:
        yield pool


def make_stage(pool: WarmPool) -> Path:
    stage = pool.new_stage()
    stage_common(stage, [])
    sub = stage / "submission" / "k" / "q90_toy"
    sub.mkdir(parents=True)
    (sub / "cand.py").write_text(textwrap.dedent(CANDIDATE))
    open_permissions(stage)
    return stage


@pytest.fixture
def stage(pool: WarmPool) -> Iterator[Path]:
    stage = make_stage(pool)
    yield stage
    remove_stage(stage)


def session_for(pool: WarmPool, stage: Path) -> WorkerSession:
    sandbox = LocalSandbox(SandboxLimits(memory_bytes=1 << 30, log_bytes=4096), confined=True,
                           warm_socket=str(pool.socket_path))
    return WorkerSession(sandbox, stage)


def idle_nurseries(pool: WarmPool, stage: Path) -> list:
    """The pool's nurseries once one of them has served a worker and is idle again."""
    first = session_for(pool, stage)
    first.ensure_started()
    first.close()
    return list(pool._all)


def call(session: WorkerSession, function: str, *args):
    root = session.sandbox.stage_root_inside(session.stage)
    sub = f"{root}/submission/k/q90_toy"
    child = session.spawn({"sys_path": [sub], "submission_dir": sub, "memory_bytes": 256 << 20, "cwd": "/tmp"})
    child.call_timeout = 10.0
    try:
        cand = child.request({"op": "import", "module": "cand"}, 10.0, "importing cand")
        return getattr(cand, function)(*args)
    finally:
        child.close()


def test_the_probe_finds_nested_sandboxes_work(pool: WarmPool) -> None:
    assert warm_status() == (True, "nursery")


def test_one_nursery_serves_worker_after_worker(pool: WarmPool, stage: Path) -> None:
    nurseries = idle_nurseries(pool, stage)
    session = session_for(pool, stage)
    try:
        session.ensure_started()
        assert pool._all == nurseries, "the next worker is forked from the idle nursery, not a new one"
        assert session.hello["pid"] == 2 and session.hello["uid"] == 65534  # as in a fresh sandbox
        assert session.sandbox.environment()["worker_start"] == "forked from a warm nursery"
        assert call(session, "loopback") == "ping"
    finally:
        session.close()


def test_nothing_a_worker_leaves_reaches_the_next_one(pool: WarmPool, stage: Path) -> None:
    first = session_for(pool, stage)
    written = call(first, "leave_traces")
    assert written == ["/tmp/trace", "/dev/shm/trace"], "only its own /tmp and /dev/shm are writable"
    assert call(first, "find_traces") == ["/tmp/trace", "/dev/shm/trace", "the abstract socket"]
    first.close()
    nurseries = len(pool._all)
    second = session_for(pool, stage)
    try:
        assert call(second, "find_traces") == []
        assert len(pool._all) == nurseries, "the second worker came from the same nursery"
    finally:
        second.close()


def test_a_worker_keeps_no_capability_and_cannot_uncover_anything(pool: WarmPool, stage: Path) -> None:
    session = session_for(pool, stage)
    try:
        info = call(session, "privileges")
        for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(info["status"][key], 16) == 0, (key, info["status"])
        assert info["status"]["NoNewPrivs"] == "1"
        assert info["uid"] == 65534
        assert info["spool"] == [] and info["host_proc"] == []
        assert info["umount"] == [] and info["mount"] is False
        assert info["proc_writable"] is False
        assert call(session, "unshare_and_uncover") in ([], "unshare refused")
        assert call(session, "reach_init") == []
    finally:
        session.close()


def test_a_worker_sees_and_signals_only_its_own_processes(pool: WarmPool, stage: Path) -> None:
    session = session_for(pool, stage)
    try:
        visible, reached = call(session, "processes", 1 << 16)
        # its init (PID 1), the worker, this test's child, a spare being forked: neither the
        # nursery, nor the process between it and the worker, nor bubblewrap's init
        assert visible[:2] == [1, 2] and len(visible) <= 5
        assert reached[:2] == [1, 2] and len(reached) <= 5 and max(reached) < 64
    finally:
        session.close()


def test_a_worker_that_kills_all_it_can_leaves_its_nursery_alive(pool: WarmPool, stage: Path) -> None:
    nurseries = idle_nurseries(pool, stage)
    session = session_for(pool, stage)
    try:
        with pytest.raises(Exception):
            call(session, "kill_everything")
        session.restart()
        assert call(session, "loopback") == "ping"
        assert pool._all == nurseries and not any(n.dead for n in nurseries)
    finally:
        session.close()


def test_workers_side_by_side_see_nothing_of_each_other(pool: WarmPool) -> None:
    stages = [make_stage(pool), make_stage(pool)]
    sessions = [session_for(pool, s) for s in stages]
    try:
        for s in sessions:
            s.ensure_started()
        assert len({id(s.process) for s in sessions}) == 2
        assert len([n for n in pool._all if n.listener is not None]) == 2 and len(pool._mothers) == 1, \
            "two clones of one mother serve the two workers"
        for s in sessions:
            assert call(s, "privileges")["spool"] == []
        call(sessions[0], "leave_traces")
        assert call(sessions[1], "find_traces") == []
    finally:
        for s in sessions:
            s.close()
        for stage in stages:
            remove_stage(stage)


def test_a_killed_worker_ends_with_its_signal_and_frees_its_nursery(pool: WarmPool, stage: Path) -> None:
    session = session_for(pool, stage)
    session.ensure_started()
    proc = session.process
    proc.kill()
    assert proc.exit_info(10).signal == signal.SIGKILL
    session.restart()
    assert call(session, "loopback") == "ping"
    session.close()


def test_the_pool_refuses_a_stage_outside_its_spool(pool: WarmPool, tmp_path: Path) -> None:
    outside = tmp_path / "stage"
    stage_common(outside, [])
    open_permissions(outside)
    session = session_for(pool, outside)
    with pytest.raises(SandboxStartError, match="refused"):
        session.ensure_started()
    session.close()


def test_a_nursery_that_dies_is_the_harness_fault_and_is_replaced(pool: WarmPool, stage: Path) -> None:
    session = session_for(pool, stage)
    session.ensure_started()
    mine = [n for n in pool._all if n.listener is not None]
    assert len(mine) == 1 and mine[0].pidfd is not None
    signal.pidfd_send_signal(mine[0].pidfd, signal.SIGKILL)
    info = session.process.exit_info(10)
    assert "warm sandbox ended" in info.describe()
    assert "warm sandbox ended" in session.sandbox.infrastructure_problem()
    session.restart()
    try:
        assert call(session, "loopback") == "ping"
        assert mine[0] not in pool._all
    finally:
        session.close()


def test_a_mother_that_dies_ends_its_clones_and_is_replaced(pool: WarmPool, stage: Path) -> None:
    idle_nurseries(pool, stage)
    session = session_for(pool, stage)
    session.ensure_started()
    mother = pool._mothers[1]
    clones = list(pool._all)
    os.killpg(mother.proc.pid, signal.SIGKILL)
    info = session.process.exit_info(10)
    assert "warm sandbox ended" in info.describe(), "a clone ends with its mother's sandbox"
    session.restart()
    try:
        assert call(session, "loopback") == "ping"
        assert pool._mothers[1] is not mother and pool._mothers[1].alive()
        assert not set(clones) & set(pool._all), "the dead mother's clones, idle or not, are gone"
    finally:
        session.close()


def test_a_worker_may_start_exactly_as_many_processes_as_in_a_fresh_sandbox(pool: WarmPool, stage: Path) -> None:
    # A fresh sandbox's cgroup also holds bubblewrap's process outside the worker's namespace;
    # a clone's, the clone and the intermediate process: one more, which its limit adds.
    counts = {}
    for kind, socket_path in (("warm", str(pool.socket_path)), ("fresh", None)):
        sandbox = LocalSandbox(SandboxLimits(memory_bytes=1 << 30, log_bytes=4096, max_processes=24), confined=True,
                               warm_socket=socket_path)
        session = WorkerSession(sandbox, stage)
        try:
            counts[kind] = call(session, "process_ceiling")
        finally:
            session.close()
    assert counts["fresh"] == 24 - 1
    assert counts["warm"] == counts["fresh"], counts


def test_doctor_says_whether_workers_are_warm(pool: WarmPool) -> None:
    from click.testing import CliRunner

    from grader.cli import cli

    res = CliRunner().invoke(cli, ["doctor"])
    assert res.exit_code == 0, res.output
    assert "warm workers: ok (local workers are forked from a nursery)" in res.output


def test_a_pool_that_cannot_be_made_means_workers_start_afresh(pool: WarmPool, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    deep = tmp_path / ("x" * 120)  # too long a path for a Unix socket
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    assert WarmPool.start() is None

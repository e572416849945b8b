"""The Docker sandbox on a real engine: hardening, limits and outcomes, no leftovers.

Marked ``docker``: skipped where no engine or runner image is available, except in CI
(``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import pytest

from grader.sandbox.base import SandboxLimits

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def need_docker():
    from grader.sandbox import docker as docker_sandbox

    if not docker_sandbox.ready():
        if os.environ.get("CI"):
            pytest.fail("CI needs a Docker engine and the runner image (make test sets them up)")
        pytest.skip("no Docker engine or runner image")


def test_container_settings_are_hardened(tmp_path):
    from grader.sandbox.docker import container_settings

    limits = SandboxLimits(memory_bytes=1 << 30, cpus=1.5, max_processes=128, gpu_ids=("GPU-1",))
    s = container_settings(limits, "img", tmp_path, "batch1", cpuset="0")
    assert s["user"] == "10001:10001" and s["cap_drop"] == ["ALL"] and s["privileged"] is False
    assert "no-new-privileges:true" in s["security_opt"] and s["read_only"] is True
    assert s["network_mode"] == "none" and s["init"] is True
    assert s["mem_limit"] == s["memswap_limit"] == 1 << 30
    assert s["nano_cpus"] == 1_500_000_000 and s["cpuset_cpus"] == "0" and s["pids_limit"] == 128
    assert {u["Name"] for u in s["ulimits"]} == {"core", "nofile", "fsize"}
    assert s["volumes"] == {str(tmp_path): {"bind": "/grader", "mode": "ro"}}
    assert s["labels"]["grader.sandbox"] == "1" and s["labels"]["grader.batch"] == "batch1"
    assert s["log_config"]["Config"]["max-size"] == "1m"
    req = s["device_requests"][0]
    assert req["DeviceIDs"] == ["GPU-1"] and req["Capabilities"] == [["gpu"]]
    assert "size=" in s["tmpfs"]["/tmp"]


PROBE = '''
import os, socket, resource

def probe(paths):
    out = {"uid": os.getuid()}
    with open("/proc/self/status") as fh:
        out["capeff"] = next(l.split()[1] for l in fh if l.startswith("CapEff"))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        if os.path.exists(path):
            out["memory_limit"] = open(path).read().strip()
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        out["net"] = "connected"
    except OSError as exc:
        out["net"] = type(exc).__name__
    try:
        open("/usr/x", "w")
        out["root_writable"] = True
    except OSError:
        out["root_writable"] = False
    out["files"] = {p: os.path.exists(p) for p in paths}
    out["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    out["core"] = resource.getrlimit(resource.RLIMIT_CORE)[0]
    print("probe:", out)
    return out

def hog(mb):
    blocks = []
    while True:
        blocks.append(bytearray(mb << 20))

def forks():
    pids = []
    while True:
        pids.append(os.fork())
        if pids[-1] == 0:
            import time
            time.sleep(60)
            os._exit(0)

def spin():
    while True:
        pass
'''


@pytest.fixture(scope="module")
def docker_session():
    need_docker()
    from grader.channel.client import WorkerSession
    from grader.sandbox.docker import DockerSandbox
    from grader.staging import new_stage, open_permissions, remove_stage, stage_common

    stage = new_stage()
    stage_common(stage, [])
    sub = stage / "submission" / "k" / "q90_toy"
    sub.mkdir(parents=True)
    (sub / "probe.py").write_text(textwrap.dedent(PROBE))
    open_permissions(stage)
    batch = "pytest-" + uuid.uuid4().hex[:8]
    sandbox = DockerSandbox(SandboxLimits(memory_bytes=768 << 20, max_processes=64), batch=batch)
    session = WorkerSession(sandbox, stage)
    yield session
    session.close()
    remove_stage(stage)
    from grader.sandbox.docker import leftovers

    assert not leftovers(sandbox.client, batch), "containers left behind"


def child(session, timeout=10.0, memory=512 << 20):
    c = session.spawn({"sys_path": ["/grader/submission/k/q90_toy"], "submission_dir": "/grader/submission/k/q90_toy",
                       "memory_bytes": memory, "rlimit_memory": False, "cwd": "/tmp"})
    c.call_timeout = timeout
    c.memory_mb = memory >> 20
    return c


def test_live_container_hardening(docker_session):
    session = docker_session
    c = child(session)
    info = c.request({"op": "import", "module": "probe"}, 20, "import").probe(["/grader/../solutions", "/work", "/root/.pyenv"])
    c.close()
    assert info["uid"] == 10001 and int(info["capeff"], 16) == 0
    assert info["net"] != "connected" and info["root_writable"] is False
    assert info["nofile"] == 1024 and info["core"] == 0
    assert "memory_limit" in info and info["memory_limit"] != "max"
    assert not any(info["files"].values())
    # inspect the container itself
    container = session.process.container
    container.reload()
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] and host["NetworkMode"] == "none" and host["CapDrop"] == ["ALL"]
    assert host["Memory"] == host["MemorySwap"] == 768 << 20 and host["PidsLimit"] == 64 and host["Init"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert container.attrs["Config"]["User"] == "10001:10001"
    session.sync_log()  # the print crosses the engine's attach stream: wait until it is read
    assert "probe:" in session.log_text("")


def test_memory_bomb_is_memory_limit(docker_session):
    from grader.channel.errors import WorkerMemoryLimit

    c = child(docker_session, timeout=120)
    with pytest.raises(WorkerMemoryLimit, match="memory limit"):
        c.request({"op": "import", "module": "probe"}, 20, "import").hog(32)


def test_fork_bomb_hits_the_process_limit(docker_session):
    from grader.channel.errors import RemoteError

    c = child(docker_session, timeout=120)
    c.max_processes = 64
    with pytest.raises(RemoteError, match="process limit is 64"):
        c.request({"op": "import", "module": "probe"}, 20, "import").forks()
    c.close()
    # Right away, while init may still be reaping the bomb's processes: the next test starts.
    c = child(docker_session)
    assert c.request({"op": "import", "module": "probe"}, 20, "import").probe([])["uid"] == 10001
    c.close()


def test_infinite_loop_times_out_and_worker_recovers(docker_session):
    from grader.channel.errors import WorkerTimeout

    c = child(docker_session, timeout=2)
    with pytest.raises(WorkerTimeout):
        c.request({"op": "import", "module": "probe"}, 20, "import").spin()
    c = child(docker_session)
    assert c.request({"op": "import", "module": "probe"}, 20, "import").probe([])["uid"] == 10001
    c.close()


def test_same_scores_in_docker_and_local(tmp_path, toy_catalogue):
    need_docker()
    from conftest import write_submission
    from test_grading import CANDIDATES

    from grader.grading import GradeOptions, grade_batch
    from grader.results import read_result
    from grader.sandbox.docker import leftovers
    from grader.sandbox.engine import docker_client

    names = ["honest", "always_equal", "infinite_loop", "os_exit", "syntax_error"]
    for name in names:
        write_submission(tmp_path / "batch" / name, CANDIDATES[name])
    scores = {}
    for kind in ("docker", "local"):
        out = tmp_path / kind
        opts = GradeOptions(sandbox=kind, jobs=2)
        grade_batch([tmp_path / "batch"], out, toy_catalogue, opts)
        scores[kind] = {n: [(t.id, t.outcome, t.points) for t in read_result(out / n / "results.json").exercises[0].tests]
                        for n in names}
        if kind == "docker":
            client = docker_client()
            assert not leftovers(client, opts.batch_id), "containers left behind"
            client.close()
            assert read_result(out / "honest" / "results.json").sandbox == "docker"
    assert scores["docker"] == scores["local"]


def test_gpu_request_without_gpu_runtime_is_one_line(tmp_path):
    need_docker()
    from click.testing import CliRunner
    from conftest import TOY_ROOT, reference_with, write_submission

    from grader.cli import cli
    from grader.sandbox.engine import docker_client, gpu_runtime_available

    client = docker_client()
    if gpu_runtime_available(client):
        pytest.skip("this engine has a GPU runtime")
    write_submission(tmp_path / "b" / "a", {"toy.py": reference_with()})
    res = CliRunner().invoke(cli, ["--catalogue", str(TOY_ROOT), "grade", str(tmp_path / "b"), "-o", str(tmp_path / "o"),
                                   "--sandbox", "docker", "--gpus", "1"])
    assert res.exit_code == 1 and "no GPU runtime" in res.output and res.output.count("\n") == 1


HOSTILE = {
    "memory_bomb": """
        def average(x):
            blocks = []
            while True:
                blocks.append(b"x" * (128 << 20))  # touched, so it is resident
    """,
    "fork_bomb": """
        def average(x):
            import os
            while True:
                os.fork()
    """,
    "network": """
        def average(x):
            import socket
            socket.create_connection(("1.1.1.1", 80), timeout=3)
            return float(x.sum().item() / x.numel())
    """,
    "introspect": """
        def maximum(values):
            import os, socket
            print("uid", os.getuid())
            with open("/proc/self/status") as fh:
                print(next(l for l in fh if l.startswith("CapEff")).strip())
            for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
                if os.path.exists(path):
                    print("memory limit", open(path).read().strip())
            try:
                socket.create_connection(("1.1.1.1", 53), timeout=2)
                print("network: reachable")
            except OSError as exc:
                print("network: unreachable", type(exc).__name__)
            found = [os.path.join(r, f) for r, _, fs in os.walk("/grader") for f in fs]
            found += [p for top in ("/", "/tmp", "/root", "/home", "/work", "/srv")
                      if os.path.isdir(top) and os.access(top, os.R_OK)
                      for p in (os.path.join(top, n) for n in os.listdir(top))]
            print("files:", sorted(found))
            return max(values)
    """,
}


def test_hostile_submissions_in_docker(tmp_path):
    need_docker()
    from conftest import reference_with, write_submission

    from grader.grading import GradeOptions, grade_batch
    from grader.results import read_result
    from grader.sandbox.docker import leftovers
    from grader.sandbox.engine import docker_client

    for name, code in HOSTILE.items():
        fn = "maximum" if name == "introspect" else "average"
        write_submission(tmp_path / "batch" / name, {"toy.py": reference_with(replace={fn: code})})
    # The OOM killer can take seconds to act on a loaded machine: allow more than the toy's 3 s.
    import shutil

    from conftest import TOY_ROOT
    from grader.catalogue import Catalogue

    shutil.copytree(TOY_ROOT, tmp_path / "cat")
    toml = tmp_path / "cat" / "exercises" / "q90_toy" / "exercise.toml"
    toml.write_text(toml.read_text().replace("call_timeout_s = 3", "call_timeout_s = 30"))
    opts = GradeOptions(sandbox="docker", jobs=2, memory_mb=512)
    grade_batch([tmp_path / "batch"], tmp_path / "out", Catalogue(tmp_path / "cat"), opts)

    def tests(name):
        r = read_result(tmp_path / "out" / name / "results.json")
        assert r.status == "graded" and r.sandbox == "docker"
        return r, {t.id.split("::")[-1]: t for t in r.exercises[0].tests}

    r, t = tests("memory_bomb")
    assert t["test_average"].outcome == "memory_limit" and "512 MB" in t["test_average"].message
    assert t["test_scale"].outcome == "passed" and t["test_maximum"].outcome == "passed"
    r, t = tests("fork_bomb")
    # the process limit stops it: the call errors out, or the stuck bomb is killed at the time limit
    # (it may spend the rest of its exercise's time budget, never another exercise's or candidate's)
    assert t["test_average"].outcome in ("error", "crashed", "timeout") and t["test_average"].points == 0
    assert t["test_scale"].outcome == "passed"
    r, t = tests("network")
    assert t["test_average"].outcome == "error" and "OSError" in t["test_average"].message
    assert t["test_scale"].outcome == "passed"
    r, t = tests("introspect")
    assert r.score == 9
    log = r.exercises[0].log
    assert "uid 10001" in log and "CapEff:\t0000000000000000" in log and "memory limit" in log
    assert "network: unreachable" in log
    assert "solutions" not in log and "test_toy.py" not in log and "hidden" not in log
    client = docker_client()
    assert not leftovers(client, opts.batch_id)
    client.close()


def test_doctor_reports_engine_and_image():
    need_docker()
    from click.testing import CliRunner

    from grader.cli import cli

    res = CliRunner().invoke(cli, ["doctor"])
    assert res.exit_code == 0, res.output
    assert "docker: engine" in res.output and "runner image: grader-runner:" in res.output
    assert "GPU runtime:" in res.output and "leftover containers:" in res.output


def test_ctrl_c_removes_the_containers(tmp_path):
    """SIGINT to `grader grade` mid-batch: the grader exits, keeps nothing half-written, leaves no container."""
    need_docker()
    import signal
    import subprocess
    import sys
    import time

    from conftest import TOY_ROOT, reference_with, write_submission

    from grader.sandbox.docker import leftovers
    from grader.sandbox.engine import docker_client

    # Every function spins until its 3 s call timeout: the batch lasts far longer than it takes
    # to see a container and send the signal.
    spin = {name: f"""
        def {name}(*args):
            while True:
                pass
        """ for name in ("scale", "average", "maximum")}
    for name in ("a", "b", "c"):
        write_submission(tmp_path / "batch" / name, {"toy.py": reference_with(replace=spin)})
    client = docker_client()
    before = {c.id for c in leftovers(client)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "--catalogue", str(TOY_ROOT), "grade", str(tmp_path / "batch"),
                             "-o", str(tmp_path / "out"), "--sandbox", "docker", "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            # A test run started in the background by a non-interactive shell
                            # inherits SIGINT ignored, and Python keeps it so: Ctrl-C is what we test.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not ({c.id for c in leftovers(client)} - before):
        time.sleep(0.2)
    assert {c.id for c in leftovers(client)} - before, "no sandbox container appeared"
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 130, output
    assert "interrupted" in output and "Traceback" not in output
    assert not ({c.id for c in leftovers(client)} - before), "containers left after Ctrl-C"
    for path in (tmp_path / "out").rglob("*.tmp"):
        raise AssertionError(f"half-written file left: {path}")
    client.close()


def test_the_janitor_sweeps_dead_judges_at_once_and_the_batch_at_its_end():
    need_docker()
    import subprocess
    import sys
    import time

    from grader.sandbox.docker import BATCH_LABEL, LABEL, OWNER_LABEL, process_identity
    from grader.sandbox.engine import docker_client
    from grader.sandbox.image import find_runner_image
    from grader.sandbox.janitor import Janitor

    client = docker_client()
    image = find_runner_image(client)
    assert image is not None
    dead = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead_owner = process_identity(dead.pid)
    dead.kill()
    dead.wait()
    assert dead_owner and process_identity(dead.pid) == ""
    batch = uuid.uuid4().hex[:12]
    orphan = client.containers.create(image, command="true", labels={LABEL: "1", OWNER_LABEL: dead_owner})
    ours = client.containers.create(image, command="true",
                                    labels={LABEL: "1", BATCH_LABEL: batch, OWNER_LABEL: process_identity(os.getpid())})
    try:
        janitor = Janitor(batch)

        def exists(c) -> bool:
            return bool(client.containers.list(all=True, filters={"id": c.id}))

        deadline = time.monotonic() + 60
        while exists(orphan) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not exists(orphan), "the container of a dead judge was not removed at the start"
        assert exists(ours), "a container of a live judge was removed before the batch's end"
        assert janitor.finish()
        assert not exists(ours), "the batch's container is still there after its end"
    finally:
        for c in (orphan, ours):
            try:
                c.remove(force=True)
            except Exception:
                pass
        client.close()


def test_a_reaped_worker_ends_its_container_by_itself_and_the_janitor_removes_it(monkeypatch):
    """With ``reaped``, closing a session makes no engine call: the worker exits on the shutdown
    (its container with it), and ``reap JOB`` to the janitor removes the container."""
    need_docker()
    import time

    from grader.channel.client import WorkerSession
    from grader.sandbox.docker import DockerSandbox, leftovers
    from grader.sandbox.janitor import Janitor
    from grader.staging import new_stage, open_permissions, remove_stage, stage_common

    job = "pytest-job-" + uuid.uuid4().hex[:8]
    other = "pytest-job-" + uuid.uuid4().hex[:8]
    batch = "pytest-" + uuid.uuid4().hex[:8]
    stage = new_stage()
    stage_common(stage, [])
    open_permissions(stage)
    sandbox = DockerSandbox(SandboxLimits(memory_bytes=768 << 20, max_processes=64), batch=batch, reaped=True)
    janitor = Janitor(batch)
    sessions = []
    try:
        for label in (job, other):
            monkeypatch.setenv("GRADER_JOB_ID", label)
            session = WorkerSession(sandbox, stage)
            session.ensure_started()
            sessions.append(session)
        container = sessions[0].process.container
        removed = []
        sandbox.client.api.remove_container = lambda *a, **k: removed.append(a)  # any removal here fails the test
        sessions[0].close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            container.reload()
            if container.status == "exited":
                break
            time.sleep(0.1)
        assert container.status == "exited", f"the worker did not end after its shutdown: {container.status}"
        assert container.attrs["State"]["ExitCode"] == 0 and not removed
        assert janitor.reap(job)
        deadline = time.monotonic() + 60
        while leftovers(sandbox.client, job=job) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not leftovers(sandbox.client, job=job), "reap did not remove the judge's container"
        assert leftovers(sandbox.client, job=other), "reap removed another judge's container"
        del sandbox.client.api.remove_container
    finally:
        for session in sessions:
            session.close()
        assert janitor.finish()
        remove_stage(stage)
    assert not leftovers(sandbox.client, batch), "the batch's end left containers"


def test_the_janitor_sweeps_the_batch_when_its_grader_vanishes():
    """End of input without ``end`` (the grader was killed): the janitor still sweeps its batch,
    and Ctrl-C (SIGINT to the whole process group) does not stop it first."""
    need_docker()
    import signal
    import time

    from grader.sandbox.docker import BATCH_LABEL, LABEL, OWNER_LABEL, process_identity
    from grader.sandbox.engine import docker_client
    from grader.sandbox.image import find_runner_image
    from grader.sandbox.janitor import Janitor

    client = docker_client()
    image = find_runner_image(client)
    batch = uuid.uuid4().hex[:12]
    ours = client.containers.create(image, command="true",
                                    labels={LABEL: "1", BATCH_LABEL: batch, OWNER_LABEL: process_identity(os.getpid())})
    try:
        janitor = Janitor(batch)
        proc = janitor.proc
        assert proc is not None and proc.stdin is not None
        time.sleep(1.0)  # past its start-up
        proc.send_signal(signal.SIGINT)
        proc.stdin.close()
        proc.wait(60)
        assert not client.containers.list(all=True, filters={"id": ours.id}), "the batch's container is still there"
    finally:
        try:
            ours.remove(force=True)
        except Exception:
            pass
        client.close()

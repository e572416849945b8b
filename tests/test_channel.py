"""The judge/worker channel over a real local sandbox (bubblewrap where it works).

These tests drive :class:`WorkerSession` directly with small candidate modules and check what
the judge receives: plain data or opaque handles, and a fault for every way a call can go wrong.
"""

from __future__ import annotations

import os
import socket
import textwrap
import time
from pathlib import Path

import pytest
import torch

from grader.channel.client import Handle, WorkerSession, fetch, keep
from grader.channel.errors import (MissingName, RemoteError, SandboxStartError, SubmissionImportError, WorkerCrashed,
                                   WorkerMemoryLimit, WorkerTimeout)
from grader.judge.warmup import WorkerWarmup
from grader.sandbox.base import SandboxLimits
from grader.sandbox.local import LocalSandbox, bwrap_status
from grader.sandbox.warm import WarmPool
from grader.staging import new_stage, open_permissions, remove_stage, stage_common

from conftest import need_warm_workers

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

CANDIDATE = '''
import os, sys, socket, torch

COUNT = 0

def add(a, b):
    return a + b

def bump():
    global COUNT
    COUNT += 1

class AlwaysEqual:
    def __eq__(self, other):
        return True

def always_equal():
    return AlwaysEqual()

class Sub(float):
    pass

def float_sub():
    return Sub(1.0)

def tensor_sub():
    class T(torch.Tensor):
        pass
    return torch.ones(2).as_subclass(T)

def mutate(t):
    t.add_(100)
    return t

def loop():
    while True:
        pass

def hog(mb):
    blocks = []
    while True:
        blocks.append(bytearray(mb << 20))

def bad():
    raise KeyError("nope")

def exit_now():
    os._exit(3)

def shout(n):
    sys.stdout.write("x" * n)
    sys.stdout.flush()
    return n

KEEP = []

def hold(mb):
    KEEP.append(bytearray(b"x" * (mb << 20)))
    return mb

def kill_others():
    """Kill every process of the sandbox this code can reach but itself, its parent and init."""
    me, parent = os.getpid(), os.getppid()
    killed = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me, parent):
            try:
                os.kill(int(name), 9)
                killed.append(int(name))
            except OSError:
                pass
    return killed

def probe(paths, port):
    out = {"uid": os.getuid(), "files": {p: os.path.exists(p) for p in paths}, "env": dict(os.environ)}
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        out["net"] = "connected"
    except OSError as exc:
        out["net"] = type(exc).__name__
    return out

class Counter:
    def __init__(self, start=0):
        self.n = start
    def add(self, k):
        self.n += k
        return self.n

def shadowed():
    c = Counter()
    c.add = 5  # an attribute of the object hides its class's method
    return c

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
    def forward(self, x):
        return self.lin(x)
'''


def confined() -> bool:
    ok, _ = bwrap_status()
    if not ok and os.environ.get("CI"):
        pytest.fail("bubblewrap must work in CI")
    return ok


@pytest.fixture(scope="module", params=["cold", "warm"])
def pool(request):
    """None: every worker starts afresh; a WarmPool: workers are forked from a warm nursery."""
    if request.param == "cold":
        yield None
        return
    need_warm_workers()
    with WarmPool() as pool:
        yield pool


@pytest.fixture(scope="module")
def stage(pool):
    stage = pool.new_stage() if pool is not None else new_stage()
    stage_common(stage, [])
    sub = stage / "submission" / "k" / "q90_toy"
    sub.mkdir(parents=True)
    (sub / "cand.py").write_text(textwrap.dedent(CANDIDATE))
    (sub / "broken.py").write_text("def f(:\n    pass\n")
    open_permissions(stage)
    yield stage
    remove_stage(stage)


@pytest.fixture(scope="module")
def session(stage, pool):
    sandbox = LocalSandbox(SandboxLimits(memory_bytes=1 << 30, log_bytes=4096), confined=confined(),
                           warm_socket=str(pool.socket_path) if pool is not None else None)
    s = WorkerSession(sandbox, stage)
    yield s
    s.close()


def child_of(session, stage, memory=256 << 20, timeout=3.0):
    root = session.sandbox.stage_root_inside(stage)
    sub = f"{root}/submission/k/q90_toy"
    child = session.spawn({"sys_path": [sub], "submission_dir": sub, "memory_bytes": memory, "seed": 1,
                           "cwd": "/tmp" if session.sandbox.confined else f"{root}/tmp"})
    child.call_timeout = timeout
    return child


def module(child, name="cand"):
    return child.request({"op": "import", "module": name}, 10.0, f"importing {name}")


def assert_next_test_works(session, stage, a=1, b=1):
    """Whatever the test before did, the next one gets a working child."""
    child = child_of(session, stage)
    assert module(child).add(a, b) == a + b
    child.close()


def test_plain_values_and_handles(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    assert cand.add(2, 3) == 5
    out = cand.add(torch.ones(2), torch.ones(2))
    assert type(out) is torch.Tensor and torch.equal(out, torch.full((2,), 2.0))
    eq = cand.always_equal()
    assert type(eq) is Handle and eq != 1 and not (eq == 1)
    assert type(cand.float_sub()) is Handle
    sub = cand.tensor_sub()
    assert type(sub) is torch.Tensor and torch.equal(sub, torch.ones(2))
    child.close()


def test_module_functions_are_read_once_and_constants_every_time(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    assert cand.add is cand.add  # one getattr round trip, then the remembered handle
    cand.bump()
    cand.bump()
    assert cand.COUNT == 2  # a plain value is read again, never remembered
    cand.bump()
    assert cand.COUNT == 3
    # an object's attributes are read every time: only a module's functions are remembered
    seq = keep(cand).add(torch.ones(1), torch.ones(1))
    assert type(seq) is Handle and seq.add is not seq.add
    child.close()


def test_a_method_of_a_class_is_read_and_called_in_one_request(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    sent = []
    request = child.request

    def counted(message, *args, **kwargs):
        sent.append(message["op"])
        return request(message, *args, **kwargs)

    child.request = counted
    first, second = cand.Counter(1), cand.Counter(10)
    assert first.add(1) == 2
    assert sent[-2:] == ["getattr", "call"]  # learnt: objects of this class have a method add
    sent.clear()
    assert second.add(2) == 12 and second.add(3) == 15
    assert sent == ["callattr", "callattr"]
    # used other than by a call, the attribute is read: what the object holds is what counts
    odd = cand.shadowed()
    assert odd.add == 5
    assert fetch(odd.add) == 5
    method = second.add
    assert type(fetch(method)) is Handle and "Counter.add" in repr(method)
    with pytest.raises(RemoteError, match="not callable"):
        odd.add(1)  # read and called in the worker, as `getattr` then `call` would have
    child.close()


def test_inputs_travel_by_value(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    mine = torch.zeros(3)
    back = cand.mutate(mine)
    assert torch.equal(mine, torch.zeros(3)) and torch.equal(back, torch.full((3,), 100.0))
    child.close()


def test_objects_stay_in_the_worker(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    model = cand.Model()
    assert type(model) is Handle
    sd = model.state_dict()
    assert set(sd) == {"lin.weight", "lin.bias"} and type(sd["lin.weight"]) is torch.Tensor
    x = torch.randn(4, 3)
    expected = x @ sd["lin.weight"].T + sd["lin.bias"]
    assert torch.allclose(model(x), expected, atol=1e-6)
    keep(model)(x).sum().backward()
    grad = fetch(keep(model).lin.weight.grad)
    assert type(grad) is torch.Tensor and grad.shape == (2, 3)
    child.close()


def test_candidate_exceptions_keep_their_builtin_class(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    with pytest.raises(KeyError) as err:
        cand.bad()
    assert isinstance(err.value, RemoteError) and "nope" in str(err.value)
    with pytest.raises(MissingName, match="no_such"):
        cand.no_such_function
    child.close()


def test_syntax_error_names_the_line(session, stage):
    child = child_of(session, stage)
    with pytest.raises(SubmissionImportError, match=r"SyntaxError \(broken.py, line 1\)"):
        module(child, "broken")
    child.close()


def test_timeout_kills_only_that_call(session, stage):
    child = child_of(session, stage, timeout=1.0)
    cand = module(child)
    with pytest.raises(WorkerTimeout, match="loop"):
        cand.loop()
    assert_next_test_works(session, stage)


def test_exit_in_candidate_code_is_a_crash(session, stage):
    child = child_of(session, stage)
    with pytest.raises(WorkerCrashed, match="status 3"):
        module(child).exit_now()
    assert_next_test_works(session, stage, 1, 2)


def test_memory_bomb(session, stage):
    child = child_of(session, stage, memory=128 << 20, timeout=20)
    with pytest.raises((WorkerMemoryLimit, WorkerCrashed)):
        module(child).hog(16)
    assert_next_test_works(session, stage, 2, 2)


def test_output_is_captured_and_capped(session, stage):
    session.switch_log("shouty")
    child = child_of(session, stage)
    assert module(child).shout(100_000) == 100_000
    child.close()
    text = session.log_text("shouty")
    assert text.startswith("x" * 100) and "more bytes of output dropped" in text
    assert len(text) < 5000


def test_sandbox_confinement(session, stage):
    if not session.sandbox.confined:
        pytest.skip("bubblewrap unavailable here")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    secret_paths = [str(ROOT), str(ROOT / "tests" / "fixtures" / "catalogue" / "solutions"), "/root",
                    str(ROOT / "tests" / "fixtures" / "catalogue" / "exercises" / "q90_toy" / "tests" / "hidden"),
                    str(stage), "/work"]
    child = child_of(session, stage)
    info = module(child).probe(secret_paths, port)
    child.close()
    server.close()
    assert info["uid"] == 65534
    assert info["net"] != "connected"
    visible = [p for p, seen in info["files"].items() if seen and p not in ("/root",)]
    assert not visible, f"the sandbox can see {visible}"
    assert "HOME" in info["env"] and not any(k.startswith(("GRADER_", "PYTEST")) for k in info["env"])


def test_the_last_output_of_a_test_stays_with_its_exercise(session, stage, monkeypatch):
    # The judge has the reply before the log reader has what was printed just before it; a slow
    # reader makes that certain.
    child_of(session, stage).close()
    log = session.process.log
    feed = log.feed
    monkeypatch.setattr(log, "feed", lambda data: (time.sleep(0.05), feed(data)))
    for i in range(5):
        session.switch_log(f"part{i}")
        child = child_of(session, stage)
        assert module(child).shout(7 + i) == 7 + i
        child.close()
    session.switch_log("after")
    for i in range(5):
        assert session.log_text(f"part{i}") == "x" * (7 + i)


def test_every_test_gets_a_fresh_process(session, stage):
    child = child_of(session, stage)
    cand = module(child)
    cand.bump()
    assert cand.COUNT == 1
    first = child.pid
    child.close()
    child = child_of(session, stage)
    cand = module(child)
    assert cand.COUNT == 0 and child.pid != first
    child.close()


def test_a_spare_killed_by_the_test_before_is_replaced(session, stage):
    if not session.sandbox.confined:
        pytest.skip("needs the sandbox's own PID namespace")
    child = child_of(session, stage)
    cand = module(child)
    time.sleep(0.3)  # the zygote forks the next test's child while this one idles
    assert cand.kill_others(), "no spare child was waiting"
    child.close()
    assert_next_test_works(session, stage, 2, 5)


def test_an_ended_child_reports_its_peak_memory(session, stage):
    child = child_of(session, stage)
    assert module(child).hold(64) == 64
    child.close()
    # the report is read by the next control reply, or when the judge settles before its results
    assert child.maxrss_kb == 0 and session.ending is child
    session.settle()
    assert child.maxrss_kb >= 64 << 10 and session.ending is None
    # read by the next spawn on the way to its own reply
    nxt = child_of(session, stage)
    assert module(nxt).hold(32) == 32
    nxt.close()
    child_of(session, stage).close()
    assert nxt.maxrss_kb >= 32 << 10
    session.settle()


def test_a_warmup_hands_its_launched_worker_to_the_session(stage, pool):
    sandbox = LocalSandbox(SandboxLimits(memory_bytes=1 << 30, log_bytes=4096), confined=confined(),
                           warm_socket=str(pool.socket_path) if pool is not None else None)
    session = WorkerSession(sandbox, stage)
    warmup = WorkerWarmup(sandbox, stage)
    try:
        warmup.bind(session).result()
        assert session.starts == 1 and session.process is not None
        assert_next_test_works(session, stage)
        assert session.starts == 1
    finally:
        session.close()


def test_a_failed_launch_surfaces_in_the_first_test(stage):
    class NoLaunch(LocalSandbox):
        def launch(self, stage):
            raise OSError("no sandbox today")

    sandbox = NoLaunch(SandboxLimits(), confined=False)
    warmup = WorkerWarmup(sandbox, stage).bind(WorkerSession(sandbox, stage))
    with pytest.raises(SandboxStartError, match="could not be started: no sandbox today"):
        warmup.result()


def test_unconfined_sandbox_is_labelled(stage):
    sandbox = LocalSandbox(SandboxLimits(), confined=False)
    assert sandbox.name == "local-unconfined" and "not a security boundary" in sandbox.warning

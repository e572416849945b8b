"""The benchmark's floor: hidden tests in one plain pytest process, the reference imported directly.

Loaded with ``-p floor_plugin`` (``bench/`` on ``PYTHONPATH``, ``GRADER_FLOOR_ROOT`` naming the
catalogue root). It offers the same fixtures as the judge's plugin, with no sandbox, no worker
process, no fresh process per test and no cross-process channel. What is left is the cost of the
tests themselves.

Two kinds of floor (``GRADER_FLOOR``):

* ``loopback`` (the default): ``submission`` and ``remote`` are the judge's own handles, served
  by the worker's request handling *in this process* (:class:`LoopbackSession`). Values still
  cross by value through the codec, as the hidden tests are written to expect (a ``Parameter``
  comes back a plain tensor, an ``OrderedDict`` a dict, an object stays behind a handle with a
  ``remote_type``), so every test runs to its end exactly as in the grader.
* ``direct``: ``submission`` is the reference module itself. Cheaper, but a test that relies on
  by-value semantics fails early, which makes this floor lower than the tests' real cost (19
  of the 220 hidden tests did).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import sys
import types
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader.catalogue import Catalogue, Exercise
from grader.channel import codec, worker
from grader.channel.client import Child, Handle
from grader.grading import exercise_spec
from grader.judge.plugin import MARKERS, Remote, _load_module, test_seed

ROOT = Path(os.environ.get("GRADER_FLOOR_ROOT", Path(__file__).resolve().parent.parent))
_catalogue = Catalogue(ROOT)
_modules: dict[tuple[str, str], types.ModuleType] = {}


def _exercise(item: pytest.Item) -> Exercise:
    rel = Path(str(item.path)).resolve().relative_to((ROOT / "exercises").resolve())
    return _catalogue.get(rel.parts[0])


def _helpers(ex: Exercise) -> types.ModuleType | None:
    path = ex.root / "helpers.py"
    if not path.is_file():
        return None
    key = (ex.id, "helpers")
    if key not in _modules:
        _modules[key] = _load_module(f"floor_{ex.id}_helpers", path, None)
    return _modules[key]


def _solution_module(ex: Exercise, name: str) -> types.ModuleType:
    key = (ex.id, name)
    if key not in _modules:
        # The reference's own sibling modules (``import model`` from ``train.py``) resolve too.
        sys.path.insert(0, str(ex.solution_dir))
        try:
            _modules[key] = _load_module(f"floor_{ex.id}_{name}", ex.solution_dir / f"{name}.py", _helpers(ex))
        finally:
            sys.path.remove(str(ex.solution_dir))
    return _modules[key]


FLOOR = os.environ.get("GRADER_FLOOR", "loopback")


class LoopbackWorker(worker.Child):
    """The worker's request handling (``dispatch``, handles, replies) without its process."""

    def __init__(self, ex: Exercise, seed: int) -> None:  # no pipes and no spec: nothing to read or limit
        self.ex = ex
        # Its own random state, seeded as a test's child is: the judge's draws and the worker's
        # are separate streams in the grader, and the tests rely on that.
        with _own_random_state(self):
            random.seed(seed)
            worker.seed_torch(seed)
        self.objects: dict[int, Any] = {}
        self.next_id = 1
        self.max_reply = 1 << 62
        self.submission_dir = str(ex.solution_dir)
        self.pid = os.getpid()
        self.outbox: list[bytearray] = []

    def send(self, chunks: list) -> None:
        self.outbox.append(bytearray(b"".join(memoryview(c).cast("B") for c in chunks)))

    def import_module(self, name: str) -> Any:
        return _helpers(self.ex) if name == "helpers" else _solution_module(self.ex, name)


class LoopbackSession:
    """What :class:`grader.channel.client.Child` needs of a session, answered in this process:
    each request is encoded, decoded on the worker's side, run and its reply encoded and decoded
    again, exactly as over the channel."""

    generation = 1
    process = True  # "started"

    def __init__(self, ex: Exercise, seed: int) -> None:
        self.worker = LoopbackWorker(ex, seed)
        self.replies: list[tuple[int, bytearray]] = []

    def _send(self, kind: int, message: dict, to_handle: Any = None, max_bytes: int = 1 << 62) -> None:
        payload = bytearray(b"".join(memoryview(c).cast("B") for c in codec.encode_message(message, to_handle, max_bytes)))
        side = self.worker
        with _own_random_state(side):
            try:
                msg = codec.decode_message(payload, side.lookup)
                side.dispatch(msg.get("op"), msg)
            except BaseException as exc:  # as the worker's serve loop does
                side.error_reply(exc, kind=getattr(exc, "_grader_kind", "error"))
        self.replies.append((codec.DATA, side.outbox.pop()))

    def _next_frame(self, deadline: float) -> tuple[int, bytearray]:
        return self.replies.pop(0)

    def _decode(self, payload: bytearray, during: str, child: Child | None = None, keep: bool = False) -> dict:
        return codec.decode_message(payload, (lambda ref: Handle(child, ref, keep)) if child else (lambda ref: None))


@contextlib.contextmanager
def _own_random_state(side: Any) -> Iterator[None]:
    """Run with ``side``'s random and torch generator states, then give the judge's back."""
    import torch

    judge = (random.getstate(), torch.random.get_rng_state())
    if hasattr(side, "random_state"):
        random.setstate(side.random_state)
        torch.random.set_rng_state(side.torch_state)
    try:
        yield
    finally:
        side.random_state, side.torch_state = random.getstate(), torch.random.get_rng_state()
        random.setstate(judge[0])
        torch.random.set_rng_state(judge[1])


def _loopback_child(ex: Exercise, seed: int) -> Child:
    child = Child(LoopbackSession(ex, seed), 1, os.getpid(), 1 << 62)  # type: ignore[arg-type]
    child.call_timeout = float(ex.meta.limits.call_timeout_s)
    return child


class LocalRemote:
    """The judge's ``remote`` fixture, served from this process."""

    def __init__(self, ex: Exercise) -> None:
        self.ex = ex
        self.call_timeout = float(ex.meta.limits.call_timeout_s)

    def module(self, name: str) -> types.ModuleType:
        return _solution_module(self.ex, name)

    @property
    def helpers(self) -> types.ModuleType | None:
        return _helpers(self.ex)

    def resolve(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "helpers":
            obj: Any = _helpers(self.ex)
            parts = rest.split(".") if rest else []
        else:
            parts = path.split(".")
            obj = importlib.import_module(parts[0])
            parts = parts[1:]
            # import submodules on the way (transformers.models.bert...)
            for i, part in enumerate(parts):
                try:
                    obj = getattr(obj, part)
                except AttributeError:
                    obj = importlib.import_module(".".join([path.split(".")[0], *parts[: i + 1]]))
            return obj
        for part in parts:
            obj = getattr(obj, part)
        return obj

    def construct(self, path: str, *args: Any, **kwargs: Any) -> Any:
        return self.resolve(path)(*args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def pytest_runtest_setup(item: pytest.Item) -> None:
    ex = _exercise(item)
    seed = test_seed(ex.id, item.nodeid.split(f"{ex.id}/", 1)[-1])
    random.seed(seed)
    import numpy as np
    import torch

    np.random.seed(seed)
    worker.seed_torch(seed)  # as the judge seeds (torch.manual_seed costs 0.5 ms more)
    # The candidate's code gets the exercise's CPU budget in the sandbox; the floor gets the same,
    # so the ratio measures the harness, not the limit.
    torch.set_num_threads(max(1, int(ex.meta.limits.cpus)))


@pytest.fixture
def exercise(request: pytest.FixtureRequest) -> Exercise:
    return _exercise(request.node)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    ex = _exercise(request.node)
    return test_seed(ex.id, request.node.nodeid.split(f"{ex.id}/", 1)[-1])


@pytest.fixture
def rng(seed: int) -> Any:
    import torch

    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def _exercise_helpers_importable(request: pytest.FixtureRequest) -> Any:
    """As in the worker, where the exercise folder is on ``sys.path``: a reference that runs
    ``import helpers`` inside a function (q06) finds its own exercise's helpers."""
    found = _helpers(_exercise(request.node))
    previous = sys.modules.pop("helpers", None)
    if found is not None:
        sys.modules["helpers"] = found
    yield
    sys.modules.pop("helpers", None)
    if previous is not None:
        sys.modules["helpers"] = previous


@pytest.fixture
def floor_child(request: pytest.FixtureRequest) -> Child | None:
    """The loopback "worker" of this test (a fresh handle table, like a fresh process)."""
    ex = _exercise(request.node)
    seed = test_seed(ex.id, request.node.nodeid.split(f"{ex.id}/", 1)[-1])
    return _loopback_child(ex, seed) if FLOOR == "loopback" else None


@pytest.fixture
def submission(request: pytest.FixtureRequest, floor_child: Child | None) -> Any:
    ex = _exercise(request.node)
    if floor_child is not None:
        return Remote(floor_child, exercise_spec(ex)).module(ex.meta.modules[0][:-3])
    return _solution_module(ex, ex.meta.modules[0][:-3])


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> types.ModuleType:
    ex = _exercise(request.node)
    return _solution_module(ex, ex.meta.modules[0][:-3])


@pytest.fixture
def helpers(request: pytest.FixtureRequest) -> types.ModuleType | None:
    return _helpers(_exercise(request.node))


@pytest.fixture
def remote(request: pytest.FixtureRequest, floor_child: Child | None) -> Any:
    ex = _exercise(request.node)
    if floor_child is not None:
        return Remote(floor_child, exercise_spec(ex))
    return LocalRemote(ex)

"""The judge's pytest plugin: fixtures that reach the worker, points, and verdict recording.

Hidden and public tests are ordinary pytest files. They get candidate code only through the
``submission`` fixture (a proxy to the module inside the sandbox) and build inputs and expected
values themselves, in this trusted process. The plugin

* records the full list of tests (with points) before any runs, so a test without a verdict
  scores 0 with a reason;
* turns each test's result into an outcome of the results contract (passed, failed, error,
  timeout, memory_limit, crashed, missing) with a message;
* gives every test a fresh worker child, a seed derived from (exercise id, test id), a per-call
  timeout and the exercise's remaining time budget.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from grader.channel.client import Child, Handle, WorkerSession
from grader.channel.errors import MissingModule, SandboxStartError, TimeBudgetExceeded, outcome_of
from grader.channel.worker import seed_torch
from grader.judge.spec import (
    EventWriter,
    ExerciseEndEvent,
    ExerciseSpec,
    ExpectedEvent,
    JobSpec,
    JudgeErrorEvent,
    JudgeSpec,
    VerdictEvent,
)
from grader.judge.warmup import WorkerWarmup

MARKERS = (
    "points(n): points the test is worth (default 1)",
    "call_timeout(seconds): time limit of each call into candidate code in this test",
    "hint(text): what the test checks, shown to candidates instead of the docstring",
)


def test_seed(exercise_id: str, test_id: str) -> int:
    """The seed of a test: stable across runs, machines and test order."""
    digest = hashlib.sha256(f"{exercise_id}::{test_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _load_module(name: str, path: Path, helpers: types.ModuleType | None) -> types.ModuleType:
    """Import a trusted file under a unique name; ``import helpers`` inside it sees ``helpers``."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("helpers")
    if helpers is not None:
        sys.modules["helpers"] = helpers
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if helpers is not None:
            if saved is None:
                sys.modules.pop("helpers", None)
            else:
                sys.modules["helpers"] = saved
    return module


class Remote:
    """What a test may ask of the worker besides the submission itself."""

    def __init__(self, child: Child, exercise: ExerciseSpec) -> None:
        self._child = child
        self._exercise = exercise

    def module(self, name: str) -> Handle:
        """The candidate's module ``name`` (without .py), imported in the worker."""
        value = self._child.request({"op": "import", "module": name}, self._exercise.call_timeout_s, f"importing {name}.py")
        return value

    @property
    def helpers(self) -> Handle:
        """The exercise's public helpers.py, imported in the worker."""
        return self._child.request({"op": "import", "module": "helpers"}, self._exercise.call_timeout_s, "importing helpers.py")

    def construct(self, path: str, *args: Any, **kwargs: Any) -> Handle:
        """Build an allowlisted object in the worker (torch.nn.*, torch.optim.*, transformers.*, helpers.*)."""
        return self._child.request({"op": "construct", "path": path, "args": args, "kwargs": kwargs},
                                   self._child.call_timeout, f"building {path}")

    def resolve(self, path: str) -> Handle:
        """A handle to an allowlisted class or function in the worker."""
        return self._child.request({"op": "resolve", "path": path}, self._child.call_timeout, f"resolving {path}")

    @property
    def call_timeout(self) -> float:
        return self._child.call_timeout


class GraderPlugin:
    """Registered by the judge for one job (one submission)."""

    def __init__(self, spec: JudgeSpec, job: JobSpec, session: WorkerSession, writer: EventWriter,
                 stage_root_inside: str, warmup: WorkerWarmup | None = None,
                 before_tests: Callable[[], None] | None = None) -> None:
        self.spec = spec
        self.warmup = warmup
        self.before_tests = before_tests
        self.job = job
        self.session = session
        self.writer = writer
        self.stage_root_inside = stage_root_inside
        self.exercises_root = next(iter(spec.exercises.values())).root.parent if spec.exercises else Path(".")
        self.phase_exc: dict[str, dict[str, BaseException | None]] = {}
        self.test_ids: dict[str, tuple[str, str]] = {}
        self.started: dict[str, float] = {}
        self.deadlines: dict[str, float] = {}
        self.ex_first: dict[str, float] = {}
        self.ex_last: dict[str, float] = {}
        self.ex_children: dict[str, list[Child]] = {}
        self.current_exercise = ""
        self.infrastructure_error = ""
        self._modules: dict[tuple[str, str], types.ModuleType] = {}
        self.submitted: dict[str, set[str]] = {}
        for ex_id in job.exercises:
            folder = spec.stage / "submission" / job.key / ex_id
            self.submitted[ex_id] = {p.name for p in folder.glob("*.py")} if folder.is_dir() else set()

    # collection -------------------------------------------------------------------------------
    def exercise_of(self, item: pytest.Item) -> ExerciseSpec:
        rel = Path(str(item.path)).resolve().relative_to(self.exercises_root.resolve())
        return self.spec.exercises[rel.parts[0]]

    def test_id_of(self, item: pytest.Item) -> str:
        ex = self.exercise_of(item)
        prefix = ex.id + "/"
        nodeid = item.nodeid
        return nodeid[len(prefix):] if nodeid.startswith(prefix) else nodeid

    @staticmethod
    def points_of(item: pytest.Item) -> float:
        marker = item.get_closest_marker("points")
        if marker is None or not marker.args:
            return 1.0
        return float(marker.args[0])

    @staticmethod
    def hint_of(item: pytest.Item) -> str:
        marker = item.get_closest_marker("hint")
        if marker is not None and marker.args:
            return str(marker.args[0])
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def pytest_configure(self, config: pytest.Config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        order = {ex: i for i, ex in enumerate(self.job.exercises)}
        items.sort(key=lambda it: order.get(self.exercise_of(it).id, len(order)))
        for item in items:
            ex = self.exercise_of(item)
            tid = self.test_id_of(item)
            self.test_ids[item.nodeid] = (ex.id, tid)
            self.writer.write(ExpectedEvent(exercise=ex.id, test=tid, points=self.points_of(item), hint=self.hint_of(item)))

    # running ----------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        # Collected, and the worker warming up: a prestarted judge waits here for its slot.
        if self.before_tests is not None:
            self.before_tests()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        ex = self.exercise_of(item)
        now = time.monotonic()
        if ex.id != self.current_exercise:
            self.current_exercise = ex.id
            self.session.switch_log(ex.id)
        self.ex_first.setdefault(ex.id, now)
        self.deadlines.setdefault(ex.id, now + ex.total_time_s)
        self.started[item.nodeid] = now
        seed = test_seed(ex.id, self.test_ids[item.nodeid][1])
        random.seed(seed)
        import numpy as np

        np.random.seed(seed)
        seed_torch(seed)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        exc = call.excinfo.value if call.excinfo is not None else None
        self.phase_exc.setdefault(item.nodeid, {})[call.when] = exc
        if isinstance(exc, SandboxStartError) and not self.infrastructure_error:
            self.infrastructure_error = str(exc)
        return report

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        if nodeid not in self.test_ids:
            return
        ex_id, tid = self.test_ids[nodeid]
        phases = self.phase_exc.get(nodeid, {})
        outcome, message = "passed", ""
        for when in ("setup", "call"):
            if when in phases and phases[when] is not None:
                outcome, message = self.classify(phases[when])  # type: ignore[arg-type]
                break
        else:
            if "call" not in phases:
                outcome, message = "error", "the test did not run"
        now = time.monotonic()
        self.ex_last[ex_id] = now
        self.writer.write(VerdictEvent(exercise=ex_id, test=tid, outcome=outcome, message=message[:4000],
                                       duration_s=round(now - self.started.get(nodeid, now), 4)))
        if self.infrastructure_error:
            pytest.exit(f"infrastructure error: {self.infrastructure_error}", returncode=3)

    def classify(self, exc: BaseException) -> tuple[str, str]:
        """Outcome and message for an exception raised by a test."""
        outcome = outcome_of(exc)
        if outcome is not None:
            message = str(exc)
            tb = getattr(exc, "traceback_text", "")
            if tb and tb not in message:
                message = f"{message}\n{tb}"
            return outcome, message
        if isinstance(exc, AssertionError):
            text = str(exc).strip()
            if not text:
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = f" (line {tb.tb_lineno})" if tb is not None else ""
                text = f"assertion failed{where}"
            return "failed", text
        if isinstance(exc, pytest.skip.Exception):
            return "error", f"the test was skipped, which scores 0: {exc.msg}"
        if isinstance(exc, (pytest.exit.Exception, KeyboardInterrupt)):
            return "error", "grading was interrupted"
        # The test itself could not use what came back (e.g. arithmetic on an opaque handle).
        return "failed", f"unexpected result: {type(exc).__name__}: {exc}"

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.infrastructure_error:
            self.writer.write(JudgeErrorEvent(message=self.infrastructure_error))
        self.session.settle()  # the last child's report, with its peak memory
        self.session.sync_log()
        for ex_id in self.job.exercises:
            first = self.ex_first.get(ex_id)
            duration = (self.ex_last.get(ex_id, first) - first) if first is not None else 0.0
            rss = max((c.maxrss_kb for c in self.ex_children.get(ex_id, [])), default=0)
            self.writer.write(ExerciseEndEvent(exercise=ex_id, duration_s=round(duration, 3),
                                               log=self.session.log_text(ex_id),
                                               peak_memory_mb=round(rss / 1024, 1) if rss else None))

    # fixtures ---------------------------------------------------------------------------------
    @pytest.fixture
    def exercise(self, request: pytest.FixtureRequest) -> ExerciseSpec:
        """The metadata of the exercise this test belongs to."""
        return self.exercise_of(request.node)

    @pytest.fixture
    def seed(self, request: pytest.FixtureRequest) -> int:
        """This test's seed (also applied to random, numpy and torch before it starts)."""
        return test_seed(*self.test_ids[request.node.nodeid])

    @pytest.fixture
    def rng(self, seed: int) -> Any:
        """A torch.Generator seeded for this test."""
        import torch

        return torch.Generator().manual_seed(seed)

    @pytest.fixture
    def worker(self, request: pytest.FixtureRequest, seed: int) -> Iterator[Child]:
        """A fresh worker child for this test."""
        ex = self.exercise_of(request.node)
        if time.monotonic() >= self.deadlines[ex.id]:
            raise TimeBudgetExceeded(f"not run: the exercise's total time budget of {ex.total_time_s:g} s was spent")
        # Starting (or restarting) the sandbox is the harness's time, not the candidate's.
        t0, starts = time.monotonic(), self.session.starts
        warmup, self.warmup = self.warmup, None
        if warmup is not None:
            warmup.result()
        if ex.preload:
            self.session.preload(ex.preload)
        self.session.ensure_started()
        if self.session.starts != starts or ex.preload or warmup is not None:
            self.deadlines[ex.id] += time.monotonic() - t0
        deadline = self.deadlines[ex.id]
        root = self.stage_root_inside
        sub_dir = f"{root}/submission/{self.job.key}/{ex.id}"
        child = self.session.spawn({
            "sys_path": [sub_dir, f"{root}/exercise/{ex.id}"],
            "submission_dir": sub_dir,
            "seed": seed,
            "threads": max(1, int(ex.cpus)),
            "memory_bytes": ex.memory_bytes,
            "rlimit_memory": self.spec.sandbox.kind != "docker",
            "max_processes": ex.max_processes if self.spec.sandbox.kind != "docker" else None,
            "max_message_bytes": self.spec.sandbox.max_message_bytes,
            "cwd": "/tmp" if self.spec.sandbox.kind != "local-unconfined" else f"{root}/tmp",
            # only where the sandbox has its own PID namespace: never kill(-1) on the host
            "reap_all": self.spec.sandbox.kind in ("local", "docker"),
        })
        marker = request.node.get_closest_marker("call_timeout")
        child.call_timeout = float(marker.args[0]) if marker is not None and marker.args else ex.call_timeout_s
        child.deadline = deadline
        child.memory_mb = ex.memory_bytes >> 20
        child.max_processes = ex.max_processes
        child.budget_note = f"the exercise's total time budget of {ex.total_time_s:g} s was spent"
        try:
            yield child
        finally:
            child.close()
            self.ex_children.setdefault(ex.id, []).append(child)  # its peak memory is read later

    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest, worker: Child) -> Handle:
        """The candidate's (first) module, imported in the worker."""
        ex = self.exercise_of(request.node)
        module_file = ex.modules[0]
        if module_file not in self.submitted.get(ex.id, set()):
            raise MissingModule(f"{module_file} was not submitted (expected {ex.id}/{module_file})")
        return Remote(worker, ex).module(module_file[:-3])

    @pytest.fixture
    def remote(self, request: pytest.FixtureRequest, worker: Child) -> Remote:
        """Other modules of the submission, helpers in the worker, allowlisted construction."""
        return Remote(worker, self.exercise_of(request.node))

    @pytest.fixture
    def helpers(self, request: pytest.FixtureRequest) -> types.ModuleType:
        """The exercise's helpers.py, imported in the judge."""
        ex = self.exercise_of(request.node)
        return self._helpers(ex)

    def _helpers(self, ex: ExerciseSpec) -> types.ModuleType:
        key = (ex.id, "helpers")
        if key not in self._modules:
            path = ex.root / "helpers.py"
            if not path.is_file():
                raise RuntimeError(f"{ex.id} has no helpers.py")
            self._modules[key] = _load_module(f"grader_exercise_{ex.id}_helpers", path, None)
        return self._modules[key]

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> types.ModuleType:
        """The reference solution's (first) module, imported in the judge; hidden tests only."""
        if self.spec.mode != "hidden":
            raise RuntimeError("public tests cannot use the reference solution (candidates get them)")
        ex = self.exercise_of(request.node)
        key = (ex.id, "reference")
        if key not in self._modules:
            helpers = self._helpers(ex) if (ex.root / "helpers.py").is_file() else None
            path = ex.solution_dir / ex.modules[0]
            self._modules[key] = _load_module(f"grader_reference_{ex.id}", path, helpers)
        return self._modules[key]

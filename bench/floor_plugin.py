"""The benchmark's floor: hidden tests in one plain pytest process, the reference imported directly.

Loaded with ``-p floor_plugin`` (``bench/`` on ``PYTHONPATH``, ``GRADER_FLOOR_ROOT`` naming the
catalogue root). It offers the same fixtures as the judge's plugin, with no sandbox, no worker,
no channel and no fresh process per test: ``submission`` and ``reference`` are the reference
module itself, ``remote.construct`` builds the object in this process. What is left is the cost
of the tests themselves, which no harness can go below.
"""

from __future__ import annotations

import importlib
import os
import random
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from grader.catalogue import Catalogue, Exercise
from grader.judge.plugin import MARKERS, _load_module, test_seed

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
    torch.manual_seed(seed)
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
def submission(request: pytest.FixtureRequest) -> types.ModuleType:
    ex = _exercise(request.node)
    return _solution_module(ex, ex.meta.modules[0][:-3])


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> types.ModuleType:
    ex = _exercise(request.node)
    return _solution_module(ex, ex.meta.modules[0][:-3])


@pytest.fixture
def helpers(request: pytest.FixtureRequest) -> types.ModuleType | None:
    return _helpers(_exercise(request.node))


@pytest.fixture
def remote(request: pytest.FixtureRequest) -> LocalRemote:
    return LocalRemote(_exercise(request.node))

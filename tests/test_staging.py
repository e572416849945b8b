"""The stage folder (grader/staging.py): bytecode compiled once on the host, used in the sandbox."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from grader.channel.client import Child, WorkerSession
from grader.channel.errors import SubmissionImportError
from grader.sandbox.base import SandboxLimits
from grader.sandbox.local import LocalSandbox, bwrap_status
from grader.staging import new_stage, open_permissions, precompile, remove_stage, stage_common


@contextmanager
def sandboxed_child(stage: Path) -> Iterator[Child]:
    """A test's process in a bubblewrap sandbox over ``stage``, its submission ``k/q90_toy``."""
    ok, _ = bwrap_status()
    if not ok and os.environ.get("CI"):
        pytest.fail("bubblewrap must work in CI")
    session = WorkerSession(LocalSandbox(SandboxLimits(memory_bytes=1 << 30, log_bytes=4096), confined=ok), stage)
    try:
        root = session.sandbox.stage_root_inside(stage)
        path = f"{root}/submission/k/q90_toy"
        yield session.spawn({"sys_path": [path], "submission_dir": path, "memory_bytes": 256 << 20,
                             "cwd": "/tmp" if ok else f"{root}/tmp"})
    finally:
        session.close()


@pytest.fixture
def stage():
    stage = new_stage()
    stage_common(stage, [])
    yield stage
    remove_stage(stage)


def test_precompile_compiles_what_compiles_and_leaves_the_rest(stage: Path) -> None:
    sub = stage / "submission" / "k" / "q90_toy"
    (sub / "pkg").mkdir(parents=True)
    (sub / "good.py").write_text("X = 1\n")
    (sub / "pkg" / "inner.py").write_text("Y = 2\n")
    (sub / "broken.py").write_text("def f(:\n")
    assert precompile(stage) == 2
    assert (sub / "__pycache__").is_dir() and (sub / "pkg" / "__pycache__").is_dir()
    assert not list((sub / "__pycache__").glob("broken.*"))


def test_the_sandbox_imports_the_staged_bytecode(stage: Path) -> None:
    """A source swapped after compiling, keeping its size and time stamp, still runs as compiled:
    the child loaded the bytecode and did not compile the source again."""
    sub = stage / "submission" / "k" / "q90_toy"
    sub.mkdir(parents=True)
    source = sub / "cand.py"
    source.write_text("WHO = 'compiled'\n")
    (sub / "broken.py").write_text("def f(:\n")
    precompile(stage)
    st = source.stat()
    source.write_text("WHO = 'swapped!'\n")  # same length
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))
    open_permissions(stage)
    with sandboxed_child(stage) as child:
        mod = child.request({"op": "import", "module": "cand"}, 10.0, "importing cand")
        assert mod.WHO == "compiled"
        # a file that did not compile is still reported by the import, with its line
        with pytest.raises(SubmissionImportError, match="line 1"):
            child.request({"op": "import", "module": "broken"}, 10.0, "importing broken")


def test_bytecode_shipped_with_a_submission_never_runs(stage: Path, tmp_path: Path) -> None:
    """A submission's own .pyc files are not staged: an unchecked-hash .pyc next to a source that
    does not compile, and a .pyc with no source at all, would otherwise import in the sandbox."""
    import importlib.util
    import py_compile

    from grader.channel.errors import MissingModule
    from grader.staging import stage_submission

    unpacked = tmp_path / "unpacked" / "q90_toy"
    (unpacked / "__pycache__").mkdir(parents=True)
    (unpacked / "broken.py").write_text("def f(:\n")
    hidden = tmp_path / "hidden.py"
    hidden.write_text("import os\nWHO = 'hidden bytecode'\n")
    py_compile.compile(str(hidden), cfile=importlib.util.cache_from_source(str(unpacked / "broken.py")),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, doraise=True)
    py_compile.compile(str(hidden), cfile=str(unpacked / "ghost.pyc"), doraise=True)
    assert stage_submission(stage, "k", unpacked.parent, ["q90_toy"]) == ["q90_toy"]
    precompile(stage)
    open_permissions(stage)
    with sandboxed_child(stage) as child:
        with pytest.raises(SubmissionImportError, match="SyntaxError"):
            child.request({"op": "import", "module": "broken"}, 10.0, "importing broken")
        with pytest.raises(MissingModule):
            child.request({"op": "import", "module": "ghost"}, 10.0, "importing ghost")

"""The stage folder (grader/staging.py): bytecode compiled once on the host, used in the sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.channel.client import WorkerSession
from grader.channel.errors import SubmissionImportError
from grader.sandbox.base import SandboxLimits
from grader.sandbox.local import LocalSandbox, bwrap_status
from grader.staging import new_stage, open_permissions, precompile, remove_stage, stage_common


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
    ok, _ = bwrap_status()
    if not ok and os.environ.get("CI"):
        pytest.fail("bubblewrap must work in CI")
    session = WorkerSession(LocalSandbox(SandboxLimits(memory_bytes=1 << 30, log_bytes=4096), confined=ok), stage)
    try:
        root = session.sandbox.stage_root_inside(stage)
        path = f"{root}/submission/k/q90_toy"
        child = session.spawn({"sys_path": [path], "submission_dir": path, "memory_bytes": 256 << 20,
                               "cwd": "/tmp" if ok else f"{root}/tmp"})
        mod = child.request({"op": "import", "module": "cand"}, 10.0, "importing cand")
        assert mod.WHO == "compiled"
        # a file that did not compile is still reported by the import, with its line
        with pytest.raises(SubmissionImportError, match="line 1"):
            child.request({"op": "import", "module": "broken"}, 10.0, "importing broken")
    finally:
        session.close()

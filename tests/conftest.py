"""Shared fixtures: the toy catalogue and submission builders."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from grader.catalogue import Catalogue

ROOT = Path(__file__).resolve().parent.parent
TOY_ROOT = Path(__file__).resolve().parent / "fixtures" / "catalogue"
TOY_REFERENCE = TOY_ROOT / "solutions" / "q90_toy" / "toy.py"


@pytest.fixture(scope="session")
def toy_catalogue() -> Catalogue:
    return Catalogue(TOY_ROOT)


@pytest.fixture(scope="session")
def project_catalogue() -> Catalogue:
    return Catalogue(ROOT)


def write_submission(folder: Path, files: dict[str, str], exercise: str = "q90_toy") -> Path:
    """A submission folder with ``files`` (name -> source) under its exercise folder."""
    target = folder / exercise
    target.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (target / name).write_text(textwrap.dedent(source))
    return folder


def reference_with(extra: str = "", replace: dict[str, str] | None = None) -> str:
    """The toy reference with some functions replaced (by name) and extra code appended."""
    source = TOY_REFERENCE.read_text()
    for name, new in (replace or {}).items():
        start = source.index(f"def {name}(")
        end = source.find("\ndef ", start + 1)
        end = len(source) if end == -1 else end + 1
        source = source[:start] + textwrap.dedent(new).strip() + "\n\n" + source[end:]
    return source + "\n" + textwrap.dedent(extra)


@pytest.fixture
def make_submission(tmp_path: Path):
    def make(name: str, files: dict[str, str], exercise: str = "q90_toy", batch: Path | None = None) -> Path:
        base = (batch or tmp_path / "batch") / name
        return write_submission(base, files, exercise)

    return make


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MB tmpfs: something we can fill up without touching the machine's disks."""
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if res.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to mount a tmpfs: {res.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to its last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


def need_warm_workers() -> None:
    """Skip where workers cannot be forked warm here, except in CI, where that is a failure."""
    from grader.sandbox.warm import warm_status

    ok, why = warm_status()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"warm workers must work in CI: {why}")
        pytest.skip(why)

"""Runner image: input hashing, wheelhouse bookkeeping, engine helpers, and (with an engine) the
real image."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from grader.errors import GraderError
from grader.sandbox import engine, image
from grader.sandbox.engine import EngineUnavailable
from grader.sandbox.image import (
    DEFAULT_BASE_IMAGE,
    DOCKER_DIR,
    ImageBuildError,
    runner_image_tag,
    runner_inputs_hash,
)

RECIPE_FILES = ("Dockerfile", "requirements-runner.txt", ".dockerignore")


@pytest.fixture
def docker_dir(tmp_path: Path) -> Path:
    """A copy of the real docker/ recipe (no wheelhouse, no base cache)."""
    d = tmp_path / "docker"
    d.mkdir()
    for name in RECIPE_FILES:
        shutil.copy2(DOCKER_DIR / name, d / name)
    return d


# ------------------------------------------------------------------------------ hash and tag


def test_hash_is_short_hex_and_stable(docker_dir: Path) -> None:
    h = runner_inputs_hash(docker_dir)
    assert re.fullmatch(r"[0-9a-f]{12}", h)
    assert runner_inputs_hash(docker_dir) == h
    # Content, not location: the copy hashes like the original.
    assert runner_inputs_hash(DOCKER_DIR) == h


def test_hash_ignores_mtimes_and_wheelhouse(docker_dir: Path) -> None:
    h = runner_inputs_hash(docker_dir)
    for name in RECIPE_FILES:
        os.utime(docker_dir / name, (1, 1))
    wheelhouse = docker_dir / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / "fake-1.0-py3-none-any.whl").write_bytes(b"x" * 10)
    (docker_dir / "base").mkdir()
    (docker_dir / "base" / "bookworm-0.tar").write_bytes(b"rootfs")
    assert runner_inputs_hash(docker_dir) == h


def test_hash_changes_with_dockerfile(docker_dir: Path) -> None:
    h = runner_inputs_hash(docker_dir)
    with open(docker_dir / "Dockerfile", "a") as f:
        f.write("\nRUN true\n")
    assert runner_inputs_hash(docker_dir) != h


def test_hash_changes_with_requirements(docker_dir: Path) -> None:
    h = runner_inputs_hash(docker_dir)
    req = docker_dir / "requirements-runner.txt"
    req.write_text(req.read_text().replace("numpy==", "numpy>="))
    assert runner_inputs_hash(docker_dir) != h


def test_hash_changes_with_base_image(docker_dir: Path) -> None:
    assert runner_inputs_hash(docker_dir, "python:3.11-slim") != runner_inputs_hash(
        docker_dir, image.debootstrap_base_name()
    )


def test_tag_format(docker_dir: Path) -> None:
    tag = runner_image_tag(docker_dir)
    assert tag == f"grader-runner:{runner_inputs_hash(docker_dir, DEFAULT_BASE_IMAGE)}"
    assert re.fullmatch(r"grader-base:bookworm-[0-9a-f]{12}", image.debootstrap_base_name())


# ------------------------------------------------------------------------------ recipe contents


def test_recipe_pins_cpu_torch_and_ships_no_grader_code() -> None:
    reqs = [
        line.split("#", 1)[0].strip()
        for line in (DOCKER_DIR / "requirements-runner.txt").read_text().splitlines()
    ]
    assert "torch==2.13.0" in reqs  # exact: a range pulls a multi-GB CUDA build
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text()
    first_from = dockerfile.index("\nFROM ")
    assert "ARG BASE_IMAGE=python:3.11-slim" in dockerfile[:first_from]
    assert "python3 -m venv /opt/venv" in dockerfile
    copies = [line.split()[1:] for line in dockerfile.splitlines() if line.startswith(("COPY", "ADD"))]
    sources = {args[0] for args in copies if not args[0].startswith("--from=")}
    assert sources <= {"requirements-runner.txt", "wheelhouse"}, sources
    ignore = (DOCKER_DIR / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") :] == ["*", "!Dockerfile", "!requirements-runner.txt", "!wheelhouse/*.whl"]


# ------------------------------------------------------------------------------ wheelhouse


def test_fill_wheelhouse_skips_when_complete(docker_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_pip(cmd: list[str], progress, env=None, cwd=None):  # type: ignore[no-untyped-def]
        calls.append(cmd)
        dest = Path(cmd[cmd.index("--dest") + 1])
        (dest / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"t" * 7)
        return 0, ["Saved torch"]

    monkeypatch.setattr(image, "_stream_process", fake_pip)
    messages: list[str] = []
    wheelhouse = image.fill_wheelhouse(docker_dir, messages.append)
    assert len(calls) == 1
    cmd = calls[0]
    assert cmd[1:4] == ["-m", "pip", "download"]
    assert "--only-binary=:all:" in cmd and cmd[cmd.index("--python-version") + 1] == "3.11"
    assert (wheelhouse / ".grader-wheelhouse.json").is_file()

    messages.clear()
    image.fill_wheelhouse(docker_dir, messages.append)
    assert len(calls) == 1, "a complete wheelhouse must not be downloaded again"
    assert any("up to date" in m for m in messages)

    # A truncated wheel makes it incomplete again.
    (wheelhouse / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"t")
    image.fill_wheelhouse(docker_dir, messages.append)
    assert len(calls) == 2

    # New requirements: downloaded again, offering the old wheels as find-links.
    with open(docker_dir / "requirements-runner.txt", "a") as f:
        f.write("\nsix==1.17.0\n")
    image.fill_wheelhouse(docker_dir, messages.append)
    assert len(calls) == 3 and "--find-links" in calls[2]
    assert not (docker_dir / "wheelhouse.old").exists()


def test_fill_wheelhouse_reports_pip_failure(docker_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "_stream_process", lambda *a, **k: (1, ["ERROR: No matching distribution found for torch==9"]))
    with pytest.raises(ImageBuildError) as info:
        image.fill_wheelhouse(docker_dir)
    assert isinstance(info.value, GraderError)
    assert str(info.value).startswith("pip download for the runner wheelhouse failed (exit 1)")
    assert "No matching distribution" in str(info.value)


def test_debian_mirror_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_DEBIAN_MIRROR", "http://mirror.example/debian/")
    assert image.debian_mirror() == "http://mirror.example/debian"
    monkeypatch.delenv("GRADER_DEBIAN_MIRROR")
    assert image.debian_mirror().startswith(("http://", "https://"))


# ------------------------------------------------------------------------------ engine helpers


def test_no_engine_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    with pytest.raises(EngineUnavailable) as info:
        engine.docker_client(timeout=2)
    message = str(info.value)
    assert "\n" not in message and "missing.sock" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert isinstance(info.value, GraderError)  # the CLI prints these as one line
    assert engine.engine_available(timeout=2) is False


class _FakeClient:
    def __init__(self, info: dict) -> None:
        self._info = info

    def info(self) -> dict:
        return self._info


@pytest.mark.parametrize(
    "info, expected",
    [
        ({"Runtimes": {"runc": {"path": "runc"}}}, False),
        ({"Runtimes": {"runc": {}, "nvidia": {"path": "nvidia-container-runtime"}}}, True),
        ({"Runtimes": {"runc": {}}, "DiscoveredDevices": [{"Source": "cdi", "ID": "nvidia.com/gpu=all"}]}, True),
        ({"Runtimes": {"runc": {}}, "DiscoveredDevices": [{"Source": "cdi", "ID": "vendor.com/fpga=0"}]}, False),
        ({}, False),
    ],
)
def test_gpu_runtime_available(info: dict, expected: bool) -> None:
    assert engine.gpu_runtime_available(_FakeClient(info)) is expected  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ the real image


def _engine_or_skip():  # type: ignore[no-untyped-def]
    """A client, or skip; under CI (where the engine is part of the contract) fail instead."""
    try:
        return engine.docker_client()
    except EngineUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {exc}")
        pytest.skip(str(exc))


def _run(client, tag: str, command: list[str], **options) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Run a container to completion; (exit code, output). The container is always removed."""
    container = client.containers.run(
        tag, command, detach=True, labels={"org.grader.test": "test_image"}, **options
    )
    try:
        result = container.wait(timeout=300)
        return result["StatusCode"], container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@pytest.mark.docker
@pytest.mark.slow
def test_runner_image_runs_torch_offline_as_non_root() -> None:
    client = _engine_or_skip()
    try:
        tag = image.build_runner_image(client=client)
        assert re.fullmatch(r"grader-runner:[0-9a-f]{12}", tag)
        assert image.find_runner_image(client) is not None

        code, output = _run(
            client, tag, ["python", "-c", "import torch, transformers; print(torch.__version__)"],
            network_mode="none", user="10001:10001",
        )
        assert code == 0, output
        assert output.strip().startswith("2.13.0"), output

        # Hardened like a real sandbox run: read-only root, no capabilities. The image carries no
        # grader code and no wheelhouse, and runs as the unprivileged user by default.
        probe = (
            "import importlib.util, os; "
            "print(importlib.util.find_spec('grader') is None, os.path.exists('/wheelhouse'), os.getuid())"
        )
        code, output = _run(
            client, tag, ["python", "-c", probe], network_mode="none", read_only=True,
            cap_drop=["ALL"], security_opt=["no-new-privileges:true"],
        )
        assert code == 0, output
        assert output.split() == ["True", "False", "10001"], output
    finally:
        client.close()

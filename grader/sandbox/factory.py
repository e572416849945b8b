"""Choose and build a sandbox from what the user asked for and what this host has."""

from __future__ import annotations

import os

from grader.errors import SandboxError
from grader.judge.spec import SandboxSpec
from grader.sandbox.base import Sandbox, SandboxLimits
from grader.sandbox.local import LocalSandbox, bwrap_status


def resolve_kind(requested: str) -> str:
    """auto|docker|local → docker, local or local-unconfined (what will actually run)."""
    if requested not in ("auto", "docker", "local"):
        raise SandboxError(f"unknown sandbox {requested!r}: use auto, docker or local")
    if requested == "docker":
        return "docker"
    if requested == "auto" and docker_ready():
        return "docker"
    ok, _ = bwrap_status()
    return "local" if ok else "local-unconfined"


def docker_ready() -> bool:
    """True when a Docker engine answers and the runner image exists."""
    try:
        from grader.sandbox import docker as docker_sandbox  # noqa: F401
    except ImportError:
        return False
    return docker_sandbox.ready()


def limits_from_spec(spec: SandboxSpec) -> SandboxLimits:
    return SandboxLimits(memory_bytes=spec.memory_bytes, cpus=spec.cpus, max_processes=spec.max_processes,
                         gpu_ids=tuple(spec.gpu_ids), log_bytes=spec.log_bytes,
                         max_message_bytes=spec.max_message_bytes, lifetime_s=spec.lifetime_s)


def sandbox_from_spec(spec: SandboxSpec) -> Sandbox:
    limits = limits_from_spec(spec)
    if spec.kind == "docker":
        from grader.sandbox.docker import DockerSandbox

        return DockerSandbox(limits, image=spec.image, batch=os.environ.get("GRADER_BATCH_ID"), cpuset=spec.cpuset,
                             reaped=spec.reaped)
    return LocalSandbox(limits, confined=spec.kind == "local", threads=max(1, int(spec.cpus)),
                        warm_socket=spec.warm_socket)

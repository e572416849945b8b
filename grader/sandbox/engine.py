"""Talking to the Docker engine: a client, or one clear line saying why there is none.

Only the docker Python SDK is used (never the docker CLI). Every failure to reach an engine is
turned into :class:`EngineUnavailable`, whose message is a single line meant for the terminal.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from grader.errors import SandboxError

if TYPE_CHECKING:  # pragma: no cover
    import docker

__all__ = [
    "DEFAULT_TIMEOUT",
    "EngineUnavailable",
    "docker_client",
    "engine_available",
    "engine_address",
    "gpu_runtime_available",
]

#: Seconds for ordinary API calls. Builds, imports and long waits pass their own timeouts.
DEFAULT_TIMEOUT = 60.0

_HINT = "start one (e.g. .ci/install-docker.sh) or use --sandbox local"


class EngineUnavailable(SandboxError):
    """No Docker engine answers (or the SDK is missing); ``str(exc)`` is one line for the user.

    A :class:`grader.errors.SandboxError` (hence a ``GraderError``, an ``Exception``), so the CLI
    shows it as one line without a traceback.
    """


def engine_address() -> str:
    """Where the SDK will look for the engine: ``$DOCKER_HOST`` or the default local socket."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


_KNOWN_REASONS = (
    ("no such file", "socket not found"),
    ("connection refused", "connection refused"),
    ("permission denied", "permission denied"),
    ("timed out", "timed out"),
    ("name or service not known", "host name not resolved"),
    ("name resolution", "host name not resolved"),
)


def _one_line(exc: BaseException, limit: int = 160) -> str:
    """A short, single-line reason for an exception from the SDK/requests/urllib3 stack."""
    text = " ".join((str(exc) or type(exc).__name__).split())
    lowered = text.lower()
    for needle, reason in _KNOWN_REASONS:
        if needle in lowered:
            return reason
    return text if len(text) <= limit else text[: limit - 3] + "..."


def docker_client(timeout: float = DEFAULT_TIMEOUT) -> "docker.DockerClient":
    """Return a client connected to a Docker engine that has just answered a ping.

    The address comes from the environment (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ...), as with
    ``docker.from_env()``; the API version is negotiated with the engine.

    Raises:
        EngineUnavailable: the SDK is not installed, or no engine answers (socket missing,
            permission denied, connection refused, timeout). The message is one line.
    """
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover - docker is a hard dependency
        raise EngineUnavailable(
            f"the docker Python SDK is not installed ({exc}); pip install docker"
        ) from None

    where = engine_address()
    try:
        client = docker.from_env(timeout=int(max(1, timeout)))
    except DockerException as exc:
        reason = _one_line(exc)
        if "denied" in reason.lower():
            raise EngineUnavailable(
                f"permission denied talking to the Docker engine at {where}; "
                "run as root or add this user to the 'docker' group"
            ) from None
        raise EngineUnavailable(f"no Docker engine answers at {where} ({reason}); {_HINT}") from None
    except Exception as exc:  # requests/urllib3 errors that escape the SDK's wrapping
        raise EngineUnavailable(
            f"no Docker engine answers at {where} ({_one_line(exc)}); {_HINT}"
        ) from None
    try:
        client.ping()
    except Exception as exc:
        client.close()
        raise EngineUnavailable(
            f"the Docker engine at {where} does not answer ({_one_line(exc)}); {_HINT}"
        ) from None
    return client


def engine_available(timeout: float = 5.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds."""
    try:
        client = docker_client(timeout=timeout)
    except EngineUnavailable:
        return False
    client.close()
    return True


def gpu_runtime_available(client: "docker.DockerClient") -> bool:
    """True when the engine advertises a way to give containers NVIDIA GPUs.

    Looks at ``client.info()``: a registered runtime whose name contains ``nvidia``
    (nvidia-container-runtime), or CDI devices from the ``nvidia.com`` vendor (engines that report
    ``DiscoveredDevices``). Engines that only have the nvidia-container-toolkit hook installed, with
    neither, are not detected: callers should still turn a failed GPU request into a clear error.
    """
    try:
        info: dict[str, Any] = client.info()
    except Exception:
        return False
    runtimes = info.get("Runtimes") or {}
    if any("nvidia" in str(name).lower() for name in runtimes):
        return True
    if "nvidia" in str(info.get("DefaultRuntime", "")).lower():
        return True
    for device in info.get("DiscoveredDevices") or []:
        if not isinstance(device, dict):
            continue
        if str(device.get("Source", "")).lower() == "cdi" and str(device.get("ID", "")).startswith(
            "nvidia.com/"
        ):
            return True
    return False

"""The runner image: the container image in which the sandbox worker runs candidate code.

It is built from ``docker/`` (``Dockerfile`` + ``requirements-runner.txt``) with the docker
Python SDK only. The image holds an interpreter and the worker's third-party packages and nothing
of the grader: the worker shim and the submission are bind-mounted read-only at run time.

Builds work offline and behind proxies:

* Python packages come from ``docker/wheelhouse``, filled on the host with ``pip download``
  (:func:`fill_wheelhouse`); the build itself runs with ``network_mode="none"``.
* The base image (default ``python:3.11-slim``) is used when present locally, pulled otherwise;
  when it cannot be pulled (no registry reachable), :func:`ensure_base_image` makes a Debian
  bookworm minbase root filesystem with ``debootstrap`` from the host's Debian mirror and imports
  it as ``grader-base:bookworm-<hash>``.

The image tag is ``grader-runner:<hash>``, where the hash covers the build recipe and the base
image name (:func:`runner_inputs_hash`), so a build is skipped when nothing changed.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Union

from grader.errors import SandboxError
from grader.sandbox.engine import docker_client

if TYPE_CHECKING:  # pragma: no cover
    import docker

__all__ = [
    "BASE_REPOSITORY",
    "DEFAULT_BASE_IMAGE",
    "DOCKER_DIR",
    "ImageBuildError",
    "Progress",
    "RUNNER_PYTHON",
    "RUNNER_REPOSITORY",
    "build_runner_image",
    "debian_mirror",
    "debootstrap_base_name",
    "ensure_base_image",
    "fill_wheelhouse",
    "find_runner_image",
    "runner_image_tag",
    "runner_inputs_hash",
]

Progress = Callable[[str], None]
PathLike = Union[str, "os.PathLike[str]"]

#: ``docker/`` of the source tree this module lives in.
DOCKER_DIR = Path(__file__).resolve().parents[2] / "docker"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
RUNNER_REPOSITORY = "grader-runner"
BASE_REPOSITORY = "grader-base"
#: The runner's interpreter version; the wheelhouse is downloaded for it, whatever the host runs.
RUNNER_PYTHON = "3.11"

DOCKERFILE = "Dockerfile"
REQUIREMENTS = "requirements-runner.txt"
DOCKERIGNORE = ".dockerignore"
WHEELHOUSE = "wheelhouse"
WHEELHOUSE_MARKER = ".grader-wheelhouse.json"
BASE_CACHE = "base"

LABEL_RUNNER = "org.grader.runner"
LABEL_HASH = "org.grader.runner.hash"
LABEL_RECIPE = "org.grader.runner.recipe"
LABEL_BASE = "org.grader.runner.base"
LABEL_BUILD_STAGE = "org.grader.runner.stage=build"  # set in the Dockerfile's first stage
LABEL_BASE_RECIPE = "org.grader.base.recipe"

# The Debian base made when the base image cannot be pulled. Bump BASE_RECIPE_VERSION when the
# way the root filesystem is made changes; it is part of the image name.
DEBIAN_SUITE = "bookworm"
DEBIAN_PACKAGES = ("python3", "python3-venv")
BASE_RECIPE_VERSION = 1
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_LOG_TAIL = 25


class ImageBuildError(SandboxError):
    """Making the runner image (or its base, or its wheelhouse) failed.

    The first line of the message says what failed; further lines, when present, are the last
    lines of the build log. A :class:`grader.errors.SandboxError`, like ``EngineUnavailable``.
    """


def _noop(_: str) -> None:
    return None


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


# --------------------------------------------------------------------------------------------
# Hashes and tags
# --------------------------------------------------------------------------------------------


def _recipe_hash(docker_dir: PathLike = DOCKER_DIR) -> str:
    """Hash of the build recipe alone (Dockerfile, requirements, .dockerignore), 12 hex chars."""
    d = Path(docker_dir)
    parts: list[bytes] = [b"grader-runner-recipe-v1"]
    for name in (DOCKERFILE, REQUIREMENTS, DOCKERIGNORE):
        parts += [name.encode(), _read(d / name)]
    return _sha(*parts)[:12]


def runner_inputs_hash(docker_dir: PathLike = DOCKER_DIR, base_image: str = DEFAULT_BASE_IMAGE) -> str:
    """Short (12 hex chars) sha256 of everything that determines the runner image.

    Covers the contents of ``Dockerfile``, ``requirements-runner.txt`` and ``.dockerignore`` in
    ``docker_dir`` and the base image name. Not the wheel files: ``requirements-runner.txt``
    pins exact versions, so the wheelhouse follows from it (and file times never matter).
    Missing files hash as empty, so the function works without an engine or a wheelhouse.
    """
    return _sha(b"grader-runner-v1", _recipe_hash(docker_dir).encode(), base_image.encode())[:12]


def runner_image_tag(docker_dir: PathLike = DOCKER_DIR, base_image: str = DEFAULT_BASE_IMAGE) -> str:
    """The runner image's tag for these inputs: ``grader-runner:<runner_inputs_hash>``."""
    return f"{RUNNER_REPOSITORY}:{runner_inputs_hash(docker_dir, base_image)}"


def _debian_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def _base_recipe_hash() -> str:
    recipe = {
        "suite": DEBIAN_SUITE,
        "variant": "minbase",
        "include": list(DEBIAN_PACKAGES),
        "arch": _debian_arch(),
        "version": BASE_RECIPE_VERSION,
    }
    return _sha(json.dumps(recipe, sort_keys=True).encode())[:12]


def debootstrap_base_name() -> str:
    """Name of the Debian base image :func:`ensure_base_image` makes: ``grader-base:bookworm-<hash>``."""
    return f"{BASE_REPOSITORY}:{DEBIAN_SUITE}-{_base_recipe_hash()}"


# --------------------------------------------------------------------------------------------
# Engine helpers
# --------------------------------------------------------------------------------------------


def _image_exists(client: "docker.DockerClient", name: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True


def _split_name(name: str) -> tuple[str, str]:
    """``repo[:tag]`` -> (repo, tag); a ``:`` inside a registry host:port is not a tag."""
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, "latest"
    return repo, tag


def _size_mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def find_runner_image(client: "docker.DockerClient", docker_dir: PathLike = DOCKER_DIR) -> Optional[str]:
    """The tag of the newest local runner image built from the current recipe, or None.

    "Current recipe" means the Dockerfile, requirements and .dockerignore now in ``docker_dir``
    (any base image). When ``docker_dir`` has no Dockerfile (an installed package without the
    source tree), the newest runner image of any recipe is returned.
    """
    if (Path(docker_dir) / DOCKERFILE).is_file():
        label = f"{LABEL_RECIPE}={_recipe_hash(docker_dir)}"
    else:
        label = LABEL_RUNNER
    # Low-level listing: no per-image inspect, so an image deleted meanwhile cannot break it.
    images = client.api.images(filters={"label": label}) or []
    images.sort(key=lambda im: im.get("Created", 0), reverse=True)
    for image in images:
        for tag in image.get("RepoTags") or []:
            if tag.startswith(RUNNER_REPOSITORY + ":"):
                return tag
    return None


# --------------------------------------------------------------------------------------------
# Wheelhouse
# --------------------------------------------------------------------------------------------


def _wheel_platforms() -> list[str]:
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return [f"manylinux_2_28_{arch}", f"manylinux_2_17_{arch}", f"manylinux2014_{arch}"]


def _pip_target_args() -> list[str]:
    """pip options selecting wheels for the runner (CPython RUNNER_PYTHON on glibc Linux)."""
    abi = "cp" + RUNNER_PYTHON.replace(".", "")
    args = ["--only-binary=:all:", "--python-version", RUNNER_PYTHON, "--implementation", "cp", "--abi", abi]
    for plat in _wheel_platforms():
        args += ["--platform", plat]
    return args


def _wheelhouse_key(docker_dir: Path) -> str:
    return _sha(b"wheelhouse-v1", _read(docker_dir / REQUIREMENTS), json.dumps(_pip_target_args()).encode())[:16]


def _wheelhouse_complete(wheelhouse: Path, key: str) -> Optional[dict[str, int]]:
    try:
        marker = json.loads((wheelhouse / WHEELHOUSE_MARKER).read_text())
    except (OSError, ValueError):
        return None
    files = marker.get("files") if isinstance(marker, dict) else None
    if marker.get("key") != key or not isinstance(files, dict) or not files:
        return None
    for name, size in files.items():
        try:
            if (wheelhouse / name).stat().st_size != size:
                return None
        except OSError:
            return None
    return files


def _stream_process(cmd: list[str], progress: Progress, env: Optional[dict[str, str]] = None,
                    cwd: Optional[Path] = None) -> tuple[int, list[str]]:
    """Run ``cmd``, passing each output line (stdout+stderr) to ``progress``; (rc, last lines)."""
    tail: collections.deque[str] = collections.deque(maxlen=_LOG_TAIL)
    try:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, text=True, errors="replace", bufsize=1,
        )
    except OSError as exc:
        return 127, [f"{cmd[0]}: {exc}"]
    assert proc.stdout is not None
    with proc:
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                tail.append(line)
                progress(line)
    return proc.returncode, list(tail)


def _tail_text(lines: Iterable[str]) -> str:
    lines = list(lines)
    return ("\n" + "\n".join("  " + line for line in lines)) if lines else ""


def fill_wheelhouse(docker_dir: PathLike = DOCKER_DIR, progress: Optional[Progress] = None) -> Path:
    """Download the wheels listed in ``requirements-runner.txt`` (and their dependencies) into
    ``docker_dir/wheelhouse`` for the runner's interpreter (CPython 3.11, manylinux), with
    ``python -m pip download`` of the current interpreter, so pip's own configuration (index,
    find-links, proxy, certificates) applies.

    Skipped when the wheelhouse is complete: a marker file records the hash of the requirements
    (and target platform) and every wheel's size. When the requirements changed, the wheels
    already there are offered to pip as ``--find-links`` and the ones no longer needed are
    dropped, so the wheelhouse holds exactly the resolved set.

    Returns the wheelhouse path. Raises :class:`ImageBuildError` when pip fails.
    """
    progress = progress or _noop
    d = Path(docker_dir)
    requirements = d / REQUIREMENTS
    if not requirements.is_file():
        raise ImageBuildError(f"{requirements} not found")
    wheelhouse = d / WHEELHOUSE
    key = _wheelhouse_key(d)
    files = _wheelhouse_complete(wheelhouse, key)
    if files is not None:
        progress(f"wheelhouse up to date: {len(files)} wheels, {_size_mb(sum(files.values()))} ({wheelhouse})")
        return wheelhouse

    started = time.monotonic()
    old = d / (WHEELHOUSE + ".old")
    if old.exists():
        shutil.rmtree(old)
    if wheelhouse.exists():
        wheelhouse.rename(old)
    wheelhouse.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pip", "download", "--dest", str(wheelhouse), "--progress-bar", "off",
           "--disable-pip-version-check", *_pip_target_args(), "-r", str(requirements)]
    if old.exists():
        cmd += ["--find-links", str(old)]
    progress(f"filling the wheelhouse for Python {RUNNER_PYTHON} from {requirements.name}")
    rc, tail = _stream_process(cmd, progress)
    if rc != 0:
        # Keep what was downloaded so a retry does not fetch it again.
        if old.exists():
            for wheel in old.glob("*.whl"):
                if not (wheelhouse / wheel.name).exists():
                    wheel.rename(wheelhouse / wheel.name)
            shutil.rmtree(old, ignore_errors=True)
        raise ImageBuildError(f"pip download for the runner wheelhouse failed (exit {rc}){_tail_text(tail)}")
    shutil.rmtree(old, ignore_errors=True)
    files = {p.name: p.stat().st_size for p in sorted(wheelhouse.iterdir()) if p.is_file() and p.name != WHEELHOUSE_MARKER}
    non_wheels = [name for name in files if not name.endswith(".whl")]
    if non_wheels:
        raise ImageBuildError(f"the wheelhouse holds files that are not wheels: {', '.join(non_wheels)}")
    tmp = wheelhouse / (WHEELHOUSE_MARKER + ".tmp")
    tmp.write_text(json.dumps({"key": key, "python": RUNNER_PYTHON, "files": files}, indent=1, sort_keys=True))
    tmp.replace(wheelhouse / WHEELHOUSE_MARKER)
    progress(f"wheelhouse filled: {len(files)} wheels, {_size_mb(sum(files.values()))} "
             f"in {time.monotonic() - started:.0f} s")
    return wheelhouse


# --------------------------------------------------------------------------------------------
# Base image
# --------------------------------------------------------------------------------------------


def _apt_source_entries() -> Iterator[tuple[str, list[str]]]:
    """(URI, suites) pairs from the host's apt sources, one-line and deb822 formats."""
    root = Path("/etc/apt")
    one_line = [root / "sources.list", *sorted((root / "sources.list.d").glob("*.list"))]
    for path in one_line:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for raw in text.splitlines():
            words = re.sub(r"\[[^\]]*\]", " ", raw.split("#", 1)[0]).split()  # drop [options]
            if len(words) >= 3 and words[0] == "deb":
                yield words[1], [words[2]]
    for path in sorted((root / "sources.list.d").glob("*.sources")):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "deb").split() or fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                yield uri, fields.get("suites", "").split()


def debian_mirror() -> str:
    """The Debian mirror debootstrap uses: ``$GRADER_DEBIAN_MIRROR``, else the first Debian
    archive (not security, not a third-party repository) in the host's apt sources, else
    ``http://deb.debian.org/debian``."""
    override = os.environ.get("GRADER_DEBIAN_MIRROR")
    if override:
        return override.rstrip("/")
    release_suites = {"bookworm", "trixie", "forky", "sid", "unstable", "testing", "stable", "oldstable"}
    for uri, suites in _apt_source_entries():
        if not uri.startswith(("http://", "https://")) or "security" in uri:
            continue
        if any(s in release_suites for s in suites) and re.search(r"/debian/?$", uri):
            return uri.rstrip("/")
    return DEFAULT_DEBIAN_MIRROR


def _apt_proxy() -> dict[str, str]:
    """Proxy variables for debootstrap: the environment's, else apt's ``Acquire::http(s)::Proxy``."""
    env: dict[str, str] = {}
    for var in ("http_proxy", "https_proxy", "no_proxy"):
        value = os.environ.get(var) or os.environ.get(var.upper())
        if value:
            env[var] = value
    if "http_proxy" in env:
        return env
    try:
        dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return env
    for scheme in ("http", "https"):
        match = re.search(rf'^Acquire::{scheme}::Proxy "([^"]+)";$', dump, re.MULTILINE | re.IGNORECASE)
        if match and match.group(1).upper() not in ("DIRECT", "FALSE"):
            env.setdefault(f"{scheme}_proxy", match.group(1))
    return env


def _mounts_under(root: Path) -> list[str]:
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    prefix = str(root.resolve())
    points = [line.split()[1].replace("\\040", " ") for line in lines if len(line.split()) > 1]
    return [p for p in points if p == prefix or p.startswith(prefix + "/")]


def _remove_rootfs(root: Path) -> None:
    """Delete a (possibly half-made) root filesystem, never following it into live mounts."""
    if not root.exists():
        return
    for point in sorted(_mounts_under(root), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    left = _mounts_under(root)
    if left:
        raise ImageBuildError(f"{root} still has mounts ({', '.join(left)}); unmount them and delete it by hand")
    shutil.rmtree(root)


def _trim_rootfs(root: Path) -> None:
    """Drop what a container never needs: apt caches and lists, man pages, docs (but licences)."""
    for rel in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/man", "usr/share/info"):
        target = root / rel
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    if child.name != "partial":
                        shutil.rmtree(child)
                elif child.name != "lock":
                    child.unlink()
    for cache in (root / "var/cache/apt").glob("*.bin"):
        cache.unlink()
    doc = root / "usr/share/doc"
    if doc.is_dir():
        for path in sorted(doc.rglob("*"), reverse=True):
            if path.is_symlink() or path.is_file():
                if path.name != "copyright":
                    path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for rel in ("var/log/bootstrap.log", "var/log/dpkg.log", "var/log/apt/term.log",
                "var/log/apt/history.log", "var/log/alternatives.log"):
        (root / rel).unlink(missing_ok=True)


def _write_rootfs_tar(root: Path, out: Path) -> None:
    """Pack ``root`` as an import tarball (numeric owners; /dev, /proc, /sys, /run left empty)."""
    empty = {"dev", "proc", "sys", "run", "tmp"}

    def keep(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
        parts = Path(info.name).parts
        rel = parts[1:] if parts and parts[0] == "." else parts
        if len(rel) >= 2 and rel[0] in empty:
            return None
        info.uname = info.gname = ""
        return info

    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(str(root), arcname=".", recursive=True, filter=keep)
    tmp.replace(out)


def _build_debian_rootfs_tar(cache_dir: Path, progress: Progress) -> Path:
    """Make (or reuse) ``cache_dir/bookworm-<hash>.tar`` with debootstrap; returns its path."""
    name = f"{DEBIAN_SUITE}-{_base_recipe_hash()}"
    out = cache_dir / f"{name}.tar"
    if out.is_file():
        progress(f"reusing the cached Debian root filesystem {out}")
        return out
    debootstrap = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if os.access(p, os.X_OK)), None)
    if debootstrap is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap, or run .ci/install-docker.sh)")
    if os.geteuid() != 0:
        raise ImageBuildError("making a base image with debootstrap needs root; run this as root "
                              "or make the base image available to the engine first")
    mirror = debian_mirror()
    proxy = _apt_proxy()
    root = cache_dir / f"rootfs-{name}"
    _remove_rootfs(root)
    (cache_dir / "debs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(proxy)
    env["DEBIAN_FRONTEND"] = "noninteractive"
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    cmd = [debootstrap, "--variant=minbase", f"--arch={_debian_arch()}",
           f"--include={','.join(DEBIAN_PACKAGES)}", f"--cache-dir={(cache_dir / 'debs').resolve()}",
           DEBIAN_SUITE, str(root), mirror]
    via = f" via proxy {proxy['http_proxy']}" if "http_proxy" in proxy else ""
    progress(f"debootstrap {DEBIAN_SUITE} (minbase + {', '.join(DEBIAN_PACKAGES)}) from {mirror}{via}")
    started = time.monotonic()
    rc, tail = _stream_process(cmd, progress, env=env)
    if rc != 0:
        try:
            _remove_rootfs(root)
        except ImageBuildError as exc:
            tail.append(str(exc))
        raise ImageBuildError(f"debootstrap {DEBIAN_SUITE} from {mirror} failed (exit {rc}){_tail_text(tail)}")
    progress(f"debootstrap finished in {time.monotonic() - started:.0f} s")
    _trim_rootfs(root)
    _write_rootfs_tar(root, out)
    _remove_rootfs(root)
    progress(f"root filesystem packed: {out} ({_size_mb(out.stat().st_size)})")
    return out


def ensure_base_image(client: "docker.DockerClient", base_image: str = DEFAULT_BASE_IMAGE,
                      progress: Optional[Progress] = None, docker_dir: PathLike = DOCKER_DIR) -> str:
    """Make sure a base image for the runner exists locally and return its name.

    1. ``base_image`` present locally: returned as is.
    2. Otherwise it is pulled. A ``grader-base:*`` name is never pulled.
    3. If the pull fails (typically: no registry reachable), a Debian bookworm minbase root
       filesystem with python3 and python3-venv is made with debootstrap (cached as a tarball
       under ``docker_dir/base/``; mirror from the host's apt sources, proxy from the
       environment or apt's configuration) and imported through the SDK as
       ``grader-base:bookworm-<hash>``, whose name is returned.

    Raises :class:`ImageBuildError` when no base image can be had.
    """
    from docker.errors import APIError, DockerException

    progress = progress or _noop
    if _image_exists(client, base_image):
        return base_image
    fallback = debootstrap_base_name()
    reason = ""
    if not base_image.startswith(BASE_REPOSITORY + ":"):
        repo, tag = _split_name(base_image)
        progress(f"pulling base image {base_image}")
        try:
            for event in client.api.pull(repo, tag=tag, stream=True, decode=True):
                if isinstance(event, dict) and event.get("error"):
                    raise APIError(str(event["error"]))
            if _image_exists(client, base_image):
                return base_image
            reason = "pull ended without the image"
        except (APIError, DockerException, OSError) as exc:
            reason = " ".join(str(getattr(exc, "explanation", None) or exc).split())
        progress(f"cannot pull {base_image}: {reason[:300]}")
    elif base_image != fallback:
        raise ImageBuildError(f"base image {base_image} is not present locally (and {BASE_REPOSITORY} images are never pulled)")

    if _image_exists(client, fallback):
        progress(f"base image {base_image} cannot be pulled; using {fallback} (made earlier from Debian packages)")
        return fallback
    started = time.monotonic()
    cache_dir = Path(docker_dir) / BASE_CACHE
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = _build_debian_rootfs_tar(cache_dir, progress)
    repo, tag = _split_name(fallback)
    progress(f"importing {tarball.name} as {fallback}")
    changes = [
        f"ENV PATH={_DEFAULT_PATH}",
        "ENV LANG=C.UTF-8",
        f"LABEL {LABEL_BASE_RECIPE}={_base_recipe_hash()}",
        'CMD ["/bin/bash"]',
    ]
    try:
        client.api.import_image_from_file(str(tarball), repository=repo, tag=tag, changes=changes)
    except (APIError, DockerException, OSError) as exc:
        raise ImageBuildError(f"importing {tarball} as {fallback} failed: {exc}") from None
    if not _image_exists(client, fallback):
        raise ImageBuildError(f"importing {tarball} did not produce {fallback}")
    size = client.images.get(fallback).attrs.get("Size", 0)
    progress(f"imported {fallback} ({_size_mb(size)}) in {time.monotonic() - started:.0f} s")
    if base_image != fallback:
        progress(f"base image {base_image} cannot be pulled; built {fallback} from Debian packages (debootstrap)")
    return fallback


# --------------------------------------------------------------------------------------------
# Runner image
# --------------------------------------------------------------------------------------------


def _build_lines(chunk: Any) -> list[str]:
    if not isinstance(chunk, dict):
        return [str(chunk)]
    text = chunk.get("stream") or chunk.get("status") or ""
    return [line.rstrip() for line in str(text).splitlines() if line.strip()]


def build_runner_image(docker_dir: PathLike = DOCKER_DIR, base_image: str = DEFAULT_BASE_IMAGE,
                       progress: Optional[Progress] = None, force: bool = False, *,
                       client: Optional["docker.DockerClient"] = None,
                       build_timeout: float = 3600.0) -> str:
    """Build the runner image from ``docker_dir`` (unless it is up to date) and return its tag.

    The tag is ``grader-runner:<hash>`` (:func:`runner_image_tag`) of the base image actually used:
    ``base_image`` when present or pullable, else the Debian base from :func:`ensure_base_image`.
    Nothing is built when an image with that tag exists, unless ``force``; a runner built on the
    Debian fallback is reused without retrying the pull when ``base_image`` is not present
    locally. Otherwise the wheelhouse is filled (:func:`fill_wheelhouse`) and the image is built
    with the SDK, offline (``network_mode="none"``), each build log line going to ``progress``.
    ``force`` rebuilds without the engine's build cache. Afterwards the first build stage's
    leftover image (it held the wheelhouse) is removed.

    Raises:
        grader.sandbox.engine.EngineUnavailable: no engine answers (when ``client`` is None).
        ImageBuildError: the base image, the wheelhouse or the build failed; the message ends with
            the last lines of the log.
    """
    from docker.errors import APIError, DockerException

    progress = progress or _noop
    d = Path(docker_dir)
    if not (d / DOCKERFILE).is_file():
        raise ImageBuildError(f"{d / DOCKERFILE} not found")
    if not (d / REQUIREMENTS).is_file():
        raise ImageBuildError(f"{d / REQUIREMENTS} not found")
    client = client or docker_client()

    if not force:
        tag = runner_image_tag(d, base_image)
        if _image_exists(client, tag):
            progress(f"runner image {tag} is up to date")
            return tag
        fallback_tag = runner_image_tag(d, debootstrap_base_name())
        if not _image_exists(client, base_image) and _image_exists(client, fallback_tag):
            progress(f"runner image {fallback_tag} is up to date (built on {debootstrap_base_name()})")
            return fallback_tag

    base = ensure_base_image(client, base_image, progress, docker_dir=d)
    tag = runner_image_tag(d, base)
    if not force and _image_exists(client, tag):
        progress(f"runner image {tag} is up to date")
        return tag

    fill_wheelhouse(d, progress)
    progress(f"building {tag} from {d} (base {base})")
    started = time.monotonic()
    tail: collections.deque[str] = collections.deque(maxlen=_LOG_TAIL)
    labels = {
        LABEL_RUNNER: "1",
        LABEL_HASH: runner_inputs_hash(d, base),
        LABEL_RECIPE: _recipe_hash(d),
        LABEL_BASE: base,
    }
    error: Optional[str] = None
    try:
        stream = client.api.build(
            path=str(d), tag=tag, buildargs={"BASE_IMAGE": base}, labels=labels, rm=True,
            forcerm=True, pull=False, nocache=force, decode=True, network_mode="none",
            timeout=int(build_timeout),
        )
        for chunk in stream:
            for line in _build_lines(chunk):
                tail.append(line)
                progress(line)
            if isinstance(chunk, dict) and (chunk.get("error") or chunk.get("errorDetail")):
                detail = chunk.get("errorDetail") or {}
                error = str(chunk.get("error") or detail.get("message") or detail)
    except (APIError, DockerException, OSError) as exc:
        error = " ".join(str(getattr(exc, "explanation", None) or exc).split())
    except Exception as exc:  # e.g. a read timeout from requests while streaming
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    if error is None and not _image_exists(client, tag):
        error = "the build ended without producing the image"
    if error is not None:
        _prune_build_stage(client, progress)
        first = error.splitlines()[0] if error.strip() else "unknown error"
        raise ImageBuildError(f"building runner image {tag} failed: {first}{_tail_text(tail)}")
    size = client.images.get(tag).attrs.get("Size", 0)
    progress(f"built {tag} ({_size_mb(size)}) in {time.monotonic() - started:.0f} s")
    _prune_build_stage(client, progress)
    return tag


def _prune_build_stage(client: "docker.DockerClient", progress: Progress) -> None:
    """Remove the untagged images the first build stage leaves (they hold the wheelhouse).

    Only images carrying the Dockerfile's build-stage label are touched. Deleting gigabytes can
    take minutes on a busy host, hence the long timeout; failing here is not an error.
    """
    saved_timeout = client.api.timeout
    client.api.timeout = max(int(saved_timeout or 0), 600)
    try:
        client.api.prune_images(filters={"dangling": True, "label": LABEL_BUILD_STAGE})
    except Exception as exc:  # noqa: BLE001 - housekeeping only
        progress(f"could not remove the build stage's images: {' '.join(str(exc).split())[:200]}")
    finally:
        client.api.timeout = saved_timeout

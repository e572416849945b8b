"""Starting judge processes: a plain subprocess each, or forked from a warm judge zygote.

A judge is a fresh process per submission (its pytest session, fixtures and imported reference
modules must not leak between candidates), but most of its start-up cost is importing torch,
numpy, pytest and the exercises' libraries: about 4 s here, paid once per candidate. The
:class:`ForkServer` pays it once per batch instead: it starts ``python -m grader.judge.forkserver``,
which imports everything and then forks one child per judge. Each child is a new session whose
output goes to the judge log, exactly like a subprocess judge.

Both kinds of judge die with the grader (``PR_SET_PDEATHSIG``): a grader killed with ``kill -9``
leaves no judge grading on for nobody.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

if TYPE_CHECKING:
    from grader.catalogue import Catalogue, Exercise
    from grader.submission import Submission

PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 120.0

#: Set for every judge unless the caller's environment says otherwise. OpenMP's worker threads
#: spin for a while after each parallel region; on a machine with as many cores as processes
#: that spinning takes the core the sandboxed child or its relay needs next (5% of the grading
#: time of the benchmark's reference batch here). Passive threads sleep instead.
JUDGE_ENV_DEFAULTS = {"OMP_WAIT_POLICY": "PASSIVE"}


def judge_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a judge (or the judge zygote) starts with: ``base`` (default: ours) with
    :data:`JUDGE_ENV_DEFAULTS` filled in where ``base`` does not set them."""
    env = dict(os.environ if base is None else base)
    for key, value in JUDGE_ENV_DEFAULTS.items():
        env.setdefault(key, value)
    return env


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent (thread) ends. Linux only."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class JudgeProcess(Protocol):
    """A running judge: its pid leads its own session (so its whole group can be killed)."""

    pid: int

    def wait(self, timeout: float) -> int | None:
        """The exit status, or None if it is still running after ``timeout`` seconds."""

    def kill(self) -> None:
        """Kill the judge's whole process group."""


#: The judge's end of a pipe on which it writes its exit status just before it exits.
DONE_FD_ENV = "GRADER_JUDGE_DONE_FD"


def _done_fd() -> int | None:
    fd = os.environ.get(DONE_FD_ENV, "")
    return int(fd) if fd.isdigit() else None


def report_done(code: int) -> None:
    """In a judge started as a subprocess, just before ``os._exit(code)``: give the grader the
    exit status now. The kernel then takes 0.08-0.1 s to free the judge's memory (torch's), and
    only then can the exit itself be seen."""
    fd = _done_fd()
    if fd is not None:
        try:
            os.write(fd, f"{code}\n".encode())
        except OSError:
            pass


def take_done_fd() -> None:
    """At a judge's start: keep the status pipe from the processes it starts (its sandbox)."""
    fd = _done_fd()
    if fd is not None:
        try:
            os.set_inheritable(fd, False)
        except OSError:
            os.environ.pop(DONE_FD_ENV, None)


_exiting: list["SubprocessJudge"] = []
_exiting_lock = threading.Lock()


def reap_judges(timeout: float = 10.0, wait: bool = True) -> None:
    """Wait for the judges that have reported their status to be gone (at a batch's end): no
    zombie is left behind, and their CPU time counts among the grader's children's. Without
    ``wait``, only those already gone are reaped (a long-lived process, such as a Dask worker,
    does so at each judge's start)."""
    with _exiting_lock:
        judges = list(_exiting) if wait else [j for j in _exiting if j.proc.poll() is not None]
        for judge in judges:
            _exiting.remove(judge)
    for judge in judges:
        try:
            judge.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _killpg(judge.pid)
            judge.proc.wait()
        judge._close_fd("_pidfd")


class SubprocessJudge:
    def __init__(self, spec_path: Path, log_path: Path, env: dict[str, str]) -> None:
        reap_judges(wait=False)
        done_r, done_w = os.pipe()
        try:
            with open(log_path, "ab") as log:
                self.proc = subprocess.Popen([sys.executable, "-m", "grader.judge", str(spec_path)], stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env={**env, DONE_FD_ENV: str(done_w)}, pass_fds=(done_w,),
                                             start_new_session=True, preexec_fn=die_with_parent)
        except BaseException:
            os.close(done_r)
            raise
        finally:
            os.close(done_w)
        os.set_blocking(done_r, False)
        self._done: int | None = done_r
        self.pid = self.proc.pid
        self.code: int | None = None
        # Popen.wait(timeout) polls with sleeps of up to 50 ms; a pidfd wakes the waiter at the exit.
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            pass

    def wait(self, timeout: float) -> int | None:
        if self.code is not None:
            return self.code
        deadline = time.monotonic() + timeout
        while self._done is not None:  # its status, or end of file once it is gone without one
            watched = [self._done] + ([self._pidfd] if self._pidfd is not None else [])
            if not select.select(watched, [], [], max(0.0, deadline - time.monotonic()))[0]:
                return None
            try:
                said = os.read(self._done, 64)
            except BlockingIOError:
                break  # gone (its pidfd says so), the pipe still open somewhere: no status
            self._close_fd("_done")
            if said.strip().lstrip(b"-").isdigit():
                self.code = int(said)
                with _exiting_lock:
                    _exiting.append(self)  # the rest of its exit is the kernel's: see reap_judges
                return self.code
        remaining = max(0.0, deadline - time.monotonic())
        if self._pidfd is not None and remaining > 0 and self.proc.returncode is None:
            select.select([self._pidfd], [], [], remaining)
            remaining = 0
        try:
            self.code = self.proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            return None
        self._close_fd("_pidfd")
        return self.code

    def _close_fd(self, name: str) -> None:
        fd = getattr(self, name)
        if fd is not None:
            os.close(fd)
            setattr(self, name, None)

    def kill(self) -> None:
        _killpg(self.pid)
        self.proc.wait()
        if self.code is None:
            self.code = self.proc.returncode
        self._close_fd("_done")
        self._close_fd("_pidfd")


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class ForkServerError(RuntimeError):
    """The judge zygote is not available; judges start as plain subprocesses instead."""


class ForkedJudge:
    def __init__(self, server: "ForkServer", job: int, pid: int) -> None:
        self.server = server
        self.job = job
        self.pid = pid

    def wait(self, timeout: float) -> int | None:
        return self.server.wait(self.job, timeout)

    def kill(self) -> None:
        _killpg(self.pid)
        # The zygote reaps it and reports; if the zygote is gone, so is the judge (PDEATHSIG).
        self.server.wait(self.job, 10.0)


class ForkServer:
    """One warm judge zygote shared by the grading threads of a batch."""

    def __init__(self, preload: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.preload = sorted(set(preload or []))
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.pids: dict[int, int] = {}
        self.statuses: dict[int, int | None] = {}
        self.ended: set[int] = set()
        self.errors: dict[int, str] = {}
        self.next_job = 0
        self.dead = ""
        self.ready = threading.Event()
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        env = judge_environment(self.env)
        self.proc = subprocess.Popen([sys.executable, "-m", "grader.judge.forkserver", *self.preload],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, start_new_session=True, preexec_fn=die_with_parent)
        self.reader = threading.Thread(target=self._read, name="judge-forkserver", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                if msg.get("op") == "ready":
                    self.ready.set()
                elif msg.get("op") == "started":
                    self.pids[msg["job"]] = int(msg["pid"])
                elif msg.get("op") == "failed":
                    self.errors[msg["job"]] = str(msg.get("error", "fork failed"))
                elif msg.get("op") == "exited" and msg["job"] not in self.ended:
                    # the first report counts: the judge's own, or the zygote's for a killed one
                    self.ended.add(msg["job"])
                    self.statuses[msg["job"]] = msg.get("status")
                self.cond.notify_all()
        with self.cond:
            self.dead = "the judge zygote exited"
            self.ready.set()
            self.cond.notify_all()

    def launch(self, spec_path: Path, log_path: Path, env: dict[str, str]) -> ForkedJudge:
        """Fork a judge for ``spec_path``; raises :class:`ForkServerError` if the zygote cannot."""
        if not self.ready.wait(START_TIMEOUT_S) or self.dead:
            raise ForkServerError(self.dead or "the judge zygote did not start in time")
        with self.lock:
            job = self.next_job
            self.next_job += 1
            line = json.dumps({"op": "run", "job": job, "spec": str(spec_path), "log": str(log_path), "env": env})
            try:
                assert self.proc is not None and self.proc.stdin is not None
                self.proc.stdin.write(line.encode() + b"\n")
                self.proc.stdin.flush()
            except (OSError, ValueError) as exc:
                raise ForkServerError(f"the judge zygote is gone: {exc}") from exc
        with self.cond:
            self.cond.wait_for(lambda: job in self.pids or job in self.errors or bool(self.dead), START_TIMEOUT_S)
            if job in self.pids:
                return ForkedJudge(self, job, self.pids[job])
            raise ForkServerError(self.errors.get(job) or self.dead or "the judge zygote did not answer")

    def wait(self, job: int, timeout: float) -> int | None:
        with self.cond:
            self.cond.wait_for(lambda: job in self.statuses or bool(self.dead), timeout)
            if job in self.statuses:
                return self.statuses.pop(job)
            if self.dead:
                return -int(signal.SIGKILL)  # its judges died with it
            return None

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the zygote kills what is left and exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _killpg(self.proc.pid)
            self.proc.wait()
        self.proc = None


_server: ForkServer | None = None


def current_server() -> ForkServer | None:
    """The judge zygote judges are forked from now, if any."""
    return _server


def install_server(server: ForkServer | None) -> None:
    """Make ``server`` the zygote judges are forked from (a long-lived process such as a Dask
    worker keeps one for its lifetime; :func:`judge_server` does it for one batch)."""
    global _server
    _server = server


def launch_judge(spec_path: Path, log_path: Path, env: dict[str, str]) -> JudgeProcess:
    """Start a judge: forked from the batch's zygote when one runs, else a plain subprocess."""
    if _server is not None:
        try:
            return _server.launch(spec_path, log_path, env)
        except ForkServerError as exc:
            with open(log_path, "a") as log:
                log.write(f"[grader] judge zygote unavailable ({exc}); starting the judge as a subprocess\n")
    return SubprocessJudge(spec_path, log_path, env)


@contextmanager
def judge_server(preload: list[str] | None = None, enabled: bool = True) -> Iterator[ForkServer | None]:
    """Run a judge zygote for the duration of a batch (``GRADER_JUDGE_FORKSERVER=0`` turns it off)."""
    global _server
    if not enabled or os.environ.get("GRADER_JUDGE_FORKSERVER", "1") == "0" or _server is not None:
        yield None
        return
    server = ForkServer(preload)
    server.start()
    _server = server
    try:
        yield server
    finally:
        _server = None
        server.close()


def judge_preload(catalogue: "Catalogue", ids: list[str] | None, submissions: list["Submission"]) -> list[str]:
    """Libraries the judges of a batch will import: the ``preload`` lists of the exercises asked
    for, or else of those present in the submissions (a quick look; unpacking checks properly)."""
    import zipfile

    from grader.errors import GraderError

    if not ids:
        found: set[str] = set()
        for sub in submissions:
            try:
                if sub.is_archive:
                    with zipfile.ZipFile(sub.path) as archive:
                        found.update(name.split("/", 1)[0] for name in archive.namelist() if "/" in name)
                else:
                    found.update(p.name for p in sub.path.iterdir() if p.is_dir())
            except (OSError, zipfile.BadZipFile):
                continue
        ids = sorted(found & set(catalogue.ids()))
    try:
        exercises = catalogue.select(ids) if ids else []
    except GraderError:  # a broken exercise is reported when it is graded, not here
        return []
    names = {name for ex in exercises for name in ex.meta.preload}
    for ex in exercises:
        names.update(trusted_imports(ex))
    return sorted(names)


def trusted_imports(ex: "Exercise") -> set[str]:
    """Installed libraries the judge imports for ``ex``: what its tests, helpers and reference
    import, anywhere in the file (a test may import transformers inside a function).

    Without this, every judge forked from the zygote would import them again, for every
    submission (transformers: seconds).
    """
    import ast
    import importlib.util

    files = [*ex.root.glob("tests/**/*.py"), *ex.root.glob("*.py"), *ex.solution_dir.glob("*.py")]
    found: set[str] = set()
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    libraries = _library_dirs()
    installed = set()
    for name in found:
        top = name.split(".", 1)[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        # only libraries from the Python installation, never a module next to the exercise
        if spec is not None and spec.origin and spec.origin.startswith(libraries):
            installed.add(name)
    return installed


def _library_dirs() -> tuple[str, ...]:
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    dirs = {paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], *site.getsitepackages()}
    return tuple(sorted(d for d in dirs if d))

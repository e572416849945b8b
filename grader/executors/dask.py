"""Grading on a Dask cluster: one task per submission, graded on a worker host.

The client (``grader grade --executor dask --scheduler tcp://HOST:8786``) reads each submission
into a :class:`GradeTask` (the bytes of its files: workers never see the client's filesystem and
never get write access to it) and submits it. A worker runs :func:`grade_task`: it checks that its
catalogue and its grader code are the client's (else scores could silently differ), then calls
:func:`grader.grading.grade_submission` with its own sandbox (Docker engine and runner image, or
bubblewrap) and sends back a :class:`GradeTaskResult`: the candidate's results, the source files
kept for the report and the judge log. The client writes them exactly as local grading does.

Failures: when a worker dies mid-task, the scheduler runs the task again on another worker; after
``distributed.scheduler.allowed-failures`` deaths (a scheduler setting) it gives up with
``KilledWorker`` and the candidate is written ``ungraded`` with that reason, so ``--resume`` picks
it up later. Only the client writes results, one per finished task, so nothing is written twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterator, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

import grader
from grader.catalogue import Catalogue
from grader.errors import GraderError
from grader.grading import GradeOptions, grade_submission, invalid_result
from grader.grading import ungraded_result as grading_ungraded_result
from grader.results import CandidateResult, writing
from grader.scheduling import ResourcePool
from grader.submission import MAX_TOTAL_BYTES, InvalidSubmission, Submission, unpack

if TYPE_CHECKING:
    from distributed import Client, Future

WIRE_VERSION = 1
#: archives up to this size travel as they are and are checked and unpacked on the worker;
#: larger ones (mostly junk: members may not exceed MAX_TOTAL_BYTES) are unpacked here first
MAX_ARCHIVE_BYTES = MAX_TOTAL_BYTES + (16 << 20)
#: the tail of the worker's judge log sent back for OUT/.logs
MAX_LOG_BYTES = 1 << 20
#: seconds to wait for the scheduler before giving up with one line
CONNECT_TIMEOUT_S = 10.0
UNGRADED_PREFIX = "infrastructure error, not the candidate's fault: "


class FileBlob(BaseModel):
    """One file carried over the wire: a relative POSIX path and its bytes."""

    model_config = ConfigDict(extra="forbid")

    path: str
    data: bytes


class GradeTask(BaseModel):
    """What the client sends to a worker for one submission (the task's only argument)."""

    model_config = ConfigDict(extra="forbid")

    wire_version: Literal[1] = WIRE_VERSION
    candidate: str
    #: a .zip submission as handed in (its name appears in invalid-archive messages)
    archive_name: str = ""
    archive: bytes | None = None
    #: a folder submission's files, already copied through the same checks as local grading
    files: list[FileBlob] = []
    #: a folder submission that failed those checks (links, special files, sizes): why
    invalid_reason: str = ""
    #: the fields of :class:`grader.grading.GradeOptions`
    options: dict[str, Any]
    #: where the worker finds exercises/ and solutions/ (a path on the worker host)
    catalogue_root: str
    catalogue_fingerprint: str
    code_fingerprint: str
    #: libraries the batch's judges import, warmed once in the worker's judge zygote
    preload: list[str] = []


class GradeTaskResult(BaseModel):
    """What a worker sends back: the results, the sources kept for the report, the judge log."""

    model_config = ConfigDict(extra="forbid")

    wire_version: Literal[1] = WIRE_VERSION
    result: dict[str, Any]
    sources: list[FileBlob] = []
    judge_log: bytes = b""
    worker: str = ""


# --- fingerprints: the worker must grade with the client's exercises and the client's judge ---

def _tree_digest(folders: list[Path], suffixes: tuple[str, ...] | None = None,
                 exclude: frozenset[str] = frozenset()) -> str:
    """SHA-256 over the relative paths and contents of the files under ``folders``.

    Bytecode caches and hidden folders are skipped: they differ between hosts without changing
    anything graded.
    """
    h = hashlib.sha256()
    for base in folders:
        h.update(f"\0root {base.name}\0".encode())
        if not base.is_dir():
            h.update(b"missing")
            continue
        for root, dirs, files in os.walk(base):
            rel_root = Path(root).relative_to(base)
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith(".")
                             and (rel_root / d).as_posix() not in exclude)
            for name in sorted(files):
                if name.startswith(".") or name.endswith(".pyc") or (rel_root / name).as_posix() in exclude:
                    continue
                if suffixes is not None and not name.endswith(suffixes):
                    continue
                path = Path(root) / name
                h.update(f"\0{path.relative_to(base).as_posix()}\0".encode())
                with open(path, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:16]


def catalogue_fingerprint(root: Path) -> str:
    """A digest of a catalogue's exercises/ and solutions/ (hidden tests, references, limits)."""
    return _tree_digest([root / "exercises", root / "solutions"])


#: grader modules that never take part in grading a submission (the client's commands, reports,
#: executors): they may differ between client and workers without changing a score
CLIENT_ONLY_CODE = frozenset({"cli.py", "__main__.py", "report.py", "similarity.py", "validate.py", "workspace.py",
                              "exports", "executors", "templates"})


def code_fingerprint() -> str:
    """A digest of the grader code that grades (judge, channel, sandboxes, staging, scoring)."""
    return _tree_digest([Path(grader.__file__).resolve().parent], (".py", ".ini"), CLIENT_ONLY_CODE)


# --- the worker side ---

_POOLS: dict[tuple, ResourcePool] = {}
_POOLS_LOCK = threading.Lock()


def _worker_pool(nthreads: int, gpus: list[str], jobs_per_gpu: int, pin_cpus: bool) -> ResourcePool:
    """One pool per worker process, shared by its threads, so its tasks never share a GPU or CPU set."""
    key = (nthreads, tuple(gpus), jobs_per_gpu, pin_cpus)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = ResourcePool(nthreads, gpus, jobs_per_gpu, pin_cpus=pin_cpus)
        return _POOLS[key]


_ZYGOTE_LOCK = threading.Lock()
_ZYGOTE_PRELOAD: set[str] = set()


def _ensure_judge_zygote(preload: list[str]) -> None:
    """Keep a warm judge zygote in this worker process, as a local batch keeps one per batch.

    Without it every judge would import torch and pytest afresh (seconds per candidate). The
    zygote outlives tasks; one with fewer preloaded libraries than a task needs is replaced by one
    with both sets (the old one keeps serving the judges it forked and is left idle).
    """
    from grader.judge import launcher

    if os.environ.get("GRADER_JUDGE_FORKSERVER", "1") == "0":
        return
    global _ZYGOTE_PRELOAD
    with _ZYGOTE_LOCK:
        current = launcher.current_server()
        alive = current is not None and not current.dead
        if alive and set(preload) <= _ZYGOTE_PRELOAD:
            return
        wanted = set(preload) | (_ZYGOTE_PRELOAD if alive else set())
        server = launcher.ForkServer(sorted(wanted))
        started = threading.Event()

        def keeper() -> None:
            # PR_SET_PDEATHSIG fires when the *thread* that started the zygote ends: this one never
            # does, so the zygote (and its judges) live exactly as long as this worker process.
            server.start()
            started.set()
            threading.Event().wait()

        threading.Thread(target=keeper, name="grader-judge-zygote", daemon=True).start()
        started.wait()
        launcher.install_server(server)
        _ZYGOTE_PRELOAD = wanted


@contextmanager
def _cancel_when_released(worker: Any, key: Any) -> Iterator[threading.Event]:
    """An event set when nobody wants this task any more (Ctrl-C or a lost client).

    The scheduler then tells the worker to forget the task, but cannot interrupt the thread
    running it; the judge watches the event and is killed within half a second.
    """
    cancel = threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(1.0):
            ts = worker.state.tasks.get(key)
            if ts is None or ts.state == "cancelled":
                cancel.set()
                return

    thread = threading.Thread(target=watch, name="grader-cancel-watch", daemon=True)
    thread.start()
    try:
        yield cancel
    finally:
        done.set()
        thread.join()


def _safe_relpath(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts):
        raise GraderError(f"refusing the file path {path!r} sent over the wire")
    return rel


def _write_blobs(blobs: list[FileBlob], dest: Path) -> None:
    for blob in blobs:
        target = dest.joinpath(*_safe_relpath(blob.path).parts)
        with writing(target):  # a full disk: the batch stops with one line, keeping what it wrote
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.data)


def _read_blobs(folder: Path) -> list[FileBlob]:
    if not folder.is_dir():
        return []
    return [FileBlob(path=p.relative_to(folder).as_posix(), data=p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()]


def grade_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission on a Dask worker; the task function the client submits.

    Raises :class:`GraderError` when this worker cannot grade like the client would (no
    catalogue, a different catalogue or grader version, no sandbox); the client then writes the
    candidate ``ungraded`` with the message.
    """
    from distributed import get_worker

    from grader.grading import check_gpus
    from grader.sandbox.factory import resolve_kind
    from grader.scheduling import gpu_list

    task = GradeTask.model_validate(payload)
    worker = get_worker()
    where = f"Dask worker {worker.address} ({socket.gethostname()})"
    root = Path(task.catalogue_root)
    if not (root / "exercises").is_dir():
        raise GraderError(f"{where} has no catalogue at {root} (check out the project there, or pass "
                          "--worker-catalogue with its path on the workers)")
    if catalogue_fingerprint(root) != task.catalogue_fingerprint:
        raise GraderError(f"the catalogue at {root} on {where} differs from the client's; "
                          "update that checkout so both grade the same exercises")
    if code_fingerprint() != task.code_fingerprint:
        raise GraderError(f"the grader installed on {where} differs from the client's; install the same version")
    names = {f.name for f in fields(GradeOptions)}
    opts = GradeOptions(**{k: v for k, v in task.options.items() if k in names})
    kind = resolve_kind(opts.sandbox)
    gpus = gpu_list(opts.gpus, opts.gpu_ids)
    if gpus:
        check_gpus(kind)
    pool = _worker_pool(max(1, worker.state.nthreads), gpus, opts.jobs_per_gpu, kind == "docker")
    catalogue = Catalogue(root)
    if not task.invalid_reason:
        _ensure_judge_zygote(task.preload)
    with tempfile.TemporaryDirectory(prefix="grader-dask-") as tmp_name, \
            _cancel_when_released(worker, worker.get_current_task()) as cancel:
        tmp = Path(tmp_name)
        if task.invalid_reason:
            # what grade_submission answers when unpacking fails; the checks ran on the client
            requested = catalogue.select(opts.exercises) if opts.exercises else []
            result = invalid_result(task.candidate, requested, task.invalid_reason, kind,
                                    datetime.now(timezone.utc))
        else:
            if task.archive is not None:
                path = tmp / "in" / Path(task.archive_name).name
                path.parent.mkdir()
                path.write_bytes(task.archive)
            else:
                path = tmp / "in" / task.candidate
                path.mkdir(parents=True)
                _write_blobs(task.files, path)
            result = grade_submission(Submission(task.candidate, path), catalogue, opts, kind, cancel,
                                      judge_log_dir=tmp / "logs", pool=pool, source_out=tmp / "out")
        result.environment["dask_worker"] = worker.address
        log_path = tmp / "logs" / f"{task.candidate}.judge.log"
        log = log_path.read_bytes()[-MAX_LOG_BYTES:] if log_path.is_file() else b""
        sources = _read_blobs(tmp / "out" / task.candidate / "source")
    return GradeTaskResult(result=result.model_dump(mode="json"), sources=sources, judge_log=log,
                           worker=worker.address).model_dump()


def cleanup_worker(batch_id: str) -> int:
    """Run on every worker at the end of a batch: remove containers of judges that were killed
    with their worker (the host's Docker engine only; nothing to do without one)."""
    try:
        from grader.sandbox.docker import remove_leftovers

        return remove_leftovers(batch_id)
    except Exception:  # no engine, no SDK: no containers either
        return 0


# --- the client side ---

def read_submission(sub: Submission) -> tuple[str, bytes | None, list[FileBlob], str]:
    """A submission as (archive name, archive bytes, files, invalid reason) for the wire.

    Folders go through the same checks as local grading (:func:`grader.submission.unpack`:
    links, special files, sizes) here, where they are; archives are checked where they are
    unpacked, on the worker, as they are locally.
    """
    if sub.is_archive and sub.path.stat().st_size <= MAX_ARCHIVE_BYTES:
        return sub.path.name, sub.path.read_bytes(), [], ""
    with tempfile.TemporaryDirectory(prefix="grader-read-") as tmp:
        try:
            unpack(sub, Path(tmp) / "s")
        except InvalidSubmission as exc:
            return "", None, [], str(exc)
        return "", None, _read_blobs(Path(tmp) / "s"), ""


def _exercise_ids(task: GradeTask, known: set[str]) -> list[str]:
    """The catalogue exercises a submission holds, as far as the client can tell (for ungraded rows)."""
    if task.archive is not None:
        import io

        try:
            with zipfile.ZipFile(io.BytesIO(task.archive)) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError):
            names = []
    else:
        names = [f.path for f in task.files]
    found = set()
    for name in names:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        found.update(p for p in parts[:2] if p in known)  # a zipped folder has one top folder more
    return sorted(found)


def ungraded_result(candidate: str, exercise_ids: list[str], catalogue: Catalogue, sandbox: str,
                    reason: str) -> CandidateResult:
    """An ``ungraded`` result (never a 0): the infrastructure failed, ``--resume`` grades it again."""
    return grading_ungraded_result(candidate, catalogue.select(exercise_ids), UNGRADED_PREFIX + reason, sandbox,
                                   datetime.now(timezone.utc), environment={"executor": "dask"})


def _write_sources(out: Path, candidate: str, sources: list[FileBlob]) -> None:
    # the same layout copy_sources writes when grading locally (replaced, never merged)
    dest = out / candidate / "source"
    shutil.rmtree(dest, ignore_errors=True)
    _write_blobs(sources, dest)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def check_scheduler(address: str, timeout: float) -> None:
    """Fail fast, in one line, unless a Dask scheduler answers at ``address``.

    ``distributed.Client`` alone retries a refused connection until its timeout, can wait forever
    for a handshake from something that is not a scheduler (an HTTP server on that port) and
    prints a traceback from ``__del__`` when the address is malformed; this probe does none of that.
    """
    import asyncio

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    def fail(why: str) -> GraderError:
        return GraderError(f"cannot reach the Dask scheduler at {address}: {why}")

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            host, port = parse_host_port(location)
            socket.create_connection((host, port), timeout=timeout).close()
    except ValueError as exc:
        raise fail(f"not an address like tcp://host:8786 ({exc})") from None
    except socket.gaierror:
        raise fail("unknown host") from None
    except ConnectionRefusedError:
        raise fail("connection refused (is `dask scheduler` running there?)") from None
    except OSError as exc:
        raise fail(exc.strerror or _one_line(exc)) from None

    async def identity() -> Any:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    answer: dict[str, Any] = {}

    def probe() -> None:  # its own thread and event loop: the caller may be inside one already
        try:
            answer["reply"] = asyncio.run(identity())
        except BaseException as exc:  # a garbage reply can raise anything while being decoded
            answer["error"] = exc

    thread = threading.Thread(target=probe, name="grader-scheduler-probe", daemon=True)
    thread.start()
    thread.join(3 * timeout + 1)
    reply = answer.get("reply")
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        error = answer.get("error")
        if error is None:
            why = "it is not a Dask scheduler" if "reply" in answer else "no answer"
        elif isinstance(error, (TimeoutError, asyncio.TimeoutError)):
            why = "it does not answer like a Dask scheduler (timed out)"
        elif isinstance(error, OSError):
            why = _one_line(error)
        else:
            why = f"it does not answer like a Dask scheduler ({_one_line(error)})"
        raise fail(why)


class DaskExecutor:
    """Grades each submission as one task on a Dask cluster; see the module docstring."""

    def __init__(self, scheduler: str, worker_catalogue: Path | None = None,
                 connect_timeout: float | None = None) -> None:
        self.scheduler = scheduler
        self.worker_catalogue = worker_catalogue
        self.connect_timeout = connect_timeout if connect_timeout is not None else CONNECT_TIMEOUT_S
        self.sandbox = ""
        self.warning = ""
        self.description = ""
        self._client: Client | None = None
        self._opts: GradeOptions | None = None

    @property
    def client(self) -> Client:
        """The connected Dask client (after :meth:`start`)."""
        if self._client is None:
            raise RuntimeError("DaskExecutor.start() first")
        return self._client

    def start(self, opts: GradeOptions) -> None:
        """Connect to the scheduler; one clear error line when it does not answer."""
        try:
            from distributed import Client
        except ImportError:
            raise GraderError("--executor dask needs the distributed package: pip install 'dask[distributed]'") from None
        self._opts = opts
        check_scheduler(self.scheduler, self.connect_timeout)
        try:
            self._client = Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        except Exception as exc:  # it answered the probe a moment ago: it went away or is overloaded
            raise GraderError(f"cannot reach the Dask scheduler at {self.scheduler}: {_one_line(exc)}") from None
        # Each worker resolves --sandbox on its own host and records it in every result.
        self.sandbox = "docker" if opts.sandbox == "docker" else "per-worker"
        nthreads = self.client.nthreads()
        self.description = (f"the Dask cluster at {self.scheduler} ({len(nthreads)} workers, "
                            f"{sum(nthreads.values())} threads; each worker uses its own {opts.sandbox} sandbox)")
        if not nthreads:
            self.description += "; no worker has joined yet, tasks wait for one"

    def _window(self) -> int:
        # Submissions in flight: one per worker thread. Keeping the rest here bounds the memory
        # their bytes take, and a worker killed mid-task only ever takes its running task with
        # it (the scheduler counts every task assigned to a dying worker towards KilledWorker).
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:
            return 1

    def grade(self, todo: list[Submission], catalogue: Catalogue, opts: GradeOptions,
              out: Path) -> Iterator[CandidateResult]:
        """Submit the submissions (one task each, as threads free up) and yield results as they finish."""
        from distributed import as_completed

        from grader.judge.launcher import judge_preload

        client = self.client
        root = (self.worker_catalogue or catalogue.root).as_posix()
        fingerprints = {"catalogue_fingerprint": catalogue_fingerprint(catalogue.root),
                        "code_fingerprint": code_fingerprint(),
                        "preload": judge_preload(catalogue, opts.exercises, todo)}
        options = asdict(opts)
        known = set(catalogue.ids())
        pending = iter(todo)
        running: dict[str, tuple[Future, GradeTask]] = {}
        finished = as_completed(loop=client.loop)

        def submit_next() -> bool:
            sub = next(pending, None)
            if sub is None:
                return False
            name, archive, files, invalid = read_submission(sub)
            task = GradeTask(candidate=sub.candidate, archive_name=name, archive=archive, files=files,
                             invalid_reason=invalid, options=options, catalogue_root=root, **fingerprints)
            # The key names the candidate (dashboards, logs); pure=False: a regrade is a new task.
            fut = client.submit(grade_task, task.model_dump(), key=f"grade-{sub.candidate}-{opts.batch_id}",
                                pure=False)
            running[fut.key] = (fut, task)
            finished.add(fut)
            return True

        try:
            while len(running) < self._window() and submit_next():
                pass
            for fut in finished:
                _, task = running.pop(fut.key)
                result = self._collect(fut, task, catalogue, known, out)
                fut.release()
                yield result
                while len(running) < self._window() and submit_next():
                    pass
        finally:
            if running:  # Ctrl-C or an error: the workers drop these tasks and kill their judges
                client.cancel([f for f, _ in running.values()])

    def _collect(self, fut: Future, task: GradeTask, catalogue: Catalogue, known: set[str],
                 out: Path) -> CandidateResult:
        from distributed import KilledWorker

        ungraded_sandbox = "docker" if self.sandbox == "docker" else "local"
        if fut.status == "cancelled":
            raise GraderError(f"the Dask scheduler at {self.scheduler} dropped the task of {task.candidate} "
                              "(connection lost?); results already written are kept, rerun with --resume")
        if fut.status == "error":
            exc = fut.exception()
            if isinstance(exc, KilledWorker):
                reason = (f"the Dask workers grading it died {exc.allowed_failures + 1} times (KilledWorker; "
                          f"the last one was {exc.last_worker.address}), so it was not retried again")
            else:
                reason = f"on a Dask worker: {_one_line(exc)}"
            return ungraded_result(task.candidate, _exercise_ids(task, known), catalogue, ungraded_sandbox, reason)
        try:
            reply = GradeTaskResult.model_validate(fut.result())
            result = CandidateResult.model_validate(reply.result)
        except ValidationError as exc:
            return ungraded_result(task.candidate, _exercise_ids(task, known), catalogue, ungraded_sandbox,
                                   f"a Dask worker sent back an unreadable result: {_one_line(exc)}")
        if result.candidate != task.candidate:
            return ungraded_result(task.candidate, _exercise_ids(task, known), catalogue, ungraded_sandbox,
                                   f"a Dask worker answered for {result.candidate!r} instead")
        _write_sources(out, task.candidate, reply.sources)
        _write_blobs([FileBlob(path=f"{task.candidate}.judge.log", data=reply.judge_log)], out / ".logs")
        return result

    def close(self) -> None:
        """Remove containers left on worker hosts by killed judges, then disconnect."""
        if self._client is None:
            return
        try:
            if self._opts is not None and self._opts.sandbox != "local":
                self._client.run(cleanup_worker, self._opts.batch_id, on_error="return")
        except Exception:  # best effort: the batch's results are already written
            pass
        finally:
            self._client.close()
            self._client = None

"""``python -m grader.judge.forkserver [MODULE ...]``: the judge zygote (see :mod:`grader.judge.launcher`).

It imports what every judge needs (and the exercises' libraries named on the command line), then
reads one JSON request per line on stdin: ``{"op": "run", "job", "spec", "log", "env"}``. For each
it forks a judge that runs :func:`grader.judge.__main__.run` in its own session with its output in
the log, and answers ``started`` (with the pid) and later ``exited`` (with the exit status) on
stdout: the judge says ``exited`` itself just before it exits, and the zygote again once it has
reaped it (for a judge that died without a word). It stays single-threaded so that forking is
safe; end of stdin kills the judges left.

This process only ever runs trusted code: candidate code runs in the sandboxes the judges start.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import selectors
import signal
import sys
import traceback

from grader.judge.launcher import die_with_parent

WARM_MODULES = (
    "numpy", "torch", "pytest", "_pytest.python", "_pytest.assertion", "_pytest.runner",
    "grader.judge.__main__", "grader.judge.plugin", "grader.channel.client", "grader.sandbox.factory",
    "grader.sandbox.local", "grader.sandbox.docker", "grader.testing", "docker",
    # What each judge still imported after the fork (44 ms of CPU per judge): pytest's own plugins
    # and what their configure hooks pull in, the worker pool's client, numpy's seeding.
    *(f"_pytest.{name}" for name in ("faulthandler", "helpconfig", "junitxml", "pastebin", "setuponly",
                                     "setupplan", "skipping", "threadexception", "tracemalloc",
                                     "unittest", "warnings")),
    "_pytest._argcomplete", "faulthandler", "pdb", "readline", "code", "xml.etree.ElementTree", "tomllib",
    "secrets", "numpy.random", "grader.catalogue", "grader.staging", "grader.sandbox.warm",
)


def _send(out: int, msg: dict) -> None:
    data = (json.dumps(msg) + "\n").encode()
    while data:
        data = data[os.write(out, data):]


def _judge_child(request: dict, proto_in: int, proto_out: int) -> None:
    """In the forked child: become a judge process and never return."""
    code = 70
    try:
        os.setsid()
        die_with_parent()
        os.close(proto_in)  # proto_out stays: the judge reports its own exit on it (see below)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["grader.judge", request["spec"]]
        from pathlib import Path

        from grader.judge.__main__ import run
        from grader.judge.spec import JudgeSpec

        spec = JudgeSpec.model_validate_json(Path(request["spec"]).read_text())
        code = run(spec)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            # Said now, not by the zygote once it has reaped us: the kernel takes 0.08-0.1 s to
            # free a judge's memory first. The zygote's own report then comes second, ignored.
            try:
                _send(proto_out, {"op": "exited", "job": request["job"], "status": code})
            except OSError:
                pass
            os._exit(code)


def serve(preload: list[str]) -> None:
    die_with_parent()
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for name in (*WARM_MODULES, *preload):
        try:
            importlib.import_module(name)
        except Exception:  # an optional library missing here fails in the judge with its reason
            pass
    # Judges never collect (nor copy-on-write) what the zygote imported.
    gc.collect()
    gc.freeze()
    _send(proto_out, {"op": "ready", "pid": os.getpid()})
    children: dict[int, int] = {}  # pid -> job
    buffer = b""
    # SIGCHLD wakes the loop through a pipe: a judge's exit is reported at once, without polling.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    selector = selectors.DefaultSelector()
    selector.register(proto_in, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    open_input = True
    while open_input or children:
        for key, _ in selector.select(timeout=1.0):
            if key.fd == wake_r:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                continue
            chunk = os.read(proto_in, 65536)
            if not chunk:
                open_input = False
                selector.unregister(proto_in)
                for pid in children:  # the grader is done (or gone): so are its judges
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except OSError:
                        pass
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                try:
                    pid = os.fork()
                except OSError as exc:
                    _send(proto_out, {"op": "failed", "job": request["job"], "error": str(exc)})
                    continue
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    for fd in (wake_r, wake_w):
                        os.close(fd)
                    _judge_child(request, proto_in, proto_out)
                children[pid] = request["job"]
                _send(proto_out, {"op": "started", "job": request["job"], "pid": pid})
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            job = children.pop(pid, None)
            if job is not None:
                _send(proto_out, {"op": "exited", "job": job, "status": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve(sys.argv[1:])

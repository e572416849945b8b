"""The warm nursery: the local sandbox's source of workers that have already imported torch.

``import torch`` costs a fresh worker 3.6 s of CPU on the 2-core reference machine, nearly all
of what a submission costs besides its tests. The nursery pays it once, in a bubblewrap sandbox
that holds no candidate file, and then, for each submission the host sends it, forks a process
that confines itself further (:mod:`confine`) and becomes that submission's worker
(:func:`worker.main`), exactly as a freshly started worker would.

It never runs candidate code, serves one worker at a time, and is neither dumpable nor visible
from a worker's PID namespace: a worker cannot signal, trace or read it, and each worker starts
from the nursery's clean state, never from another worker's.

The pool starts one nursery per batch (a *mother*, which serves no worker) and asks it to
``clone`` itself once per slot: a clone is a fork of the mother, so it shares the mother's
imported torch instead of importing it again, and the pool moves it into a pids cgroup of its
own before it serves any worker. A clone is the child of the sandbox's init, not of the mother
(the fork is doubled), and every clone ends with the mother's sandbox.

Protocol, on the ``SOCK_SEQPACKET`` socket at fd 0, one JSON object per message:

* host to nursery: ``{"op": "spawn", "stage": NAME, "tmpfs_bytes": N, "open_files": N,
  "file_size_bytes": N}`` with three descriptors (the worker's stdin, stdout and stderr),
  ``{"op": "kill"}``, and ``{"op": "clone"}`` with one descriptor: the clone's own socket;
* nursery to host: ``{"ready": true}`` once torch is imported (a clone sends it on its own
  socket as its first message), then per worker ``{"pid": N}``, ``{"error": TEXT}`` if it could
  not be confined, and ``{"exit": STATUS}`` (a wait status) once it and every process it started
  are gone.

Standard library, ``confine`` and ``worker`` only.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

try:
    from . import confine, worker
except ImportError:  # pragma: no cover - executed as a plain script
    import confine  # type: ignore[no-redef]
    import worker  # type: ignore[no-redef]


def _send(ctl: socket.socket, message: dict) -> None:
    try:
        ctl.send(json.dumps(message).encode())
    except OSError:
        pass


def _init(request: dict, fds: list[int], report: int) -> None:
    """PID 1 of the worker's namespace, as bubblewrap's init is for a fresh sandbox; never returns.

    It confines itself, forks the worker, then holds nothing and only reaps: the worker's
    processes cannot signal it (the kernel ignores a namespace's own SIGKILL to its init), and
    when it exits, the kernel ends every process left in the namespace.
    """
    try:
        os.dup2(fds[0], 0)
        os.dup2(fds[1], 1)
        os.dup2(fds[2], 2)
        confine.confine(str(request.get("stage", "")), int(request["tmpfs_bytes"]),
                        int(request["open_files"]), int(request["file_size_bytes"]))
        pid = os.fork()
    except BaseException as exc:
        try:
            os.write(report, f"error {exc}\n".encode())
        finally:
            os._exit(125)
    if pid == 0:
        # The nursery and this init stay undumpable, so that nothing the worker runs can trace them
        # or read their memory; the worker is dumpable, as one started afresh would be.
        confine.prctl(confine.PR_SET_DUMPABLE, 1)
        os.closerange(3, 1 << 16)  # the report pipe, the nursery's socket: nothing of the nursery's
        sys.path[0] = confine.STAGE_MOUNT  # where a freshly started worker has its shim
        worker.main()
        os._exit(0)
    os.closerange(0, report)  # no end of the worker's pipes: they close when the worker ends
    os.closerange(report + 1, 1 << 16)
    while True:
        try:
            ended, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if ended == pid:
            os.write(report, f"status {status}\n".encode())
            os._exit(0)


def _intermediate(request: dict, fds: list[int], report: int) -> None:
    """Between the nursery and the worker: makes the namespaces, forks the worker, waits for it."""
    try:
        nursery = os.getppid()
        # Should its nursery die (the pool ends a clone), this process and so the worker's whole
        # namespace end with it, whether or not the pids cgroup is there to sweep them.
        confine.prctl(confine.PR_SET_PDEATHSIG, 9)
        if os.getppid() != nursery:
            os._exit(0)
        confine.new_namespaces()
        pid = os.fork()
        if pid == 0:
            _init(request, fds, report)
        for fd in fds:
            os.close(fd)
        os.write(report, f"pid {pid}\n".encode())
        _, status = os.waitpid(pid, 0)  # its namespace's init: every process in it is gone
        os.write(report, f"exit {status}\n".encode())
    except BaseException as exc:
        try:
            os.write(report, f"error {exc}\n".encode())
        except OSError:
            pass
    os._exit(0)


class Nursery:
    def __init__(self, ctl: socket.socket) -> None:
        self.ctl = ctl
        self.middle: int | None = None  # the intermediate process
        self.worker: int | None = None  # the worker's init, as the nursery's namespace numbers it
        self.report: int | None = None
        self.buffer = b""
        self.kill_asked = False
        self.status: int | None = None

    def spawn(self, request: dict, fds: list[int]) -> None:
        if self.middle is not None or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            _send(self.ctl, {"error": "busy" if self.middle is not None else "three descriptors expected"})
            _send(self.ctl, {"exit": None})
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            self.ctl.close()
            _intermediate(request, fds, write_end)
        os.close(write_end)
        for fd in fds:
            os.close(fd)
        self.middle, self.report, self.worker, self.buffer, self.kill_asked = pid, read_end, None, b"", False
        self.status = None

    def clone(self, fds: list[int]) -> None:
        """Fork a nursery that serves its own socket ``fds[0]`` (see the module's docstring)."""
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            _send(self.ctl, {"error": "clone: one descriptor expected"})
            return
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(fds[0])
            _send(self.ctl, {"error": f"clone: {exc}"})
            return
        if pid == 0:
            try:
                # Doubled, so that the sandbox's init reaps the clone, not this process
                if os.fork() == 0:
                    self.ctl.close()
                    if self.report is not None:
                        os.close(self.report)
                    Nursery(socket.socket(fileno=fds[0])).run()
            finally:
                os._exit(0)
        os.close(fds[0])
        os.waitpid(pid, 0)

    def kill(self) -> None:
        self.kill_asked = True
        if self.worker is not None:
            try:
                os.kill(self.worker, signal.SIGKILL)
            except OSError:
                pass

    def read_report(self) -> None:
        assert self.report is not None
        chunk = os.read(self.report, 4096)
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            word, _, rest = line.decode(errors="replace").partition(" ")
            if word == "pid":
                self.worker = int(rest)
                _send(self.ctl, {"pid": self.worker})
                if self.kill_asked:
                    self.kill()
            elif word == "error":
                _send(self.ctl, {"error": rest})
            elif word == "status":  # how the worker ended (its init's own end says less)
                self.status = int(rest)
            elif word == "exit":
                self._finish(self.status if self.status is not None else int(rest))
                return
        if not chunk:
            self._finish(None)

    def _finish(self, status: int | None) -> None:
        if self.worker is not None and status is None:
            try:
                os.kill(self.worker, signal.SIGKILL)
            except OSError:
                pass
        if self.middle is not None:
            os.waitpid(self.middle, 0)
        if self.report is not None:
            os.close(self.report)
        self.middle = self.report = self.worker = None
        _send(self.ctl, {"exit": status})

    def run(self) -> None:
        _send(self.ctl, {"ready": True})
        while True:
            watched: list = [self.ctl] + ([self.report] if self.report is not None else [])
            ready, _, _ = select.select(watched, [], [])
            if self.report is not None and self.report in ready:
                self.read_report()
            if self.ctl in ready:
                try:
                    data, fds, _, _ = socket.recv_fds(self.ctl, 1 << 16, 3)
                except OSError:
                    data, fds = b"", []
                if not data:
                    self.kill()
                    return
                try:
                    request = json.loads(data)
                except ValueError:
                    request = {}
                if request.get("op") == "spawn":
                    self.spawn(request, list(fds))
                elif request.get("op") == "kill":
                    self.kill()
                elif request.get("op") == "clone":
                    self.clone(list(fds))
                else:
                    for fd in fds:
                        os.close(fd)


def main() -> None:
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    ctl = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    # What each worker's zygote did for itself, once for all of them: clones and workers share
    # the mother's 2 MiB pages (until a write splits one) instead of each collapsing its own,
    # ~0.2 s of kernel time per submission. Before the first request, so that a clone never
    # misses them: 0.2-0.5 s while the batch's judges import their own torch.
    worker.warm_torch()
    worker.huge_pages()
    worker.HUGE_PAGES_INHERITED = True
    Nursery(ctl).run()
    os._exit(0)


if __name__ == "__main__":
    main()

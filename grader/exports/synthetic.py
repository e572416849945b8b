"""Synthetic, valid results for benchmarks, demos and report tests (never real grading)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from grader.results import CandidateResult, ExerciseResult, TestResult, write_result

OUTCOMES_WRONG = ["failed", "failed", "failed", "error", "timeout", "memory_limit", "crashed", "missing", "forbidden_api"]

SAMPLE_SOURCE = '''"""Candidate solution for {ex}."""
import numpy as np


def solve(x, k=3):
    """Return the top-k indices of x, largest first."""
    x = np.asarray(x, dtype=float)
    if k <= 0:
        raise ValueError("k must be positive")
    order = np.argsort(-x, kind="stable")
    return order[:k].tolist()  # {note}
'''


def exercise_ids(n: int) -> list[str]:
    base = ["eval_metrics", "backprop", "regularization", "conv_ops", "word_embeddings", "batch_norm", "gan_losses",
            "wordpiece", "transfer_freeze", "bert_classifier", "attention", "class_imbalance", "iou_nms", "crf_viterbi"]
    return [f"q{i + 1:02d}_{base[i % len(base)]}" for i in range(n)]


def synthetic_candidate(name: str, ex_ids: list[str], rng: random.Random, tests_per_exercise: int = 6) -> CandidateResult:
    skill = rng.betavariate(3, 2)
    exercises = []
    for ex in ex_ids:
        if rng.random() < 0.05:
            exercises.append(ExerciseResult(id=ex, score=0, max_score=tests_per_exercise * 1.0, status="not_submitted",
                                            duration_s=0.0, message="no folder for this exercise in the submission"))
            continue
        tests = []
        for k in range(tests_per_exercise):
            pts = float(1 + k % 3)
            ok = rng.random() < skill + (0.15 if k < 2 else -0.1)
            outcome = "passed" if ok else rng.choice(OUTCOMES_WRONG)
            tests.append(TestResult(
                id=f"test_{ex.split('_', 1)[1]}_{k}", outcome=outcome, points=pts if ok else 0.0, max_points=pts,
                message="" if ok else f"{outcome}: result differs from the reference at index {rng.randint(0, 99)}",
                duration_s=round(rng.uniform(0.01, 2.0), 3), hint=f"checks case {k} of {ex}",
                visibility="public" if k == 0 else "hidden"))
        score = sum(t.points for t in tests)
        exercises.append(ExerciseResult(
            id=ex, score=score, max_score=sum(t.max_points for t in tests), status="graded",
            duration_s=round(sum(t.duration_s for t in tests) + rng.uniform(0.5, 3), 3),
            log="\n".join(f"epoch {i}: loss {rng.random():.4f}" for i in range(rng.randint(0, 20))),
            peak_memory_mb=round(rng.uniform(80, 900), 1), tests=tests))
    return CandidateResult(
        candidate=name, sandbox="docker", started_at=datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
        + timedelta(minutes=rng.randint(0, 600)), duration_s=sum(e.duration_s for e in exercises),
        environment={"python": "3.11.9", "torch": "2.13.0", "image": "sha256:" + "ab12" * 16},
        score=sum(e.score for e in exercises), max_score=sum(e.max_score for e in exercises), exercises=exercises)


def synthetic_batch(n_candidates: int, n_exercises: int, seed: int = 0) -> list[CandidateResult]:
    rng = random.Random(seed)
    ids = exercise_ids(n_exercises)
    return [synthetic_candidate(f"cand{i:04d}", ids, rng) for i in range(n_candidates)]


def write_batch(out: Path, results: list[CandidateResult], with_source: bool = True) -> None:
    """Write results.json files (and sample sources under OUT/<candidate>/source/<exercise>/)."""
    for r in results:
        write_result(out, r)
        if with_source:
            for e in r.exercises:
                if e.status != "not_submitted":
                    folder = out / r.candidate / "source" / e.id
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "solution.py").write_text(SAMPLE_SOURCE.format(ex=e.id, note=r.candidate))


# A candidate whose every field (id, messages, hints, log, environment, exercise id) tries to
# inject markup or script into a report; the report tests prove none of it gets through.
PAYLOADS = ['<script>alert("x")</script>', "<img src=x onerror=alert(1)>", '"><svg onload=alert(2)>',
            "</pre></details><iframe src=javascript:alert(3)>", "]]><!-- {{7*7}} {% raw %}"]
HOSTILE_ID = "evil\"'<b onmouseover=alert(9)>&amp;"  # a legal folder name: no slash
HOSTILE_SOURCE = "x = '</pre><script>alert(4)</script>'\n# <img src=x onerror=alert(5)>\n"


def hostile_result() -> CandidateResult:
    p = " ".join(PAYLOADS)
    tests = [TestResult(id=f"test_{p}", outcome="error", points=0, max_points=1, message=p, hint=p)]
    return CandidateResult(
        candidate=HOSTILE_ID, sandbox="local-unconfined", started_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        duration_s=1, environment={p: p}, score=0, max_score=1, message=p,
        exercises=[ExerciseResult(id="q01_eval_metrics", score=0, max_score=1, status="graded", duration_s=1,
                                  log=p, message=p, tests=tests),
                   ExerciseResult(id=f"q66_{p.replace('/', '')}", score=0, max_score=1, status="import_error",
                                  duration_s=0, message=p)])


def write_hostile(out: Path) -> CandidateResult:
    r = hostile_result()
    write_result(out, r)
    folder = out / r.candidate / "source" / "q01_eval_metrics"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.py").write_text(HOSTILE_SOURCE)
    return r

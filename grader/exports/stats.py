"""Batch statistics shared by the HTML index and the markdown summary.

Computed once per render from the validated results; nothing here reads files.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from grader.results import CandidateResult

HISTOGRAM_BINS = 10  # 0-10 %, 10-20 %, ... 90-100 % of the candidate's maximum


def fraction(score: float, max_score: float) -> float:
    return score / max_score if max_score > 0 else 0.0


@dataclass
class ExerciseStats:
    id: str
    submitted: int = 0  # candidates with a graded (or attempted) result for this exercise
    full_marks: int = 0
    tests_run: int = 0
    tests_passed: int = 0
    score_sum: float = 0.0
    max_score: float = 0.0
    durations: list[float] = field(default_factory=list)
    peak_memory_mb: float | None = None

    @property
    def mean_fraction(self) -> float:
        return fraction(self.score_sum, self.max_score * self.submitted) if self.submitted else 0.0

    @property
    def full_marks_rate(self) -> float:
        return self.full_marks / self.submitted if self.submitted else 0.0

    @property
    def test_pass_rate(self) -> float:
        return self.tests_passed / self.tests_run if self.tests_run else 0.0

    @property
    def mean_duration_s(self) -> float:
        return statistics.fmean(self.durations) if self.durations else 0.0

    @property
    def max_duration_s(self) -> float:
        return max(self.durations, default=0.0)


@dataclass
class FailedTest:
    exercise: str
    test: str
    failed: int
    runs: int
    outcomes: Counter

    @property
    def main_outcome(self) -> str:
        return self.outcomes.most_common(1)[0][0] if self.outcomes else ""


@dataclass
class BatchStats:
    candidates: int
    exercise_ids: list[str]
    exercises: dict[str, ExerciseStats]
    fractions: list[float]  # each candidate's total / max, in candidate order
    histogram: list[int]  # HISTOGRAM_BINS counts
    most_failed: list[FailedTest]
    slowest: list[ExerciseStats]
    statuses: Counter

    @property
    def mean(self) -> float:
        return statistics.fmean(self.fractions) if self.fractions else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.fractions) if self.fractions else 0.0


def histogram(fractions: list[float], bins: int = HISTOGRAM_BINS) -> list[int]:
    counts = [0] * bins
    for f in fractions:
        counts[min(bins - 1, max(0, int(f * bins)))] += 1
    return counts


def batch_stats(results: list[CandidateResult], top: int = 10) -> BatchStats:
    exercise_ids = sorted({e.id for r in results for e in r.exercises})
    per_ex = {i: ExerciseStats(i) for i in exercise_ids}
    failures: dict[tuple[str, str], FailedTest] = {}
    for r in results:
        for e in r.exercises:
            s = per_ex[e.id]
            s.max_score = max(s.max_score, e.max_score)
            if e.status == "not_submitted":
                continue
            s.submitted += 1
            s.score_sum += e.score
            s.durations.append(e.duration_s)
            if e.max_score > 0 and e.score >= e.max_score:
                s.full_marks += 1
            if e.peak_memory_mb is not None:
                s.peak_memory_mb = max(s.peak_memory_mb or 0.0, e.peak_memory_mb)
            for t in e.tests:
                s.tests_run += 1
                key = (e.id, t.id)
                ft = failures.get(key)
                if ft is None:
                    ft = failures[key] = FailedTest(e.id, t.id, 0, 0, Counter())
                ft.runs += 1
                if t.outcome == "passed":
                    s.tests_passed += 1
                else:
                    ft.failed += 1
                    ft.outcomes[t.outcome] += 1
    fractions = [fraction(r.score, r.max_score) for r in results]
    most_failed = sorted((f for f in failures.values() if f.failed),
                         key=lambda f: (-f.failed / f.runs, -f.failed, f.exercise, f.test))[:top]
    slowest = sorted((s for s in per_ex.values() if s.durations),
                     key=lambda s: (-s.mean_duration_s, s.id))[:top]
    return BatchStats(candidates=len(results), exercise_ids=exercise_ids, exercises=per_ex, fractions=fractions,
                      histogram=histogram(fractions), most_failed=most_failed, slowest=slowest,
                      statuses=Counter(r.status for r in results))

"""A markdown summary for CI job pages (``--summary-md PATH``, ``$GITHUB_STEP_SUMMARY``).

Everything taken from results is escaped for GitHub-flavoured markdown: a candidate id or a
message cannot open an HTML tag, a link, or break a table row.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from grader.errors import ResultsError
from grader.exports.i18n import Labels
from grader.exports.stats import batch_stats, fraction
from grader.results import CandidateResult, atomic_write_text

MAX_ROWS = 50
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def md(text: str, limit: int = 200) -> str:
    """One table-cell-safe line of markdown showing ``text`` literally."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def summary_markdown(results: list[CandidateResult], lang: str = "en",
                     title: Callable[[str], str] | None = None) -> str:
    lab = Labels(lang)
    title = title or (lambda i: i)
    stats = batch_stats(results)
    lines: list[str] = []
    n = len(results)
    if n == 1:
        r = results[0]
        lines.append(f"## {lab.grades}: {md(r.candidate)}: {r.score:g} / {r.max_score:g} "
                     f"({_pct(fraction(r.score, r.max_score))})")
        lines.append("")
        lines.append(f"{lab.status}: {md(lab.word(r.status))} · {lab.sandbox}: {md(r.sandbox)}"
                     + (f" · {md(r.message)}" if r.message else ""))
    else:
        lines.append(f"## {lab.grades}: {n} {lab.candidates}")
        lines.append("")
        if n:
            lines.append(f"{lab.mean}: {_pct(stats.mean)} · {lab.median}: {_pct(stats.median)}")
    lines.append("")
    if n > 1:
        lines += [f"| {lab.candidate} | {lab.score} | {lab.percent} | {lab.status} |", "|---|---:|---:|---|"]
        for r in sorted(results, key=lambda r: (-fraction(r.score, r.max_score), r.candidate))[:MAX_ROWS]:
            lines.append(f"| {md(r.candidate)} | {r.score:g} / {r.max_score:g} | {_pct(fraction(r.score, r.max_score))} "
                         f"| {md(lab.word(r.status))} |")
        if n > MAX_ROWS:
            lines.append(f"| … {n - MAX_ROWS} {lab.more} | | | |")
        lines.append("")
    if stats.exercise_ids:
        lines.append(f"### {lab.exercises}")
        lines.append("")
        if n == 1:
            r = results[0]
            lines += [f"| {lab.exercise} | {lab.title} | {lab.score} | {lab.status} | {lab.failed_tests} |",
                      "|---|---|---:|---|---|"]
            for e in r.exercises:
                failed = [t.id for t in e.tests if t.outcome != "passed"]
                shown = ", ".join(md(f) for f in failed[:5]) + (f" (+{len(failed) - 5})" if len(failed) > 5 else "")
                lines.append(f"| {md(e.id)} | {md(title(e.id))} | {e.score:g} / {e.max_score:g} "
                             f"| {md(lab.word(e.status))} | {shown} |")
        else:
            lines += [f"| {lab.exercise} | {lab.title} | {lab.mean_score} | {lab.full_marks} | {lab.tests_passed} |",
                      "|---|---|---:|---:|---:|"]
            for i in stats.exercise_ids:
                s = stats.exercises[i]
                lines.append(f"| {md(i)} | {md(title(i))} | {_pct(s.mean_fraction)} | {_pct(s.full_marks_rate)} "
                             f"| {_pct(s.test_pass_rate)} |")
        lines.append("")
    if stats.most_failed:
        lines.append(f"### {lab.most_failed}")
        lines.append("")
        lines += [f"| {lab.exercise} | {lab.test} | {lab.failed_runs} | {lab.main_outcome} |", "|---|---|---:|---|"]
        for f in stats.most_failed:
            lines.append(f"| {md(f.exercise)} | {md(f.test)} | {f.failed} / {f.runs} | {md(lab.word(f.main_outcome))} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_summary(text: str, path: Path | None = None, environ: dict[str, str] | None = None) -> list[Path]:
    """Write the summary to ``path`` and append it to ``$GITHUB_STEP_SUMMARY`` when that is set."""
    env = os.environ if environ is None else environ
    written: list[Path] = []
    if path is not None:
        atomic_write_text(Path(path), text)
        written.append(Path(path))
    step = env.get("GITHUB_STEP_SUMMARY")
    if step:
        try:
            with open(step, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise ResultsError(f"cannot append to GITHUB_STEP_SUMMARY ({step}): {exc.strerror or exc}") from None
        written.append(Path(step))
    return written

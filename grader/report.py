"""HTML reports rendered from stored results (``grader report OUT``).

Pages are self-contained (inline CSS, no scripts or network loads) and every value coming from
a submission is escaped by Jinja's autoescaping.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.results import CandidateResult, atomic_write_text, load_results, write_grades_csv

_ENV = Environment(loader=PackageLoader("grader", "templates"), autoescape=select_autoescape(["html", "j2"]),
                   trim_blocks=True, lstrip_blocks=True)


def candidate_page_name(candidate: str) -> str:
    return f"{candidate}/report.html"


def render_candidate(result: CandidateResult) -> str:
    return _ENV.get_template("candidate.html.j2").render(r=result)


def render_index(results: list[CandidateResult]) -> str:
    exercise_ids = sorted({e.id for r in results for e in r.exercises})
    return _ENV.get_template("index.html.j2").render(results=results, exercise_ids=exercise_ids,
                                                      page=candidate_page_name)


def write_reports(out: Path) -> Path:
    """Render index.html, one page per candidate and grades.csv from OUT's results."""
    results = load_results(out)
    for r in results:
        atomic_write_text(out / candidate_page_name(r.candidate), render_candidate(r))
    write_grades_csv(out, results)
    index = out / "index.html"
    atomic_write_text(index, render_index(results))
    return index

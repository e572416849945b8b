"""HTML score reports rendered from stored results (``grader report OUT``, ``grader grade``).

One run writes, from ``OUT/<candidate>/results.json``:

- ``OUT/index.html``: the batch page (sortable, filterable table; score histogram; heat map of
  candidates x exercises; per-exercise pass rates; most-failed tests; slowest exercises);
- ``OUT/<candidate>/report.html``: one page per candidate (scores, every test with its outcome,
  points and reason, time and peak memory, the captured log, the highlighted source);
- ``OUT/grades.csv`` (through :func:`grader.results.write_grades_csv`), ``OUT/junit.xml``,
  ``OUT/<candidate>/gradescope.json`` and, when asked, a markdown summary.

Pages are self-contained: inline CSS, inline SVG charts drawn at render time, one small inline
script (sorting and filtering, optional: every number is in the HTML) allowed by hash in a
Content-Security-Policy that forbids every other script and every network load. Every value that
comes from a submission goes through Jinja's autoescaping (HTML text, attributes and SVG text
alike); the only markup not escaped by Jinja is Pygments' output, which escapes the source itself.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from grader.exports.gradescope import write_gradescope
from grader.exports.i18n import Labels, exercise_titles, title_func
from grader.exports.junit import write_junit
from grader.exports.stats import HISTOGRAM_BINS, BatchStats, batch_stats, fraction
from grader.exports.summary import summary_markdown, write_summary
from grader.results import CandidateResult, atomic_write_text, load_results, write_grades_csv

_ENV = Environment(loader=PackageLoader("grader", "templates"), autoescape=select_autoescape(["html", "j2", "svg"]),
                   trim_blocks=True, lstrip_blocks=True)

LOG_CAP = 20_000  # characters of captured output shown per exercise
SOURCE_CAP = 200_000  # bytes of one source file shown
SOURCE_FILES_CAP = 20  # files shown per exercise

# The only script on any page: sorting and filtering of the index table. It is allowed by its
# hash (see _csp) and reads nothing but the table's data-* attributes.
INDEX_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("candidates");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(row, i, numeric) {
    var v = row.cells[i].getAttribute("data-v");
    if (v === null) { v = row.cells[i].textContent; }
    if (numeric) { var x = parseFloat(v); return isNaN(x) ? -Infinity : x; }
    return v.toLowerCase();
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.tabIndex = 0;
    function sort() {
      var numeric = th.getAttribute("data-type") === "num";
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(tbody.rows);
      rows.sort(function (a, b) {
        var x = key(a, i, numeric), y = key(b, i, numeric);
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
  var text = document.getElementById("filter-text");
  var status = document.getElementById("filter-status");
  var count = document.getElementById("filter-count");
  function filter() {
    var q = text.value.trim().toLowerCase(), s = status.value, n = 0;
    Array.prototype.forEach.call(tbody.rows, function (r) {
      var ok = r.getAttribute("data-name").toLowerCase().indexOf(q) !== -1 &&
               (s === "" || r.getAttribute("data-status") === s);
      r.hidden = !ok;
      if (ok) { n += 1; }
    });
    count.textContent = String(n);
  }
  document.getElementById("filters").hidden = false;
  text.addEventListener("input", filter);
  status.addEventListener("change", filter);
})();
""".strip()


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _csp(script: str | None) -> str:
    scripts = f"'sha256-{_sha256(script)}'" if script else "'none'"
    return (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def candidate_page_name(candidate: str) -> str:
    """Path of a candidate's page relative to OUT (on disk)."""
    return f"{candidate}/report.html"


def candidate_href(candidate: str) -> str:
    """The same path as a relative URL (ids may hold characters with a meaning in URLs)."""
    return f"{quote(candidate, safe='')}/report.html"


def _num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return ""
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _heat(f: float | None) -> str:
    """A colour from red (0) through amber to green (1); grey when there is no score."""
    if f is None:
        return "#d9d9d9"
    f = min(1.0, max(0.0, f))
    return f"hsl({round(120 * f)}, 62%, {round(52 - 8 * f)}%)"


def _cap(text: str, limit: int) -> tuple[str, int]:
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


# ---- charts -------------------------------------------------------------------------------------

@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    count: int
    label: str


def histogram_svg_data(stats: BatchStats) -> dict[str, Any]:
    width, height, left, bottom, top = 560, 240, 40, 40, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(stats.histogram, default=0) or 1
    step = plot_w / HISTOGRAM_BINS
    bars = []
    for i, c in enumerate(stats.histogram):
        h = plot_h * c / peak
        lo, hi = 100 * i // HISTOGRAM_BINS, 100 * (i + 1) // HISTOGRAM_BINS
        bars.append(Bar(left + i * step + 2, top + plot_h - h, step - 4, h, c, f"{lo}–{hi}"))
    ticks = sorted({0, peak // 2, peak}) if peak > 1 else [0, 1]
    return {"width": width, "height": height, "left": left, "top": top, "plot_w": plot_w, "plot_h": plot_h,
            "bars": bars, "peak": peak,
            "yticks": [(t, top + plot_h - plot_h * t / peak) for t in ticks]}


def heatmap_svg_data(results: list[CandidateResult], stats: BatchStats, title: Callable[[str], str],
                     lab: Labels) -> dict[str, Any]:
    rows = sorted(results, key=lambda r: (-fraction(r.score, r.max_score), r.candidate))
    cols = stats.exercise_ids
    cell_w = 22 if len(cols) <= 30 else 14
    cell_h = 16 if len(rows) <= 60 else 10
    label_w, head_h = 170, 70
    cells = []
    for ri, r in enumerate(rows):
        by_id = {e.id: e for e in r.exercises}
        for ci, ex_id in enumerate(cols):
            e = by_id.get(ex_id)
            if e is None or e.status == "not_submitted":
                f, text = None, f"{r.candidate} · {ex_id}: {lab.word('not_submitted')}"
            else:
                f = fraction(e.score, e.max_score)
                text = f"{r.candidate} · {ex_id}: {_num(e.score)} / {_num(e.max_score)}"
            cells.append((label_w + ci * cell_w, head_h + ri * cell_h, _heat(f), text))
    return {"width": label_w + len(cols) * cell_w + 10, "height": head_h + len(rows) * cell_h + 10,
            "cell_w": cell_w, "cell_h": cell_h, "label_w": label_w, "head_h": head_h, "cells": cells,
            "rows": [(head_h + i * cell_h + cell_h * 0.75, r.candidate if len(r.candidate) <= 24 else r.candidate[:23] + "…",
                      r.candidate, candidate_href(r.candidate)) for i, r in enumerate(rows)],
            "cols": [(label_w + i * cell_w + cell_w / 2, c.split("_", 1)[0], f"{c}: {title(c)}") for i, c in enumerate(cols)],
            "font": max(8, min(12, cell_h - 3))}


# ---- source -------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="hl", linenos="inline", wrapcode=True)


@lru_cache(maxsize=1)
def _lexer():
    from pygments.lexers import PythonLexer

    return PythonLexer(stripnl=False, ensurenl=True)


def highlight_css() -> str:
    return _formatter().get_style_defs(".hl")


def load_sources(out: Path, candidate: str, exercise_id: str) -> list[tuple[str, Markup, int]]:
    """The candidate's ``*.py`` files kept at ``OUT/<candidate>/source/<exercise>/``, highlighted.

    Returns (file name, highlighted HTML, characters cut). Links and oversized files are skipped
    or cut; Pygments escapes the code, so the returned Markup is safe to insert.
    """
    folder = out / candidate / "source" / exercise_id
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = []
    for p in sorted(folder.rglob("*.py"))[:SOURCE_FILES_CAP]:
        if p.is_symlink() or not p.is_file():
            continue
        raw = p.read_bytes()
        code, cut = _cap(raw[:SOURCE_CAP + 1].decode("utf-8", errors="replace"), SOURCE_CAP)
        cut = max(cut, len(raw) - SOURCE_CAP) if len(raw) > SOURCE_CAP else 0
        files.append((p.relative_to(folder).as_posix(), _highlight(code), cut))
    return files


@lru_cache(maxsize=512)
def _highlight(code: str) -> Markup:
    """Highlighted HTML of one file; identical files (untouched stubs, shared helpers) are done once."""
    from pygments import highlight

    return Markup(highlight(code, _lexer(), _formatter()))


# ---- pages --------------------------------------------------------------------------------------

def _common(lang: str, titles: dict[str, tuple[str, str]] | None) -> dict[str, Any]:
    lab = Labels(lang)
    return {"lab": lab, "lang": lang, "title": title_func(titles or {}, lang), "num": _num, "pct": _pct,
            "fraction": fraction}


def render_candidate(result: CandidateResult, lang: str = "en", titles: dict[str, tuple[str, str]] | None = None,
                     out: Path | None = None) -> str:
    """One candidate's page; with ``out``, sources kept under OUT/<candidate>/source/ are shown."""
    ctx = _common(lang, titles)
    exercises = []
    for e in result.exercises:
        log, log_cut = _cap(e.log, LOG_CAP)
        sources = load_sources(out, result.candidate, e.id) if out is not None else []
        exercises.append({"e": e, "log": log, "log_cut": log_cut, "sources": sources})
    return _ENV.get_template("candidate.html.j2").render(
        r=result, exercises=exercises, csp=_csp(None), hl_css=Markup(highlight_css()),
        has_source=any(x["sources"] for x in exercises), **ctx)


def render_index(results: list[CandidateResult], lang: str = "en",
                 titles: dict[str, tuple[str, str]] | None = None, similarity: Any = None) -> str:
    """The batch page; with ``similarity`` (a grader.similarity.SimilarityReport), its section and flags."""
    ctx = _common(lang, titles)
    if similarity is not None:
        from grader.similarity import index_context

        ctx.update(index_context(similarity, lang))
    stats = batch_stats(results)
    rows = []
    for r in results:
        by_id = {e.id: e for e in r.exercises}
        rows.append({"r": r, "href": candidate_href(r.candidate), "frac": fraction(r.score, r.max_score),
                     "cells": [by_id.get(i) for i in stats.exercise_ids]})
    return _ENV.get_template("index.html.j2").render(
        results=results, rows=rows, stats=stats, exercise_ids=stats.exercise_ids, csp=_csp(INDEX_SCRIPT),
        script=Markup(INDEX_SCRIPT), hist=histogram_svg_data(stats),
        heat=heatmap_svg_data(results, stats, ctx["title"], ctx["lab"]),
        unconfined=any(r.sandbox == "local-unconfined" for r in results),
        statuses=sorted(stats.statuses), **ctx)


def write_reports(out: Path, *, lang: str = "en", summary_md: Path | None = None, catalogue: Any = None,
                  titles: dict[str, tuple[str, str]] | None = None,
                  hidden_visibility: str = "after_due_date", similarity_threshold: float | None = None) -> Path:
    """Render everything from OUT's results in one run; returns the path of index.html.

    Writes index.html, <candidate>/report.html, grades.csv, junit.xml, <candidate>/gradescope.json,
    and the markdown summary to ``summary_md`` (and appended to $GITHUB_STEP_SUMMARY when set).
    Exercise titles come from ``titles`` or ``catalogue`` (default: the project catalogue);
    exercises unknown to it are shown by id. With ``similarity_threshold``, the index also gets a
    similarity section (pairs at or above it flagged) and OUT/similarity/ its side-by-side pages.
    """
    Labels(lang)  # unknown language: fail before writing anything
    results = load_results(out, required=True)  # e.g. the batch's input folder by mistake: write nothing there
    if titles is None:
        titles = exercise_titles(catalogue)
    title = title_func(titles, lang)
    for r in results:
        atomic_write_text(out / candidate_page_name(r.candidate), render_candidate(r, lang, titles, out))
        write_gradescope(out, r, hidden_visibility=hidden_visibility, title=title)
    write_grades_csv(out, results)
    write_junit(out, results)
    similarity = None
    if similarity_threshold is not None:
        from grader.similarity import batch_similarity, write_pages

        similarity = batch_similarity(out, catalogue, similarity_threshold, results=results)
        write_pages(out, similarity, lang, title)
    index = out / "index.html"
    atomic_write_text(index, render_index(results, lang, titles, similarity))
    write_summary(summary_markdown(results, lang, title), summary_md)
    return index

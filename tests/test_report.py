"""HTML reports rendered from synthetic results (no grading runs here)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader import report
from grader.exports import synthetic
from grader.exports.synthetic import synthetic_batch, write_batch
from grader.results import CandidateResult, ExerciseResult, TestResult, write_result

TITLES = {"q01_eval_metrics": ("Evaluation metrics", "评估指标"), "q02_backprop": ("Backpropagation", "反向传播")}


def result(candidate: str = "alice", **over) -> CandidateResult:
    tests = [
        TestResult(id="test_precision", outcome="passed", points=2, max_points=2, hint="precision on a toy case",
                   visibility="public", duration_s=0.1),
        TestResult(id="test_recall_hidden", outcome="failed", points=0, max_points=3, hint="recall on random labels",
                   message="recall differs from the reference (relative error 0.31)", duration_s=0.2),
    ]
    data = dict(candidate=candidate, sandbox="docker", started_at=datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc),
                duration_s=12.5, environment={"torch": "2.13.0", "image": "sha256:abc"}, score=2, max_score=8,
                exercises=[ExerciseResult(id="q01_eval_metrics", score=2, max_score=5, status="graded", duration_s=3.25,
                                          log="epoch 1 loss 0.5\n", peak_memory_mb=321.0, tests=tests),
                           ExerciseResult(id="q77_unknown", score=0, max_score=3, status="not_submitted",
                                          duration_s=0, message="not in the submission")])
    data.update(over)
    return CandidateResult(**data)


class Collect(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> Collect:
    c = Collect()
    c.feed(html)
    return c


def test_candidate_page_shows_scores_tests_and_environment():
    html = report.render_candidate(result(), "en", TITLES)
    assert "alice: 2 / 8" in html
    assert "Evaluation metrics" in html and "q77_unknown" in html  # unknown id falls back to the id
    for text in ("test_recall_hidden", "recall on random labels", "relative error 0.31", "0 / 3", "321",
                 "epoch 1 loss 0.5", "sha256:abc", "2.13.0", "3.25"):
        assert text in html, text


def test_hidden_tests_show_only_name_points_hint_and_message():
    # Only what TestResult holds is rendered; nothing else about hidden tests exists to leak, and the
    # page never names the hidden test files or the reference solution.
    html = report.render_candidate(result(), "en", TITLES)
    assert "tests/hidden" not in html and "solutions/" not in html


def test_zh_renders_chinese_titles_and_labels():
    html = report.render_candidate(result(), "zh", TITLES)
    assert 'lang="zh-CN"' in html and "评估指标" in html and "环境" in html and "未提交" in html
    index = report.render_index([result(), result("bob", score=0)], "zh", TITLES)
    assert "评估指标" in index and "分数分布" in index and "考生" in index


def test_unknown_language_is_refused(tmp_path):
    write_result(tmp_path, result())
    with pytest.raises(ValueError):
        report.write_reports(tmp_path, lang="fr", titles={})


def test_index_has_table_charts_and_stats_readable_without_js():
    results = synthetic_batch(6, 4, seed=3)
    html = report.render_index(results, "en", {})
    doc = parse(html)
    # every candidate's total is in the table text, and links go to the candidate pages
    for r in results:
        assert f'href="{r.candidate}/report.html"' in html
        assert f"{r.score:g} / {r.max_score:g}" in html
    assert sum(1 for t, _ in doc.tags if t == "svg") == 2
    assert 'id="histogram"' in html and 'id="heatmap"' in html
    assert 'id="exercise-stats"' in html and 'id="most-failed"' in html and 'id="slowest"' in html
    # histogram bar counts add up to the number of candidates
    counts = [int(x) for x in re.findall(r"<title>\d+–\d+%: (\d+)</title>", html)]
    assert sum(counts) == len(results)
    # heat map: one cell per candidate and exercise
    assert html.count('<rect x="170"') == len(results)


def test_pages_load_nothing_from_the_network_and_the_script_is_allowed_by_hash(tmp_path):
    write_batch(tmp_path, synthetic_batch(3, 2))
    index = report.write_reports(tmp_path, titles={})
    html = index.read_text()
    doc = parse(html)
    assert doc.scripts == [report.INDEX_SCRIPT]
    digest = base64.b64encode(hashlib.sha256(report.INDEX_SCRIPT.encode()).digest()).decode()
    csp = [a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1 and f"script-src 'sha256-{digest}';" in csp[0] and "default-src 'none'" in csp[0]
    for page in [html, *(p.read_text() for p in tmp_path.glob("*/report.html"))]:
        for tag, attrs in parse(page).tags:
            for name in ("src", "href", "action"):
                value = attrs.get(name) or ""
                assert not re.match(r"^\s*(https?:|//|javascript:)", value, re.I), (tag, attrs)
            assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert "default-src &#39;none&#39;" in page


def test_sources_are_highlighted_with_pygments(tmp_path):
    write_result(tmp_path, result())
    src = tmp_path / "alice" / "source" / "q01_eval_metrics"
    src.mkdir(parents=True)
    (src / "metrics.py").write_text("def f1(y):\n    return 1  # ok\n")
    report.write_reports(tmp_path, titles={})
    page = (tmp_path / "alice" / "report.html").read_text()
    assert 'class="hl"' in page and "metrics.py" in page
    assert '<span class="k">def</span>' in page and '<span class="nf">f1</span>' in page


def test_long_logs_are_capped():
    r = result()
    r.exercises[0].log = "x" * (report.LOG_CAP + 500)
    html = report.render_candidate(r, "en", {})
    assert "500 characters cut" in html and "x" * (report.LOG_CAP + 1) not in html


PAYLOADS = synthetic.PAYLOADS
EVIL_ID = synthetic.HOSTILE_ID
evil_result = synthetic.hostile_result


def assert_no_injection(html: str, allowed_scripts: list[str]) -> None:
    doc = parse(html)
    assert doc.scripts == allowed_scripts
    for tag, attrs in doc.tags:
        assert tag not in {"img", "iframe", "object", "embed", "base", "meta"} or (
            tag == "meta" and set(attrs) <= {"charset", "http-equiv", "content", "name"}), (tag, attrs)
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "xlink:href", "formaction"):
            value = attrs.get(name) or ""
            if (tag, attrs.get("rel"), value) == ("link", "icon", "data:,"):
                continue  # the empty favicon that stops browsers asking for one
            assert not re.match(r"\s*(javascript|data|vbscript):", value, re.I), (tag, attrs)
        if tag == "svg":
            assert set(attrs) <= {"xmlns", "width", "height", "viewbox", "role", "aria-label"}, attrs
    assert "<script>alert" not in html and "<svg onload" not in html and "<img" not in html
    assert "{{7*7}}" in html  # shown literally, never evaluated as a template


def test_nothing_from_a_submission_is_injected(tmp_path):
    synthetic.write_hostile(tmp_path)
    index = report.write_reports(tmp_path, titles={}, lang="en")
    page = (tmp_path / EVIL_ID / "report.html").read_text()
    assert_no_injection(page, [])
    assert_no_injection(index.read_text(), [report.INDEX_SCRIPT])
    # the payloads are shown as text, not dropped
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "alert(4)" in page and "alert(5)" in page
    # the heat map's SVG labels carry the escaped id too
    assert "evil&#34;&#39;&lt;b onmouseover=alert(9)&gt;&amp;amp;" in index.read_text()
    # the link to the candidate page is a quoted relative URL
    assert 'href="evil%22%27%3Cb%20onmouseover%3Dalert%289%29%3E%26amp%3B/report.html"' in index.read_text()


def test_zh_index_escapes_too(tmp_path):
    write_result(tmp_path, evil_result())
    index = report.write_reports(tmp_path, titles={}, lang="zh")
    assert_no_injection(index.read_text(), [report.INDEX_SCRIPT])
    assert_no_injection((tmp_path / EVIL_ID / "report.html").read_text(), [])


def test_write_reports_writes_everything_in_one_run(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    write_batch(tmp_path, synthetic_batch(3, 2), with_source=False)
    index = report.write_reports(tmp_path, titles={}, summary_md=tmp_path / "summary.md")
    assert index == tmp_path / "index.html"
    for name in ("index.html", "grades.csv", "junit.xml", "summary.md"):
        assert (tmp_path / name).is_file(), name
    for cand in ("cand0000", "cand0001", "cand0002"):
        assert (tmp_path / cand / "report.html").is_file() and (tmp_path / cand / "gradescope.json").is_file()


def test_titles_from_the_project_catalogue(tmp_path, project_catalogue):
    ids = project_catalogue.ids()
    if not ids:
        pytest.skip("empty catalogue")
    meta = project_catalogue.get(ids[0]).meta
    r = result(exercises=[ExerciseResult(id=meta.id, score=0, max_score=1, status="graded", duration_s=1)], score=0,
               max_score=1)
    write_result(tmp_path, r)
    report.write_reports(tmp_path, lang="zh", catalogue=project_catalogue)
    assert meta.title_zh in (tmp_path / "alice" / "report.html").read_text()

"""JUnit, Gradescope, grades.csv and the markdown summary, from synthetic results."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from junitparser import Error, Failure, JUnitXml, Properties

from grader.cli import cli
from grader.exports.gradescope import GradescopeResults, to_gradescope
from grader.exports.junit import junit_xml, suite_name
from grader.exports.summary import md, summary_markdown, write_summary
from grader.exports.synthetic import synthetic_batch, write_batch
from grader.report import write_reports
from grader.results import (CandidateResult, ExerciseResult, TestResult, grades_csv, load_results, read_grades_csv,
                            write_result)


@pytest.fixture
def batch(tmp_path, monkeypatch) -> tuple[Path, list[CandidateResult]]:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    results = synthetic_batch(5, 4, seed=7)
    write_batch(tmp_path, results, with_source=False)
    write_reports(tmp_path, titles={"q01_eval_metrics": ("Evaluation metrics", "评估指标")},
                  summary_md=tmp_path / "summary.md")
    return tmp_path, results


def test_junit_parses_and_matches_scores(batch):
    out, results = batch
    xml = JUnitXml.fromfile(str(out / "junit.xml"))
    suites = {s.name: s for s in xml}
    assert len(suites) == sum(len(r.exercises) for r in results)  # one suite per candidate and exercise
    for r in results:
        for e in r.exercises:
            suite = suites[suite_name(r.candidate, e.id)]
            props = {p.name: p.value for p in suite.properties()}
            assert float(props["score"]) == e.score and float(props["max_score"]) == e.max_score
            assert props["candidate"] == r.candidate and props["status"] == e.status
            cases = list(suite)
            if e.tests:
                points = 0.0
                for case, t in zip(cases, e.tests, strict=True):
                    assert case.name == t.id
                    pts = {p.name: p.value for p in case.child(Properties)}
                    points += float(pts["points"])
                    assert case.is_passed == (t.outcome == "passed")
                    if t.outcome in {"error", "timeout", "memory_limit", "crashed"}:
                        assert isinstance(case.result[0], Error)
                    elif t.outcome != "passed":
                        assert isinstance(case.result[0], Failure) and case.result[0].type == t.outcome
                assert points == pytest.approx(e.score)
                assert suite.failures + suite.errors == sum(t.outcome != "passed" for t in e.tests)
            else:
                assert len(cases) == 1 and not cases[0].is_passed


def test_junit_survives_control_characters_and_markup():
    r = synthetic_batch(1, 1)[0]
    r.exercises[0].tests[0].message = "bad \x00\x1b[31m <x> & ]]>"
    r.exercises[0].log = "\x07log"
    text = junit_xml([r]).tostring()
    back = JUnitXml.fromstring(text)
    assert next(iter(back)).name == suite_name(r.candidate, r.exercises[0].id)


def test_gradescope_files_validate_and_match(batch):
    out, results = batch
    for r in results:
        data = json.loads((out / r.candidate / "gradescope.json").read_text())
        doc = GradescopeResults.model_validate(data)
        assert doc.score == r.score
        assert sum(t.score for t in doc.tests) == pytest.approx(r.score)
        assert sum(t.max_score for t in doc.tests) == pytest.approx(r.max_score)
        assert doc.output_format == doc.test_output_format == doc.test_name_format == "text"
        for t in doc.tests:
            assert t.name and t.status in {"passed", "failed"} and t.visibility in {"visible", "after_due_date"}
    # titles reach the test names
    first = json.loads((out / results[0].candidate / "gradescope.json").read_text())
    assert any("Evaluation metrics" in t["name"] for t in first["tests"])


def test_gradescope_model_follows_the_documented_rules():
    GradescopeResults.model_validate({"score": 3})
    GradescopeResults.model_validate({"tests": [{"score": 1, "max_score": 2, "name": "a", "visibility": "hidden"}]})
    GradescopeResults.model_validate({"score": 1, "tests": [{"name": "compiles", "status": "passed"}],
                                      "leaderboard": [{"name": "Time", "value": 1.5, "order": "asc"}]})
    for bad in ({}, {"tests": [{"name": "x"}]}, {"score": 1, "visibility": "sometimes"},
                {"score": 1, "tests": [{"score": 1, "status": "ok"}]}, {"score": 1, "unknown_key": 1}):
        with pytest.raises(ValueError):
            GradescopeResults.model_validate(bad)


def test_gradescope_visibility_of_hidden_tests():
    r = synthetic_batch(1, 1)[0]
    doc = to_gradescope(r, hidden_visibility="after_published")
    vis = {t.extra_data["test"]: t.visibility for t in doc.tests}
    tests = {t.id: t.visibility for t in r.exercises[0].tests} if r.exercises[0].tests else {}
    for tid, v in tests.items():
        assert vis[tid] == ("visible" if v == "public" else "after_published")


def test_grades_csv_round_trips(batch):
    out, results = batch
    rows = read_grades_csv((out / "grades.csv").read_text())
    assert (out / "grades.csv").read_text() == grades_csv(load_results(out))
    assert [row["candidate"] for row in rows] == [r.candidate for r in results]
    for row, r in zip(rows, results):
        assert float(row["total"]) == r.score and float(row["max_score"]) == r.max_score
        for e in r.exercises:
            assert float(row[e.id]) == e.score


def test_summary_markdown_batch_and_single(batch):
    out, results = batch
    text = (out / "summary.md").read_text()
    assert text.startswith("## Grades: 5 candidates")
    for r in results:
        assert md(r.candidate) in text
    single = summary_markdown(results[:1], "zh", lambda i: "评估指标" if i == "q01_eval_metrics" else i)
    assert "评估指标" in single and "成绩" in single


def test_summary_escapes_markdown_and_html():
    r = synthetic_batch(1, 1)[0]
    r.candidate = "a|b<script>alert(1)</script>[x](http://e)"
    text = summary_markdown([r])
    assert "<script>" not in text and "](http" not in text and "a\\|b" in text


def test_summary_appends_to_github_step_summary(tmp_path):
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    written = write_summary("## hello\n", tmp_path / "s.md", environ={"GITHUB_STEP_SUMMARY": str(step)})
    assert written == [tmp_path / "s.md", step]
    assert step.read_text() == "earlier step\n## hello\n" and (tmp_path / "s.md").read_text() == "## hello\n"
    assert write_summary("x", None, environ={}) == []


def test_cli_report_lang_and_summary(tmp_path, monkeypatch):
    step = tmp_path / "gh.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    out = tmp_path / "out"
    write_batch(out, synthetic_batch(2, 2), with_source=False)
    res = CliRunner().invoke(cli, ["report", str(out), "--lang", "zh", "--summary-md", str(tmp_path / "sum.md")])
    assert res.exit_code == 0, res.output
    assert 'lang="zh-CN"' in (out / "index.html").read_text()
    assert (tmp_path / "sum.md").read_text().startswith("## 成绩")
    assert step.read_text() == (tmp_path / "sum.md").read_text()
    assert (out / "junit.xml").is_file() and (out / "cand0000" / "gradescope.json").is_file()
    res = CliRunner().invoke(cli, ["report", str(out), "--lang", "fr"])
    assert res.exit_code == 2

import json
from datetime import datetime, timezone

import pytest

from grader.errors import ResultsError
from grader.results import (CandidateResult, ExerciseResult, TestResult, grades_csv, load_results, read_grades_csv,
                            read_result, write_result)


def sample(candidate="alice", score=2.0) -> CandidateResult:
    tests = [TestResult(id="t1", outcome="passed", points=score, max_points=2.0),
             TestResult(id="t2", outcome="timeout", points=0, max_points=1.0, message="too slow")]
    ex = ExerciseResult(id="q01_eval_metrics", score=score, max_score=3.0, status="graded", duration_s=1.0, tests=tests)
    return CandidateResult(candidate=candidate, sandbox="local", started_at=datetime.now(timezone.utc), duration_s=2.0,
                           score=score, max_score=3.0, exercises=[ex])


def test_write_and_read_back(tmp_path):
    path = write_result(tmp_path, sample())
    assert path == tmp_path / "alice" / "results.json"
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["exercises"][0]["tests"][1]["outcome"] == "timeout"
    assert read_result(path) == sample().model_copy(update={"started_at": read_result(path).started_at})
    assert not [p for p in (tmp_path / "alice").iterdir() if p.name.endswith(".tmp")]


def test_a_file_in_the_way_of_the_results_folder_is_named(tmp_path):
    (tmp_path / "alice").write_text("not a folder")
    with pytest.raises(ResultsError) as caught:
        write_result(tmp_path, sample())
    assert str(caught.value) == f"cannot write {tmp_path / 'alice' / 'results.json'}: {tmp_path / 'alice'} is a file, not a folder"


def test_corrupt_results_give_one_line(tmp_path):
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "results.json").write_text('{"schema_version": 1, "candidate": "bob"')
    with pytest.raises(ResultsError, match="not a valid results file"):
        load_results(tmp_path)


def test_unknown_outcome_is_rejected():
    with pytest.raises(ValueError):
        TestResult(id="x", outcome="great", points=1, max_points=1)


def test_grades_csv_round_trip():
    rows = read_grades_csv(grades_csv([sample("alice", 2.0), sample("bob", 0.0)]))
    assert [(r["candidate"], r["q01_eval_metrics"], r["total"]) for r in rows] == [("alice", "2", "2"), ("bob", "0", "0")]

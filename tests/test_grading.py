"""Grading whole submissions through the judge and the local sandbox: honest scores only.

Each hostile candidate tries to raise its score; every one of them must score exactly what its
honest answers earn, and the other tests of the same exercise must still be graded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading import GradeOptions, grade_batch
from grader.results import read_result

from conftest import reference_with

pytestmark = pytest.mark.slow

FULL = 9.0

CANDIDATES: dict[str, dict[str, str]] = {
    "honest": {"toy.py": reference_with()},
    "always_equal": {"toy.py": reference_with(replace={"average": """
        def average(x):
            class AlwaysEqual(float):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
            class Anything:
                def __eq__(self, other): return True
                def __float__(self): return 0.0
            return Anything()
        """})},
    "float_subclass": {"toy.py": reference_with(replace={"average": """
        def average(x):
            class Liar(float):
                def __eq__(self, other): return True
                def __sub__(self, other): return 0.0
                def __rsub__(self, other): return 0.0
                def __abs__(self): return 0.0
            return Liar(123.0)
        """})},
    "tensor_subclass": {"toy.py": reference_with(replace={"scale": """
        def scale(x, k):
            class Liar(torch.Tensor):
                def __eq__(self, other): return True
                @classmethod
                def __torch_function__(cls, func, types, args=(), kwargs=None):
                    return True
            return torch.zeros_like(x).as_subclass(Liar)
        """})},
    "sys_exit": {"toy.py": reference_with(replace={"average": """
        def average(x):
            import sys
            sys.exit(0)
        """})},
    "os_exit": {"toy.py": reference_with(replace={"average": """
        def average(x):
            import os
            os._exit(0)
        """})},
    "kill_parent": {"toy.py": reference_with(replace={"average": """
        def average(x):
            import os, signal
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        """})},
    "infinite_loop": {"toy.py": reference_with(replace={"average": """
        def average(x):
            while True:
                pass
        """})},
    # A forbidden call at the end of an expression too long for a recursive walk of its tree.
    "deep_chain": {"toy.py": reference_with(replace={"average": """
        def average(x):
            if x.numel() == 0:
                raise ValueError("empty")
            return float(""" + "0 + " * 1500 + """x.mean().item())
        """})},
    "syntax_error": {"toy.py": "import torch\n\ndef scale(x, k)\n    return x * k\n"},
    "missing_function": {"toy.py": "import torch\n\ndef scale(x, k):\n    return x * k\n"},
    "pytest_tricks": {
        # The stub plus files that would force every test to pass if pytest ever read them.
        "toy.py": (Path(__file__).parent / "fixtures/catalogue/exercises/q90_toy/stub/toy.py").read_text(),
        "conftest.py": """
            import pytest
            @pytest.hookimpl(wrapper=True)
            def pytest_runtest_makereport(item, call):
                rep = yield
                rep.outcome = "passed"
                return rep
        """,
        "pytest.ini": "[pytest]\naddopts = -p no:grader --co\n",
        "pytest.py": "import sys\nsys.exit(0)\n",
    },
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, toy_catalogue) -> Path:
    batch = tmp_path_factory.mktemp("batch")
    from conftest import write_submission

    for name, files in CANDIDATES.items():
        write_submission(batch / name, files)
    out = tmp_path_factory.mktemp("out")
    grade_batch([batch], out, toy_catalogue, GradeOptions(sandbox="local", jobs=2))
    return out


def outcomes_of(out: Path, candidate: str) -> dict[str, tuple[str, float, str]]:
    result = read_result(out / candidate / "results.json")
    assert result.status == "graded", result.message
    ex = result.exercises[0]
    return {t.id.split("::")[-1]: (t.outcome, t.points, t.message) for t in ex.tests}


def test_honest_full_marks(graded: Path) -> None:
    result = read_result(graded / "honest" / "results.json")
    assert result.score == FULL and result.max_score == FULL
    assert result.sandbox in ("local", "local-unconfined")


@pytest.mark.parametrize("candidate", ["always_equal", "float_subclass"])
def test_forged_floats_score_nothing(graded: Path, candidate: str) -> None:
    tests = outcomes_of(graded, candidate)
    assert tests["test_average"][:2] == ("failed", 0.0)
    assert "Python float" in tests["test_average"][2]
    # the rest of the exercise is graded normally
    assert tests["test_scale"][0] == "passed" and tests["test_maximum"][0] == "passed"


def test_tensor_subclass_is_judged_on_its_data(graded: Path) -> None:
    tests = outcomes_of(graded, "tensor_subclass")
    assert tests["test_scale"][:2] == ("failed", 0.0)
    assert "entries differ" in tests["test_scale"][2]


@pytest.mark.parametrize("candidate,outcome", [("sys_exit", "error"), ("os_exit", "crashed"), ("kill_parent", "crashed")])
def test_exits_cannot_raise_the_score(graded: Path, candidate: str, outcome: str) -> None:
    tests = outcomes_of(graded, candidate)
    assert tests["test_average"][:2] == (outcome, 0.0)
    assert tests["test_scale"][0] == "passed" and tests["test_maximum"][0] == "passed"
    result = read_result(graded / candidate / "results.json")
    assert result.score == FULL - 4  # average (3) and average_empty (1) lost, the rest kept


def test_infinite_loop_fails_only_its_tests(graded: Path) -> None:
    tests = outcomes_of(graded, "infinite_loop")
    assert tests["test_average"][0] == "timeout"
    assert tests["test_average_empty"][0] == "timeout"
    assert tests["test_scale"][0] == "passed" and tests["test_maximum"][0] == "passed"


def test_a_forbidden_call_deep_in_an_expression_is_found(graded: Path) -> None:
    outcomes = outcomes_of(graded, "deep_chain")
    outcome, points, message = outcomes["forbidden_api"]
    assert outcome == "forbidden_api" and points == 0 and ".mean" in message, message
    assert all(o == "passed" for name, (o, _, _) in outcomes.items() if name != "forbidden_api"), outcomes


def test_syntax_error_reports_line(graded: Path) -> None:
    result = read_result(graded / "syntax_error" / "results.json")
    ex = result.exercises[0]
    assert ex.status == "import_error" and ex.score == 0
    msg = ex.tests[0].message
    assert ex.tests[0].outcome == "error" and "SyntaxError" in msg and "line 3" in msg


def test_missing_function(graded: Path) -> None:
    tests = outcomes_of(graded, "missing_function")
    assert tests["test_average"][0] == "missing" and "average" in tests["test_average"][2]
    assert tests["test_scale"][0] == "passed"


def test_pytest_files_in_submission_change_nothing(graded: Path) -> None:
    result = read_result(graded / "pytest_tricks" / "results.json")
    assert result.score == 0
    assert all(t.outcome != "passed" for t in result.exercises[0].tests)


def test_grades_csv_has_every_candidate(graded: Path) -> None:
    from grader.results import read_grades_csv

    rows = read_grades_csv((graded / "grades.csv").read_text())
    assert {r["candidate"] for r in rows} == set(CANDIDATES)
    honest = next(r for r in rows if r["candidate"] == "honest")
    assert float(honest["total"]) == FULL and float(honest["q90_toy"]) == FULL


def test_regrading_gives_identical_scores(graded: Path, tmp_path: Path, toy_catalogue) -> None:
    from conftest import write_submission

    batch = tmp_path / "again"
    for name in ("honest", "infinite_loop", "always_equal"):
        write_submission(batch / name, CANDIDATES[name])
    out = tmp_path / "out"
    grade_batch([batch], out, toy_catalogue, GradeOptions(sandbox="local", jobs=2))
    for name in ("honest", "infinite_loop", "always_equal"):
        first = read_result(graded / name / "results.json")
        second = read_result(out / name / "results.json")
        assert [(t.id, t.outcome, t.points) for t in first.exercises[0].tests] == \
               [(t.id, t.outcome, t.points) for t in second.exercises[0].tests]

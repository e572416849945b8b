"""Similarity across a batch: constructed pairs on real exercise stubs and solutions (no grading runs)."""

from __future__ import annotations

import ast
import builtins
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import report, similarity
from grader.cli import cli
from grader.results import CandidateResult, ExerciseResult, write_result
from grader.similarity import exercise_similarity, join_modules, read_modules, stub_source

from conftest import ROOT

EX = "q01_eval_metrics"


def disguise(code: str) -> str:
    """What a copier does: rename every local and private helper, reverse the functions, new
    docstrings, no comments, new layout (ast.unparse), a comment of one's own on top."""
    tree = ast.parse(code)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("_")}
    mapping = {n: f"my_var_{i}" for i, n in enumerate(sorted(names - set(dir(builtins))))}

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            node.id = mapping.get(node.id, node.id)
            return node

        def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
            node.name = mapping.get(node.name, node.name)
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                node.body[0] = ast.Expr(ast.Constant("My own implementation, honestly."))
            self.generic_visit(node)
            return node

    tree = Rename().visit(tree)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    rest = [n for n in tree.body if not isinstance(n, ast.FunctionDef)]
    tree.body = rest + defs[::-1]
    return "# written from scratch\n" + ast.unparse(tree) + "\n"


def exercise_files(exercise: str, kind: str) -> dict[str, str]:
    """An exercise's stub, reference or first alternative, as {module: code}."""
    ex_dir, sol_dir = ROOT / "exercises" / exercise, ROOT / "solutions" / exercise
    if kind == "stub":
        return read_modules(ex_dir / "stub")
    if kind == "reference":
        return read_modules(sol_dir)
    alt = sorted(p for p in (sol_dir / "alternatives").iterdir() if p.is_dir())[0]
    return read_modules(alt)


def write_candidate(out: Path, name: str, sources: dict[str, dict[str, str]]) -> None:
    """OUT/<name>/results.json and source/<exercise>/<module>.py, as grading leaves them."""
    exercises = []
    for ex, files in sources.items():
        exercises.append(ExerciseResult(id=ex, score=5, max_score=10, status="graded", duration_s=1.0))
        folder = out / name / "source" / ex
        folder.mkdir(parents=True, exist_ok=True)
        for module, code in files.items():
            (folder / module).write_text(code)
    exercises.append(ExerciseResult(id="q02_backprop", score=0, max_score=10, status="not_submitted", duration_s=0))
    write_result(out, CandidateResult(candidate=name, sandbox="docker", duration_s=3.0, score=5.0,
                                      started_at=datetime(2025, 1, 2, tzinfo=timezone.utc),
                                      max_score=10.0 * len(exercises), exercises=exercises))


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """alice: the reference; bob: alice disguised; carol: the independent alternative;
    dave and erin: the untouched stub (erin with a comment and blank lines of her own)."""
    out = tmp_path_factory.mktemp("out")
    ref = exercise_files(EX, "reference")
    stub = exercise_files(EX, "stub")
    write_candidate(out, "alice", {EX: ref})
    write_candidate(out, "bob", {EX: {m: disguise(c) for m, c in ref.items()}})
    write_candidate(out, "carol", {EX: exercise_files(EX, "alternative")})
    write_candidate(out, "dave", {EX: stub})
    write_candidate(out, "erin", {EX: {m: "# TODO\n\n" + c.replace("\n\n", "\n\n\n") for m, c in stub.items()}})
    return out


def run(*args: str):
    return CliRunner().invoke(cli, ["--catalogue", str(ROOT), *args], catch_exceptions=False)


def score(result: similarity.ExerciseSimilarity, a: str, b: str) -> similarity.PairResult | None:
    return next((p for p in result.pairs if {p.candidate_a, p.candidate_b} == {a, b}), None)


def test_renamed_and_reordered_copy_is_flagged(project_catalogue):
    ref = join_modules(exercise_files(EX, "reference"))
    copy = join_modules({m: disguise(c) for m, c in exercise_files(EX, "reference").items()})
    assert "my_var_" in copy and copy.index("def cohen_kappa") < copy.index("def accuracy")  # really disguised
    res = exercise_similarity(EX, {"a": ref, "b": copy}, stub_source(project_catalogue, EX))
    pair = score(res, "a", "b")
    assert pair is not None and pair.flagged and pair.score >= 0.65, pair
    assert pair.regions_a and pair.regions_b and pair.page


@pytest.mark.parametrize("exercise", ["q01_eval_metrics", "q13_iou_nms", "q18_loss_functions", "q27_gan_training"])
def test_independent_correct_solutions_are_not_flagged(project_catalogue, exercise):
    # The reference and the alternative solution pass the same hidden tests, written independently.
    sources = {"ref": join_modules(exercise_files(exercise, "reference")),
               "alt": join_modules(exercise_files(exercise, "alternative"))}
    res = exercise_similarity(exercise, sources, stub_source(project_catalogue, exercise))
    assert res.submissions == 2 and res.flagged == 0
    pair = score(res, "alt", "ref")
    assert pair is None or pair.score < 0.25


def test_stub_only_submissions_are_not_compared(project_catalogue):
    stub = join_modules(exercise_files(EX, "stub"))
    res = exercise_similarity(EX, {"a": stub, "b": "# not done yet\n" + stub.replace("    ", "  ")},
                              stub_source(project_catalogue, EX))
    assert res.stub_only == 2 and res.submissions == 0 and res.pairs == [] and res.flagged == 0
    # Without the stub to discount, the same two files are the same code: the stub is what hides it.
    raw = exercise_similarity(EX, {"a": stub, "b": stub + "\n# x\n"}, None)
    assert raw.flagged == 1 and not raw.stub_known


def test_common_idioms_are_boilerplate_in_a_large_batch(monkeypatch):
    # Code everybody writes (the same textbook training step in all 12 submissions) is no
    # evidence; each candidate's own line differs.
    common = ("def train_step(model, batch, optimizer, loss_fn):\n    optimizer.zero_grad()\n"
              "    loss = loss_fn(model(batch[0]), batch[1])\n    loss.backward()\n    optimizer.step()\n"
              "    return loss.item()\n\n\ndef evaluate(model, batch):\n    with torch.no_grad():\n"
              "        return (model(batch[0]).argmax(-1) == batch[1]).float().mean().item()\n")
    sources = {f"c{i:02d}": common + f"\n\ndef extra(x):\n    return x * {i * 37 + 11} - {i * i + 5}\n"
               for i in range(12)}
    assert exercise_similarity(EX, sources, None).flagged == 0
    monkeypatch.setattr(similarity, "COMMON_MIN", 100)  # the idiom filter off: everybody "copied"
    assert exercise_similarity(EX, sources, None).flagged == 66


def test_batch_similarity_reads_out(batch, project_catalogue):
    rep = similarity.batch_similarity(batch, project_catalogue)
    assert [e.exercise for e in rep.exercises] == [EX]  # q02 is not_submitted: nothing read
    ex = rep.exercises[0]
    assert ex.submissions == 3 and ex.stub_only == 2 and ex.flagged == 1
    assert [(p.candidate_a, p.candidate_b) for p in rep.pairs() if p.flagged] == [("alice", "bob")]
    assert rep.flagged_candidates() == {"alice": 1, "bob": 1}


def test_cli_json_lists_pairs(batch):
    res = run("similarity", str(batch), "--json")
    assert res.exit_code == 0, res.output
    pairs = json.loads(res.output)
    assert isinstance(pairs, list) and pairs
    for p in pairs:
        assert set(p) == {"exercise", "candidate_a", "candidate_b", "score", "flagged"}
        assert p["exercise"] == EX and 0 <= p["score"] <= 1 and isinstance(p["flagged"], bool)
        assert p["candidate_a"] < p["candidate_b"]
    assert pairs[0]["candidate_a"] == "alice" and pairs[0]["candidate_b"] == "bob" and pairs[0]["flagged"]
    assert [p["score"] for p in pairs] == sorted((p["score"] for p in pairs), reverse=True)
    assert not any(p["flagged"] for p in pairs[1:])
    # A higher threshold flags nothing; --top 0 then lists nothing.
    strict = json.loads(run("similarity", str(batch), "--json", "--similarity-threshold", "0.999", "--top", "0").output)
    assert strict == []


def test_cli_table(batch):
    res = run("similarity", str(batch))
    assert res.exit_code == 0
    assert re.search(r"FLAG\s+0\.\d\d\s+alice\s+bob", res.output), res.output
    assert "2 stub-only" in res.output and "1 flagged pair(s) at threshold 0.5" in res.output


def test_cli_bad_input_is_one_line(tmp_path):
    missing = run("similarity", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    empty = run("similarity", str(tmp_path))
    assert empty.exit_code == 1 and "no results" in empty.output and "Traceback" not in empty.output
    assert len(empty.output.strip().splitlines()) == 1
    bad = run("similarity", str(tmp_path), "--similarity-threshold", "1.5")
    assert bad.exit_code == 2


def test_report_section_flags_and_side_by_side_page(batch, project_catalogue):
    index = report.write_reports(batch, titles={}, catalogue=project_catalogue, similarity_threshold=0.5)
    html = index.read_text()
    assert 'id="similarity"' in html and 'id="similarity-pairs"' in html
    # flagged candidates are marked in the candidates table, and only they
    rows = re.findall(r'<tr data-name="(\w+)".*?</tr>', html, re.S)
    marked = {m for m in rows if re.search(rf'<tr data-name="{m}".*?class="sim-flag".*?</tr>', html, re.S)}
    assert marked == {"alice", "bob"}
    page = batch / "similarity" / EX / "alice__bob.html"
    assert 'href="similarity/q01_eval_metrics/alice__bob.html"' in html and page.is_file()
    text = page.read_text()
    assert text.count("<mark>") > 10 and "default-src &#39;none&#39;" in text and "<script" not in text
    assert 'href="../../index.html#similarity"' in text and 'href="../../alice/report.html"' in text
    assert "def cohen_kappa" in text and "my_var_" in text  # both sides shown
    # no similarity asked: no section, no flags (the library default stays as it was)
    plain = report.write_reports(batch, titles={}).read_text()
    assert 'id="similarity"' not in plain and "sim-flag" not in plain


def test_report_cli_threshold_and_opt_out(batch):
    res = run("report", str(batch), "--similarity-threshold", "0.99")
    assert res.exit_code == 0, res.output
    html = (batch / "index.html").read_text()
    assert 'id="similarity"' in html and "sim-flag" not in html  # the copy scores below 0.99
    assert run("report", str(batch), "--no-similarity").exit_code == 0
    assert 'id="similarity"' not in (batch / "index.html").read_text()


def test_submitted_code_is_escaped_on_the_page(tmp_path, project_catalogue):
    evil = 'X = "</pre><script>alert(1)</script>"\n'
    ref = exercise_files(EX, "reference")
    write_candidate(tmp_path, "mallory", {EX: {m: evil + c for m, c in ref.items()}})
    write_candidate(tmp_path, "trent", {EX: {m: evil + disguise(c) for m, c in ref.items()}})
    report.write_reports(tmp_path, titles={}, catalogue=project_catalogue, similarity_threshold=0.5)
    text = (tmp_path / "similarity" / EX / "mallory__trent.html").read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_regions_and_line_segments():
    code = "import torch\nx = 1\ny = 2\n"
    regions = [similarity.Region(start=7, end=14, first_line=1, last_line=2)]
    lines = similarity._segments(code, regions)
    assert lines[0] == (1, [("import ", False), ("torch", True)], True)
    assert lines[1] == (2, [("x", True), (" = 1", False)], True)
    assert lines[2] == (3, [("y = 2", False)], False)
    assert join_modules({"b.py": "B\n", "a.py": "A"}) == "# ==== a.py ====\nA\n# ==== b.py ====\nB\n"


def test_exercises_shared_among_processes_give_the_same_report(batch, project_catalogue, monkeypatch):
    serial = similarity.batch_similarity(batch, project_catalogue, jobs=1)
    ref = exercise_files("q18_loss_functions", "reference")
    other = batch.parent / (batch.name + "-two")
    for name, files in (("ann", ref), ("ben", {m: disguise(c) for m, c in ref.items()})):
        write_candidate(other, name, {"q18_loss_functions": files, EX: exercise_files(EX, "reference")})
    monkeypatch.setattr(similarity, "PARALLEL_MIN", 0)
    two = similarity.batch_similarity(other, project_catalogue, jobs=2)
    assert [e.exercise for e in two.exercises] == [EX, "q18_loss_functions"]
    assert all(e.flagged == 1 for e in two.exercises)
    assert similarity.batch_similarity(batch, project_catalogue, jobs=2).model_dump() == serial.model_dump()

"""The command line, through Click's CliRunner: output, one-line errors, exit codes."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli

from conftest import TOY_ROOT, reference_with, write_submission


def run(*args: str, root: Path = TOY_ROOT):
    return CliRunner().invoke(cli, ["--catalogue", str(root), *args], catch_exceptions=False)


def test_list_and_show():
    res = run("list")
    assert res.exit_code == 0 and "q90_toy" in res.output
    res = run("show", "q90_toy")
    assert res.exit_code == 0 and "toy.py" in res.output and "forbidden" in res.output


def test_unknown_exercise_is_one_line():
    res = run("show", "q99_nope")
    assert res.exit_code == 1
    assert res.output.count("\n") == 1 and "unknown exercise" in res.output and "Traceback" not in res.output


def test_usage_error_exit_code():
    res = run("grade")
    assert res.exit_code == 2


def test_malformed_metadata_is_one_line(tmp_path):
    root = tmp_path / "cat"
    shutil.copytree(TOY_ROOT, root)
    toml = root / "exercises" / "q90_toy" / "exercise.toml"
    toml.write_text(toml.read_text().replace('difficulty = "easy"', 'difficulty = 7'))
    res = run("show", "q90_toy", root=root)
    assert res.exit_code == 1 and "exercise.toml: field 'difficulty'" in res.output and res.output.count("\n") == 1


def test_init_writes_a_workspace_without_secrets(tmp_path):
    ws = tmp_path / "ws"
    res = run("init", str(ws))
    assert res.exit_code == 0, res.output
    files = sorted(p.relative_to(ws).as_posix() for p in ws.rglob("*") if p.is_file())
    assert files == ["README.md", "q90_toy/README.md", "q90_toy/tests/test_toy_public.py", "q90_toy/toy.py"]
    res = run("init", str(ws))
    assert res.exit_code == 1 and "--force" in res.output


def test_report_on_missing_folder_is_usage_error(tmp_path):
    res = run("report", str(tmp_path / "nope"))
    assert res.exit_code == 2


@pytest.mark.parametrize("verb", ["grade", "init"])
def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path, verb):
    afile = tmp_path / "afile"
    afile.write_text("")
    write_submission(tmp_path / "batch" / "c1", {"toy.py": reference_with()})
    args = ["grade", str(tmp_path / "batch"), "-o", str(afile / "out"), "--no-report"] if verb == "grade" \
        else ["init", str(afile / "ws")]
    res = run(*args)
    assert res.exit_code == 1, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: ") and "Not a directory" in lines[-1] and str(afile) in lines[-1], res.output
    assert "Traceback" not in res.output


def test_report_on_a_folder_without_results_writes_nothing(tmp_path):
    write_submission(tmp_path / "batch" / "c1", {"toy.py": reference_with()})
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    res = run("report", str(tmp_path / "batch"))
    assert res.exit_code == 1 and res.output.startswith("Error: ") and "no results" in res.output, res.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_report_on_corrupt_results(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "results.json").write_text("{")
    res = run("report", str(tmp_path))
    assert res.exit_code == 1 and "not a valid results file" in res.output


@pytest.mark.slow
def test_grade_check_and_report_end_to_end(tmp_path):
    batch = tmp_path / "batch"
    write_submission(batch / "good", {"toy.py": reference_with()})
    write_submission(batch / "stubby", {"toy.py": (TOY_ROOT / "exercises/q90_toy/stub/toy.py").read_text()})
    # an archive and a broken archive in the same batch
    with zipfile.ZipFile(batch / "zipped.zip", "w") as zf:
        zf.writestr("q90_toy/toy.py", reference_with())
    (batch / "broken.zip").write_bytes(b"not a zip at all")
    out = tmp_path / "out"
    res = run("grade", str(batch), "-o", str(out), "--sandbox", "local", "--jobs", "2", "--fail-under", "5")
    assert res.exit_code == 1, res.output  # stubby and broken are under 5
    for cand in ("good", "stubby", "zipped", "broken"):
        assert (out / cand / "results.json").is_file()
    assert json.loads((out / "good" / "results.json").read_text())["score"] == 9
    broken = json.loads((out / "broken" / "results.json").read_text())
    assert broken["status"] == "invalid_submission" and "zip" in broken["message"]
    assert (out / "index.html").is_file() and (out / "good" / "report.html").is_file()
    assert "grades.csv" in res.output

    # --resume grades nothing again
    mtime = (out / "good" / "results.json").stat().st_mtime_ns
    res = run("grade", str(batch), "-o", str(out), "--sandbox", "local", "--resume")
    assert res.exit_code == 0, res.output
    assert (out / "good" / "results.json").stat().st_mtime_ns == mtime
    assert "already graded" in res.output

    # grader check: public tests on a workspace
    ws = tmp_path / "ws"
    run("init", str(ws))
    res = run("check", str(ws), "--sandbox", "local")
    assert res.exit_code == 0 and "public tests: 0 / 2 points" in res.output
    shutil.copyfile(TOY_ROOT / "solutions/q90_toy/toy.py", ws / "q90_toy" / "toy.py")
    res = run("check", str(ws), "--sandbox", "local")
    assert res.exit_code == 0 and "public tests: 2 / 2 points" in res.output


@pytest.mark.slow
def test_warm_and_cold_workers_grade_alike(tmp_path):
    from grader.sandbox.warm import warm_status

    batch = tmp_path / "batch"
    write_submission(batch / "good", {"toy.py": reference_with()})
    write_submission(batch / "stubby", {"toy.py": (TOY_ROOT / "exercises/q90_toy/stub/toy.py").read_text()})
    results = {}
    for flag in ("--warm", "--cold"):
        out = tmp_path / flag.strip("-")
        res = run("grade", str(batch), "-o", str(out), "--sandbox", "local", "--no-report", flag)
        assert res.exit_code == 0, res.output
        results[flag] = {c: json.loads((out / c / "results.json").read_text()) for c in ("good", "stubby")}
    for cand in ("good", "stubby"):
        warm, cold = results["--warm"][cand], results["--cold"][cand]
        assert warm["score"] == cold["score"]
        assert [(t["id"], t["outcome"]) for e in warm["exercises"] for t in e["tests"]] == \
            [(t["id"], t["outcome"]) for e in cold["exercises"] for t in e["tests"]]
        assert "worker_start" not in cold["environment"]
        assert warm["environment"].get("worker_start") == ("forked from a warm nursery" if warm_status()[0] else None)


@pytest.mark.slow
def test_validate_gate_passes_and_fails(tmp_path):
    res = run("validate", "--sandbox", "local")
    assert res.exit_code == 0, res.output
    assert "all 1 exercise(s) valid" in res.output
    root = tmp_path / "cat"
    shutil.copytree(TOY_ROOT, root)
    # a mutant that declares the wrong test, and a stub that earns points
    (root / "exercises/q90_toy/mutants/wrong_mean/mutant.toml").write_text(
        'description = "x"\nfails = ["tests/hidden/test_toy.py::test_scale"]\n')
    shutil.copyfile(root / "solutions/q90_toy/toy.py", root / "exercises/q90_toy/stub/toy.py")
    res = run("validate", "--sandbox", "local", root=root)
    assert res.exit_code == 1
    assert "the stub scores 9" in res.output
    assert "passes tests it declares: tests/hidden/test_toy.py::test_scale" in res.output
    assert "also fails: tests/hidden/test_toy.py::test_average" in res.output


def test_the_console_entry_point_keeps_exit_codes_and_output():
    """``main()`` leaves without the interpreter's teardown: exit codes and every line printed
    (to a pipe, so block-buffered) must survive that."""
    import subprocess
    import sys

    from grader.catalogue import Catalogue, default_root

    listed = subprocess.run([sys.executable, "-m", "grader", "list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    ids = Catalogue(default_root()).ids()
    assert [line.split()[0] for line in listed.stdout.splitlines() if line.strip()] == ids
    bad = subprocess.run([sys.executable, "-m", "grader", "show", "q99_nothing"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and bad.stderr.strip().count("\n") == 0 and "q99_nothing" in bad.stderr
    usage = subprocess.run([sys.executable, "-m", "grader", "grade"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "Usage" in usage.stderr

"""Hostile archives and folders, through ``grade_batch``: refused with the reason, nothing written outside.

All cases sit in one batch with an honest .zip candidate, graded once in the local sandbox. Every
hostile one must come back ``invalid_submission`` with its reason and a score of 0, the honest one
must score full marks, and no file may appear outside the grader's own extraction folders (they
live under a temporary folder of this test, which must be empty again afterwards).
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.grading import GradeOptions, grade_batch
from grader.results import CandidateResult, read_result
from grader.submission import MAX_FILES

from hostile_cases import ATTACKED, CATALOGUE, CLEAN, CLEAN_SOURCE, HONEST_MODULE

pytestmark = pytest.mark.slow

GOOD = [(f"{ATTACKED}/attacked.py", HONEST_MODULE.encode()), (f"{CLEAN}/clean.py", CLEAN_SOURCE.encode())]


def make_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]],
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def typed(name: str, mode: int) -> zipfile.ZipInfo:
    """A member whose Unix mode says link, FIFO or device."""
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def non_utf8_zip(path: Path) -> Path:
    """A member named with raw bytes that are not UTF-8, without the UTF-8 flag (as old archivers do)."""
    make_zip(path, [*GOOD, (f"{ATTACKED}/XXXX.py", b"x = 1\n")])
    data = path.read_bytes().replace(b"XXXX.py", b"\xff\xfe\x80\x81.py")
    path.write_bytes(data)
    return path


def good_folder(path: Path) -> Path:
    for rel, data in GOOD:
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


# name -> (builder(batch folder) -> path, reason)
def _zip(members):
    return lambda batch, name: make_zip(batch / f"{name}.zip", members)


def _folder(extra):
    def build(batch: Path, name: str) -> Path:
        folder = good_folder(batch / name)
        extra(folder)
        return folder
    return build


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / ATTACKED / "pipe.py")


def _device(folder: Path) -> None:
    os.mknod(folder / ATTACKED / "null.py", stat.S_IFCHR | 0o666, os.makedev(1, 3))


def _symlink(folder: Path) -> None:
    os.symlink("/etc/passwd", folder / ATTACKED / "passwd.py")


def _dir_symlink(folder: Path) -> None:
    os.symlink("/", folder / ATTACKED / "root")


def _hardlink(folder: Path) -> None:
    os.link(folder / ATTACKED / "attacked.py", folder / ATTACKED / "again.py")


def _non_utf8(folder: Path) -> None:
    with open(os.fsencode(folder / ATTACKED) + b"/\xff\xfe.py", "wb") as fh:
        fh.write(b"x = 1\n")


def _collide_case(folder: Path) -> None:
    (folder / ATTACKED / "Attacked.py").write_text("x = 1\n")


def _collide_unicode(folder: Path) -> None:
    (folder / ATTACKED / "caf\u00e9.py").write_text("x = 1\n")
    (folder / ATTACKED / "cafe\u0301.py").write_text("x = 2\n")


def _many_files(folder: Path) -> None:
    many = folder / ATTACKED / "many"
    many.mkdir()
    for i in range(MAX_FILES + 1):
        (many / f"f{i}.py").write_bytes(b"")


def _big_sparse(folder: Path) -> None:
    with open(folder / ATTACKED / "big.bin", "wb") as fh:
        fh.truncate(60 << 20)  # sparse: 60 MiB that cost nothing to write


CASES: dict[str, tuple] = {
    "zip_slip": (_zip([*GOOD, ("../../evil_slip.py", b"pwned\n")]), "escapes the archive with '..'"),
    "zip_slip_nested": (_zip([*GOOD, (f"{ATTACKED}/../../../evil_slip2.py", b"pwned\n")]), "escapes the archive"),
    "zip_absolute": (_zip([*GOOD, ("/tmp/evil_absolute.py", b"pwned\n")]), "has an absolute path"),
    "zip_drive_letter": (_zip([*GOOD, ("C:/evil_drive.py", b"pwned\n")]), "has an absolute path"),
    "zip_backslash_slip": (_zip([*GOOD, ("..\\..\\evil_backslash.py", b"pwned\n")]), "escapes the archive"),
    "zip_symlink": (_zip([*GOOD, (typed(f"{ATTACKED}/link.py", stat.S_IFLNK | 0o777), b"/etc/passwd")]),
                    "is a symbolic link"),
    "zip_fifo": (_zip([*GOOD, (typed(f"{ATTACKED}/fifo.py", stat.S_IFIFO | 0o644), b"")]), "is a special file"),
    "zip_device": (_zip([*GOOD, (typed(f"{ATTACKED}/dev.py", stat.S_IFCHR | 0o666), b"")]), "is a special file"),
    # 60 members of 1 MiB of zeros: each under the ratio check's 1 MiB floor, together over the total
    "zip_bomb_total": (_zip([*GOOD, *((f"{ATTACKED}/zeros{i}.bin", b"\0" * (1 << 20)) for i in range(60))]),
                       "unpacks to more than 50 MiB"),
    "zip_bomb_ratio": (_zip([*GOOD, (f"{ATTACKED}/zeros.bin", b"\0" * (4 << 20))]), "(zip bomb?)"),
    "zip_too_many_files": (_zip([*GOOD, *((f"{ATTACKED}/f{i}.py", b"") for i in range(MAX_FILES))]),
                           f"(limit {MAX_FILES})"),
    "zip_collide_case": (_zip([*GOOD, (f"{ATTACKED}/Attacked.py", b"x = 1\n")]), "collide"),
    "zip_collide_unicode": (_zip([*GOOD, (f"{ATTACKED}/caf\u00e9.py", b"x = 1\n"), (f"{ATTACKED}/cafe\u0301.py", b"x = 2\n")]),
                            "collide"),
    "zip_control_chars": (_zip([*GOOD, (f"{ATTACKED}/a\x1bb.py", b"x = 1\n")]), "control characters"),
    "zip_non_utf8": (lambda batch, name: non_utf8_zip(batch / f"{name}.zip"), "is not UTF-8"),
    "zip_not_a_zip": (lambda batch, name: (batch / f"{name}.zip").write_bytes(b"PK\x03\x04 truncated"), "not a readable zip"),
    "folder_symlink": (_folder(_symlink), "is a symbolic link"),
    "folder_dir_symlink": (_folder(_dir_symlink), "is a symbolic link"),
    "folder_hardlink": (_folder(_hardlink), "is a hard link"),
    "folder_fifo": (_folder(_fifo), "is not a regular file"),
    "folder_device": (_folder(_device), "is not a regular file"),
    "folder_non_utf8": (_folder(_non_utf8), "is not a UTF-8 name"),
    "folder_collide_case": (_folder(_collide_case), "collide"),
    "folder_collide_unicode": (_folder(_collide_unicode), "collide"),
    "folder_too_many_files": (_folder(_many_files), f"more than {MAX_FILES} files"),
    "folder_too_big": (_folder(_big_sparse), "more than 50 MiB"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, CandidateResult], list[str]]:
    from grader.sandbox.local import bwrap_status

    if not bwrap_status()[0] and os.environ.get("CI"):
        pytest.fail("CI needs bubblewrap")
    root = tmp_path_factory.mktemp("archives")
    batch = root / "batch"
    batch.mkdir()
    make_zip(batch / "honest_zip.zip", GOOD)
    for name, (build, _) in CASES.items():
        if name == "folder_device" and os.geteuid() != 0:
            continue  # mknod needs root
        build(batch, name)
    # The grader's temporary folders (extraction, stage) go here, so that anything written next
    # to them by a member that escaped would be found.
    scratch = root / "scratch"
    scratch.mkdir()
    saved = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    try:
        grade_batch([batch], root / "out", Catalogue(CATALOGUE), GradeOptions(sandbox="local", jobs=2))
    finally:
        tempfile.tempdir = saved
    left = sorted(str(p.relative_to(root)) for p in scratch.rglob("*"))
    names = ["honest_zip", *(n for n in CASES if (root / "out" / n / "results.json").exists())]
    return root, {n: read_result(root / "out" / n / "results.json") for n in names}, left


def test_honest_archive_is_graded(graded) -> None:
    _, results, _ = graded
    result = results["honest_zip"]
    assert result.status == "graded" and result.score == result.max_score == 11.0


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_archive_is_refused_with_its_reason(graded, name: str) -> None:
    _, results, _ = graded
    if name == "folder_device" and os.geteuid() != 0:
        pytest.skip("mknod needs root")
    result = results[name]
    reason = CASES[name][1]
    assert result.status == "invalid_submission", result.message
    assert reason in result.message
    assert result.score == 0
    for ex in result.exercises:
        assert ex.status == "invalid_submission" and ex.score == 0
        assert all(t.outcome == "invalid_submission" and reason in t.message for t in ex.tests)


def test_nothing_is_written_outside_the_extraction_folder(graded) -> None:
    root, _, left = graded
    assert left == [], "the grader left files in its temporary folder"
    escaped = [p for p in root.rglob("evil_*") if "batch" not in p.relative_to(root).parts]
    assert escaped == []
    assert not any(Path(p).exists() for p in ("/tmp/evil_absolute.py", "/evil_drive.py", "/tmp/evil_slip.py"))


def test_invalid_submission_per_exercise_when_exercises_are_named(tmp_path: Path) -> None:
    """With --exercises the refusal is recorded on each requested exercise, as a test with the reason."""
    batch = tmp_path / "batch"
    batch.mkdir()
    make_zip(batch / "slip.zip", [*GOOD, ("../evil.py", b"x")])
    opts = GradeOptions(sandbox="local", jobs=1, exercises=[ATTACKED, CLEAN])
    grade_batch([batch], tmp_path / "out", Catalogue(CATALOGUE), opts)
    result = read_result(tmp_path / "out" / "slip" / "results.json")
    assert result.status == "invalid_submission" and [e.id for e in result.exercises] == [ATTACKED, CLEAN]
    for ex in result.exercises:
        assert [(t.outcome, t.points) for t in ex.tests] == [("invalid_submission", 0)]
        assert "escapes the archive" in ex.tests[0].message
    assert not (tmp_path / "evil.py").exists()

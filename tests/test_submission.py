"""Discovery and safe unpacking of submissions."""

import errno
import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.submission import InvalidSubmission, Submission, discover, extract_zip, unpack

from conftest import fill


def zip_with(path: Path, members: list[tuple[str, bytes]], symlink: str | None = None, utf8: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_discover_single_and_batch(tmp_path):
    sub = tmp_path / "alice"
    (sub / "q01_eval_metrics").mkdir(parents=True)
    assert discover([sub]) == [Submission("alice", sub)]
    batch = tmp_path
    zip_with(tmp_path / "bob.zip", [("q01_eval_metrics/metrics.py", b"x = 1\n")])
    found = discover([batch])
    assert [s.candidate for s in found] == ["alice", "bob"]


def test_discover_errors(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        discover([tmp_path / "missing"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SubmissionError, match="folder or a .zip"):
        discover([tmp_path / "notes.txt"])


def test_zip_with_top_folder_is_looked_through(tmp_path):
    archive = zip_with(tmp_path / "c.zip", [("carol/q01_eval_metrics/metrics.py", b"x = 1\n")])
    extract_zip(archive, tmp_path / "out")
    assert (tmp_path / "out" / "q01_eval_metrics" / "metrics.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("members,symlink,reason", [
    ([("../evil.py", b"x")], None, "escapes"),
    ([("q01_eval_metrics/../../evil.py", b"x")], None, "escapes"),
    ([("/etc/evil.py", b"x")], None, "absolute"),
    ([("q01_eval_metrics/a.py", b"x")], "q01_eval_metrics/link.py", "symbolic link"),
    ([("q01_eval_metrics/A.py", b"x"), ("q01_eval_metrics/a.py", b"y")], None, "collide"),
])
def test_hostile_archives_are_rejected(tmp_path, members, symlink, reason):
    archive = zip_with(tmp_path / "h.zip", members, symlink)
    dest = tmp_path / "dest"
    with pytest.raises(InvalidSubmission, match=reason):
        extract_zip(archive, dest)
    assert not (tmp_path / "evil.py").exists()
    assert not list(dest.rglob("*")) if dest.exists() else True


def test_zip_bomb_is_rejected(tmp_path):
    archive = zip_with(tmp_path / "bomb.zip", [("q01_eval_metrics/big.py", b"\0" * (60 << 20))])
    with pytest.raises(InvalidSubmission, match="MiB|zip bomb"):
        extract_zip(archive, tmp_path / "dest")


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_a_full_disk_is_not_blamed_on_the_submission(tmp_path, small_disk, form):
    data = os.urandom(1 << 20)
    if form == "zip":
        path = zip_with(tmp_path / "c.zip", [("q01_eval_metrics/metrics.py", data)])
    else:
        path = tmp_path / "c"
        (path / "q01_eval_metrics").mkdir(parents=True)
        (path / "q01_eval_metrics" / "metrics.py").write_bytes(data)
    dest = small_disk / "dest"
    dest.mkdir()
    fill(small_disk)
    with pytest.raises(OSError) as caught:
        unpack(Submission("c", path), dest)
    assert not isinstance(caught.value, InvalidSubmission)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(dest / "q01_eval_metrics" / "metrics.py")


def test_not_a_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(InvalidSubmission, match="not a readable zip"):
        extract_zip(bad, tmp_path / "dest")


def test_folder_with_symlink_is_rejected(tmp_path):
    sub = tmp_path / "eve" / "q01_eval_metrics"
    sub.mkdir(parents=True)
    os.symlink("/etc/passwd", sub / "metrics.py")
    with pytest.raises(InvalidSubmission, match="symbolic link"):
        unpack(Submission("eve", tmp_path / "eve"), tmp_path / "dest")

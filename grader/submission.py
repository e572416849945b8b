"""Finding submissions and copying them safely into a stage folder.

A submission is a folder or a .zip holding ``<exercise id>/<module>.py``; a batch is a folder of
submissions, the candidate id being the folder or archive name. Nothing from a submission is
ever followed or trusted: links and special files are rejected, archive members are checked
(absolute paths, ``..``, links, sizes, counts, compression ratio, name collisions) before a byte
is written, and only regular files under exercise folders are copied.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.catalogue import ID_PATTERN
from grader.errors import SubmissionError

MAX_TOTAL_BYTES = 50 << 20
MAX_FILE_BYTES = 20 << 20
MAX_FILES = 2000
MAX_RATIO = 200
CANDIDATE_PATTERN = re.compile(r"[^A-Za-z0-9._@+-]")


class InvalidSubmission(Exception):
    """The submission cannot be graded as handed in; the message says why."""


@dataclass(frozen=True)
class Submission:
    candidate: str
    path: Path

    @property
    def is_archive(self) -> bool:
        return self.path.is_file()


def candidate_id(name: str) -> str:
    """A candidate id safe to use as a folder name."""
    cleaned = CANDIDATE_PATTERN.sub("_", name).strip("._") or "candidate"
    return cleaned[:100]


def _looks_like_submission(folder: Path) -> bool:
    return any(p.is_dir() and ID_PATTERN.match(p.name) for p in folder.iterdir())


def discover(paths: list[Path]) -> list[Submission]:
    """Expand the paths given on the command line into submissions, in a stable order."""
    found: list[Submission] = []
    for path in paths:
        if not path.exists():
            raise SubmissionError(f"{path}: no such file or folder")
        if path.is_file():
            if path.suffix.lower() != ".zip":
                raise SubmissionError(f"{path}: a submission must be a folder or a .zip archive")
            found.append(Submission(candidate_id(path.stem), path))
        elif _looks_like_submission(path):
            found.append(Submission(candidate_id(path.name), path))
        else:
            members = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            subs = [p for p in members if (p.is_dir() and not p.is_symlink()) or p.suffix.lower() == ".zip"]
            if not subs:
                raise SubmissionError(f"{path}: neither a submission (no qNN_* exercise folders) nor a batch of them")
            found.extend(Submission(candidate_id(p.stem if p.is_file() else p.name), p) for p in subs)
    seen: dict[str, Path] = {}
    for sub in found:
        if sub.candidate in seen:
            raise SubmissionError(f"two submissions have the candidate id {sub.candidate!r}: {seen[sub.candidate]} and {sub.path}")
        seen[sub.candidate] = sub.path
    return found


def _check_member_name(name: str) -> PurePosixPath:
    if "\\" in name:
        name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise InvalidSubmission(f"archive member {name!r} has an absolute path")
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        raise InvalidSubmission(f"archive member {name!r} escapes the archive with '..'")
    if any(ord(c) < 32 for c in name):
        raise InvalidSubmission(f"archive member {name!r} has control characters in its name")
    return PurePosixPath(*[p for p in parts if p not in (".", "")])


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract a candidate archive into ``dest`` after checking every member."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidSubmission(f"{archive.name} is not a readable zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise InvalidSubmission(f"{archive.name} has {len(infos)} members (limit {MAX_FILES})")
        total = 0
        names: dict[str, str] = {}
        plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        for info in infos:
            if info.flag_bits & 0x800 == 0 and any(ord(c) > 127 for c in info.filename):
                raise InvalidSubmission(f"archive member name {info.filename!r} is not UTF-8")
            rel = _check_member_name(info.filename)
            ftype = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no type
            if ftype == stat.S_IFLNK:
                raise InvalidSubmission(f"archive member {info.filename!r} is a symbolic link")
            if ftype not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise InvalidSubmission(f"archive member {info.filename!r} is a special file")
            if info.is_dir():
                continue
            key = unicodedata.normalize("NFC", str(rel)).casefold()
            if key in names:
                raise InvalidSubmission(f"archive members {names[key]!r} and {info.filename!r} collide")
            names[key] = info.filename
            total += info.file_size
            if info.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise InvalidSubmission(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1 << 20:
                raise InvalidSubmission(f"archive member {info.filename!r} is compressed {info.file_size // info.compress_size}:1 (zip bomb?)")
            plan.append((info, rel))
        # Archives made by zipping a folder have one top folder: look through it.
        tops = {rel.parts[0] for _, rel in plan if len(rel.parts) > 1}
        strip = len(tops) == 1 and not ID_PATTERN.match(next(iter(tops))) and all(len(rel.parts) > 1 for _, rel in plan)
        written = 0
        for info, rel in plan:
            target_rel = PurePosixPath(*rel.parts[1:]) if strip else rel
            target = dest.joinpath(*target_rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        if written > MAX_TOTAL_BYTES:  # the header lied about the size
                            raise InvalidSubmission(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB")
                        out.write(chunk)
            except (zipfile.BadZipFile, zlib_error(), OSError, RuntimeError, NotImplementedError) as exc:
                if isinstance(exc, OSError) and exc.errno in NO_ROOM:
                    # this machine's disk, not the archive: not the candidate's fault
                    raise OSError(exc.errno, exc.strerror, str(target)) from None
                raise InvalidSubmission(f"cannot extract {info.filename!r} from {archive.name}: {exc}") from None


#: errors of the disk we unpack to, raised as they are rather than blamed on the submission
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def copy_tree_safely(src: Path, dest: Path) -> None:
    """Copy regular files of a submission folder, refusing links and special files."""
    count = 0
    total = 0
    names: dict[str, str] = {}
    for root, dirs, files in os.walk(src, followlinks=False):
        root_path = Path(root)
        for name in dirs + files:
            rel_name = str((root_path / name).relative_to(src))
            try:
                rel_name.encode("utf-8")
            except UnicodeEncodeError:  # undecodable bytes: results and reports could not name it
                raise InvalidSubmission(f"{rel_name.encode('utf-8', 'surrogateescape')!r} is not a UTF-8 name") from None
            # as in archives: names that differ only in case or Unicode form collide elsewhere
            key = unicodedata.normalize("NFC", rel_name).casefold()
            if key in names:
                raise InvalidSubmission(f"{names[key]!r} and {rel_name!r} collide")
            names[key] = rel_name
        for d in list(dirs):
            if (root_path / d).is_symlink():
                raise InvalidSubmission(f"{(root_path / d).relative_to(src)} is a symbolic link")
            if d in ("__pycache__", ".git"):
                dirs.remove(d)
        for name in files:
            path = root_path / name
            st = path.lstat()
            rel = path.relative_to(src)
            if stat.S_ISLNK(st.st_mode):
                raise InvalidSubmission(f"{rel} is a symbolic link")
            if not stat.S_ISREG(st.st_mode):
                raise InvalidSubmission(f"{rel} is not a regular file")
            if st.st_nlink > 1 and src.stat().st_dev == st.st_dev:
                raise InvalidSubmission(f"{rel} is a hard link")
            count += 1
            total += st.st_size
            if count > MAX_FILES:
                raise InvalidSubmission(f"more than {MAX_FILES} files")
            if st.st_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise InvalidSubmission(f"more than {MAX_TOTAL_BYTES >> 20} MiB of files")
            target = dest / rel
            try:
                fin = open(path, "rb")
            except OSError as exc:
                raise InvalidSubmission(f"cannot read {rel}: {exc.strerror or exc}") from None
            with fin:
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "xb") as fout:
                        shutil.copyfileobj(fin, fout)
                except OSError as exc:  # the write side is this machine's: name the file it could not write
                    raise OSError(exc.errno, exc.strerror, str(target)) from None


def unpack(sub: Submission, dest: Path) -> None:
    """Put a submission's files into ``dest`` (a fresh folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    if sub.is_archive:
        extract_zip(sub.path, dest)
    else:
        copy_tree_safely(sub.path, dest)


def exercise_ids_in(folder: Path) -> list[str]:
    """Exercise folders present in an unpacked submission."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and ID_PATTERN.match(p.name))

"""The stage folder: everything a worker may see, and nothing else.

::

    stage/grader_channel/              the worker shim (codec.py, framing.py, worker.py)
    stage/submission/<key>/<exercise>/ the candidate's files (one key per graded submission)
    stage/exercise/<exercise>/         public files: helpers.py and those exercise.toml lists
    stage/tmp/                         scratch space for the unconfined local sandbox

Hidden tests, reference solutions and mutants are never copied here. Sandboxes mount the stage
read-only (bubblewrap, Docker).
"""

from __future__ import annotations

import os
import py_compile
import shutil
import tempfile
from pathlib import Path

from grader.catalogue import Exercise

CHANNEL_DIR = Path(__file__).resolve().parent / "channel"
SHIM_FILES = ("codec.py", "framing.py", "worker.py")


def new_stage(prefix: str = "grader-stage-", parent: Path | None = None) -> Path:
    """A new, empty stage folder (in ``parent``, else the temporary folder)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def stage_common(stage: Path, exercises: list[Exercise]) -> None:
    """Copy the worker shim and the exercises' public files."""
    shim = stage / "grader_channel"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").write_text("")
    for name in SHIM_FILES:
        shutil.copyfile(CHANNEL_DIR / name, shim / name)
    for ex in exercises:
        folder = stage / "exercise" / ex.id
        folder.mkdir(parents=True, exist_ok=True)
        for path in ex.public_paths():
            target = folder / path.resolve().relative_to(ex.root.resolve())
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(path, target)
    (stage / "tmp").mkdir(exist_ok=True)


def stage_submission(stage: Path, key: str, unpacked: Path, exercise_ids: list[str]) -> list[str]:
    """Copy the given exercises of an unpacked submission; returns the ids actually present."""
    present = []
    for ex_id in exercise_ids:
        src = unpacked / ex_id
        dest = stage / "submission" / key / ex_id
        dest.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            # Bytecode never comes from the candidate: the sandbox would run it instead of the
            # source the forbidden-API check read (an unchecked-hash .pyc is used whatever the
            # source says; a lone .pyc imports without any source). precompile() makes our own.
            shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))
            present.append(ex_id)
    return present


def stage_files(stage: Path, key: str, exercise_id: str, files: list[Path]) -> None:
    """Stage individual module files (the validate gate's stubs, references and mutants)."""
    dest = stage / "submission" / key / exercise_id
    dest.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, dest / path.name)


def precompile(stage: Path) -> int:
    """Compile the staged Python files (the candidate's modules, the exercises' helpers) to
    bytecode next to them; returns how many compiled.

    Every test imports the candidate's module in a fresh process, so without this the same
    source is compiled once per test (2-3 ms of a test's 6 ms import here). Compiling is not
    running: no candidate code runs on the host. A file that does not compile is left alone
    and its error is reported by the import in the sandbox, as before. The bytecode is checked
    against the source's size and time stamp when loaded, and ignored by an interpreter whose
    bytecode format differs.
    """
    compiled = 0
    for top in (stage / "submission", stage / "exercise"):
        for path in sorted(top.rglob("*.py")) if top.is_dir() else []:
            if path.is_symlink() or not path.is_file():
                continue
            try:
                py_compile.compile(str(path), doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
                compiled += 1
            except (py_compile.PyCompileError, SyntaxError, ValueError, OSError, RecursionError, MemoryError):
                continue
    return compiled


def open_permissions(stage: Path) -> None:
    """Make the stage readable by the sandbox's unprivileged user (it stays read-only there)."""
    os.chmod(stage, 0o755)
    for root, dirs, files in os.walk(stage):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    tmp = stage / "tmp"
    if tmp.is_dir():
        os.chmod(tmp, 0o777)


def remove_stage(stage: Path) -> None:
    shutil.rmtree(stage, ignore_errors=True)

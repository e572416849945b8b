"""The exercise catalogue: ``exercises/<id>/exercise.toml`` read into validated models.

Layout of one exercise (names fixed by DESIGN.md)::

    exercises/<id>/exercise.toml     metadata (:class:`ExerciseMeta`)
    exercises/<id>/README.md         the task
    exercises/<id>/stub/<module>.py  what the candidate fills in
    exercises/<id>/helpers.py        optional, public: both judge and worker may import it
    exercises/<id>/tests/public/     tests the candidate gets
    exercises/<id>/tests/hidden/     tests the candidate never gets
    exercises/<id>/mutants/<name>/   a wrong variant: <module>.py files and mutant.toml
    solutions/<id>/<module>.py       the reference solution
    solutions/<id>/alternatives/<name>/<module>.py   independent correct solutions
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.errors import CatalogueError

ID_PATTERN = re.compile(r"^q\d{2}_[a-z0-9_]+$")


class Limits(BaseModel):
    """Resource limits for one exercise; a batch runs with the largest among its exercises."""

    model_config = ConfigDict(extra="forbid")

    call_timeout_s: float = Field(10.0, gt=0, le=3600, description="time limit of one call into candidate code")
    total_time_s: float = Field(120.0, gt=0, le=7200, description="time budget of all hidden tests together")
    memory_mb: int = Field(2048, ge=64, le=1 << 20)
    cpus: float = Field(1.0, gt=0, le=256)
    gpu: Literal["none", "optional", "required"] = "none"
    max_processes: int = Field(256, ge=8, le=65536)


class Forbidden(BaseModel):
    """APIs the candidate must not call, because the task is to write them by hand."""

    model_config = ConfigDict(extra="forbid")

    apis: list[str] = Field(default_factory=list, description="dotted names, fnmatch patterns allowed")
    attributes: list[str] = Field(default_factory=list, description="attribute names forbidden on any object")
    points: float = Field(0.0, ge=0)
    hint: str = ""


class ExerciseMeta(BaseModel):
    """The contents of ``exercise.toml``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = Field(min_length=1)
    title_zh: str = Field(min_length=1)
    source_question: int = Field(ge=1, le=30)
    topic: str = Field(min_length=1)
    difficulty: Literal["easy", "medium", "hard"]
    points: float = Field(gt=0)
    modules: list[str] = Field(min_length=1)
    public_files: list[str] = Field(default_factory=list, description="files besides helpers.py the worker may read")
    preload: list[str] = Field(default_factory=list, description="libraries imported once per worker")
    limits: Limits = Field(default_factory=Limits)
    forbidden: Forbidden = Field(default_factory=Forbidden)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must look like q01_short_name (q, two digits, underscore, lowercase words)")
        return value

    @field_validator("modules")
    @classmethod
    def _module_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(r"^[a-z_][a-z0-9_]*\.py$", name):
                raise ValueError(f"{name!r} is not a plain Python module file name")
        return value

    @model_validator(mode="after")
    def _forbidden_points(self) -> "ExerciseMeta":
        if (self.forbidden.apis or self.forbidden.attributes) and self.forbidden.points <= 0:
            raise ValueError("forbidden.points must be positive when forbidden APIs are listed")
        return self


class MutantMeta(BaseModel):
    """``mutants/<name>/mutant.toml``: a known-wrong variant and the tests it must fail."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1)
    fails: list[str] = Field(min_length=1, description="test ids (fnmatch patterns allowed) this mutant must fail")


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return f"{path}: field '{field}': {err['msg']}{more}"


def load_toml(path: Path) -> dict:
    """Read a TOML file; a syntax error becomes a CatalogueError naming file and line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: invalid TOML: {exc}") from None


class Exercise:
    """One exercise of the catalogue, with the paths of its parts."""

    def __init__(self, root: Path, solutions_root: Path, meta: ExerciseMeta) -> None:
        self.root = root
        self.meta = meta
        self.solution_dir = solutions_root / meta.id

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def module_names(self) -> list[str]:
        """Importable names of the candidate's modules (file names without .py)."""
        return [m[:-3] for m in self.meta.modules]

    @property
    def stub_dir(self) -> Path:
        return self.root / "stub"

    @property
    def hidden_tests(self) -> Path:
        return self.root / "tests" / "hidden"

    @property
    def public_tests(self) -> Path:
        return self.root / "tests" / "public"

    @property
    def helpers_path(self) -> Path | None:
        path = self.root / "helpers.py"
        return path if path.is_file() else None

    def public_paths(self) -> list[Path]:
        """Files the worker may see besides the submission: helpers.py and listed public files."""
        paths = [self.helpers_path] if self.helpers_path else []
        for name in self.meta.public_files:
            path = (self.root / name).resolve()
            if self.root.resolve() not in path.parents or not path.exists():
                raise CatalogueError(f"{self.root / 'exercise.toml'}: public file {name!r} not found inside the exercise")
            if "tests" in Path(name).parts or "mutants" in Path(name).parts:
                raise CatalogueError(f"{self.root / 'exercise.toml'}: public file {name!r} lies in tests/ or mutants/")
            paths.append(path)
        return paths

    @cached_property
    def mutants(self) -> dict[str, tuple[Path, MutantMeta]]:
        out: dict[str, tuple[Path, MutantMeta]] = {}
        base = self.root / "mutants"
        if not base.is_dir():
            return out
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            toml_path = folder / "mutant.toml"
            try:
                meta = MutantMeta.model_validate(load_toml(toml_path))
            except ValidationError as exc:
                raise CatalogueError(_format_validation_error(toml_path, exc)) from None
            out[folder.name] = (folder, meta)
        return out

    def alternatives(self) -> dict[str, Path]:
        """Independent correct solutions kept to prove the tests accept any correct answer."""
        base = self.solution_dir / "alternatives"
        if not base.is_dir():
            return {}
        return {p.name: p for p in sorted(base.iterdir()) if p.is_dir() and not p.name.startswith((".", "_"))}

    def title(self, lang: str = "en") -> str:
        return self.meta.title_zh if lang == "zh" else self.meta.title


def load_exercise(folder: Path, solutions_root: Path) -> Exercise:
    """Load and validate one exercise folder."""
    toml_path = folder / "exercise.toml"
    data = load_toml(toml_path)
    try:
        meta = ExerciseMeta.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(_format_validation_error(toml_path, exc)) from None
    if meta.id != folder.name:
        raise CatalogueError(f"{toml_path}: field 'id': {meta.id!r} does not match the folder name {folder.name!r}")
    return Exercise(folder, solutions_root, meta)


class Catalogue:
    """All exercises under a project root (``exercises/`` and ``solutions/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.exercises_root = root / "exercises"
        self.solutions_root = root / "solutions"
        if not self.exercises_root.is_dir():
            raise CatalogueError(f"no exercises/ folder under {root} (set GRADER_HOME or pass --catalogue)")
        self._cache: dict[str, Exercise] = {}

    def ids(self) -> list[str]:
        return sorted(p.name for p in self.exercises_root.iterdir()
                      if p.is_dir() and (p / "exercise.toml").exists())

    def get(self, exercise_id: str) -> Exercise:
        if exercise_id not in self._cache:
            folder = self.exercises_root / exercise_id
            if not (folder / "exercise.toml").is_file():
                known = ", ".join(self.ids()) or "none"
                raise CatalogueError(f"unknown exercise {exercise_id!r} (known: {known})")
            self._cache[exercise_id] = load_exercise(folder, self.solutions_root)
        return self._cache[exercise_id]

    def all(self) -> list[Exercise]:
        return [self.get(i) for i in self.ids()]

    def select(self, ids: list[str] | None) -> list[Exercise]:
        return [self.get(i) for i in ids] if ids else self.all()


def default_root() -> Path:
    """The project root holding exercises/: $GRADER_HOME, else the checkout this package is in, else cwd."""
    env = os.environ.get("GRADER_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "exercises").is_dir():
        return here
    return Path.cwd()

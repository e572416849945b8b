from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.errors import CatalogueError

GOOD = """id = "q90_toy"
title = "T"
title_zh = "T"
source_question = 1
topic = "t"
difficulty = "easy"
points = 1
modules = ["toy.py"]
"""


def make(tmp_path: Path, text: str, folder: str = "q90_toy") -> Catalogue:
    (tmp_path / "exercises" / folder).mkdir(parents=True)
    (tmp_path / "exercises" / folder / "exercise.toml").write_text(text)
    return Catalogue(tmp_path)


def test_loads_valid_metadata(tmp_path):
    ex = make(tmp_path, GOOD).get("q90_toy")
    assert ex.meta.limits.call_timeout_s == 10 and ex.module_names == ["toy"]


@pytest.mark.parametrize("change,field", [
    (("difficulty = \"easy\"", "difficulty = \"trivial\""), "difficulty"),
    (("points = 1", "points = -1"), "points"),
    (("modules = [\"toy.py\"]", "modules = [\"../evil.py\"]"), "modules"),
    (("id = \"q90_toy\"", "id = \"Toy\""), "id"),
    (("topic = \"t\"\n", "topic = \"t\"\ncolour = 3\n"), "colour"),
    (("modules = [\"toy.py\"]\n", "modules = [\"toy.py\"]\n[limits]\ncall_timeout_s = 0\n"), "limits.call_timeout_s"),
])
def test_bad_metadata_names_file_and_field(tmp_path, change, field):
    cat = make(tmp_path, GOOD.replace(*change))
    with pytest.raises(CatalogueError) as err:
        cat.get("q90_toy")
    text = str(err.value)
    assert "exercise.toml" in text and f"'{field}'" in text and "\n" not in text


def test_toml_syntax_error(tmp_path):
    cat = make(tmp_path, GOOD + "limits = [\n")
    with pytest.raises(CatalogueError, match="invalid TOML"):
        cat.get("q90_toy")


def test_id_must_match_folder(tmp_path):
    cat = make(tmp_path, GOOD, folder="q91_other")
    with pytest.raises(CatalogueError, match="does not match the folder"):
        cat.get("q91_other")


def test_unknown_exercise(tmp_path):
    with pytest.raises(CatalogueError, match="unknown exercise"):
        make(tmp_path, GOOD).get("q99_nope")


def test_project_catalogue_loads(project_catalogue):
    for ex in project_catalogue.all():
        assert ex.meta.id == ex.root.name

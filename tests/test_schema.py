"""The schema: every mistake in a content file is one problem, at its place, with a useful hint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.content import load_content
from culturebook.project.schema import SETTINGS, TEXTS
from culturebook.project.yamlsource import parse_yaml
from projectkit import PROJECTS, edit, where

PATH = Path("content/en.yaml")


def convert(spec, text: str) -> tuple[object, list[Problem]]:
    problems = Problems()
    data = spec.convert(parse_yaml(text, PATH), "", problems)
    return data, problems.items


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The minimal project's content/ (all load_content reads) in a temporary folder."""
    shutil.copytree(PROJECTS / "minimal" / "content", tmp_path / "content")
    return tmp_path


def problems_of(root: Path) -> list[Problem]:
    """What load_content reports for the project at `root` (it must report something)."""
    with pytest.raises(ProjectError) as info:
        load_content(root, Problems())
    return info.value.problems


def at(path: Path, text: str, needle: str, offset: int = 0) -> Location:
    line, col = where(text, needle, offset).split(":")
    return Location(path, int(line), int(col))


# --- unknown keys -------------------------------------------------------------------------------


def test_unknown_key_has_a_did_you_mean_and_is_one_problem(root: Path) -> None:
    en = root / "content" / "en.yaml"
    text = edit(en, "\ntitle:", "\ntitel:")
    problem = only(problems_of(root))  # not also "missing required field 'title'"
    assert problem.location == at(en, text, "titel")
    assert problem.message == "unknown key 'titel'"
    assert problem.hint == "did you mean 'title'?"


def test_unknown_key_in_a_list_item_names_the_item() -> None:
    _, problems = convert(TEXTS.field("values").type.item,
                          "id: care\nnmae: Care\nname: Care\nstatement: x\n")
    problem = only(problems)
    assert problem.location == Location(PATH, 2, 1)
    assert problem.message == "unknown key 'nmae'"
    assert problem.hint == "did you mean 'name'?"


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    _, problems = convert(SETTINGS, "languages: [en]\ndate: 2024-05-01\ncolour: blue\n")
    problem = only(problems)
    assert problem.message == "unknown key 'colour'"
    assert problem.hint == ("allowed keys: languages, native_language, date, theme, posters, recipients, "
                            "share")


def test_every_problem_is_reported_at_once(root: Path) -> None:
    en = root / "content" / "en.yaml"
    edit(en, "    name: \"Candour\"", "    nmae: \"Candour\"")
    edit(en, "  - id: craft", "  - id: Craft!")
    edit(en, 'mission: "Make small things well"', "mission: [a, b]")
    messages = [p.message for p in problems_of(root)]
    assert messages == [
        "mission must be text, not a list",
        "unknown key 'nmae' in values[2]",  # and 'name' is not also reported missing
        "values[3].id: 'Craft!' is not a valid slug",
    ]


# --- required fields ----------------------------------------------------------------------------


def test_missing_required_field(root: Path) -> None:
    en = root / "content" / "en.yaml"
    text = edit(en, 'organisation: "Example Co"\n', "")
    problem = only(problems_of(root))
    assert problem.location == at(en, text, "title:")  # the mapping it belongs in
    assert problem.message == "missing required field 'organisation'"
    assert problem.hint == "add it, e.g. organisation: Acme"


def test_missing_required_markdown_field_hint_is_one_line() -> None:
    _, problems = convert(TEXTS.field("chapters").type.item, "id: why\ntitle: Why\n")
    problem = only(problems)
    assert problem.message == "missing required field 'body'"
    assert "\n" not in problem.hint


@pytest.mark.parametrize("value", ["", " []"])
def test_required_field_left_empty(root: Path, value: str) -> None:
    pub = root / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", f"languages:{value}")
    problem = only(problems_of(root))  # and no crash on the missing list
    assert problem.location == at(pub, text, "languages:")
    assert problem.message == "required field 'languages' is empty"
    assert problem.hint == "fill it in, e.g. languages: [en, zh-Hans]"


@pytest.mark.parametrize("value", ["", ' ""', " '   '"])
def test_required_text_left_empty(root: Path, value: str) -> None:
    en = root / "content" / "en.yaml"
    text = edit(en, 'title: "Small Things, Done Well"', f"title:{value}")
    problem = only(problems_of(root))
    assert problem.location == at(en, text, "title:")
    assert problem.message == "required field 'title' is empty"


# --- types --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("title: [a, b]\n", "title must be text, not a list"),
    ("title:\n  en: Hello\n", "title must be text, not a mapping"),
    ("values: care\n", "values must be a list (lines starting with '- ')"),
    ("values:\n  - care\n", "values[1] must be a mapping of 'key: value' lines"),
    ("keywords: culture\n", "keywords must be a list (lines starting with '- ')"),
    ("closing: Goodbye\n", "closing must be a mapping of 'key: value' lines"),
])
def test_wrong_type(text: str, message: str) -> None:
    _, problems = convert(TEXTS, text)
    assert message in [p.message for p in problems]


def test_a_file_that_is_a_list(root: Path) -> None:
    (root / "content" / "en.yaml").write_text("- title: x\n")
    problem = only(problems_of(root))
    assert problem.message == "this file must be a mapping of 'key: value' lines"
    assert problem.location.line == 1


@pytest.mark.parametrize("date", ["2024-13-01", "tomorrow", "12:30", "2024/05/01", "[2024]"])
def test_bad_date(root: Path, date: str) -> None:
    pub = root / "content" / "publication.yaml"
    text = edit(pub, "date: 2024-05-01", f"date: {date}")
    problem = only(problems_of(root))
    assert problem.location == at(pub, text, date)
    assert problem.message == "date must be a date written YYYY-MM-DD"


def test_bad_language_code(root: Path) -> None:
    pub = root / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, EN_us]")
    problem = only(problems_of(root))
    assert problem.location == at(pub, text, "EN_us")
    assert problem.message == "languages[2]: 'EN_us' is not a valid language code"
    assert problem.hint == "use a BCP 47 code such as en, zh-Hans, fr, pt-BR"


def test_bad_id(root: Path) -> None:
    en = root / "content" / "en.yaml"
    text = edit(en, "id: care", "id: Care Value")
    problem = only(problems_of(root))
    assert problem.location == at(en, text, "Care Value")
    assert problem.message == "values[1].id: 'Care Value' is not a valid slug"
    assert problem.hint == "use lowercase letters, digits and hyphens, e.g. integrity"


@pytest.mark.parametrize("size, hint", [("a2", "did you mean 'A2'?"), ("A22", "did you mean 'A2'?"),
                                        ("huge", "")])
def test_poster_size_is_one_of_the_sizes(root: Path, size: str, hint: str) -> None:
    pub = root / "content" / "publication.yaml"
    edit(pub, "size: A3", f"size: {size}")
    problem = only(problems_of(root))
    assert problem.message == "posters.size must be one of A3, A2, A1, Letter, Tabloid"
    assert problem.hint == hint


# --- empty files --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, needed", [
    ("en.yaml", "title, organisation, mission, values"),
    ("publication.yaml", "languages, date"),
])
@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n"])
def test_empty_file(root: Path, name: str, needed: str, text: str) -> None:
    path = root / "content" / name
    path.write_text(text)
    problem = only(problems_of(root))
    assert problem.location == Location(path, 1, 1)
    assert problem.message == "file is empty"
    assert problem.hint == f"it needs at least {needed}"


# --- the collector ------------------------------------------------------------------------------


def test_errors_come_before_warnings_and_strict_makes_warnings_errors() -> None:
    problems = Problems()
    problems.warn(Location(Path("a.yaml"), 1, 1), "doubtful")
    problems.error(Location(Path("b.yaml"), 9, 1), "wrong")
    with pytest.raises(ProjectError) as info:
        problems.raise_if_errors()
    assert [p.message for p in info.value.problems] == ["wrong", "doubtful"]

    only_warning = Problems()
    only_warning.warn(Location(Path("a.yaml"), 1, 1), "doubtful")
    only_warning.raise_if_errors()  # a warning alone does not stop a build
    with pytest.raises(ProjectError) as info:
        only_warning.raise_if_errors(strict=True)
    assert [p.warning for p in info.value.problems] == [False]

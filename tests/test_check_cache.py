"""What checks and measurements keep on disk between builds: an edit of the content measures and
checks only what it changed, a theme edit still reaches every check, and a measurement taken
alone is the one taken with all the others (the outputs do not depend on what was kept)."""

from __future__ import annotations

import json

import pytest

from culturebook.build.pipeline import build
from culturebook.errors import ProjectError
from projectkit import edit, make_project

STATEMENT = "We say what we think, kindly and early."


def manifest(root) -> dict[str, str]:
    artifacts = json.loads((root / "build" / "manifest.json").read_text())["artifacts"]
    return {a["path"]: a["sha256"] for a in artifacts}


@pytest.mark.slow
def test_a_theme_edit_after_a_content_only_build_is_still_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_project(tmp_path / "project", "minimal")
    build(root, "posters")
    edit(root / "content" / "en.yaml", STATEMENT, "We say what we think, kindly and soon.")
    assert [a.path for a in build(root, "posters")[0]] == ["en/posters/candour.pdf"]

    booklet = root / "layouts" / "default" / "booklet.html"
    text = edit(booklet, '<h2 class="contents-title">', '<h3 class="contents-title">')
    with pytest.raises(ProjectError) as caught:
        build(root, "posters")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '<h3 class="contents-title">' in row)
    assert [p.format() for p in caught.value.problems] == [
        f"{booklet}:{line}:3: heading level skipped in booklet.html: <h3> follows <h1>\n"
        "    hint: use <h2> here, so that a screen reader's outline has no gap"]


@pytest.mark.slow
def test_a_theme_edit_measures_every_value_again(tmp_path, monkeypatch):
    """The values' heights kept on disk belong to the theme they were measured with: statements
    made taller than a page no longer fit it, although no statement changed since."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_project(tmp_path / "project", "minimal")
    build(root, "booklet")
    edit(root / "content" / "en.yaml", STATEMENT, "We say what we think, kindly and soon.")
    build(root, "booklet")
    css = root / "layouts" / "default" / "booklet.css"
    edit(css, ".value-statement { font-size: var(--type-lead);",
         ".value-statement { min-height: 300mm; font-size: var(--type-lead);")
    with pytest.raises(ProjectError) as caught:
        build(root, "booklet")
    assert [p.message.split(":")[0] for p in caught.value.problems] == [
        "values[1].statement is too long for a page of the values section"]


@pytest.mark.slow
def test_a_value_measured_alone_makes_the_same_booklet_as_all_measured_together(tmp_path,
                                                                                monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-together"))
    together = make_project(tmp_path / "together", "minimal")
    build(together, "booklet")  # nothing kept: every value measured in one document

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-alone"))
    alone = make_project(tmp_path / "alone", "minimal")
    edit(alone / "content" / "en.yaml", STATEMENT, "We say what we think, kindly and soon.")
    build(alone, "booklet")
    edit(alone / "content" / "en.yaml", "We say what we think, kindly and soon.", STATEMENT)
    assert [a.path for a in build(alone, "booklet")[0]] == ["en/booklet.pdf"]  # measured alone
    assert manifest(alone) == manifest(together)


@pytest.mark.slow
def test_a_print_colour_edited_after_a_content_only_build_is_still_checked(tmp_path, monkeypatch):
    """The theme's print colours are checked once for the theme (a content edit does not check
    them again), and again when the theme changes."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_project(tmp_path / "project", "minimal")
    build(root, "posters")
    edit(root / "content" / "en.yaml", STATEMENT, "We say what we think, kindly and soon.")
    assert build(root, "posters")[1] == []
    theme = root / "layouts" / "default" / "theme.yaml"
    text = edit(theme, "    tint: 8 3 0 0", "    tint: 8 130 0 0")
    line = text.splitlines().index("    tint: 8 130 0 0") + 1
    with pytest.raises(ProjectError) as caught:
        build(root, "posters")
    assert [p.format() for p in caught.value.problems] == [
        f"{theme}:{line}:5: print colour 'tint' (8 130 0 0) has an ink over 100 %\n"
        "    hint: each of cyan, magenta, yellow and black is 0 to 100"]

"""scaffold.py (`culturebook new`): a project in one command, that builds at once from inside it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import page_text, read_pdf
from culturebook import __version__
from culturebook.project.themes import font_packages
from projectkit import run_cli, snapshot

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_blank_project_builds_at_once_with_the_name_on_the_cover(tmp_path):
    made = run_cli("new", "acme", "--name", 'Acme "Labs"', "--languages", "en", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == [
        "made acme: a blank project. Next: cd acme && culturebook build; then edit content/ (see "
        "acme/README.md)"]
    root = tmp_path / "acme"
    assert sorted(p.name for p in (root / "content").iterdir()) == ["en.yaml", "publication.yaml"]
    theme = (root / "layouts" / "acme-labs" / "theme.yaml").read_text(encoding="utf-8")
    assert "extends: default" in theme and 'name: "Acme \\"Labs\\""' in theme
    # The default theme and its fonts are culturebook's, not copies: the project's theme records
    # the version of the default theme it was made with.
    assert not (root / "fonts").exists() and not (root / "layouts" / "default").exists()
    assert f'\nextends-version: "{__version__}"\n' in theme
    assert "## What to edit first" in (root / "README.md").read_text(encoding="utf-8")
    assert run_cli("check", cwd=root).returncode == 0
    built = run_cli("build", "booklet", "-q", cwd=root)
    assert built.returncode == 0, built.stderr
    booklet = read_pdf(root / "build" / "en" / "booklet.pdf")
    assert 'Acme "Labs"' in page_text(booklet, 0) and "Our Culture" in page_text(booklet, 0)


@pytest.mark.slow
def test_the_example_project_is_the_shipped_content_under_a_theme_of_its_own(tmp_path):
    made = run_cli("new", "kit", "--example", "tencent", "--languages", "zh-Hans,en", cwd=tmp_path)
    if not font_packages():  # the CJK fonts not installed (make setup installs them): asked for
        assert made.returncode == 1 and not (tmp_path / "kit").exists()
        assert made.stderr.splitlines()[0] == (
            "kit: the zh-Hans edition needs Noto Sans CJK SC, from the culturebook-fonts-cjk package, "
            "which is not installed; nothing was made")
        return
    assert made.returncode == 0, made.stderr
    root = tmp_path / "kit"
    settings = (root / "content" / "publication.yaml").read_text(encoding="utf-8")
    assert "\nlanguages: [zh-Hans, en]" in settings and "\ntheme: tencent\n" in settings
    assert (root / "content" / "people.example.csv").is_file()
    checked = run_cli("check", cwd=root)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1].startswith("ok: 2 editions (zh-Hans, en), theme 'Tencent'")


def test_a_folder_that_is_not_empty_is_refused_and_left_as_it_was(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("keep me\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli("new", "notes", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "notes: is not empty; culturebook new makes a project in a new or empty folder",
        "    hint: name a new folder, e.g. culturebook new notes-culture",
        "1 problem in 1 file; nothing was written"]
    assert snapshot(tmp_path) == before
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # no work folder left


def test_a_language_the_example_has_no_texts_in_is_a_usage_error(tmp_path):
    result = run_cli("new", "acme", "--languages", "en,fr", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for --languages: the blank project has no texts in 'fr' (it has en, "
        "zh-Hans)")
    assert not (tmp_path / "acme").exists()


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli("new", "notes.txt/acme", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "notes.txt/acme: cannot make a folder here: File exists",
        "    hint: name a folder you can write to",
        "1 problem in 1 file; nothing was written"]
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_the_theme_guides_rebrand_passes_check_and_its_contrast_example_is_what_check_says(tmp_path):
    """docs/themes.md shows a four-colour theme and the line `check` prints for a deeper text colour
    that fails contrast: both are true of the code."""
    guide = (REPO / "docs" / "themes.md").read_text(encoding="utf-8")
    theme = re.search(r"```yaml\n(name: \"Acme\".*?)```", guide, re.DOTALL)[1]
    shown = re.search(r"```\n(layouts/acme/theme\.yaml:[^\n]*\n    hint: [^\n]*)\n```", guide)[1]
    run_cli("new", "acme", "--name", "Acme", "--languages", "en", cwd=tmp_path)
    root = tmp_path / "acme"
    (root / "layouts" / "acme" / "theme.yaml").write_text(theme, encoding="utf-8")
    assert run_cli("check", cwd=root).returncode == 0
    paler = re.search(r"`on-brand-soft` of `(#[0-9A-F]{6})`", guide)[1]
    (root / "layouts" / "acme" / "theme.yaml").write_text(
        re.sub(r'on-brand-soft: "#\w+"', f'on-brand-soft: "{paler}"', theme, count=1),
        encoding="utf-8")
    result = run_cli("check", cwd=root)
    assert result.returncode == 1 and result.stderr.splitlines()[:2] == shown.splitlines()


def test_a_project_made_with_a_newer_default_theme_than_installed_is_one_line_at_its_pin(tmp_path):
    """After a downgrade (or a project shared with someone whose culturebook is older), check says
    which version the theme was made with; after an upgrade, a warning (tests/test_themes.py)."""
    assert run_cli("new", "acme", "--name", "Acme", "--languages", "en", cwd=tmp_path).returncode == 0
    root = tmp_path / "acme"
    theme = root / "layouts" / "acme" / "theme.yaml"
    theme.write_text(theme.read_text(encoding="utf-8").replace(
        f'extends-version: "{__version__}"', 'extends-version: "99.0"'), encoding="utf-8")
    result = run_cli("check", cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"layouts/acme/theme.yaml:8:18: theme 'default' is {__version__} here (shipped with "
        "culturebook " f"{__version__}), older than the 99.0 this theme was made with",
        "    hint: upgrade it: pipx upgrade culturebook (or pip install -U culturebook)",
        "1 problem in 1 file; nothing was written"]

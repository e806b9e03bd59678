"""themes.py: a theme from the project, an installed package or culturebook; font files from the
project, the themes or a font package; the extends-version pin; `culturebook themes`."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from culturebook import __version__
from culturebook.errors import Problems, ProjectError
from culturebook.project.brand import load_brand
from culturebook.project.themes import SHIPPED, find_theme
from projectkit import make_project as make_test_project
from projectkit import run_cli

REPO = Path(__file__).resolve().parents[1]


def _theme(root: Path, text: str, name: str = "acme") -> Path:
    folder = root / "layouts" / name
    folder.mkdir(parents=True)
    (folder / "theme.yaml").write_text(text, encoding="utf-8")
    _settings(root, "theme: default", f"theme: {name}")
    return folder / "theme.yaml"


def _settings(root: Path, old: str, new: str) -> None:
    pub = root / "content" / "publication.yaml"
    text = pub.read_text(encoding="utf-8")
    assert old in text
    pub.write_text(text.replace(old, new, 1), encoding="utf-8")


def _package(site: Path, theme: str, version: str, text: str) -> Path:
    """A theme package installed in `site` as pip installs one: the package's folder and its
    distribution's metadata with the culturebook.themes entry point."""
    module = f"culturebook_theme_{theme}"
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text("", encoding="utf-8")
    (site / module / "theme.yaml").write_text(text, encoding="utf-8")
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: culturebook-theme-{theme}\n"
                                   f"Version: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[culturebook.themes]\n{theme} = {module}\n",
                                           encoding="utf-8")
    return site / module


def test_the_shipped_files_are_the_repository_s_own_through_symlinks():
    """The wheel's default theme, Latin fonts and example content have one home in the repository."""
    assert (SHIPPED / "default").resolve() == REPO / "layouts" / "default"
    assert (SHIPPED / "fonts" / "Inter").resolve() == REPO / "fonts" / "Inter"
    assert (SHIPPED / "example").resolve() == REPO / "content"
    cjk = REPO / "packages" / "fonts-cjk" / "culturebook_fonts_cjk"
    assert (cjk / "NotoSansCJKsc").resolve() == REPO / "fonts" / "NotoSansCJKsc"
    # The companion package is released with culturebook, under the same version.
    assert re.search(r'__version__ = "([^"]+)"', (cjk / "__init__.py").read_text())[1] == __version__


def test_a_project_theme_comes_before_the_shipped_one(make_project):
    root = make_project()
    assert find_theme(root, "default").folder == root.resolve() / "layouts" / "default"
    assert find_theme(root / "elsewhere", "default").folder == SHIPPED / "default"
    assert find_theme(root, "nowhere") is None


def test_a_theme_named_nowhere_is_one_line_at_theme_naming_where_it_looked(make_project):
    root = make_project()
    _settings(root, "theme: default", "theme: nowhere")
    result = run_cli("check", cwd=root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[:2] == [
        "content/publication.yaml:27:8: theme 'nowhere' not found in layouts/nowhere/, in an "
        "installed theme package or among culturebook's own themes",
        "    hint: `culturebook themes` lists the installed ones; a theme from a package needs it "
        "installed beside culturebook (pipx inject culturebook PACKAGE, or pip install PACKAGE)"]


def test_a_theme_package_is_found_by_extends_and_listed(make_project, tmp_path, monkeypatch):
    root = make_project()
    site = tmp_path / "site"
    _package(site, "plain", "1.2.0", 'name: Plain\ndescription: One red.\nextends: default\n'
             'colours:\n  brand: "#C8102E"\n  on-brand-soft: "#FFE8EB"\n'
             'print:\n  colours:\n    brand: "0 100 80 0"\n')
    _theme(root, "name: Acme\nextends: plain\nextends-version: 1.2.0\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    checked = run_cli("check", cwd=root)
    assert checked.returncode == 0, checked.stderr
    assert "theme 'Acme'" in checked.stdout.splitlines()[-1]
    listed = run_cli("themes", cwd=root)
    assert listed.returncode == 0, listed.stderr
    rows = [re.split(r"\s{2,}", line) for line in listed.stdout.splitlines()]
    assert ["acme", "-", "this project's layouts/acme/"] in rows
    assert ["default", "-", "this project's layouts/default/"] in [row[:3] for row in rows]
    assert ["plain", "1.2.0", "package culturebook-theme-plain 1.2.0", "One red."] in rows
    assert ["default", __version__, f"shipped with culturebook {__version__}",
            "not used: the default above comes first"] in rows


@pytest.mark.parametrize(("pin", "expected", "warning"), [
    ("0.0.1", f"theme 'default' is {__version__} here (this project's layouts/default/), newer than "
     "the 0.0.1 this theme was made with", True),
    ("99.0", f"theme 'default' is {__version__} here (this project's layouts/default/), older than "
     "the 99.0 this theme was made with", False),
])
def test_the_extends_version_pin_is_checked(make_project, pin, expected, warning):
    root = make_project()
    manifest = _theme(root, f"name: Acme\nextends: default\nextends-version: \"{pin}\"\n")
    problems = Problems()
    (root / "layouts" / "default" / "theme.yaml").write_text(
        f"version: {__version__}\n" + (root / "layouts" / "default" / "theme.yaml").read_text())
    if warning:
        load_brand(root, "acme", problems)
        [problem] = problems.warnings
        assert problem.hint == f"look over the booklet and posters, then record it: extends-version: " \
            f"{__version__}"
    else:
        with pytest.raises(ProjectError) as info:
            load_brand(root, "acme", problems)
        [problem] = info.value.problems
        assert problem.hint == "upgrade it: update layouts/default/"
    assert (problem.location.path, problem.location.line, problem.location.col) == (manifest, 3, 18)
    assert problem.message == expected


# A theme whose Chinese face comes with a package that is not installed.
MISSING_CJK = """name: Acme
extends: default
fonts:
  faces:
    - {family: Inter, file: Inter/Inter-Regular.otf, weight: 400}
    - {family: Inter, file: Inter/Inter-Italic.otf, weight: 400, style: italic}
    - {family: Inter, file: Inter/Inter-SemiBold.otf, weight: 600}
    - {family: Inter, file: Inter/Inter-Bold.otf, weight: 700}
    - {family: Inter, file: Inter/Inter-BoldItalic.otf, weight: 700, style: italic}
    - {family: Inter Display, file: Inter/InterDisplay-SemiBold.otf, weight: 600}
    - {family: Inter Display, file: Inter/InterDisplay-Bold.otf, weight: 700}
    - {family: Noto Sans CJK SC, file: Elsewhere/NotoSansCJKsc-Regular.otf, package: cjk-nowhere}
    - {family: Noto Sans CJK SC, file: Elsewhere/NotoSansCJKsc-Bold.otf, weight: 700, package: cjk-nowhere}
"""


def test_a_font_of_a_package_not_installed_is_an_error_for_the_edition_that_needs_it(make_project):
    root = make_project()
    _theme(root, MISSING_CJK)
    result = run_cli("check", cwd=root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("layouts/"))
    assert lines[at:at + 2] == [  # after the glyph check's errors for the English edition's Chinese
        "layouts/acme/theme.yaml:12:40: font file Elsewhere/NotoSansCJKsc-Regular.otf not found: Noto "
        "Sans CJK SC sets the zh-Hans edition and comes with the cjk-nowhere package, which is not "
        "installed",
        "    hint: install cjk-nowhere: pipx inject culturebook cjk-nowhere (or pip install cjk-nowhere)"]
    assert sum(line.startswith("layouts/") for line in lines) == 1  # one line for the family, not per face


def test_an_english_project_builds_without_the_package_but_not_with_chinese_in_its_text(tmp_path):
    root = make_test_project(tmp_path / "minimal", "minimal")
    _theme(root, MISSING_CJK)
    checked = run_cli("check", cwd=root)
    assert checked.returncode == 0, checked.stderr
    # A Chinese word in the English text: the face that would have set it is not there, so the
    # glyph check stops the build (the word is never silently lost).
    english = root / "content" / "en.yaml"
    text = english.read_text(encoding="utf-8")
    english.write_text(re.sub(r'(?m)^organisation: "', 'organisation: "腾讯 ', text, count=1),
                       encoding="utf-8")
    stopped = run_cli("build", "booklet", cwd=root)
    assert stopped.returncode == 1
    assert "Traceback" not in stopped.stderr
    assert stopped.stderr.splitlines()[:2] == [
        "content/en.yaml:4:16: no font in fonts/ sets Han (2 characters in this field); add one and "
        "list it in theme.yaml",
        "    hint: the theme's Noto Sans CJK SC is not installed: install cjk-nowhere: pipx inject "
        "culturebook cjk-nowhere (or pip install cjk-nowhere)"]
    assert not (root / "build" / "en" / "booklet.pdf").exists()


def test_themes_outside_a_project_lists_culturebook_s_own(tmp_path):
    listed = run_cli("themes", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [re.split(r"\s{2,}", line) for line in listed.stdout.splitlines()]
    default = (REPO / "layouts" / "default" / "theme.yaml").read_text(encoding="utf-8")
    description = re.search(r"(?m)^description: (.*)$", default)[1]
    assert ["default", __version__, f"shipped with culturebook {__version__}", description] in rows
    # Then only the themes of the installed packages (the dev venv has the editorial theme's).
    packaged = sorted(ep.name for ep in entry_points(group="culturebook.themes"))
    assert [row[0] for row in rows if not row[0].startswith("fonts: ")] == [*packaged, "default"]


def test_a_build_s_fingerprint_sees_an_installed_theme_change(make_project, tmp_path, monkeypatch):
    """A theme or font package outside the project is read by the build: a change to it must not
    leave the last build standing as "nothing to do" (nor the preview unwatched)."""
    from culturebook.build.fingerprint import take
    from culturebook.project.themes import outside_folders

    root = make_project()
    site = tmp_path / "site"
    package = _package(site, "plain", "1.0", "name: Plain\nextends: default\n")
    monkeypatch.syspath_prepend(str(site))
    assert package.resolve() in outside_folders(root)
    assert (SHIPPED / "default").resolve() in outside_folders(tmp_path / "elsewhere")
    before = take(root, "options")
    (package / "theme.yaml").write_text("name: Plain\nextends: default\n# a longer file\n")
    assert take(root, "options").digest != before.digest


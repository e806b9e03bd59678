"""The editorial theme (themes/editorial), a theme shipped as a Python package: its package is
well formed (entry point, version, fonts with their licence), and a project that chooses it
checks clean and builds its booklets and posters in its serif and its claret.

The project uses the theme the way the code can find it: when the package is installed (its
`culturebook.themes` entry point is present and culturebook looks themes up by entry point),
`theme: editorial` alone; otherwise a copy of the package folder in the project's
layouts/editorial/, its fonts in the project's fonts/ (as a project theme works).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import (
    REPO,
    WeasyPrintLog,
    copy_project,
    font_dicts,
    normalise,
    page_text,
    read_pdf,
    render_pages,
)
from projectkit import run_cli

THEME = REPO / "themes" / "editorial"
PACKAGE = THEME / "culturebook_theme_editorial"
CLARET = (0x8A, 0x1C, 0x2B)  # colours: brand: in the theme
CREAM = (0xF5, 0xEF, 0xE4)  # colours: tint: the cover's paper


def installed() -> bool:
    """The theme is installed as a package and culturebook finds themes by entry point."""
    found = any(e.name == "editorial" for e in importlib.metadata.entry_points(group="culturebook.themes"))
    return found and importlib.util.find_spec("culturebook.project.themes") is not None


def editorial_project(dest: Path, source: Path = REPO) -> Path:
    """A copy of `source`'s project whose publication chooses the editorial theme."""
    root = copy_project(dest, source)
    if not (root / "layouts" / "default").is_dir():
        shutil.copytree(REPO / "layouts" / "default", root / "layouts" / "default")
    if not installed():
        shutil.copytree(PACKAGE, root / "layouts" / "editorial",
                        ignore=shutil.ignore_patterns("fonts", "__init__.py", "__pycache__"))
        shutil.copytree(PACKAGE / "fonts" / "NotoSerif", root / "fonts" / "NotoSerif",
                        copy_function=os.link, dirs_exist_ok=True)
    publication = root / "content" / "publication.yaml"
    text = publication.read_text(encoding="utf-8")
    publication.write_text(re.sub(r"(?m)^theme: \S+", "theme: editorial", text), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def editorial(tmp_path_factory):
    """The repository's project in the editorial theme, built once (every target)."""
    from culturebook.build.pipeline import build

    root = editorial_project(tmp_path_factory.mktemp("editorial") / "project")
    with WeasyPrintLog() as log:
        artifacts, warnings = build(root, "all")
    return root, artifacts, warnings, log.messages()


# --- the package ---------------------------------------------------------------------------------


def test_package_declares_the_theme_entry_point_and_one_version():
    project = tomllib.loads((THEME / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    theme = yaml.safe_load((PACKAGE / "theme.yaml").read_text(encoding="utf-8"))
    assert project["name"] == "culturebook-theme-editorial"
    assert project["entry-points"]["culturebook.themes"] == {"editorial": "culturebook_theme_editorial"}
    assert theme["version"] == project["version"] == "0.1.0"
    assert theme["extends"] == "default"


def test_fonts_are_in_the_package_with_their_licence_and_readable():
    from culturebook.project.brand import font_file_problem

    theme = yaml.safe_load((PACKAGE / "theme.yaml").read_text(encoding="utf-8"))
    serif = [f["file"] for f in theme["fonts"]["faces"] if f["file"].startswith("NotoSerif/")]
    assert len(serif) == 7
    for name in serif:
        assert font_file_problem(PACKAGE / "fonts" / name) is None, name
    licence = (PACKAGE / "fonts" / "NotoSerif" / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "fonts-noto-core" in (THEME / "README.md").read_text(encoding="utf-8")
    # The Chinese editions keep the default theme's CJK face (its files are not repeated here).
    assert {"family": "Noto Sans CJK SC", "file": "NotoSansCJKsc/NotoSansCJKsc-Regular.otf",
            "weight": 400, "style": "normal"} in theme["fonts"]["faces"]


# --- a project in the theme ---------------------------------------------------------------------


@pytest.mark.slow
def test_check_passes_without_warnings(tmp_path):
    root = editorial_project(tmp_path / "project")
    result = run_cli("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "ok: 2 editions (en, zh-Hans), theme 'Editorial', 0 warnings" in result.stdout + result.stderr


@pytest.mark.slow
def test_builds_every_target_without_warnings(editorial):
    root, artifacts, warnings, log = editorial
    assert [str(w) for w in warnings] == []
    assert log == []
    built = {str(a.path) for a in artifacts}
    assert {"en/booklet.pdf", "zh-Hans/booklet.pdf", "en/print/booklet.pdf",
            "en/posters/integrity.pdf", "zh-Hans/posters/integrity.pdf"} <= built
    for lang in ("en", "zh-Hans"):
        report = json.loads((root / "build" / lang / "preflight.json").read_text(encoding="utf-8"))
        assert (report["errors"], report["warnings"]) == (0, 0), report


@pytest.mark.slow
def test_text_is_on_its_pages(editorial):
    root = editorial[0]
    en = read_pdf(root / "build/en/booklet.pdf")
    assert normalise("Value for Users") in normalise(page_text(en, 0))
    # Small capitals (the masthead, the edition) extract as the letters written, case and all.
    assert "Tencent" in page_text(en, 0) and "Culture 3.0" in page_text(en, 0)
    assert "Contents" in page_text(en, 2)
    assert normalise("Value for Users") in normalise(page_text(en, 3))  # the mission opens on page 4
    assert normalise("Tech for Good") in normalise(page_text(en, 4))
    values = normalise(page_text(en, 5) + page_text(en, 6))
    assert all(normalise(word) in values
               for word in ("Integrity", "Proactivity", "Collaboration", "Creativity"))
    assert normalise("Our culture, evolved") in normalise(page_text(en, 8))
    zh = read_pdf(root / "build/zh-Hans/booklet.pdf")
    assert normalise("用户为本") in normalise(page_text(zh, 0))
    assert normalise("正直") in normalise(page_text(zh, 5))
    poster = read_pdf(root / "build/en/posters/integrity.pdf")
    assert normalise("Integrity") in normalise(page_text(poster, 0))


@pytest.mark.slow
def test_booklet_embeds_the_serif_and_no_sans_in_english(editorial):
    root = editorial[0]
    names = {normalise(str(f.get("/BaseFont", "")).partition("+")[2])
             for f in font_dicts(read_pdf(root / "build/en/booklet.pdf"))}
    assert any(n.startswith("notoserifdisplay") for n in names), names
    assert any(n.startswith("notoserif") and not n.startswith("notoserifdisplay") for n in names), names
    assert not any(n.startswith("inter") for n in names), names
    zh = {normalise(str(f.get("/BaseFont", "")).partition("+")[2])
          for f in font_dicts(read_pdf(root / "build/zh-Hans/booklet.pdf"))}
    assert any(n.startswith("notosanscjksc") for n in zh), zh


def _share(image, colour: tuple[int, int, int], tolerance: int = 6) -> float:
    """The share of an image's pixels within `tolerance` of `colour` on every channel."""
    counts = image.getcolors(image.width * image.height)
    near = sum(n for n, p in counts if all(abs(a - b) <= tolerance for a, b in zip(p, colour, strict=True)))
    return near / (image.width * image.height)


@pytest.mark.slow
def test_cover_is_cream_with_a_claret_title_and_the_back_cover_claret(editorial, tmp_path):
    root = editorial[0]
    pdf = root / "build/en/booklet.pdf"
    pages = render_pages(pdf, [1, len(read_pdf(pdf).pages)], 60, "poppler", tmp_path)
    cover, back = pages[1], pages[max(pages)]
    assert _share(cover, CREAM) > 0.8
    assert _share(cover, CLARET, tolerance=12) > 0.008  # the title's strokes (1.3 % of the page)
    assert _share(back, CLARET) > 0.8


@pytest.mark.slow
def test_print_booklet_sets_the_claret_in_its_cmyk(editorial):
    root = editorial[0]
    reader = read_pdf(root / "build/en/print/booklet.pdf")
    stream = reader.pages[0].get_contents().get_data().decode("latin-1")
    # print: colours: brand: 20 100 75 30, the cover title's fill
    assert re.search(r"(?<![\d.])0?\.2 1 0?\.75 0?\.3 (k|sc|scn)\b", stream), stream[:400]


@pytest.mark.slow
def test_other_content_shapes_build(tmp_path):
    """The shapes project (many values, long names, few chapters) in the editorial theme."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "tests" / "projects" / "shapes" / "content", source / "content")
    shutil.copytree(REPO / "layouts", source / "layouts")
    os.symlink(REPO / "fonts", source / "fonts")
    root = editorial_project(tmp_path / "project", source)
    result = run_cli("build", "booklet", cwd=root)
    assert result.returncode == 0, result.stderr
    result = run_cli("build", "posters", cwd=root)
    assert result.returncode == 0, result.stderr


def test_extra_stylesheets_follow_the_default_ones():
    """The default theme links a theme's _booklet_extra.html / _poster_extra.html after its own
    stylesheets, so the editorial CSS wins over the default's without copying it."""
    head = (REPO / "layouts/default/_booklet_head.html").read_text(encoding="utf-8")
    poster = (REPO / "layouts/default/poster.html").read_text(encoding="utf-8")
    assert head.index("booklet.css") < head.index('include "_booklet_extra.html" ignore missing')
    assert poster.index("poster.css") < poster.index('include "_poster_extra.html" ignore missing')
    assert "editorial.css" in (PACKAGE / "_booklet_extra.html").read_text(encoding="utf-8")
    assert "editorial-poster.css" in (PACKAGE / "_poster_extra.html").read_text(encoding="utf-8")


def test_entry_point_when_installed():
    """With the package installed (pip install -e themes/editorial), its entry point names the
    folder holding theme.yaml, found without importing the package."""
    points = [e for e in importlib.metadata.entry_points(group="culturebook.themes") if e.name == "editorial"]
    if not points:
        pytest.skip("culturebook-theme-editorial is not installed")
    spec = importlib.util.find_spec(points[0].value)
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    assert (folder / "theme.yaml").is_file() and (folder / "fonts/NotoSerif/OFL.txt").is_file()

"""Rendering: layout decisions a reader notices (padding, frontispieces, posters, images, confinement)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from PIL import Image

from conftest import all_text, normalise, page_size_mm, page_text, read_pdf, text_pieces
from culturebook.build.pipeline import build
from culturebook.errors import ProjectError
from culturebook.render.templates import format_date, title_lines
from culturebook.render.weasy import ConfinedFetcher


@pytest.mark.parametrize(("title", "lines"), [
    ("Value for Users, Tech for Good", ["Value for Users,", "Tech for Good"]),
    ("用户为本，科技向善", ["用户为本", "科技向善"]),
    ("Acme", ["Acme"]),
])
def test_title_lines_break_after_commas(title, lines):
    assert title_lines(title) == lines


def test_format_date_follows_the_labels():
    date = dt.date(2019, 11, 11)
    assert format_date(date, {}) == "11 November 2019"
    assert format_date(date, {"date_format": "{year}年{month}月{day}日"}) == "2019年11月11日"
    months = "janvier, février, mars, avril, mai, juin, juillet, août, septembre, octobre, " \
             "novembre, décembre"
    assert format_date(date, {"date_format": "{day} {month_name} {year}", "months": months}) \
        == "11 novembre 2019"


def test_fetcher_serves_project_files_and_refuses_the_rest(tmp_path):
    (tmp_path / "content").mkdir()
    inside = tmp_path / "content" / "a.css"
    inside.write_text("p{}")
    fetcher = ConfinedFetcher(tmp_path.resolve())
    assert fetcher.fetch(inside.as_uri()).read() == b"p{}"
    for url in ("file:///etc/passwd", "http://example.com/x.css",
                (tmp_path / "content" / ".." / ".." / "x").as_uri()):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 3


def _set_yaml(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_booklet_is_padded_before_the_back_cover(make_project):
    """Extra chapters change the page count; padding pages keep it a multiple of four and the back
    cover stays last, with the mission on it."""
    root = make_project()
    _set_yaml(root / "content" / "publication.yaml", "languages: [en, zh-Hans]", "languages: [en]")
    en = root / "content" / "en.yaml"
    extra = "\n".join(
        f"  - id: extra-{n}\n    title: \"Extra chapter {n}\"\n    body: |\n"
        + "".join(f"      Paragraph {p} of extra chapter {n}, long enough to take a few lines of the "
                  f"page so that the layout has something to paginate.\n\n" for p in range(6))
        for n in range(1, 3))
    _set_yaml(en, "\nmilestones:", "\n" + extra + "\nmilestones:")
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    pages = len(reader.pages)
    assert pages % 4 == 0
    last = page_text(reader, pages - 1).replace("\u00a0", " ")  # last words bound by a no-break space
    assert "value for users" in last.lower() and "culture 3.0" in last.lower()
    assert "Extra chapter 2" in all_text(reader)


def test_every_page_of_the_default_booklets_has_content(built_root):
    """No accidental blank page: frontispieces fill the pages before right-hand chapter openers."""
    for lang in ("en", "zh-Hans"):
        reader = read_pdf(built_root / "build" / lang / "booklet.pdf")
        for i in range(len(reader.pages)):
            assert page_text(reader, i).strip(), f"{lang} page {i + 1} is blank"


def _set_statement(root: Path, statement: str) -> int:
    """Give the first value of the English edition this statement; its line in en.yaml."""
    en = root / "content" / "en.yaml"
    lines = en.read_text(encoding="utf-8").splitlines()
    line = next(n for n, t in enumerate(lines, 1) if "statement:" in t)
    indent = lines[line - 1].index("statement:")
    lines[line - 1] = " " * indent + f'statement: "{statement}"'
    en.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return line


@pytest.mark.slow
def test_poster_statement_too_long_names_the_field(make_project):
    """Beyond what the smallest legible size holds: one error at the field, saying by how much and
    what would fit, and nothing written."""
    root = make_project()
    line = _set_statement(root, " ".join(["Every word of this statement makes the poster longer."] * 60))
    with pytest.raises(ProjectError) as info:
        build(root, "posters", ["en"])
    message = info.value.problems[0].format(root)
    expected = (rf"content/en\.yaml:{line}:16: values\[1\]\.statement does not fit its A2 poster "
                r"even at the smallest sizes the theme allows: at 28 pt it needs \d+ mm more than "
                r"the frame's 428 mm\n    hint: about \d+ of its 540 words fit: shorten it, choose a "
                r"larger sheet \(posters: size: in content/publication.yaml\), or lower the theme's "
                r"fit: roles: statement: min:$")
    assert re.match(expected, message), message
    assert len(info.value.problems) == 1
    assert not (root / "build" / "en" / "posters").exists()


@pytest.mark.slow
def test_a_longer_statement_is_set_smaller_with_every_word(make_project):
    """A statement that does not fit at the theme's largest size is set smaller (never below the
    smallest), every word on the poster, and the series follows it."""
    root = make_project()
    statement = " ".join(["Hold firm to our principles and put ethics first."] * 16)
    _set_statement(root, statement)
    build(root, "posters", ["en"])
    posters = root / "build" / "en" / "posters"
    sizes = {}
    for pdf in sorted(posters.glob("*.pdf")):
        reader = read_pdf(pdf)
        assert len(reader.pages) == 1
        sizes[pdf.stem] = sorted({round(p.size, 1) for p in text_pieces(reader, 0)})
    text = normalise(all_text(read_pdf(posters / "integrity.pdf")))
    assert normalise(statement) in text
    statement_size = min(s for s in sizes["integrity"] if s > 25)
    assert 28 <= statement_size < 42, sizes["integrity"]
    for stem in ("proactivity", "collaboration", "creativity"):
        assert statement_size in sizes[stem], (stem, sizes[stem])


@pytest.mark.parametrize(("size", "mm"), [("A3", (297, 420)), ("Letter", (215.9, 279.4))])
@pytest.mark.slow
def test_poster_sizes(make_project, size, mm):
    root = make_project()
    _set_yaml(root / "content" / "publication.yaml", "size: A2", f"size: {size}")
    build(root, "posters", ["en"])
    reader = read_pdf(root / "build" / "en" / "posters" / "integrity.pdf")
    width, height = page_size_mm(reader.pages[0])
    assert abs(width - mm[0]) < 0.5 and abs(height - mm[1]) < 0.5


@pytest.mark.slow
def test_content_image_is_placed(make_project):
    root = make_project()
    (root / "content" / "images").mkdir()
    Image.new("RGB", (300, 200), "#0052D9").save(root / "content" / "images" / "team.png")
    _set_yaml(root / "content" / "en.yaml", "    body: |\n",
              "    body: |\n      ![Our team](images/team.png)\n\n")
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    images = [img for page in reader.pages for img in page.images]
    assert images, "the content image is not in the PDF"


def test_builds_are_byte_identical(built_root, make_project):
    """The same content gives the same bytes: dates come from the content, ids from the parts."""
    import json

    root = make_project()
    build(root, "all")
    first = json.loads((built_root / "build" / "manifest.json").read_text())["artifacts"]
    second = json.loads((root / "build" / "manifest.json").read_text())["artifacts"]
    assert [(a["path"], a["sha256"]) for a in first] == [(a["path"], a["sha256"]) for a in second]


def _add_values(root: Path, count: int, statement: str) -> None:
    en = root / "content" / "en.yaml"
    extra = "".join(f'  - id: extra-{i}\n    name: "Value {i}"\n    statement: "{statement}"\n'
                    for i in range(count))
    _set_yaml(en, "\nchapters:", "\n" + extra + "chapters:")
    _set_yaml(root / "content" / "publication.yaml", "languages: [en, zh-Hans]", "languages: [en]")


def _values_pages(reader, statements: tuple[str, ...]) -> list[int]:
    """The 0-based pages that show any of these statements (the contents lists names only)."""
    return [i for i in range(len(reader.pages))
            if any(normalise(text) in normalise(page_text(reader, i)) for text in statements)]


@pytest.mark.slow
def test_eight_values_make_one_spread(make_project):
    root = make_project()
    _add_values(root, 4, "A statement of two sentences. It says what we do when nobody is watching.")
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    pages = _values_pages(reader, ("It says what we do", "Hold firm to our principles"))
    assert pages == [pages[0], pages[0] + 1] and pages[0] % 2 == 1  # left page (even folio) + right


@pytest.mark.slow
def test_ten_long_values_continue_over_two_spreads_every_word_set(make_project):
    """More values than a spread holds continue on the next spread, in order, none cut."""
    root = make_project()
    statement = " ".join(["Every value says a lot about what we do."] * 6)
    _add_values(root, 6, statement)
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    pages = _values_pages(reader, ("what we do. Every value", "Hold firm to our principles"))
    assert pages == list(range(pages[0], pages[0] + 4)) and pages[0] % 2 == 1
    text = normalise(" ".join(page_text(reader, i) for i in pages))
    assert text.count(normalise("Every value says a lot about what we do.")) == 36
    order = [text.index(normalise(f"Value {i}")) for i in range(6)]
    assert order == sorted(order)


@pytest.mark.slow
def test_a_title_too_long_for_the_cover_names_the_field(make_project):
    root = make_project()
    _set_yaml(root / "content" / "publication.yaml", "languages: [en, zh-Hans]", "languages: [en]")
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8")
    long_title = " ".join(["A title that says far too much for one cover,"] * 6)
    _set_yaml(en, 'title: "Value for Users, Tech for Good"', f'title: "{long_title}"')
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("title:"))
    with pytest.raises(ProjectError) as info:
        build(root, "booklet", ["en"])
    message = info.value.problems[0].format(root)
    assert re.match(rf"content/en\.yaml:{line}:\d+: title is too long for its page of the booklet: "
                    r"it (runs into edition by|runs) \d+\.\d mm", message), message


@pytest.mark.slow
def test_weasyprint_loads_every_library_it_uses_and_leaves_library_lookup_as_it_was():
    """load_weasyprint answers ctypes' library lookups "not found" while WeasyPrint imports, so it
    opens its libraries by soname; in a fresh process, every one must still be found (HarfBuzz's
    subsetter too, which WeasyPrint would otherwise do without), and the lookup be restored."""
    import subprocess
    import sys

    probe = (
        "import ctypes.util\n"
        "before = ctypes.util.find_library\n"
        "from culturebook.render.weasy import load_weasyprint\n"
        "load_weasyprint()\n"
        "from weasyprint.text import ffi\n"
        "libs = [ffi.gobject, ffi.pango, ffi.harfbuzz, ffi.harfbuzz_subset, ffi.fontconfig,"
        " ffi.pangoft2]\n"
        "print(all(lib is not None for lib in libs), ctypes.util.find_library is before,"
        " ctypes.util.find_library('c') is not None)\n")
    result = subprocess.run([sys.executable, "-W", "error", "-c", probe], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]


@pytest.mark.slow
def test_a_build_leaves_no_copies_of_the_fonts_behind(tmp_path):
    """WeasyPrint copies every @font-face file (34 MB here) for each FontConfiguration and removes
    the copies only on garbage collection, which forked workers and killed processes never reach:
    each build leaked the fonts once per worker. Copies now go to culturebook's cache, and go when
    their process exits; a killed process's copies go at the next build."""
    import os
    import subprocess
    import sys

    from projectkit import make_project

    root = make_project(tmp_path / "project", "minimal")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    copies = tmp_path / "cache" / "culturebook" / "font-copies"
    dead = subprocess.Popen([sys.executable, "-c", "import os; print(os.getpid())"],
                            stdout=subprocess.PIPE, text=True)
    pid = int(dead.communicate()[0])  # a process that has ended, as a killed build has
    (copies / f"{pid}-killed").mkdir(parents=True)
    (copies / f"{pid}-killed" / "font.otf").write_bytes(b"x" * 1024)
    before = {p.name for p in Path("/tmp").glob("weasyprint-*")}
    result = subprocess.run([sys.executable, "-m", "culturebook", "build", "posters", "-j", "2",
                             "-q", "--project", str(root)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (root / "build" / "en" / "posters").glob("*.pdf"))  # it rendered
    assert list(copies.iterdir()) == []
    assert {p.name for p in Path("/tmp").glob("weasyprint-*")} <= before


@pytest.mark.slow
def test_the_back_cover_sets_mission_and_vision_as_two_statements(make_project):
    """Two statements stay two: no comma of ours joins them on the back cover."""
    root = make_project()
    _set_yaml(root / "content" / "publication.yaml", "languages: [en, zh-Hans]", "languages: [en]")
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    back = [p.text.replace("\u00a0", " ").strip() for p in text_pieces(reader, len(reader.pages) - 1)]
    assert "Value for Users" in back and "Tech for Good" in back, back
    assert "Users, Tech" not in " ".join(back)


@pytest.mark.slow
def test_the_year_is_not_repeated_when_the_edition_says_it(make_project):
    """An edition named "2019 edition" in a 2019 publication: the cover and the poster band say
    2019 once."""
    root = make_project()
    _set_yaml(root / "content" / "publication.yaml", "languages: [en, zh-Hans]", "languages: [en]")
    _set_yaml(root / "content" / "en.yaml", 'edition: "Culture 3.0"', 'edition: "2019 edition"')
    build(root, "posters", ["en"])
    build(root, "booklet", ["en"])
    cover = page_text(read_pdf(root / "build" / "en" / "booklet.pdf"), 0)
    band = page_text(read_pdf(root / "build" / "en" / "posters" / "integrity.pdf"), 0)
    assert cover.count("2019") == 1 and "2019 EDITION" in cover, cover
    assert band.count("2019") == 1 and "2019 edition" in band, band


@pytest.mark.parametrize(("lang", "subtitle"), [("en", "Tencent’s corporate culture"),
                                                ("zh-Hans", "腾讯企业文化")])
def test_the_cover_shows_the_subtitle_beneath_the_title(built_root, lang, subtitle):
    """The content reference says the subtitle is on the cover: beneath the title (and, in a
    translated edition, beneath the title's source-language version)."""
    reader = read_pdf(built_root / "build" / lang / "booklet.pdf")
    pieces = text_pieces(reader, 0)
    lines = [p.text.strip() for p in sorted(pieces, key=lambda p: -p.y)]
    assert subtitle in lines, lines
    below = lines[lines.index(subtitle) - 1]
    assert below == ("Tech for Good" if lang == "en" else "Value for Users, Tech for Good"), lines


# --- languages: fields left in the source language, regional CJK forms ---------------------------


@pytest.mark.slow
def test_fields_that_fell_back_carry_the_source_language_and_nothing_else_does(tmp_path):
    from culturebook.checks.project import check_project
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer
    from projectkit import make_project

    root = make_project(tmp_path / "project", "languages")
    checked = check_project(root)
    renderer = Renderer(root, checked.brand, cache_dir())
    html = renderer.booklet_html(checked.content.edition("fr"))

    def marked(html: str) -> set[tuple[str, str]]:
        """(lang, field) of every element that shows a field and names a language."""
        tags = re.findall(r"<[a-z0-9]+\s[^>]*\bdata-field=[^>]*>", html)
        return {(re.search(r'\slang="([^"]+)"', tag)[1], re.search(r'data-field="([^"]+)"', tag)[1])
                for tag in tags if re.search(r"\slang=", tag)}

    english_anyway = {("en", "title (en)"), ("en", "values[1].name"), ("en", "values[2].name"),
                      ("en", "values[3].name")}  # the English title and value names beneath
    assert marked(html) == {("en", "chapters[2].body"), ("en", "chapters[2].title"),
                            ("en", "values[2].statement")} | english_anyway
    assert '<span lang="en">How we work</span>' in html  # named in the imprint, in its language
    # The Japanese edition translates everything: only what is English anyway says so.
    html = renderer.booklet_html(checked.content.edition("ja"))
    assert marked(html) == english_anyway
    assert "imprint-untranslated" not in html


def test_the_inside_cover_names_the_parts_left_in_the_source_language(languages_built):
    fr = read_pdf(languages_built / "build" / "fr" / "booklet.pdf")
    assert page_text(fr, 1).splitlines()[-1] == (
        "Not yet translated, so in the original: Values, How we work.")
    ja = read_pdf(languages_built / "build" / "ja" / "booklet.pdf")
    assert "原文" not in page_text(ja, 1) and "発行日" in page_text(ja, 1)


def test_each_cjk_edition_draws_its_regions_forms(languages_built):
    """One face of Noto Sans CJK has every region's forms; the edition's lang picks them (locl)."""
    from fontTools.ttLib import TTFont

    from conftest import REPO, glyph_codes

    def codes(lang: str, char: str) -> set[int]:
        return glyph_codes(languages_built / "build" / lang / "booklet.pdf", char)

    with TTFont(REPO / "fonts" / "NotoSansCJKsc" / "NotoSansCJKsc-Bold.otf", lazy=True) as font:
        simplified = font.getGlyphID(font.getBestCmap()[ord("骨")])
    assert codes("zh-Hans", "骨") == {simplified}  # the face's own (Simplified Chinese) form
    assert codes("ja", "骨") == {simplified - 1}
    assert codes("zh-Hant", "骨") == {simplified + 1}
    assert codes("ja", "直") != codes("zh-Hans", "直") == codes("zh-Hant", "直")
    # Korean: punctuation set among Hangul takes its Korean (proportional) form.
    assert codes("ko", "“") and codes("ko", "“").isdisjoint(codes("zh-Hans", "“") | {0})


def test_a_latin_name_in_the_chinese_edition_is_marked_with_the_source_language(built_root,
                                                                                 checked):
    """"打造了QQ": the product name is in the Latin letters of the source language (en), marked so
    in the HTML and in the tagged PDF, and set in its fonts; the Chinese around it is not."""
    from culturebook.files import cache_dir
    from culturebook.pdf.structure import read_structure
    from culturebook.render.engine import Renderer

    edition = checked.content.edition("zh-Hans")
    html = Renderer(built_root, checked.brand, cache_dir()).booklet_html(edition)
    assert '打造了<span lang="en">QQ</span>。' in html
    reader = read_pdf(built_root / "build" / "zh-Hans" / "booklet.pdf")
    assert ("QQ", "en") in read_structure(reader).languages


def test_han_in_an_english_statement_is_marked_zh_hans(english_only):
    """The English edition's own fonts lack Han; the theme's Chinese font sets it, and its lang
    (CJK glyph forms, the tagged PDF's /Lang) comes with it, in the booklet and on the poster."""
    from culturebook.checks.project import check_project
    from culturebook.files import cache_dir
    from culturebook.pdf.structure import read_structure
    from culturebook.render.engine import Renderer

    checked = check_project(english_only)
    edition = checked.content.edition("en")
    html = Renderer(english_only, checked.brand, cache_dir()).booklet_html(edition)
    assert '<span lang="zh-Hans">坦诚相待</span>: we say what we think' in html
    for pdf in ("booklet.pdf", "posters/candour.pdf"):
        reader = read_pdf(english_only / "build" / "en" / pdf)
        assert ("坦诚相待", "zh-Hans") in read_structure(reader).languages, pdf
        assert "坦诚相待" in all_text(reader)


def test_an_image_weasyprint_fails_on_is_reported_at_its_reference(tmp_path):
    """What WeasyPrint only logs about an image (a failure the checks did not foresee) is put at
    the line that refers to it, with the checks' reason where they find one: it was the
    template's path alone, and for an SVG an empty reason."""
    from culturebook.checks.project import check_project
    from culturebook.render.engine import Renderer
    from projectkit import make_project, where

    root = make_project(tmp_path / "project", "minimal")
    (root / "content" / "mark.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="9"/></svg>')
    en = root / "content" / "en.yaml"
    last = "Everything else follows from that."
    text = en.read_text(encoding="utf-8").replace(last, f"{last}\n\n      ![Our mark](mark.svg)")
    en.write_text(text, encoding="utf-8")
    checked = check_project(root)
    edition = checked.content.editions[0]
    renderer = Renderer(root, checked.brand, tmp_path / "cache")
    svg = (root / "content" / "mark.svg").resolve().as_uri()
    problem = renderer.logged_problem(f"Failed to render SVG image {svg}", edition, "booklet.html")
    assert problem.format(root).splitlines() == [
        f"content/en.yaml:{where(text, '![Our mark]')}: image 'mark.svg' cannot be drawn: WeasyPrint "
        "failed to render this SVG", "    hint: export the image again, or leave it out"]

    # A theme's image, named where the template names it; the file broken after the checks ran.
    template = root / "layouts" / "default" / "booklet.html"
    html = template.read_text(encoding="utf-8").replace(
        "<body>\n", '<body>\n<img src="logo.svg" alt="Example Co">\n', 1)
    template.write_text(html, encoding="utf-8")
    logo = root / "layouts" / "default" / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>')
    problem = renderer.logged_problem(f"Failed to load image at '{logo.resolve().as_uri()}': ",
                                      edition, "booklet.html")
    assert problem.format(root).splitlines()[0] == (
        f"layouts/default/booklet.html:{where(html, 'logo.svg')}: image 'logo.svg' is not "
        "well-formed SVG: mismatched tag: line 1, column 48")

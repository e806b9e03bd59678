"""words.py: every way WeasyPrint loses text without a word is reported with the missing words and
their page, and text that is only set differently (hyphenated, uppercase, split over pages, CJK)
is not.

Tiny documents are laid out with WeasyPrint directly, in the repository's own fonts (fontconfig sees
only fonts/, as in a build), so line breaks and therefore the missing words are the same everywhere.
Where the layout itself tells how WeasyPrint loses the text (lines dropped from it, or kept and only
clipped when drawn), a test checks that first.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from conftest import REPO
from culturebook.errors import Location, ProjectError
from culturebook.render.geometry import check_words
from culturebook.render.weasy import setup_fontconfig
from culturebook.render.words import (
    CLIPPED,
    COVERED,
    DROPPED,
    HIDDEN,
    PAST_EDGE,
    Loss,
    excerpt,
    lost_words,
    own_text,
)
from projectkit import PROJECTS, assert_refused, edit, make_project, run_cli, snapshot, where

pytestmark = pytest.mark.usefixtures("no_weasyprint_warnings")

WORDS = "one two three four five six seven eight"


@pytest.fixture(scope="module")
def fonts(tmp_path_factory):
    """A FontConfiguration that sees only the repository's fonts (Inter, Noto Sans CJK SC)."""
    setup_fontconfig(REPO / "fonts", tmp_path_factory.mktemp("fontconfig"))
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def lay_out(fonts, body: str, css: str = "", size: str = "200px 200px", lang: str = "en"):
    """A laid-out document: pages of `size` without margins, 10px Inter on 12px lines."""
    from weasyprint import HTML

    html = (f'<!DOCTYPE html><html lang="{lang}"><head><style>'
            f"@page {{ size: {size}; margin: 0 }} body {{ margin: 0; font: 10px/12px Inter }}"
            f"p {{ margin: 0 }} {css}</style></head><body>{body}</body></html>")
    return HTML(string=html).render(font_config=fonts)


def laid_out_text(document) -> str:
    """The text of every text box of the layout, drawn or not."""
    found = []

    def walk(box):
        box = getattr(box, "_box", box)
        if hasattr(box, "text") and type(box).__name__ == "TextBox":
            found.append(box.text)
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return " ".join(found)


# --- ways text is lost ----------------------------------------------------------------------------


def displayed(document_css: str, body: str):
    """A `shown(element, root)` for lost_words: display: none on the element or an ancestor, read
    from the cascade of the same document (as Renderer.displayed does)."""
    from weasyprint import HTML
    from weasyprint.css import get_all_computed_styles

    html = (f"<!DOCTYPE html><html><head><style>{document_css}</style></head><body>{body}</body>"
            "</html>")
    again = HTML(string=html)
    style_for = get_all_computed_styles(again)
    parent = {child: p for p in again.etree_element.iter() for child in p}

    def shown(element, root):
        other = dict(zip(root.iter(), again.etree_element.iter(), strict=False)).get(element)
        while other is not None:
            if style_for(other) is not None and style_for(other)["display"] == ("none",):
                return False
            other = parent.get(other)
        return True

    return shown


def test_a_flex_item_the_page_has_no_room_for_is_dropped_whole(fonts):
    """A fixed-height flex column (like the values spread's pages) lays out no box at all for a
    paragraph past its end: its words are in no box. Only with `shown` can the check tell that
    from an element the theme leaves out."""
    css = ".page { height: 200px; display: flex; flex-direction: column } .item { flex: 1; margin-top: 20px }"
    words = [" ".join(f"w{i}x{j}" for j in range(20)) for i in range(4)]
    body = '<div class="page">' + "".join(
        f'<div class="item"><p data-field="n{i}">name{i}</p><p data-field="s{i}">{words[i]}</p></div>'
        for i in range(4)) + "</div>"
    document = lay_out(fonts, body, css)
    assert "name3" in laid_out_text(document) and "w3x0" not in laid_out_text(document)
    assert lost_words(document.pages) == []  # without `shown`, a missing box is not judged
    full = ("@page { size: 200px 200px; margin: 0 } body { margin: 0; font: 10px/12px Inter } "
            f"p {{ margin: 0 }} {css}")
    assert lost_words(document.pages, displayed(full, body)) == [Loss("s3", 1, (words[3],), DROPPED)]


def test_a_field_the_theme_does_not_display_is_not_lost(fonts):
    body = '<p data-field="a">one two</p><p data-field="b" class="gone">three four</p>'
    css = ".gone { display: none }"
    document = lay_out(fonts, body, css)
    full = ("@page { size: 200px 200px; margin: 0 } body { margin: 0; font: 10px/12px Inter } "
            f"p {{ margin: 0 }} {css}")
    assert lost_words(document.pages, displayed(full, body)) == []


def test_an_absolutely_positioned_box_past_the_sheet_loses_its_lines(fonts):
    document = lay_out(fonts, f'<p class="a" data-field="x">{WORDS} nine ten</p>',
                       ".a { position: absolute; top: 160px; width: 80px; font-size: 20px; "
                       "line-height: 20px }")
    assert "ten" not in laid_out_text(document)  # the layout dropped the lines: not in the PDF
    assert lost_words(document.pages) == [
        Loss("x", 1, ("four five six seven eight nine ten",), PAST_EDGE)]


def test_overflow_hidden_clips_the_lines_below_the_box(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p>',
                       "p { width: 80px; height: 24px; overflow: hidden }")
    assert "seven eight" in laid_out_text(document)  # laid out, drawn outside the clip
    assert lost_words(document.pages) == [Loss("x", 1, ("seven eight",), CLIPPED)]


def test_max_height_with_overflow_hidden_clips(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p>',
                       "p { width: 80px; max-height: 12px; overflow: hidden }")
    assert lost_words(document.pages) == [Loss("x", 1, ("four five six seven eight",), CLIPPED)]


def test_a_positioned_box_with_a_background_covers_text(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p><div class="badge"></div>',
                       "p { width: 80px } .badge { position: absolute; top: 12px; left: 0; "
                       "width: 100px; height: 12px; background: white }")
    assert lost_words(document.pages) == [Loss("x", 1, ("four five six",), COVERED)]


def test_text_above_a_positioned_background_is_not_covered(fonts):
    document = lay_out(fonts, f'<div class="badge"></div><p data-field="x">{WORDS}</p>',
                       "p { position: relative; z-index: 2; width: 80px } .badge { position: "
                       "absolute; z-index: 1; top: 0; width: 100px; height: 40px; background: white }")
    assert lost_words(document.pages) == []


def test_a_translucent_box_does_not_cover_text(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p><div class="badge"></div>',
                       "p { width: 80px } .badge { position: absolute; top: 12px; left: 0; "
                       "width: 100px; height: 12px; background: white; opacity: 0.3 }")
    assert lost_words(document.pages) == []


def test_a_page_margin_box_too_small_pushes_its_text_off_the_page(fonts):
    """A running element in the bottom margin is centred on it: its last lines run off the page."""
    document = lay_out(
        fonts, f'<p class="foot" data-field="footer">{WORDS} nine ten eleven twelve</p>'
               '<p data-field="body">Body text.</p>',
        "@page { margin: 20px; @bottom-center { content: element(foot) } }"
        ".foot { position: running(foot); font-size: 20px; line-height: 20px }")
    assert "twelve" in laid_out_text(document)  # laid out, past the sheet
    assert lost_words(document.pages) == [
        Loss("footer", 1, ("ten eleven twelve",), PAST_EDGE)]


def test_visibility_hidden_hides_words(fonts):
    document = lay_out(fonts, '<p data-field="x">one <span class="h">two three</span> four</p>',
                       ".h { visibility: hidden }")
    assert lost_words(document.pages) == [Loss("x", 1, ("two three",), HIDDEN)]


def test_a_transparent_colour_and_opacity_zero_hide_text(fonts):
    document = lay_out(fonts, '<p data-field="x">one <span class="t">two</span></p>'
                              '<div class="o"><p data-field="y">three</p></div>',
                       ".t { color: transparent } .o { opacity: 0 }")
    assert lost_words(document.pages) == [Loss("x", 1, ("two",), HIDDEN),
                                          Loss("y", 1, ("three",), HIDDEN)]


def test_text_overflow_ellipsis_cuts_the_line(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p>',
                       "p { width: 60px; white-space: nowrap; overflow: hidden; "
                       "text-overflow: ellipsis }")
    # Drawn as "one two th…": "three" loses letters, so it is missing too.
    assert lost_words(document.pages) == [
        Loss("x", 1, ("three four five six seven eight",), CLIPPED)]


def test_max_lines_drops_lines_from_the_layout(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p>', "p { width: 80px; max-lines: 1 }")
    assert "four" not in laid_out_text(document)
    assert lost_words(document.pages) == [Loss("x", 1, ("four five six seven eight",), DROPPED)]


def test_line_clamp_drops_lines_and_its_ellipsis_takes_the_last_word(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p>', "p { width: 70px; line-clamp: 1 }")
    # Laid out "one two three"; drawn "one two…": with the ellipsis, "three" no longer fits.
    assert "four" not in laid_out_text(document)
    assert lost_words(document.pages) == [
        Loss("x", 1, ("three four five six seven eight",), CLIPPED)]


def test_text_past_the_right_edge_of_the_page(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS}</p>',
                       "p { white-space: nowrap; margin-left: 120px }")
    # One line from x = 120 px on a 200 px page: "one two three fo|ur five…" ("four" is cut).
    assert lost_words(document.pages) == [Loss("x", 1, ("four five six seven eight",), PAST_EDGE)]


def test_the_page_is_where_the_missing_words_are(fonts):
    document = lay_out(fonts, '<p data-field="x">first page</p><p class="b" data-field="y">'
                              f"{WORDS}</p>",
                       ".b { break-before: page; width: 80px; height: 12px; overflow: hidden }")
    assert lost_words(document.pages) == [
        Loss("y", 2, ("four five six seven eight",), CLIPPED)]


def test_chinese_text_reports_the_run_of_missing_characters(fonts):
    document = lay_out(fonts, '<p data-field="x">科技向善，用户为本。我们坚守底线。</p>',
                       "p { width: 60px; height: 24px; overflow: hidden; "
                       "font-family: 'Noto Sans CJK SC' }", lang="zh-Hans")
    # Three lines of six, six and five characters; the box shows two.
    assert lost_words(document.pages) == [Loss("x", 1, ("坚守底线。",), CLIPPED)]
    assert lost_words(document.pages)[0].words == 4


def test_the_same_field_twice_is_one_loss(fonts):
    document = lay_out(fonts, '<p data-field="x">kept</p><p class="h" data-field="x">lost</p>',
                       ".h { visibility: hidden }")
    assert lost_words(document.pages) == [Loss("x", 1, ("lost",), HIDDEN)]


# --- text set differently, not lost ---------------------------------------------------------------


def test_hyphenated_text_is_whole(fonts):
    text = "Extraordinarily comprehensive internationalisation responsibilities"
    document = lay_out(fonts, f'<p data-field="x">{text}</p>', "p { width: 60px; hyphens: auto }")
    assert "\u2010" in laid_out_text(document)  # it was hyphenated
    assert lost_words(document.pages) == []


def test_uppercase_text_is_whole(fonts):
    document = lay_out(fonts, f'<p data-field="x">{WORDS} straße</p>',
                       "p { text-transform: uppercase }")
    assert "STRASSE" in laid_out_text(document)
    assert lost_words(document.pages) == []


def test_full_width_text_and_a_hyphenation_mark_of_the_themes_own_are_whole(fonts):
    text = "Extraordinarily comprehensive internationalisation responsibilities"
    document = lay_out(fonts, f'<p data-field="x">{text}</p><p data-field="y">one two</p>',
                       "p:first-child { width: 60px; hyphens: auto; hyphenate-character: '~' }"
                       "p + p { text-transform: full-width }")
    assert "~" in laid_out_text(document) and "ｏｎｅ" in laid_out_text(document)
    assert lost_words(document.pages) == []


def test_generated_content_is_not_the_fields_text(fonts):
    document = lay_out(fonts, '<ol><li data-field="x">one <q>two</q></li></ol>',
                       'li::before { content: "» " } li::after { content: " (gone)"; '
                       "visibility: hidden }")
    assert lost_words(document.pages) == []


def test_the_items_of_a_list_are_words_of_their_own(fonts):
    document = lay_out(fonts, '<div data-field="x"><ol><li>First item.</li><li>Second item.</li>'
                              "<li>Third item.</li></ol></div>",
                       "div { height: 24px; overflow: hidden } ol { margin: 0 }")
    assert lost_words(document.pages) == [Loss("x", 1, ("Third item.",), CLIPPED)]


def test_text_split_over_two_pages_is_whole(fonts):
    body = " ".join(f"word{i}" for i in range(120))
    document = lay_out(fonts, f'<p data-field="x">{body}</p>')
    assert len(document.pages) == 2
    assert lost_words(document.pages) == []


def test_a_nested_field_is_checked_on_its_own(fonts):
    document = lay_out(fonts, '<p data-field="outer">one <span data-field="inner">two</span> '
                              'three</p>', "span { visibility: hidden }")
    assert lost_words(document.pages) == [Loss("inner", 1, ("two",), HIDDEN)]
    element = document.pages[0]._page_box.children[0].children[0].children[0].element
    assert own_text(element) == "one  three"


def test_chinese_text_is_whole(fonts):
    text = "科技是一种工具，用科技向善是一种自觉的选择。我们希望助力打造数字基础设施。"
    document = lay_out(fonts, f'<p data-field="x">{text}</p>',
                       "p { width: 60px; font-family: 'Noto Sans CJK SC' }", lang="zh-Hans")
    assert lost_words(document.pages) == []


def test_a_running_element_on_every_page_is_whole(fonts):
    document = lay_out(fonts, '<p class="head" data-field="head">The head</p>'
                              '<p>one</p><p style="break-before: page">two</p>',
                       "@page { margin: 30px; @top-center { content: element(head) } }"
                       ".head { position: running(head) }")
    assert len(document.pages) == 2
    assert lost_words(document.pages) == []


def test_an_element_the_theme_does_not_show_is_skipped(fonts):
    document = lay_out(fonts, '<p data-field="x" style="display: none">gone</p>')
    assert lost_words(document.pages) == []


# --- messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fragments", "shown"), [
    (("before it ships.",), ["before it ships."]),
    (("a b", "c d"), ["a b", "c d"]),
    ((" ".join(f"w{i}" for i in range(15)),), [" ".join(f"w{i}" for i in range(12)) + "…"]),
    (("a " * 11 + "b", "c"), ["a " * 11 + "b…"]),
    (("科技向善用户为本坚守底线以德为先",), ["科技向善用户为本坚守底线…"]),
])
def test_excerpt_quotes_about_twelve_words(fragments, shown):
    assert excerpt(fragments) == shown


def test_check_words_names_the_field_at_its_place_in_the_content(fonts, tmp_path):
    document = lay_out(fonts, '<p data-field="values[2].statement">We test everything before it '
                              "ships.</p>", "p { width: 100px; height: 12px; overflow: hidden }")
    yaml = tmp_path / "en.yaml"
    run = SimpleNamespace(path="values[2].statement", loc=Location(yaml, 12, 16))
    edition = SimpleNamespace(runs=(run,), files=(yaml,))
    with pytest.raises(ProjectError) as info:
        check_words(document, edition, "its A2 poster")
    assert [p.format(tmp_path) for p in info.value.problems] == [
        'en.yaml:12:16: values[2].statement: 3 words missing on page 1 of its A2 poster (clipped by '
        'overflow): "before it ships."\n'
        "    hint: the layout lost them: shorten the text, or change the layout that hides it"]


# --- end to end -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_theme_that_clips_the_chapter_text_fails_the_build(tmp_path):
    """A stylesheet edit in the project's own theme hides the chapter's last paragraph: the build
    stops at the chapter's body in the content, and build/ keeps what the last good build wrote."""
    root = make_project(tmp_path / "project", "minimal")
    good = run_cli("build", "booklet", cwd=root)
    assert good.returncode == 0, good.stderr
    before = snapshot(root / "build")
    css = root / "layouts" / "default" / "booklet.css"
    css.write_text(css.read_text(encoding="utf-8")
                   + ".chapter .prose { max-height: 6mm; overflow: hidden }\n", encoding="utf-8")
    text = (root / "content" / "en.yaml").read_text(encoding="utf-8")
    result = run_cli("build", "booklet", cwd=root)
    assert_refused(result, f"content/en.yaml:{where(text, 'body: |', 6)}: chapters[1].body: 5 words missing "
                   'on page 8 of the en booklet (clipped by overflow): "Everything else follows '
                   'from that."', "the layout lost them: shorten the text, or change the layout "
                   "that hides it")
    assert snapshot(root / "build") == before


@pytest.mark.slow
def test_a_theme_that_covers_a_posters_statement_fails_the_build(tmp_path):
    """A poster stylesheet edit lays the brand band over the statement's last line: the build
    stops at the statement in the content, naming the poster, and build/ keeps the last good
    build."""
    root = make_project(tmp_path / "project", "minimal")
    good = run_cli("build", "posters", cwd=root)
    assert good.returncode == 0, good.stderr
    before = snapshot(root / "build")
    edit(root / "layouts" / "default" / "poster.css", "height: calc(38mm * var(--scale) + var(--bleed));",
         "height: calc(120mm * var(--scale) + var(--bleed));")
    text = (root / "content" / "en.yaml").read_text(encoding="utf-8")
    result = run_cli("build", "posters", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("rendering ")]
    line = where(text, '"We look after the details')
    assert lines[:2] == [
        f"content/en.yaml:{line}: values[1].statement: 10 words missing on page 1 of the en A3 "
        'poster care (covered by another box): "We look after the details and the people behind '
        'them."',
        "    hint: the layout lost them: shorten the text, or change the layout that hides it"]
    assert lines[-1] == "3 problems in 1 file; nothing was written"  # each value's poster
    assert snapshot(root / "build") == before


@pytest.mark.slow
def test_check_lays_out_the_documents_and_reports_lost_words(tmp_path):
    """`culturebook check` finds the lost words a build would, without writing anything; once
    passed, an unchanged document is not laid out again."""
    root = make_project(tmp_path / "project", "minimal")
    assert run_cli("check", cwd=root).returncode == 0
    edit(root / "layouts" / "default" / "poster.css", "height: calc(38mm * var(--scale) + var(--bleed));",
         "height: calc(120mm * var(--scale) + var(--bleed));")
    text = (root / "content" / "en.yaml").read_text(encoding="utf-8")
    result = run_cli("check", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    place = where(text, '"We say what we think')
    assert (f"content/en.yaml:{place}: values[2].statement: 8 words missing on page 1 of the en A3 "
            'poster candour (covered by another box): "We say what we think, kindly and early."'
            ) in result.stderr.splitlines()
    assert not (root / "build").exists()


@pytest.mark.slow
def test_a_personal_page_that_hides_the_name_is_a_problem_at_the_row(tmp_path):
    """A theme that hides the recipient's name on the cover: each recipient is left out, at their
    row of the recipients file; the other documents are still made."""
    root = make_project(tmp_path / "project", "personalised")
    shutil.copy(PROJECTS / "personalised" / "people.csv", root / "people.csv")
    edit(root / "layouts" / "default" / "booklet.css", ".cover-recipient {",
         ".cover-recipient { visibility: hidden;")
    result = run_cli("build", "personalised", "--recipients", "people.csv", "--edition", "en",
                     "-j", "1", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    first = lines.index(next(line for line in lines if line.startswith("people.csv:")))
    assert lines[first:first + 2] == [
        'people.csv:2:1: Ana Silva: welcome.cover: 3 words missing on page 1 of their personal '
        'pages (hidden): "For Ana Silva"',
        "    hint: the layout lost them: shorten the text, or change the layout that hides it"]
    assert [line for line in lines if line.startswith("people.csv:")][1:] == [
        'people.csv:3:1: 韩梅梅: welcome.cover: 4 words missing on page 1 of their personal pages '
        '(hidden): "For 韩梅梅"',
        'people.csv:4:1: José Núñez: welcome.cover: 3 words missing on page 1 of their personal '
        'pages (hidden): "For José Núñez"']
    folder = root / "build" / "en" / "personalised"
    assert not any((folder / f"{slug}.pdf").exists() for slug in ("ana-silva", "han-meimei", "jose-nunez"))


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
@pytest.mark.slow
def test_the_default_booklets_lose_no_words(lang):
    """Every field the default booklet shows is marked, and none loses a word: laid out with a
    frontispiece before every chapter, so that every element the booklet can have is there."""
    from culturebook.checks.project import check_project
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer

    checked = check_project(REPO)
    renderer = Renderer(REPO, checked.brand, cache_dir())
    edition = checked.content.edition(lang)
    document = renderer.layout(renderer.booklet_html(edition, every_frontispiece=True), edition)
    fields = {box.element.get("data-field") for page in document.pages
              for box in _boxes(page._page_box) if box.element is not None} - {None}
    shown = {run.path for run in edition.runs if not run.path.startswith(
        ("translation.from", "translation.fields", "author", "subject", "keywords", "labels.",
         "welcome.", "email.", "chapters[", "values[", "milestones[", "highlights["))}
    assert shown - fields == set()
    for prefix in ("chapters[1].title", "chapters[1].body", "chapters[1].pull_quote",
                   "values[1].name", "values[1].statement", "milestones[1].year",
                   "milestones[1].text", "highlights[1].text", "highlights[1].attribution",
                   "values[4].statement", "chapter number"):
        assert prefix in fields, prefix
    assert lost_words(document.pages) == []


def _boxes(box):
    box = getattr(box, "_box", box)
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)

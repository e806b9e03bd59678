"""Accessible and archival editions, as a screen reader and an archivist meet them.

The structure tree is read back from the PDFs of the session build (culturebook's own reader,
accessibility.read_structure, checked here against what the content says the booklet holds): the
headings in order, the languages of passages, figures and their alt text, nothing drawn outside the
tags, the bundle keeping its parts' trees, and the archive's PDF/A identification and embedded
sources. The contrast arithmetic is table-driven; the colours a layout draws are derived from a
tiny HTML and stylesheet through WeasyPrint's cascade.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from conftest import EDITIONS, marks_drawn, parent_tree_faults
from culturebook.checks.contrast import check_contrast, contrast
from culturebook.checks.headings import heading_levels
from culturebook.errors import Location, Problems
from culturebook.pdf.structure import read_structure
from culturebook.preflight.checks import preflight_pdf
from culturebook.preflight.expect import Expect
from culturebook.render.colours import ColourUse, blend, colour_uses
from projectkit import PROJECTS


def structure(path):
    return read_structure(PdfReader(path))


def squash(text: str) -> str:
    """Text as compared: case and spacing aside (headings may be set in capitals or tracked)."""
    return "".join(text.split()).casefold()


def booklet_headings(checked, lang: str) -> list[tuple[int, str]]:
    """The headings a reader of the booklet sees, from the content: the cover title, contents,
    mission and vision, values and each value, each chapter, milestones, the closing."""
    edition = checked.content.edition(lang)
    data = edition.data
    labels = {**checked.brand.labels_for(lang), **(data.get("labels") or {})}
    return ([(1, data["title"]), (2, labels["contents"]), (2, labels["mission"]),
             (2, labels["vision"]), (2, labels["values"])]
            + [(3, value["name"]) for value in data["values"]]
            + [(2, chapter["title"]) for chapter in data["chapters"]]
            + [(2, labels["milestones"]), (2, data["closing"]["title"])])


# --- contrast ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "background", "ratio"), [
    ("#000000", "#FFFFFF", 21.0),
    ("#FFFFFF", "#FFFFFF", 1.0),
    ("#777777", "#FFFFFF", 4.48),  # the classic grey just below AA
    ("#767676", "#FFFFFF", 4.54),  # and the one just above
    ("#1D2129", "#FFFFFF", 16.13),  # ink on paper
    ("#FFFFFF", "#0052D9", 6.54),  # on-brand on the brand blue
])
def test_contrast_ratio(text, background, ratio):
    assert contrast(text, background) == pytest.approx(ratio, abs=0.01)
    assert contrast(background, text) == pytest.approx(ratio, abs=0.01)


def test_the_default_theme_meets_aa(checked):
    from culturebook.checks.project import check_layout_headings

    uses = check_layout_headings(checked.root, checked.content, checked.brand, Problems())
    names = {v: k for k, v in reversed(checked.brand.colours.items())}  # #FFFFFF: paper
    pairs = {(u.text_var or names[u.text], u.background_var or names[u.background], u.large):
             contrast(u.text, u.background) for u in uses}
    # every pair the theme once had to list by hand is found in what the layouts draw
    for text, background in [("ink", "paper"), ("muted", "paper"), ("brand", "paper"),
                             ("brand-deep", "tint"), ("muted", "tint"), ("brand", "tint"),
                             ("on-brand", "brand"), ("on-brand-soft", "brand")]:
        assert (text, background, False) in pairs or (text, background, True) in pairs
    assert all(ratio >= (3 if large else 4.5) for (_, _, large), ratio in pairs.items()), pairs
    assert not checked.brand.contrast  # nothing left to list by hand


@pytest.mark.slow
def test_the_colours_are_read_again_when_the_styles_can_change_not_for_words(make_project,
                                                                             monkeypatch):
    """`check` keeps what the cascade found per document: a changed statement reuses it, a
    changed theme colour (it reaches the HTML as a custom property) does not."""
    from culturebook.checks.project import check_project
    from culturebook.errors import ProjectError
    from culturebook.render.engine import Renderer

    root = make_project()
    check_project(root)
    cascades = []
    original = Renderer.colour_uses
    monkeypatch.setattr(Renderer, "colour_uses",
                        lambda self, html, template: cascades.append(template) or
                        original(self, html, template))
    en = root / "content" / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace(
        "Surpass ourselves through innovation", "Outdo ourselves by inventing"), encoding="utf-8")
    check_project(root)
    assert cascades == []
    theme = root / "layouts" / "default" / "theme.yaml"
    theme.write_text(theme.read_text(encoding="utf-8").replace(
        'muted: "#4E5969"', 'muted: "#8E98A8"'), encoding="utf-8")
    with pytest.raises(ProjectError) as failed:
        check_project(root)
    assert "booklet.html" in cascades
    assert any("colour 'muted' (#8E98A8) on 'paper' (#FFFFFF)" in p.message
               for p in failed.value.problems)


# --- the colours a layout draws, from the cascade -----------------------------------------------

TINY = """<!DOCTYPE html><html><head><style>
@page { size: A6; @top-left { content: "Running head"; color: #666666; } }
@page dark { background: #000080; @top-left { content: none; } }
@page image { background: url(data:image/gif;base64,R0lGODlhAQABAAAAACw=); }
html { color: #111111; font-size: 10pt; }
.dark { page: dark; color: #FFFFFF; }
.panel { background: rgb(255 0 0 / 0.5); }
.half { color: rgb(0 0 0 / 0.5); }
.grey { background: #EEEEEE; }
.deep { color: #222222; }
.photo { background: #FFFFFF url(data:image/gif;base64,R0lGODlhAQABAAAAACw=); }
.shown-by-page { page: image; }
h1 { font-size: 18pt; font-weight: 400; color: #777777; }
.bold { font-size: 14pt; font-weight: 700; color: #767676; }
.small { font-size: 13.5pt; font-weight: 700; color: #777777; }
.note::after { content: " (see)"; color: #333333; }
</style></head><body>
<section class="dark"><p class="on-page">Named page</p></section>
<div class="panel"><p class="half">Blended</p></div>
<div class="grey"><div><span class="deep">Ancestor</span> tail</div></div>
<div class="photo"><p class="over-image">Over an image</p></div>
<section class="shown-by-page"><p>On a page with an image</p></section>
<p style="display: none">Hidden</p>
<p style="visibility: hidden">Invisible</p>
<h1>Large</h1><p class="bold">Bold</p><p class="small">Not large</p>
<p class="note"></p>
</body></html>"""


def tiny_uses(html: str = TINY) -> dict[str, ColourUse]:
    from culturebook.render.weasy import load_weasyprint

    load_weasyprint()
    from weasyprint import HTML
    from weasyprint.css import get_all_computed_styles

    document = HTML(string=html)
    uses = colour_uses(document, get_all_computed_styles(document), "tiny.html")
    return {u.where.removesuffix(" in tiny.html"): u for u in uses}


def test_text_is_measured_against_its_nearest_background():
    uses = tiny_uses()
    # on a named page: that page's background
    assert uses[".on-page"] == ColourUse("#FFFFFF", "#000080", False, ".on-page in tiny.html")
    # an ancestor's background: for an element's own text and for the tail after a child
    assert (uses[".deep"].text, uses[".deep"].background) == ("#222222", "#EEEEEE")
    assert (uses[".grey div"].text, uses[".grey div"].background) == ("#111111", "#EEEEEE")
    # a translucent background over the page, translucent text over that
    half = uses[".half"]
    assert (half.text, half.alpha, half.background) == ("#000000", 0.5, "#FF8080")
    assert blend(half.text, half.alpha, half.background) == "#804040"
    # a margin box with content, on the default page (white); none on the dark page
    assert uses["@page @top-left"].text == "#666666"
    assert uses["@page @top-left"].background == "#FFFFFF"
    assert not any(w.startswith("@page dark") for w in uses)
    # generated text
    assert uses[".note::after"].text == "#333333"
    # over an image (the element's or its page's), hidden, invisible: not measured
    assert not {".over-image", ".shown-by-page p", "p", "html", "body"} & set(uses), sorted(uses)


def test_large_text_is_18pt_or_14pt_bold():
    uses = tiny_uses()
    assert uses["h1"].large and uses[".bold"].large and not uses[".small"].large


class TinyTheme:
    """What check_contrast reads of a theme: its colours, where each is written, its folders."""

    def __init__(self, folder: Path, colours: dict[str, str]):
        self.colours = colours
        self.contrast = ()
        self.dirs = (folder,)
        self.file = folder / "theme.yaml"
        self.file.write_text("colours:\n" + "".join(f"  {k}: \"{v}\"\n"
                                                    for k, v in colours.items()))

    def colour_location(self, name: str) -> Location:
        return Location(self.file, list(self.colours).index(name) + 2, 3)

    def setting_location(self, key: str) -> Location:
        return Location(self.file, 1, 1)


def test_large_text_needs_3_to_1_and_body_text_4_5_to_1(tmp_path):
    theme = TinyTheme(tmp_path, {"grey": "#777777", "paper": "#FFFFFF", "ink": "#111111"})
    grey = ColourUse("#777777", "#FFFFFF", True, "h1 in tiny.html")  # 4.48:1
    problems = Problems()
    check_contrast(theme, problems, [grey])
    assert problems.items == [], "large text: 3:1 is enough"
    check_contrast(theme, problems, [grey, ColourUse("#777777", "#FFFFFF", False,
                                                     ".small in tiny.html")])
    assert [(p.location.line, p.message) for p in problems.items] == [
        (2, "colour 'grey' (#777777) on 'paper' (#FFFFFF) has a contrast of 4.48:1; body text "
            "needs 4.5:1 (WCAG AA), e.g. .small in tiny.html")]


def test_the_tiny_document_fails_only_where_body_text_is_too_light(tmp_path):
    theme = TinyTheme(tmp_path, {"grey": "#777777", "paper": "#FFFFFF", "ink": "#111111"})
    problems = Problems()
    check_contrast(theme, problems, list(tiny_uses().values()))
    messages = [p.message for p in problems.items]
    assert len(messages) == 2, messages  # in document order: .half, then grey body text
    assert messages[0] == ("colour #000000 at 50% opacity on #FF8080 has a contrast of 3.17:1; "
                           "body text needs 4.5:1 (WCAG AA), e.g. .half in tiny.html")
    assert messages[1] == ("colour 'grey' (#777777) on 'paper' (#FFFFFF) has a contrast of "
                           "4.48:1; body text needs 4.5:1 (WCAG AA), e.g. .small in tiny.html")


def test_a_literal_colour_is_reported_where_a_stylesheet_writes_it(tmp_path):
    theme = TinyTheme(tmp_path, {"paper": "#FFFFFF"})
    (tmp_path / "booklet.css").write_text("p {\n  color: #aaa;\n}\n")
    problems = Problems()
    check_contrast(theme, problems, [ColourUse("#AAAAAA", "#FFFFFF", False, "p in booklet.html")])
    (problem,) = problems.items
    assert problem.location == Location(tmp_path / "booklet.css", 2, 10)
    assert problem.message.startswith("colour #AAAAAA on 'paper' (#FFFFFF) has a contrast of 2.32:1")
    assert problem.hint == "darken or lighten #AAAAAA or 'paper' until they differ enough"


# --- the screen editions ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", EDITIONS)
def test_booklet_is_tagged_with_the_booklets_headings_in_order(built_root, checked, lang):
    found = structure(built_root / "build" / lang / "booklet.pdf")
    assert found.marked and found.tree and found.display_title
    assert found.lang == lang
    assert found.untagged == {}, "text drawn outside the tags, by page"
    expected = booklet_headings(checked, lang)
    assert [(level, squash(text)) for level, text in found.headings] == \
        [(level, squash(text)) for level, text in expected]
    assert found.figures == []  # the default content has no images
    assert {"L", "LI", "Link", "BlockQuote", "P"} <= set(found.tags)


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_structure_tree_matches_the_layouts_html(built_root, checked, lang):
    """The tags follow the HTML: the same heading levels, in the same order."""
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer

    renderer = Renderer(built_root, checked.brand, cache_dir())
    html = renderer.booklet_html(checked.content.edition(lang))
    found = structure(built_root / "build" / lang / "booklet.pdf")
    # The padding pages a booklet does not need (and their Notes heading) are dropped after layout.
    levels = [level for level, tag in heading_levels(html) if "notes-title" not in tag]
    assert [level for level, _ in found.headings] == levels


def test_passages_in_another_language_carry_it(built_root, checked):
    """The Chinese names beneath the English values, and the English title on the Chinese cover."""
    en = structure(built_root / "build" / "en" / "booklet.pdf")
    natives = [v["native_name"] for v in checked.content.edition("en").data["values"]]
    assert [(text, lang) for text, lang in en.languages] == [(n, "zh-Hans") for n in natives]
    zh = structure(built_root / "build" / "zh-Hans" / "booklet.pdf")
    title = checked.content.edition("en").data["title"]
    assert (title, "en") in zh.languages


def test_running_heads_folios_and_ornaments_are_artifacts(built_root, checked):
    reader = PdfReader(built_root / "build" / "en" / "booklet.pdf")
    chapter = checked.content.edition("en").data["chapters"][0]
    # The first chapter opens on page 9: its number is an ornament, its running head and folio
    # are page furniture.
    artifacts, _ = marks_drawn(reader.pages[8])
    assert "01" in artifacts and "9" in artifacts
    assert any(squash(chapter.get("short_title") or chapter["title"]) == squash(a) for a in artifacts)
    # Every marked-content id on every page belongs to a structure element of that page.
    assert parent_tree_faults(reader) == []


def definition_items(reader) -> list[tuple[str, str]]:
    """(label text, body text) of every list item that has a label (Lbl) and a body (LBody)."""
    from culturebook.pdf.structure import _marked_text

    pages = {p.indirect_reference.idnum: n for n, p in enumerate(reader.pages)}
    marked = [_marked_text(page)[0] for page in reader.pages]

    def text(element, page=None) -> str:
        page = pages.get(element.raw_get("/Pg").idnum, page) if "/Pg" in element else page
        kids = element.get("/K")
        out = []
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, int):
                out.append(marked[page].get(kid, ""))
            elif isinstance(kid, IndirectObject) and "/S" in kid.get_object():
                out.append(text(kid.get_object(), page))
        return "".join(out)

    items, todo = [], [reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()]
    while todo:
        element = todo.pop(0)
        kids = element.get("/K")
        kids = [k.get_object() for k in (kids if isinstance(kids, list) else [kids])
                if isinstance(k, IndirectObject) and "/S" in k.get_object()]
        kinds = [k["/S"] for k in kids]
        if element["/S"] == "/LI" and kinds[:2] == ["/Lbl", "/LBody"]:
            items.append((" ".join(text(kids[0]).split()),
                          " ".join(" ".join(text(k) for k in kids[1:]).split())))
        todo += kids
    return items


def test_a_definition_list_reads_each_term_with_its_definition(built_root, checked):
    """The imprint's <dl>: each term is the label of one list item and its definition that item's
    body, so a reader says "Published: 11 November 2019" rather than two separate items."""
    reader = PdfReader(built_root / "build" / "en" / "booklet.pdf")
    labels = checked.brand.labels["en"]
    data = checked.content.edition("en").data
    items = dict(definition_items(reader))
    assert items[labels["edition"]] == data["edition"]
    assert items[labels["organisation"]] == data["organisation"]
    assert labels["published"] in items
    assert parent_tree_faults(reader) == []


@pytest.mark.parametrize("lang", EDITIONS)
def test_posters_are_tagged(built_root, checked, lang):
    for poster in sorted((built_root / "build" / lang / "posters").glob("*.pdf")):
        found = structure(poster)
        assert found.marked and found.display_title and found.lang == lang, poster.name
        assert found.untagged == {} and [lvl for lvl, _ in found.headings] == [1], poster.name


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_bundle_keeps_the_tags_of_its_parts(built_root, checked, lang):
    folder = built_root / "build" / lang
    values = [v["id"] for v in checked.content.edition(lang).data["values"]]
    parts = [folder / "booklet.pdf"] + [folder / "posters" / f"{slug}.pdf"
                                        for slug in ["mission-vision", *values]]
    bundle_path = folder / "culture-kit.pdf"
    found = structure(bundle_path)
    assert found.marked and found.tree and found.display_title and found.lang == lang
    assert found.untagged == {}
    part_headings = [h for part in parts for h in structure(part).headings]
    assert found.headings == part_headings
    assert found.languages == [x for part in parts for x in structure(part).languages]
    # Each page's marked content and each link still find their structure elements.
    reader = PdfReader(bundle_path)
    document = reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()
    assert document["/S"] == "/Document"
    assert [k.get_object()["/S"] for k in document["/K"]] == ["/Part"] * len(parts)
    assert parent_tree_faults(reader) == []


# --- the archive -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", EDITIONS)
def test_archive_is_pdfa3_carrying_its_content_files(built_root, checked, lang):
    path = built_root / "build" / lang / "archive" / "booklet.pdf"
    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_data().decode()
    assert re.search(r'pdfaid:part="3"', xmp) and re.search(r'pdfaid:conformance="A"', xmp)
    assert "/Encrypt" not in reader.trailer
    assert [i["/S"] for i in root["/OutputIntents"]] == ["/GTS_PDFA1"]
    content = built_root / "content"
    expected = ["publication.yaml", "en.yaml"] + ([f"{lang}.yaml"] if lang != "en" else [])
    assert list(reader.attachments) == expected
    for name, copies in reader.attachments.items():
        assert copies == [(content / name).read_bytes()], name  # byte for byte
    assert [f.get_object()["/AFRelationship"] for f in root["/AF"]] == ["/Source"] * len(expected)
    found = read_structure(reader)
    assert found.marked and found.untagged == {} and found.lang == lang
    assert [(lvl, squash(t)) for lvl, t in found.headings] == \
        [(lvl, squash(t)) for lvl, t in booklet_headings(checked, lang)]
    for font in _fonts(reader):
        descriptor = font["/DescendantFonts"][0]["/FontDescriptor"] if "/DescendantFonts" in font \
            else font["/FontDescriptor"]
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font


def _fonts(reader):
    seen = {}
    for page in reader.pages:
        for ref in (page["/Resources"].get("/Font") or {}).values():
            seen[ref.idnum] = ref.get_object()
    return list(seen.values())


@pytest.mark.slow
def test_archive_is_made_again_when_only_a_comment_changes(make_project):
    from culturebook.build.pipeline import build

    root = make_project()
    build(root, "archive", ["en"])
    en = root / "content" / "en.yaml"
    en.write_text("# reviewed by HR\n" + en.read_text(encoding="utf-8"), encoding="utf-8")
    written, _ = build(root, "archive", ["en"])
    assert [a.path for a in written] == ["en/archive/booklet.pdf"]
    attached = PdfReader(root / "build" / "en" / "archive" / "booklet.pdf").attachments
    assert attached["en.yaml"] == [en.read_bytes()]


# --- images -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_content_images_are_figures_with_their_alt_text_and_decoration_is_an_artifact(tmp_path):
    from culturebook.build.pipeline import build
    from projectkit import edit, make_project

    root = make_project(tmp_path / "project")
    for name, colour in (("team.png", "navy"), ("rule.png", "gray")):
        Image.new("RGB", (600, 400), colour).save(root / "content" / name)
    edit(root / "content" / "en.yaml", "Everything else follows from that.",
         "Everything else follows from that.\n\n      ![The team on the roof, 2019](team.png)"
         "\n\n      ![decorative](rule.png)")
    build(root, "booklet")
    found = structure(root / "build" / "en" / "booklet.pdf")
    assert found.figures == ["The team on the roof, 2019"]
    assert found.untagged == {}


# --- the preflight checks ---------------------------------------------------------------------------


def test_preflight_finds_an_untagged_screen_pdf():
    data = (PROJECTS / "preflight-clean" / "screen.pdf").read_bytes()
    expect = Expect(kind="booklet", edition="en", tagged=True)
    messages = [f.message for f in preflight_pdf(data, expect) if f.check == "tags"]
    assert messages == [
        "not a tagged PDF (no /MarkInfo /Marked true): a screen reader cannot follow it",
        "no structure tree (/StructTreeRoot)",
        "the title bar shows the file name, not the title (/DisplayDocTitle is not true)",
        "page 1: text drawn outside the tags, which a screen reader skips",
    ]
    archive = [f.message for f in preflight_pdf(data, Expect(kind="booklet", edition="en", archive=True))
               if f.check == "archive"]
    assert archive == [
        "the XMP metadata does not identify PDF/A-3 (pdfaid:part)",
        "no PDF/A output intent (/GTS_PDFA1)",
        "no content file embedded as its source (/AF with /AFRelationship /Source)",
    ]


def test_preflight_finds_a_skipped_heading_and_a_figure_without_alt():
    """A tagged PDF made straight with WeasyPrint (which only logs the missing alt text)."""
    from culturebook.render.weasy import load_weasyprint

    load_weasyprint()
    from weasyprint import HTML

    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
             "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    html = (f'<html lang="en"><title>T</title><h1>One</h1><h3>Three</h3><img src="{pixel}">'
            "</html>")
    import logging

    logging.getLogger("weasyprint").disabled = True
    try:
        data = HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    finally:
        logging.getLogger("weasyprint").disabled = False
    found = read_structure(PdfReader(io.BytesIO(data)))
    assert found.headings == [(1, "One"), (3, "Three")] and found.figures == [None]
    messages = [f.message for f in preflight_pdf(data, Expect(kind="poster", edition="en", tagged=True))
                if f.check == "tags"]
    assert messages == ["heading level skipped: H3 after H1",
                        "1 figure without alternative text (/Alt)"]


def _reading_order(reader, index: int) -> list[tuple[float, float, str]]:
    """(x, y from the top, text) of each tagged run of text on a page, in structure-tree order."""
    from conftest import _mult

    page = reader.pages[index]
    stack, where = [], {}

    def before(operator, operands, cm, tm):
        if operator == b"BDC":
            mcid = operands[1].get("/MCID") if hasattr(operands[1], "get") else None
            stack.append(int(mcid) if mcid is not None else None)
        elif operator == b"BMC":
            stack.append(None)
        elif operator == b"EMC":
            stack.pop()

    def text(value, cm, tm, *_):
        if stack and stack[-1] is not None and value.strip() and stack[-1] not in where:
            m = _mult(list(tm), list(cm))
            where[stack[-1]] = (m[4], float(page.mediabox.top) - m[5], value.strip())

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    order: list[int] = []

    def walk(element) -> None:
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, int):
                if element.get("/Pg") == page.indirect_reference:
                    order.append(kid)
            elif kid is not None and "/S" in kid.get_object():
                walk(kid.get_object())

    walk(reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object())
    return [where[m] for m in order if m in where]


@pytest.mark.parametrize("lang", EDITIONS)
def test_reading_order_is_the_visual_order_on_every_page(built_root, lang):
    """In structure-tree order, each run of text starts below the one before, or on the same line
    further right: top to bottom, left to right, on every page of the booklet (the values spread
    and the timeline included; every page of the default layouts is one column)."""
    reader = PdfReader(built_root / "build" / lang / "booklet.pdf")
    for index in range(len(reader.pages)):
        runs = _reading_order(reader, index)
        for (x0, y0, a), (x1, y1, b) in zip(runs, runs[1:], strict=False):
            same_line = abs(y1 - y0) < 3
            assert y1 > y0 - 3 and (not same_line or x1 > x0 - 1), \
                f"page {index + 1}: {b!r} read after {a!r}"


def test_text_left_in_the_source_language_is_tagged_with_it(languages_built):
    """A French booklet prints the untranslated English statement and chapter: a screen reader
    reads them in an English voice (their structure elements carry /Lang en)."""
    fr = structure(languages_built / "build" / "fr" / "booklet.pdf")
    assert fr.lang == "fr"
    english = [squash(text) for text, lang in fr.languages if lang == "en"]
    for text in ("We say what we think, kindly and early.", "How we work",
                 "We work in small steps, and we show our work early."):
        assert squash(text) in english
    assert not any(squash(t) in english for t in ("Franchise", "Pourquoi nous existons"))
    ja = structure(languages_built / "build" / "ja" / "booklet.pdf")
    assert ja.lang == "ja"

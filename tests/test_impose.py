"""impose: saddle-stitch page order (by hand and by rule), then imposed PDFs read back as a printer would
feed them: sheet size, which page sits in which half, scale, creep, links, bookmarks, metadata.

Positions come from `pdftotext -bbox`: the imposed pages are Form XObjects, and pypdf's text visitor
reports text inside a form in the form's own space, not on the sheet."""

from __future__ import annotations

import html
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    FloatObject,
    NameObject,
    TextStringObject,
)

from conftest import (
    EDITIONS,
    MM_PER_PT,
    links,
    normalise,
    outline,
    page_size_mm,
    page_text,
    read_pdf,
    render_pages,
)
from culturebook.pdf.impose import PT_PER_MM, impose_booklet, saddle_stitch_order

A5 = (419.528, 595.276)
HALF_LETTER = (396.0, 612.0)
TOLERANCE_MM = 0.5
BRAND_BLUE = (0x00, 0x52, 0xD9)


# --- page order ---------------------------------------------------------------------------------

BY_HAND = {
    4: [(4, 1), (2, 3)],
    8: [(8, 1), (2, 7), (6, 3), (4, 5)],
    12: [(12, 1), (2, 11), (10, 3), (4, 9), (8, 5), (6, 7)],
    16: [(16, 1), (2, 15), (14, 3), (4, 13), (12, 5), (6, 11), (10, 7), (8, 9)],
}


@pytest.mark.parametrize("pages", sorted(BY_HAND))
def test_order_written_out_by_hand(pages):
    assert saddle_stitch_order(pages) == BY_HAND[pages]


def test_order_of_28_pages_follows_the_rule():
    # Sheet k (0 = outermost): front (N - 2k, 2k + 1), back (2k + 2, N - 2k - 1).
    expected = []
    for k in range(7):
        expected += [(28 - 2 * k, 2 * k + 1), (2 * k + 2, 27 - 2 * k)]
    assert saddle_stitch_order(28) == expected
    assert expected[:2] == [(28, 1), (2, 27)] and expected[-2:] == [(16, 13), (14, 15)]


@pytest.mark.parametrize("pages", range(4, 101, 4))
def test_order_invariants(pages):
    order = saddle_stitch_order(pages)
    assert len(order) == pages // 2
    assert sorted(n for side in order for n in side) == list(range(1, pages + 1))  # every page once
    for left, right in order:
        assert left + right == pages + 1  # a sheet side holds a page and its mirror
        assert left % 2 == 0 and right % 2 == 1  # verso on the left, recto on the right
    fronts, backs = order[0::2], order[1::2]
    for k, (front, back) in enumerate(zip(fronts, backs, strict=True)):
        # The front carries the outer pair of the sheet, the back the next pair in.
        assert min(front) == 2 * k + 1 and min(back) == 2 * k + 2
    assert order[0] == (pages, 1) and order[-1] == (pages // 2, pages // 2 + 1)  # covers out, centre in


@pytest.mark.parametrize("pages", [0, 2, 6, 10, 30, -4])
def test_order_refuses_a_count_not_a_multiple_of_4(pages):
    with pytest.raises(ValueError, match=rf"multiple of 4 pages, not {pages}\b"):
        saddle_stitch_order(pages)


# --- reading imposed PDFs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    x0: float  # pt from the left edge
    y0: float  # pt from the top edge
    x1: float
    y1: float


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>')


def words(pdf: Path) -> list[tuple[float, float, list[Word]]]:
    """(width, height, words) of every page, from poppler."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    return [(float(w), float(h), [Word(html.unescape(m[5]), *map(float, m.groups()[:4]))
                                  for m in _WORD.finditer(body)])
            for w, h, body in _PAGE.findall(out)]


def halves(width: float, found: list[Word]) -> tuple[list[Word], list[Word]]:
    left = [w for w in found if (w.x0 + w.x1) / 2 < width / 2]
    return left, [w for w in found if w not in left]


def share_of(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> float:
    """The fraction of an image's pixels within `tolerance` of `colour` in every channel."""
    masks = [band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
             for band, c in zip(image.split(), colour, strict=True)]
    both = ImageChops.darker(ImageChops.darker(masks[0], masks[1]), masks[2])
    return both.histogram()[255] / (image.width * image.height)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _content(writer: PdfWriter, page, data: bytes) -> None:
    stream = DecodedStreamObject()
    stream.set_data(data)
    page[NameObject("/Contents")] = writer._add_object(stream)


def numbered_booklet(pages: int, size=A5, rotate: int = 0) -> bytes:
    """A booklet whose pages show their number large, and "TL" / "BR" markers at known places. From 8
    pages on, page 3 links to a named destination on page 5 and to a web page, page 4 to page 6 by an
    explicit destination, and a bookmark leads to page 7."""
    writer = PdfWriter()
    w, h = size
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for n in range(1, pages + 1):
        page = writer.add_blank_page(width=w, height=h)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        _content(writer, page, (f"BT /F1 120 Tf {w / 2 - 70:.2f} {h / 2 - 40:.2f} Td ({n}) Tj ET\n"
                                f"BT /F1 10 Tf 30 {h - 50:.2f} Td (TL) Tj ET\n"
                                f"BT /F1 10 Tf {w - 60:.2f} 40 Td (BR) Tj ET").encode())
    if pages >= 8:
        _links(writer, h)
    if rotate:
        for page in writer.pages:
            page.rotate(rotate)
    writer.add_metadata({"/Title": "Numbers", "/Author": "culturebook tests"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _links(writer: PdfWriter, h: float) -> None:
    writer.add_named_destination(title="target-5", page_number=4, fit=Fit.xyz(left=30, top=h - 50))
    writer.add_outline_item(title="Seven", page_number=6)

    def link(page_number: int, bottom: float, key: str, value) -> None:
        writer.add_annotation(page_number=page_number, annotation=DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject(FloatObject(v) for v in (30, bottom, 130, bottom + 20)),
            NameObject(key): value}))

    link(2, 100, "/Dest", TextStringObject("target-5"))
    link(2, 60, "/A", DictionaryObject({
        NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.com/")}))
    link(3, 100, "/Dest", ArrayObject([writer.pages[5].indirect_reference, NameObject("/Fit")]))


def big_numbers(pdf: Path) -> list[tuple[int, int]]:
    """The big page number in the left and the right half of every sheet side."""
    found = []
    for width, _, page_words in words(pdf):
        pair = []
        for half in halves(width, page_words):
            big = max(half, key=lambda w: w.y1 - w.y0)
            pair.append(int(big.text))
        found.append(tuple(pair))
    return found


# --- synthetic booklets -------------------------------------------------------------------------


@pytest.mark.parametrize("pages", [4, 8, 16])
def test_sheet_sides_read_in_saddle_stitch_order(tmp_path, pages):
    imposed = write(tmp_path, "imposed.pdf", impose_booklet(numbered_booklet(pages)))
    assert big_numbers(imposed) == saddle_stitch_order(pages)
    reader = PdfReader(imposed)
    assert len(reader.pages) == pages // 2
    assert reader.page_labels == [f"{left}|{right}" for left, right in saddle_stitch_order(pages)]
    for page in reader.pages:
        width, height = page_size_mm(page)
        assert abs(width - 297) <= TOLERANCE_MM and abs(height - 210) <= TOLERANCE_MM


def _marker_span(pdf: Path, side: int) -> tuple[float, float]:
    """Left edge of "TL" and horizontal distance to "BR" on the left half of a sheet side (pt)."""
    width, _, page_words = words(pdf)[side]
    left, _ = halves(width, page_words)
    tl = next(w for w in left if w.text == "TL")
    br = next(w for w in left if w.text == "BR")
    return tl.x0, br.x0 - tl.x0


@pytest.mark.parametrize("size, sheet, sheet_mm, scale", [
    (A5, "A4", (297, 210), 1.0),
    (HALF_LETTER, "Letter", (279.4, 215.9), 1.0),
    (A5, "Letter", (279.4, 215.9), (279.4 / 2) / 148.0),  # scaled to the half's width
])
def test_pages_are_scaled_to_fit_their_half_and_centred(tmp_path, size, sheet, sheet_mm, scale):
    imposed = write(tmp_path, "imposed.pdf", impose_booklet(numbered_booklet(8, size), sheet=sheet))
    reader = PdfReader(imposed)
    width, height = page_size_mm(reader.pages[0])
    assert abs(width - sheet_mm[0]) <= TOLERANCE_MM and abs(height - sheet_mm[1]) <= TOLERANCE_MM
    x, span = _marker_span(imposed, 0)
    assert span == pytest.approx((size[0] - 90) * scale, abs=0.05)
    half_pt = sheet_mm[0] / 2 * PT_PER_MM
    assert x == pytest.approx((half_pt - size[0] * scale) / 2 + 30 * scale, abs=0.05)  # centred
    assert big_numbers(imposed) == saddle_stitch_order(8)


def test_a_rotated_page_is_placed_upright(tmp_path):
    # Pages drawn in landscape and shown in portrait through /Rotate 90: on the sheet, their words sit
    # where a viewer shows them on the page (poppler reports a rotated page's words as displayed).
    source = write(tmp_path, "rotated.pdf", numbered_booklet(4, (A5[1], A5[0]), rotate=90))
    imposed = write(tmp_path, "imposed.pdf", impose_booklet(source.read_bytes()))
    width, _, page_words = words(imposed)[0]
    left, _ = halves(width, page_words)
    offset = (width / 2 - A5[0]) / 2  # the A5 page centred in its half of the A4 sheet
    shown = {w.text: (w.x0 + offset, w.y0) for w in words(source)[3][2]}  # page 4: left on side 1
    assert len(left) == len(shown) == 3
    for word in left:
        assert (word.x0, word.y0) == pytest.approx(shown[word.text], abs=0.5)


def test_links_named_destinations_and_bookmarks_follow_their_pages(tmp_path):
    imposed = write(tmp_path, "imposed.pdf", impose_booklet(numbered_booklet(8)))
    reader = PdfReader(imposed)
    side_of = {n: i for i, pair in enumerate(saddle_stitch_order(8)) for n in pair}
    found = {(link.page, link.name, link.target, link.external) for link in links(reader)}
    assert found == {(side_of[3], "target-5", side_of[5], False), (side_of[3], "", None, True),
                     (side_of[4], "", side_of[6], False)}
    half = float(reader.pages[0].mediabox.width) / 2
    for link in links(reader):  # page 3 is on the right of its side, page 4 on the left
        on_right = link.page == side_of[3]
        assert (link.rect[0] >= half) if on_right else (link.rect[2] <= half)
    dest = reader.named_destinations["target-5"]
    # Page 5 is the right page of its side: its top-left marker keeps its place within that half.
    assert float(dest.left) == pytest.approx(half + (half - A5[0]) / 2 + 30, abs=0.01)
    assert outline(reader) == [(0, "Seven", side_of[7])]
    assert reader.metadata.title == "Numbers (imposed)"
    assert reader.metadata.author == "culturebook tests"


def test_refuses_what_cannot_be_imposed():
    with pytest.raises(ValueError, match="multiple of 4 pages, not 6"):
        impose_booklet(numbered_booklet(6))
    with pytest.raises(ValueError, match="unknown sheet 'A3'"):
        impose_booklet(numbered_booklet(4), sheet="A3")
    with pytest.raises(ValueError, match="creep must be zero or a positive"):
        impose_booklet(numbered_booklet(4), creep_mm=-0.1)
    with pytest.raises(ValueError, match="more than half their width"):
        impose_booklet(numbered_booklet(16), creep_mm=30)


# --- the default project's booklets ------------------------------------------------------------


@pytest.fixture(scope="module")
def imposed(built_root, tmp_path_factory) -> dict[tuple[str, float], Path]:
    """Each edition's booklet imposed on A4, without creep and with 0.5 mm per sheet."""
    folder = tmp_path_factory.mktemp("imposed")
    made = {}
    for lang in EDITIONS:
        data = (built_root / "build" / lang / "booklet.pdf").read_bytes()
        for creep in (0.0, 0.5):
            made[lang, creep] = write(folder, f"{lang}-{creep}.pdf", impose_booklet(data, creep_mm=creep))
    return made


def booklet(built_root: Path, lang: str) -> PdfReader:
    return read_pdf(built_root / "build" / lang / "booklet.pdf")


@pytest.mark.parametrize("lang", EDITIONS)
def test_folios_read_in_saddle_stitch_order(built_root, imposed, lang):
    pages = len(booklet(built_root, lang).pages)
    order = saddle_stitch_order(pages)
    seen = 0
    for (width, height, page_words), pair in zip(words(imposed[lang, 0.0]), order, strict=True):
        assert abs(width * MM_PER_PT - 297) <= TOLERANCE_MM and abs(height * MM_PER_PT - 210) <= TOLERANCE_MM
        for expected, half in zip(pair, halves(width, page_words), strict=True):
            # Folios: a lone number in the bottom 35 pt of the page (covers have none).
            folios = [int(w.text) for w in half if w.text.isdigit() and w.y1 > height - 35]
            assert folios in ([], [expected]), f"side {pair}: found folio {folios}, expected {expected}"
            seen += len(folios)
    assert seen >= pages // 3  # pages that stand alone (covers, openers, quotes) carry none


@pytest.mark.parametrize("lang", EDITIONS)
def test_text_stays_text_and_links_keep_their_targets(built_root, imposed, lang):
    source = booklet(built_root, lang)
    reader = PdfReader(imposed[lang, 0.0])
    order = saddle_stitch_order(len(source.pages))
    side_of = {n: i for i, pair in enumerate(order) for n in pair}
    for n in range(1, len(source.pages) + 1):
        assert normalise(page_text(source, n - 1)) in normalise(page_text(reader, side_of[n]))
    wanted = sorted((side_of[link.page + 1], link.name, side_of[link.target + 1])
                    for link in links(source) if not link.external)
    assert wanted, "the booklet has internal links (its contents page)"
    found = sorted((link.page, link.name, link.target) for link in links(reader) if not link.external)
    assert found == wanted
    assert [(d, t, p) for d, t, p in outline(reader)] == [
        (d, t, side_of[p + 1]) for d, t, p in outline(source)]
    assert reader.metadata.title == f"{source.metadata.title} (imposed)"
    assert reader.trailer["/Root"]["/Lang"] == source.trailer["/Root"]["/Lang"]


def test_covers_print_on_the_first_sheet_side(imposed, tmp_path):
    # Rendering proves the forms draw: sheet 1 front is the back cover and the cover, both brand blue.
    image = render_pages(imposed["en", 0.0], [1], 20, "poppler", tmp_path)[1]
    width, height = image.size
    for half in (image.crop((0, 0, width // 2, height)), image.crop((width // 2, 0, width, height))):
        assert share_of(half, BRAND_BLUE) > 0.6


def test_creep_moves_inner_sheets_toward_the_spine(built_root, imposed):
    assert len(booklet(built_root, "en").pages) == 16  # 4 sheets: shifts 0, 0.5, 1.0, 1.5 mm
    plain, crept = words(imposed["en", 0.0]), words(imposed["en", 0.5])
    for side, ((width, _, before), (_, _, after)) in enumerate(zip(plain, crept, strict=True)):
        shift = (side // 2) * 0.5 * PT_PER_MM
        (left0, right0), (left1, right1) = halves(width, before), halves(width, after)
        # The left page moves right, the right page moves left: both toward the fold.
        assert min(w.x0 for w in left1) - min(w.x0 for w in left0) == pytest.approx(shift, abs=0.02)
        assert max(w.x1 for w in right1) - max(w.x1 for w in right0) == pytest.approx(-shift, abs=0.02)
    assert (len(plain) // 2 - 1) * 0.5 == 1.5  # the innermost sheet: 1.5 mm


def test_the_same_booklet_imposes_to_the_same_bytes(built_root):
    data = (built_root / "build" / "en" / "booklet.pdf").read_bytes()
    assert impose_booklet(data, creep_mm=0.2) == impose_booklet(data, creep_mm=0.2)

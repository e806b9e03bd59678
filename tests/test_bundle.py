"""bundle.merge_parts: parts in order, one outline entry per part with the booklet's own bookmarks nested
under it, viewer settings, metadata and language, links kept, duplicate objects stored once."""

from __future__ import annotations

import io
import os

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    StreamObject,
    TextStringObject,
)

from conftest import EDITIONS, links, outline, reachable, read_pdf
from culturebook.pdf.bundle import BundleInfo, Part, merge_parts

A5 = (419.53, 595.28)
A2 = (1190.55, 1683.78)
INFO = BundleInfo(title="用户为本，科技向善", author="腾讯", subject="A culture statement",
                  keywords="culture, values", lang="zh-Hans", date="D:20191111000000Z")


def tiny_pdf(pages: int, size: tuple[float, float], bookmarks=(), content: bytes | None = None,
             named: dict[str, int] | None = None, link_to: str | None = None) -> bytes:
    """A small PDF: blank pages (each drawing `content` if given), bookmarks given as
    (title, page, children) triples, named destinations, and a link on page 1 to a named one."""
    writer = PdfWriter()
    for _ in range(pages):
        page = writer.add_blank_page(*size)
        if content is not None:
            stream = DecodedStreamObject()
            stream.set_data(content)
            page[NameObject("/Contents")] = writer._add_object(stream)

    def add(items, parent=None):
        for title, page_number, children in items:
            item = writer.add_outline_item(title=title, page_number=page_number, parent=parent)
            add(children, item)

    add(bookmarks)
    for name, page_number in (named or {}).items():
        writer.add_named_destination(name, page_number)
    if link_to is not None:
        link = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 100, 30)]),
            NameObject("/Dest"): TextStringObject(link_to),
        })
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BOOKLET_MARKS = [
    ("Contents", 1, []),
    ("Chapter one", 2, [("A section", 3, [])]),
    ("Chapter two", 4, []),
]


@pytest.fixture(scope="module")
def parts() -> list[Part]:
    return [
        Part("Booklet", tiny_pdf(8, A5, BOOKLET_MARKS, named={"chapter-two": 4},
                                 link_to="chapter-two")),
        Part("使命 · 愿景", tiny_pdf(1, A2)),
        Part("Integrity", tiny_pdf(1, A2, [("Its own bookmark", 0, [])])),
    ]


@pytest.fixture(scope="module")
def merged(parts) -> PdfReader:
    return PdfReader(io.BytesIO(merge_parts(parts, INFO)))


def test_pages_of_every_part_in_order(merged):
    sizes = [(round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2))
             for p in merged.pages]
    assert sizes == [A5] * 8 + [A2] * 2


def test_one_outline_entry_per_part_with_its_bookmarks_nested(merged):
    assert outline(merged) == [
        (0, "Booklet", 0),
        (1, "Contents", 1),
        (1, "Chapter one", 2),
        (2, "A section", 3),
        (1, "Chapter two", 4),
        (0, "使命 · 愿景", 8),
        (0, "Integrity", 9),
        (1, "Its own bookmark", 9),
    ]


def test_bookmarks_panel_open_and_title_in_title_bar(merged):
    root = merged.trailer["/Root"]
    assert root["/PageMode"] == "/UseOutlines"
    preferences = root["/ViewerPreferences"].get_object()
    assert bool(preferences["/DisplayDocTitle"]) is True


def test_metadata_and_language(merged):
    meta = merged.metadata
    assert meta.title == INFO.title
    assert meta.author == INFO.author
    assert meta.subject == INFO.subject
    assert meta["/Keywords"] == INFO.keywords
    assert meta["/CreationDate"] == INFO.date
    assert str(merged.trailer["/Root"]["/Lang"]) == "zh-Hans"


def test_links_to_named_destinations_keep_working(merged):
    found = [link for link in links(merged) if not link.external]
    assert [(link.page, link.target) for link in found] == [(0, 4)]


def test_a_single_part_without_bookmarks(parts):
    reader = PdfReader(io.BytesIO(merge_parts([Part("Only", tiny_pdf(2, A5))], INFO)))
    assert len(reader.pages) == 2
    assert outline(reader) == [(0, "Only", 0)]


def test_identical_objects_are_stored_once():
    """Two posters drawing the same (large) content: the bundle keeps one copy of it."""
    artwork = b"\n".join(b"%% " + os.urandom(24).hex().encode() for _ in range(1500)) + b"\n"
    posters = [Part(f"Poster {i}", tiny_pdf(1, A2, content=artwork)) for i in range(3)]
    data = merge_parts(posters, INFO)
    total = sum(len(p.data) for p in posters)
    assert len(data) < total - len(artwork), (len(data), total)
    reader = PdfReader(io.BytesIO(data))
    contents = {page["/Contents"].indirect_reference.idnum for page in reader.pages}
    assert len(contents) == 1


def streams(reader: PdfReader) -> list[tuple[int, bytes]]:
    """(object number, raw data) of every stream reachable from the catalog."""
    return [(number, obj._data) for number, obj in reachable(reader)
            if number is not None and isinstance(obj, StreamObject)]


@pytest.mark.parametrize("lang", EDITIONS)
def test_real_bundle_stores_each_stream_once(built_root, lang):
    """Fonts subset identically in two parts, identical images or pages: kept once in the bundle."""
    found = streams(read_pdf(built_root / "build" / lang / "culture-kit.pdf"))
    copies: dict[bytes, list[int]] = {}
    for number, data in found:
        copies.setdefault(data, []).append(number)
    duplicates = {len(data): numbers for data, numbers in copies.items() if len(numbers) > 1}
    assert duplicates == {}, "identical streams stored more than once: {size: [objects]}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_real_bundle_is_no_bigger_than_its_parts(built_root, lang):
    """The parts share fonts and images, stored once in the bundle. pypdf cannot write object
    streams, so WeasyPrint's packed small objects come out loose. Since the parts are tagged, most
    of those are the structure tree's elements, some 400 per edition (measured: +7.7 % en,
    +5.4 % zh-Hans; untagged it was +0.2 % and +2 %); the bundle stays within 10 % of its parts."""
    folder = built_root / "build" / lang
    parts = [folder / "booklet.pdf", *sorted((folder / "posters").glob("*.pdf"))]
    bundle = folder / "culture-kit.pdf"
    size, total = bundle.stat().st_size, sum(p.stat().st_size for p in parts)
    assert size <= total * 1.10, f"{lang}/culture-kit.pdf is {size} bytes, its parts {total} bytes"
    assert len(read_pdf(bundle).pages) == sum(len(read_pdf(p).pages) for p in parts)

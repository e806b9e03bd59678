"""Personalised booklets: recipients' letters filled in, and their pages spliced into the shared ones.

A personalised booklet is the edition's booklet with two personal pages: the cover (with the
recipient's name) and a welcome letter on page 2. The shared pages are rendered once per edition (in
each worker); the personal pages of BATCH recipients, in the order of the CSV, in one document, so
that they share the work of laying out and embedding fonts. Each recipient's PDF is then the shared
PDF with pages 1 and 2 drawing theirs. Page objects stay where they are, so the contents' links,
bookmarks and page numbers of the shared pages stay right.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from .content import PLACEHOLDER
from .errors import Problem
from .markup import render_markdown

PERSONAL_PAGES = 2  # the cover and the welcome letter: pages 1 and 2 of every personalised booklet
BATCH = 40  # recipients whose personal pages are laid out in one document (and share its fonts)


@dataclass(frozen=True)
class PersonalPages:
    """The personal pages of some recipients, laid out in one PDF: recipient i's pages are
    `ranges[i]` (first page, count), or None when they failed a check (then in `problems`)."""

    data: bytes
    ranges: tuple[tuple[int, int] | None, ...]
    problems: tuple[Problem, ...]
    findings: tuple = ()  # preflight's, for the pages of the print file


@dataclass(frozen=True)
class PersonalBooklets:
    """A batch of recipients' booklets, each of `pages` pages; None for a recipient whose pages
    failed a check (in `problems`)."""

    files: tuple[bytes | None, ...]
    pages: int
    problems: tuple[Problem, ...]


def letter_for(recipient, welcome: dict, date_text: Callable,
               script_of: Callable[[str], str | None]) -> dict:
    """The plain data the layouts' cover and letter macros receive for one recipient, every text
    filled in and escaped. `date_text(date)` writes a date column in the edition's language;
    `script_of(text)` names the language whose fonts draw a value the edition's own fonts cannot
    (a Chinese name in the English edition), which is then marked with that language."""
    values = {"name": recipient.name, "email": recipient.email}
    for column, value in recipient.values.items():
        if value is not None:
            values[column] = value if isinstance(value, str) else date_text(value)
    marked = {}
    for column, value in values.items():
        lang = script_of(value) if value else None
        marked[column] = (Markup('<span lang="{}">{}</span>').format(lang, value) if lang
                          else escape(value))

    def fill(text: str) -> Markup | None:
        """`text` with each {column} filled in; None when a column it names is empty, so the line
        is left out rather than printed with a gap."""
        if any(not values.get(n) for n in PLACEHOLDER.findall(text)):
            return None
        return Markup(PLACEHOLDER.sub(lambda m: str(marked[m.group(1)]), str(escape(text))))

    paragraphs = re.split(r"\n\s*\n", welcome.get("body") or "")
    kept = [p for p in paragraphs if all(values.get(n) for n in PLACEHOLDER.findall(p))]
    html = render_markdown("\n\n".join(kept))  # placeholders pass through Markdown as text
    body = PLACEHOLDER.sub(lambda m: str(marked.get(m.group(1), m.group(0))), html)
    return {
        "name": marked["name"],
        "plain_name": recipient.name,
        "cover": fill(welcome.get("cover") or "") or marked["name"],
        "title": fill(welcome.get("title") or "") or "",
        "body": Markup(body),
        "details": [(label, marked[column]) for column, label in (welcome.get("details") or {}).items()
                    if values.get(column)],
        "note": fill(welcome.get("note") or "") or "",
        "note_by": fill(welcome.get("note_by") or "") or "",
        "signature": welcome.get("signature") or "",
    }


class Splicer:
    """Makes recipients' booklets from the shared booklet, which is read once for them all."""

    def __init__(self, shared: bytes):
        from pypdf import PdfReader

        self.shared = shared
        self.base = PdfReader(io.BytesIO(shared))
        self.batch: tuple[PersonalPages | None, list] = (None, [])  # the batch being spliced

    def booklet(self, personal: PersonalPages, index: int = 0) -> bytes:
        """Recipient `index`'s booklet: the shared one with its first pages drawing theirs."""
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=self.base)
        if self.batch[0] is not personal:  # each batch is read once, and only one is kept
            self.batch = (personal, PdfReader(io.BytesIO(personal.data)).pages)
        pages = self.batch[1]
        first, count = personal.ranges[index]
        for n in range(count):
            _take_page(writer, writer.pages[n], pages[first + n])
        writer._ID = file_id(self.shared, [(personal, index)])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def combine(shared: bytes, personal: list[tuple[PersonalPages, int]]) -> bytes:
    """Every recipient's booklet in one PDF, in order, for printing the whole batch. Each shared
    page is one content stream with one set of resources however many copies there are, and the
    personal pages of a batch share theirs; links and bookmarks are left out (a print file is not
    read on screen)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(shared)))
    if "/Outlines" in writer._root_object:
        del writer._root_object[NameObject("/Outlines")]
    template = list(writer.pages)
    for page in template:
        if "/Annots" in page:
            del page[NameObject("/Annots")]
    readers: dict[int, list] = {}
    for copy, (batch, index) in enumerate(personal):
        if id(batch) not in readers:  # each batch document is read once
            readers[id(batch)] = PdfReader(io.BytesIO(batch.data)).pages
        pages = readers[id(batch)]
        first, count = batch.ranges[index]
        for n, shared_page in enumerate(template):
            page = shared_page if copy == 0 else writer.add_blank_page(1, 1)
            if copy:
                for key in list(shared_page.keys()):
                    if key != "/Parent":
                        page[NameObject(key)] = shared_page.raw_get(key)
            if n < count:
                _take_page(writer, page, pages[first + n])
    writer._ID = file_id(shared, personal)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def file_id(shared: bytes, personal: list[tuple[PersonalPages, int]]):
    """A file identifier derived from the file's parts, so a rebuild gives the same bytes."""
    from pypdf.generic import ArrayObject, ByteStringObject

    digest = hashlib.sha256(shared)
    for batch, index in personal:
        digest.update(hashlib.sha256(batch.data).digest() + repr(batch.ranges[index]).encode())
    raw = digest.digest()[:16]
    return ArrayObject([ByteStringObject(raw), ByteStringObject(raw)])


def _take_page(writer, target, source) -> None:
    """Make `target` (a page of `writer`) draw `source`'s content with `source`'s resources, and
    keep `source`'s web links (its internal links would point into another document)."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    if "/Contents" in source:
        target[NameObject("/Contents")] = source.raw_get("/Contents").clone(writer)
    elif "/Contents" in target:
        del target[NameObject("/Contents")]
    # The fonts of a batch's document are one dictionary for all its pages: take only those this
    # page sets text in, so a booklet does not carry the subsets of its batch-mates' names.
    resources = DictionaryObject()
    for key, value in (source.get("/Resources") or {}).items():
        if key == "/Font":
            used = _fonts_used(source)
            value = DictionaryObject({NameObject(name): ref for name, ref in value.get_object().items()
                                      if name[1:] in used})
        resources[NameObject(key)] = value.clone(writer)
    target[NameObject("/Resources")] = resources
    links = [a.clone(writer) for a in source.get("/Annots", [])
             if a.get_object().get("/A", {}).get("/S") == "/URI"]
    if links:
        target[NameObject("/Annots")] = ArrayObject(links)
    elif "/Annots" in target:
        del target[NameObject("/Annots")]


_SET_FONT = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+[-+\d.]+\s+Tf\b")


def _fonts_used(page) -> set[str]:
    """The names of the fonts a page's content sets text in (its Tf operators)."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    return {name.decode("latin-1") for name in _SET_FONT.findall(data)}

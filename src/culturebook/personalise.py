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
    """Makes recipients' booklets from the shared booklet, which is read once for them all.

    A batch's booklets are written together: the shared booklet and every recipient's personal
    pages go into one PDF, written once; each recipient's file is then put together from that
    file's bytes: the shared objects, their own objects and their own versions of the first page
    objects, with a cross-reference table of its own. A booklet costs a few copies of bytes rather
    than a whole PDF written object by object."""

    def __init__(self, shared: bytes):
        from pypdf import PdfReader

        self.shared = shared
        self.base = PdfReader(io.BytesIO(shared))
        self.header = shared[:shared.index(b"\n")].decode("latin-1")  # the version WeasyPrint wrote

    def booklets(self, personal: PersonalPages) -> list[bytes | None]:
        """Every booklet of a batch, None for a recipient without pages."""
        from pypdf import PdfReader, PdfWriter
        from pypdf.generic import DictionaryObject

        writer = PdfWriter(clone_from=self.base)
        writer.pdf_header = self.header
        sources = PdfReader(io.BytesIO(personal.data)).pages if any(personal.ranges) else []
        replaced = [writer.pages[n].indirect_reference.idnum for n in range(PERSONAL_PAGES)]
        versions: list[dict[int, DictionaryObject] | None] = []
        for span in personal.ranges:
            if span is None:
                versions.append(None)
                continue
            first, count = span
            mine = {}
            for n in range(count):
                page = DictionaryObject(writer.pages[n])  # a copy: the shared page stays
                _take_page(writer, page, sources[first + n])
                mine[replaced[n]] = page
            versions.append(mine)
        written = io.BytesIO()
        writer.write(written)
        data = written.getvalue()
        spans = _object_spans(data)
        trailer = {"/Root": writer.root_object.indirect_reference}
        if writer._info is not None:
            trailer["/Info"] = writer._info.indirect_reference
        shared = _reachable(list(trailer.values()), stop=set(replaced))
        files = []
        for index, mine in enumerate(versions):
            if mine is None:
                files.append(None)
                continue
            own = _reachable(list(mine.values()), stop=shared)
            files.append(_assemble(self.header, data, spans, shared | own, mine, trailer,
                                   file_id(self.shared, [(personal, index)])))
        return files

    def booklet(self, personal: PersonalPages, index: int = 0) -> bytes:
        """Recipient `index`'s booklet (of a batch of one, when that is all that is needed)."""
        return self.booklets(personal)[index]


def _object_spans(data: bytes) -> dict[int, tuple[int, int]]:
    """{object number: (start, end)} of each object in a PDF with one classic cross-reference table
    (as pypdf writes it): where each starts, and ends where the next one starts."""
    xref = int(data[data.rindex(b"startxref") + 9:].split()[0])
    head, rest = data[xref:].split(b"\n", 2)[1], data[xref:].split(b"\n", 2)[2]
    first, count = map(int, head.split())
    starts = {}
    for i in range(count):
        entry = rest[i * 20:i * 20 + 20]
        if entry[17:18] == b"n":
            starts[first + i] = int(entry[:10])
    ordered = sorted(starts.items(), key=lambda item: item[1])
    ends = [start for _, start in ordered[1:]] + [xref]
    return {number: (start, end) for (number, start), end in zip(ordered, ends, strict=True)}


def _reachable(roots: list, stop: set[int]) -> set[int]:
    """The numbers of the indirect objects `roots` lead to. An object in `stop` is counted but not
    followed (it is either known already, or replaced: its own references are not the file's)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: set[int] = set()
    todo = list(roots)
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in found:
                continue
            found.add(item.idnum)
            if item.idnum in stop:
                continue
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams too
            todo.extend(item.values())
        elif isinstance(item, ArrayObject):
            todo.extend(item)
    return found


def _assemble(header: str, data: bytes, spans: dict, numbers: set[int], replaced: dict,
              trailer: dict, identifier) -> bytes:
    """A PDF of the objects `numbers` of `data`, the objects in `replaced` written anew, with its
    own cross-reference table. The object numbers stay as they are; those left out are free."""
    from pypdf.generic import DictionaryObject, NameObject, NumberObject

    out = io.BytesIO()
    out.write(header.encode("latin-1") + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(numbers):
        offsets[number] = out.tell()
        if number in replaced:
            out.write(b"%d 0 obj\n" % number)
            replaced[number].write_to_stream(out)
            out.write(b"\nendobj\n")
        else:
            start, end = spans[number]
            out.write(data[start:end])
    size = max(spans) + 1
    free = [n for n in range(1, size) if n not in offsets] + [0]
    next_free = dict(zip([0] + free[:-1], free, strict=True))
    xref = out.tell()
    out.write(b"xref\n0 %d\n" % size)
    for number in range(size):
        if number in offsets:
            out.write(b"%010d 00000 n \n" % offsets[number])
        else:
            out.write(b"%010d %05d f \n" % (next_free[number], 65535 if number == 0 else 1))
    out.write(b"trailer\n")
    DictionaryObject({NameObject("/Size"): NumberObject(size), NameObject("/ID"): identifier,
                      **{NameObject(k): v for k, v in trailer.items()}}).write_to_stream(out)
    out.write(b"\nstartxref\n%d\n%%%%EOF\n" % xref)
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

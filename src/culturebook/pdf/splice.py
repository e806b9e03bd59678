"""Personal pages spliced into the shared booklet, and the print file of all booklets."""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from dataclasses import dataclass

from culturebook.errors import Problem
from culturebook.pdf.pdfx import OutputIntent, apply_pdfx

PERSONAL_PAGES = 2  # the cover and the welcome letter: pages 1 and 2 of every personalised booklet




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
    failed a check (in `problems`). The booklets of a batch begin with the same bytes (`head`: the
    shared objects), so they are held, and sent from a worker, as that head once and each one's
    own rest (`tails`): a fifth of the bytes, for a batch of 20."""

    head: bytes
    tails: tuple[bytes | None, ...]
    pages: int
    problems: tuple[Problem, ...]

    def file(self, index: int) -> bytes | None:
        """Recipient `index`'s booklet, whole; None when their pages failed a check."""
        tail = self.tails[index]
        return None if tail is None else self.head + tail


class Splicer:
    """Makes recipients' booklets from the shared booklet, which is read once for them all.

    A batch's booklets are written together: the shared booklet and every recipient's personal
    pages go into one PDF, written once; each recipient's file is then put together from that
    file's bytes: the shared objects, their own objects, and their own versions of the first page
    objects and (in a tagged booklet) of the structure tree's document element and parent tree,
    with a cross-reference stream of its own (_Packer). A booklet costs a few copies of bytes and
    one small compressed stream rather than a whole PDF written object by object."""

    def __init__(self, shared: bytes):
        from pypdf import PdfReader

        self.shared = shared
        self.base = PdfReader(io.BytesIO(shared))
        self.header = shared[:shared.index(b"\n")].decode("latin-1")  # the version WeasyPrint wrote
        # Every batch clones the shared booklet to the same objects, under the same numbers, and
        # leaves them as they are (a recipient's versions are copies): their bytes, and which of
        # them every booklet shares, are worked out for the first batch and kept for the rest.
        self.kept: dict[int, bytes] = {}
        self.common: set[int] | None = None

    def booklets(self, personal: PersonalPages) -> tuple[bytes, list[bytes | None]]:
        """Every booklet of a batch as the bytes all of them begin with and each one's rest (None
        for a recipient without pages)."""
        from pypdf import PdfReader, PdfWriter
        from pypdf.generic import DictionaryObject

        writer = PdfWriter(clone_from=self.base)
        writer.pdf_header = self.header
        cloned = len(writer._objects)  # pypdf 7 lists a writer's objects only in _objects
        reader = PdfReader(io.BytesIO(personal.data)) if any(personal.ranges) else None
        sources = reader.pages if reader is not None else []
        replaced = [writer.pages[n].indirect_reference.idnum for n in range(PERSONAL_PAGES)]
        structure, batch = _Structure(writer, PERSONAL_PAGES), None
        versions: list[dict[int, DictionaryObject] | None] = []
        for span in personal.ranges:
            if span is None:
                versions.append(None)
                continue
            first, count = span
            mine, links = {}, {}
            for n in range(count):
                page = DictionaryObject(writer.pages[n])  # a copy: the shared page stays
                links.update(_take_page(writer, page, sources[first + n]))
                mine[replaced[n]] = page
            if structure.tagged:
                batch = batch or _Batch(reader)
                mine.update(structure.graft(batch, first, count, mine, links))
            versions.append(mine)
        trailer = {"/Root": writer.root_object.indirect_reference}
        # pypdf 7's public metadata is a copy without its object's reference: _info has it
        if writer._info is not None:
            trailer["/Info"] = writer._info.indirect_reference
        anew = set(replaced) | structure.replaced  # each booklet writes its own version of these
        if self.common is None:
            self.common = _reachable(list(trailer.values()), stop=anew)
        shared = self.common
        bodies = _Bodies(writer, self.kept, cloned)
        packer = _Packer(bodies, shared - anew, self.header)  # the shared part, made once
        files = []
        for index, mine in enumerate(versions):
            if mine is None:
                files.append(None)
                continue
            # (reachable() counts the shared objects it stops at: they are not this booklet's own)
            own = (_reachable(list(mine.values()), stop=shared) - shared) | set(mine)
            files.append(packer.assemble(own, mine, trailer,
                                         file_id(self.shared, [(personal, index)])))
        return packer.head, files

    def booklet(self, personal: PersonalPages, index: int = 0) -> bytes:
        """Recipient `index`'s booklet (of a batch of one, when that is all that is needed)."""
        head, tails = self.booklets(personal)
        return head + tails[index]


class _Structure:
    """The structure tree of the shared booklet (a tagged PDF), and each recipient's version of it.

    The personal pages are laid out in their own document, with their own structure tree. A
    recipient's booklet takes the shared tree with the top-level elements of the placeholder pages
    swapped for those of their own pages (copied, pointing at the booklet's pages), and a parent
    tree whose entries for pages 1 and 2 (and their links) lead to those copies. So a screen
    reader meets the recipient's cover and letter, in order, where the placeholders were; the
    objects of the document element and the parent tree are the only shared ones written anew."""

    def __init__(self, writer, personal_pages: int):
        self.writer = writer
        root = writer.root_object.get("/StructTreeRoot")
        self.tagged = root is not None
        self.replaced: set[int] = set()
        if not self.tagged:
            return
        root = root.get_object()
        self.document_ref = _top(root)
        self.tree_ref = root.raw_get("/ParentTree")
        self.replaced = {self.document_ref.idnum, self.tree_ref.idnum}
        pages = {p.indirect_reference.idnum: n for n, p in enumerate(writer.pages)}
        kids = _kids(self.document_ref.get_object())
        # The placeholder pages' elements: those whose content lies on pages 1 and 2 only.
        spans = [_pages_of(kid, pages) for kid in kids]
        placeholder = [bool(span) and max(span) < personal_pages for span in spans]
        first = placeholder.index(True) if True in placeholder else 0
        self.before = kids[:first]
        self.after = [k for k, p in zip(kids[first:], placeholder[first:], strict=True) if not p]
        nums = self.tree_ref.get_object()["/Nums"]
        self.entries = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        dropped = {int(a.get_object()["/StructParent"]) for n in range(personal_pages)
                   for a in writer.pages[n].get("/Annots", []) if "/StructParent" in a.get_object()}
        for key in dropped:
            del self.entries[key]
        self.next_key = max(int(nums[i]) for i in range(0, len(nums), 2)) + 1

    def graft(self, batch: _Batch, first: int, count: int, mine: dict, links: dict) -> dict:
        """New versions of the document element and the parent tree for the recipient whose
        personal pages are the batch's pages first.. first+count-1, now `mine` (page objects by
        number) with `links` ({number of a link annotation in the batch: its copy})."""
        from pypdf.generic import (
            ArrayObject,
            DictionaryObject,
            IndirectObject,
            NameObject,
            NullObject,
            NumberObject,
        )

        target = {batch.pages[first + n].indirect_reference.idnum:
                  self.writer.pages[n].indirect_reference for n in range(count)}
        numbers = list(mine)  # the booklet's page objects, in order
        wanted = set(range(first, first + count))
        own = [kid for kid, span in batch.kids if span and span <= wanted]
        copies: dict[int, object] = {}
        grafted = [self._copy(kid, self.document_ref, target, links, copies) for kid in own]
        document = DictionaryObject(self.document_ref.get_object())
        document[NameObject("/K")] = ArrayObject([*self.before, *grafted, *self.after])

        entries = dict(self.entries)
        for n in range(count):
            key = int(mine[numbers[n]]["/StructParents"])
            marked = batch.entries[int(batch.pages[first + n]["/StructParents"])]
            entries[key] = ArrayObject(copies.get(e.idnum, NullObject())
                                       if isinstance(e, IndirectObject) else NullObject()
                                       for e in marked)
        key = self.next_key
        for number, link in links.items():
            element = batch.entries.get(int(batch.reader.get_object(number).get("/StructParent", -1)))
            if not isinstance(element, IndirectObject) or element.idnum not in copies:
                continue
            link.get_object()[NameObject("/StructParent")] = NumberObject(key)
            entries[key] = copies[element.idnum]
            key += 1
        tree = DictionaryObject(self.tree_ref.get_object())
        tree[NameObject("/Nums")] = ArrayObject(
            item for k in sorted(entries) for item in (NumberObject(k), entries[k]))
        return {self.document_ref.idnum: document, self.tree_ref.idnum: tree}

    def _copy(self, ref, parent, target: dict, links: dict, copies: dict):
        """A copy of the structure element `ref` (of the personal pages' document) and the
        elements under it, added to the writer: its parent `parent`, its pages the booklet's."""
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

        source = ref.get_object()
        element = DictionaryObject()
        # pypdf 7 has no public call that makes an object indirect: _add_object
        new = self.writer._add_object(element)
        copies[ref.idnum] = new
        for key, value in source.items():
            if key not in ("/K", "/P", "/Pg"):
                element[NameObject(key)] = value.clone(self.writer)
        element[NameObject("/P")] = parent
        if "/Pg" in source:
            element[NameObject("/Pg")] = target[source.raw_get("/Pg").idnum]
        kids = ArrayObject()
        for kid in _kids(source):
            item = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(item, int):
                kids.append(NumberObject(item))
            elif item.get("/Type") == "/OBJR":  # a link annotation: its copy on the page
                annotation = item.raw_get("/Obj").idnum
                if annotation in links:
                    kids.append(self.writer._add_object(DictionaryObject({
                        NameObject("/Type"): NameObject("/OBJR"),
                        NameObject("/Obj"): links[annotation],
                        NameObject("/Pg"): target[item.raw_get("/Pg").idnum]})))
            elif item.get("/Type") == "/MCR":
                kids.append(DictionaryObject({
                    NameObject("/Type"): NameObject("/MCR"), NameObject("/MCID"): item["/MCID"],
                    NameObject("/Pg"): target[item.raw_get("/Pg").idnum]}))
            else:
                kids.append(self._copy(kid, new, target, links, copies))
        element[NameObject("/K")] = kids
        return new


class _Batch:
    """The personal pages' document of a batch, read once: its pages, the top-level structure
    elements with the pages each lies on, and its parent tree."""

    def __init__(self, reader):
        self.reader = reader
        self.pages = list(reader.pages)
        numbers = {p.indirect_reference.idnum: n for n, p in enumerate(self.pages)}
        root = reader.trailer["/Root"]["/StructTreeRoot"]
        self.kids = [(kid, _pages_of(kid, numbers)) for kid in _kids(_top(root).get_object())]
        nums = root["/ParentTree"]["/Nums"]
        self.entries = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


def _top(root):
    """The element under a structure tree root (WeasyPrint writes one: the Document)."""
    kids = _kids(root)
    if len(kids) != 1:
        raise ValueError(f"a structure tree with {len(kids)} top-level elements, not one")
    return kids[0]


def _kids(element) -> list:
    """An element's /K as a list of what it holds as written (references stay references)."""
    from pypdf.generic import ArrayObject, IndirectObject

    kids = element.raw_get("/K") if "/K" in element else None
    if isinstance(kids, IndirectObject) and isinstance(kids.get_object(), ArrayObject):
        kids = kids.get_object()
    if kids is None:
        return []
    return list(kids) if isinstance(kids, ArrayObject) else [kids]


def _pages_of(ref, pages: dict[int, int]) -> set[int]:
    """The pages (by index) that the content of a structure element and its descendants is on."""
    found: set[int] = set()
    todo = [ref]
    while todo:
        item = todo.pop()
        item = item.get_object() if hasattr(item, "get_object") else item
        if not hasattr(item, "raw_get"):
            continue
        if "/Pg" in item and item.raw_get("/Pg").idnum in pages:
            found.add(pages[item.raw_get("/Pg").idnum])
        if item.get("/Type") != "/OBJR":
            todo += _kids(item)
    return found


class _Bodies:
    """The bytes of each object of a batch's writer as pypdf would write it in a file (between
    `N 0 obj` and `endobj`), made when first asked for. Those of the shared booklet's clone (the
    first `cloned` objects) are the same for every batch, and are kept in `kept` from one batch
    to the next; the batch's own are made once for the batch."""

    def __init__(self, writer, kept: dict[int, bytes], cloned: int):
        self.objects = writer._objects  # pypdf 7 lists a writer's objects only in _objects
        self.kept, self.cloned, self.made = kept, cloned, {}
        # the highest number in use, as the file pypdf would write lists it
        self.last = max(n for n, o in enumerate(self.objects, 1) if o is not None)

    def __getitem__(self, number: int) -> bytes:
        store = self.kept if number <= self.cloned else self.made
        body = store.get(number)
        if body is None:
            written = io.BytesIO()
            self.objects[number - 1].write_to_stream(written)
            body = store[number] = written.getvalue()
        return body

    def is_stream(self, number: int) -> bool:
        return self[number].endswith(b"endstream")


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


class _Packer:
    """Writes recipients' booklets from the objects of one batch (`bodies`, a _Bodies),
    compactly: streams are copied as they are, and every other object goes into a
    compressed object stream: the objects all booklets share (`shared`) into one made once for the
    batch, each booklet's own into another. A cross-reference stream lists them. Every booklet
    begins with the same `head`: the header, the shared streams and the shared object stream; then
    its own streams and objects. (Loose objects,
    as pypdf writes them, made a tagged booklet a third larger: its structure tree is hundreds of
    small dictionaries, and the table had a line for every object of the batch.)"""

    def __init__(self, bodies: _Bodies, shared: set[int], header: str):
        self.bodies = bodies
        self.size = bodies.last + 1  # the batch's object numbers; then the two object streams
        self.shared_streams = sorted(n for n in shared if bodies.is_stream(n))
        packed = sorted(n for n in shared if not bodies.is_stream(n))
        self.shared_stream = _object_stream(self.size, [(n, bodies[n]) for n in packed])
        self.in_shared = {n: i for i, n in enumerate(packed)}
        head = io.BytesIO()
        head.write(header.encode("latin-1") + b"\n%\xe2\xe3\xcf\xd3\n")
        self.shared_offsets: dict[int, int] = {}
        for number in self.shared_streams:
            self.shared_offsets[number] = head.tell()
            head.write(self._whole(number))
        self.shared_offsets[self.size] = head.tell()
        head.write(self.shared_stream)
        self.head = head.getvalue()

    def _whole(self, number: int) -> bytes:
        """An object as it stands in a file: `N 0 obj`, its bytes, `endobj`."""
        return b"%d 0 obj\n" % number + self.bodies[number] + b"\nendobj\n"

    def assemble(self, own: set[int], replaced: dict, trailer: dict, identifier) -> bytes:
        """What follows `head` in a booklet of the shared objects and `own`, those in `replaced`
        written anew (the object numbers stay the batch file's; those left out are free)."""
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

        out = io.BytesIO()
        base = len(self.head)  # offsets are in the whole file: head, then this
        offsets = dict(self.shared_offsets)
        streams = {n for n in own if n not in replaced and self.bodies.is_stream(n)}
        for number in sorted(streams):
            offsets[number] = base + out.tell()
            out.write(self._whole(number))
        bodies = []
        for number in sorted(own - streams):
            if number in replaced:
                written = io.BytesIO()
                replaced[number].write_to_stream(written)
                bodies.append((number, written.getvalue()))
            else:
                bodies.append((number, self.bodies[number]))
        offsets[self.size + 1] = base + out.tell()
        out.write(_object_stream(self.size + 1, bodies))
        compressed = {n: (self.size, i) for n, i in self.in_shared.items()}
        compressed |= {n: (self.size + 1, i) for i, (n, _) in enumerate(bodies)}
        xref = self.size + 2
        offsets[xref] = base + out.tell()
        # the third field: an object's place in its object stream, or a free entry's generation
        wide = max(2, (max((i for _, i in compressed.values()), default=0).bit_length() + 7) // 8)
        rows = bytearray()
        for number in range(xref + 1):
            if number in offsets:
                rows += b"\x01" + offsets[number].to_bytes(4, "big") + bytes(wide)
            elif number in compressed:
                stream, index = compressed[number]
                rows += b"\x02" + stream.to_bytes(4, "big") + index.to_bytes(wide, "big")
            else:  # free: the head of the free list, or a number not in this booklet
                rows += bytes(5) + (65535 if number == 0 else 1).to_bytes(wide, "big")
        packed = zlib.compress(bytes(rows), 9)
        entries = {"/Type": NameObject("/XRef"), "/Size": NumberObject(xref + 1),
                   "/W": ArrayObject([NumberObject(1), NumberObject(4), NumberObject(wide)]),
                   "/ID": identifier, "/Filter": NameObject("/FlateDecode"),
                   "/Length": NumberObject(len(packed)), **trailer}
        out.write(b"%d 0 obj\n" % xref)
        DictionaryObject({NameObject(k): v for k, v in entries.items()}).write_to_stream(out)
        out.write(b"\nstream\n" + packed + b"\nendstream\nendobj\n")
        out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[xref])
        return out.getvalue()


def _object_stream(number: int, bodies: list[tuple[int, bytes]]) -> bytes:
    """Object `number`: an object stream holding `bodies` ((object number, its bytes)), compressed."""
    index, offset, parts = [], 0, []
    for n, body in bodies:
        index.append(b"%d %d" % (n, offset))
        parts.append(body + b"\n")
        offset += len(body) + 1
    head = b" ".join(index) + b"\n"
    packed = zlib.compress(head + b"".join(parts), 6)
    return (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
            b"stream\n" % (number, len(bodies), len(head), len(packed))
            + packed + b"\nendstream\nendobj\n")


def combine(shared: bytes, personal: list[tuple[PersonalPages, int]],
            intent: OutputIntent | None = None) -> bytes:
    """Every recipient's booklet in one PDF, in order, for printing the whole batch. Each shared
    page is one content stream with one set of resources however many copies there are, and the
    personal pages of a batch share theirs; links and bookmarks are left out (a print file is not
    read on screen). With an output `intent` the file is PDF/X-4 for it (pdf.pdfx.apply_pdfx)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(shared)))
    if "/Outlines" in writer.root_object:
        del writer.root_object[NameObject("/Outlines")]
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
    # pypdf 7 sets a file identifier only at random (generate_file_identifiers): _ID takes ours
    writer._ID = file_id(shared, personal)
    if intent is not None:
        apply_pdfx(writer, intent)
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


def _take_page(writer, target, source) -> dict:
    """Make `target` (a page of `writer`) draw `source`'s content with `source`'s resources, and
    keep `source`'s web links (its internal links would point into another document). Returns
    {number of each link annotation kept: its copy}."""
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
    links = {a.idnum: a.clone(writer) for a in source.get("/Annots", [])
             if a.get_object().get("/A", {}).get("/S") == "/URI"}
    if links:
        target[NameObject("/Annots")] = ArrayObject(links.values())
    elif "/Annots" in target:
        del target[NameObject("/Annots")]
    return links


_SET_FONT = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+[-+\d.]+\s+Tf\b")


def _fonts_used(page) -> set[str]:
    """The names of the fonts a page's content sets text in (its Tf operators)."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    return {name.decode("latin-1") for name in _SET_FONT.findall(data)}

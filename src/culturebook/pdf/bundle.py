"""Booklet + posters (PDF bytes) -> one bundle PDF to send by email (pypdf), keeping their tags.

pypdf's merge copies pages but not the catalog's structure tree, so a bundle of tagged parts would
be untagged. `merge_parts` therefore copies each part's structure tree too: each part's Document
element becomes a Part of the bundle's Document, and its parent tree (which maps each page's
marked content, and each link, to its structure element) is renumbered into the bundle's.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)


@dataclass(frozen=True)
class Part:
    """One PDF going into the bundle, and the outline entry it gets."""

    title: str
    data: bytes


@dataclass(frozen=True)
class BundleInfo:
    title: str
    author: str
    subject: str
    keywords: str
    lang: str
    date: str  # PDF date string, D:YYYYMMDDHHmmSSZ


def merge_parts(parts: list[Part], info: BundleInfo) -> bytes:
    """Merge the parts in order: one outline entry per part, each part's own bookmarks under it."""
    writer = PdfWriter()
    copied = []
    for part in parts:
        reader = PdfReader(io.BytesIO(part.data))
        start = len(writer.pages)
        writer.append(reader, outline_item=None, import_outline=False)
        parent = writer.add_outline_item(title=part.title, page_number=start)
        _copy_outline(writer, reader, reader.outline, parent, start)
        copied.append((reader, start))
    _merge_structure(writer, copied)
    writer.add_metadata({
        "/Title": info.title,
        "/Author": info.author,
        "/Subject": info.subject,
        "/Keywords": info.keywords,
        "/Creator": "culturebook",
        "/Producer": "culturebook (WeasyPrint, pypdf)",
        "/CreationDate": info.date,
        "/ModDate": info.date,
    })
    writer.root_object[NameObject("/Lang")] = TextStringObject(info.lang)
    writer.create_viewer_preferences()
    writer.viewer_preferences.display_doctitle = True
    writer.page_mode = "/UseOutlines"
    # A stable file identifier (derived from the parts) keeps the bundle byte-identical across builds.
    digest = hashlib.md5(b"".join(hashlib.sha256(p.data).digest() for p in parts)).digest()
    # pypdf 7 sets a file identifier only at random (generate_file_identifiers): _ID takes ours
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _copy_outline(writer: PdfWriter, reader: PdfReader, items, parent, offset: int) -> None:
    last = parent
    for item in items:
        if isinstance(item, list):
            _copy_outline(writer, reader, item, last, offset)
            continue
        page = reader.get_destination_page_number(item)
        last = writer.add_outline_item(title=item.title, page_number=offset + page, parent=parent)


def _merge_structure(writer: PdfWriter, copied: list[tuple[PdfReader, int]]) -> None:
    """Give the bundle one structure tree made of its parts' trees, in order (untagged parts add
    nothing). Keys of the parent tree are renumbered so that each page's /StructParents and each
    link's /StructParent still find their structure elements."""
    root = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
    # pypdf 7 has no public call that makes an object indirect: _add_object
    root_ref = writer._add_object(root)
    document = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                 NameObject("/S"): NameObject("/Document"),
                                 NameObject("/P"): root_ref, NameObject("/K"): ArrayObject()})
    document_ref = writer._add_object(document)
    nums = ArrayObject()
    offset = 0
    for reader, start in copied:
        tree = reader.trailer["/Root"].get("/StructTreeRoot")
        if tree is None:
            continue
        tree = tree.get_object()
        old_nums = tree["/ParentTree"].get_object().get("/Nums") or []
        keys = [int(old_nums[i]) for i in range(0, len(old_nums), 2)]
        # Clone through the part's own references, so that pages and links already copied by
        # append() are the same objects here (pypdf maps each source object to one copy).
        for i in range(0, len(old_nums), 2):
            nums.append(NumberObject(int(old_nums[i]) + offset))
            nums.append(old_nums.raw_get(i + 1) if hasattr(old_nums, "raw_get") else old_nums[i + 1])
            nums[-1] = nums[-1].clone(writer) if hasattr(nums[-1], "clone") else nums[-1]
        kids = tree.raw_get("/K") if "/K" in tree else ArrayObject()
        for kid in kids if isinstance(kids, list) else [kids]:
            part = kid.clone(writer)
            element = part.get_object()
            element[NameObject("/S")] = NameObject("/Part")
            element[NameObject("/P")] = document_ref
            document["/K"].append(part if hasattr(part, "idnum") else writer._add_object(element))
        # append() leaves out the pages' /StructParents: set it from the part's page, moved on.
        for source, page in zip(reader.pages, writer.pages[start:start + len(reader.pages)],
                                strict=True):
            if "/StructParents" in source:
                page[NameObject("/StructParents")] = NumberObject(
                    int(source["/StructParents"]) + offset)
            for annot in page.get("/Annots") or []:
                annot = annot.get_object()
                if "/StructParent" in annot:
                    annot[NameObject("/StructParent")] = NumberObject(
                        int(annot["/StructParent"]) + offset)
        offset += max(keys, default=-1) + 1
    if not document["/K"]:
        return
    root[NameObject("/K")] = ArrayObject([document_ref])
    root[NameObject("/ParentTree")] = writer._add_object(DictionaryObject({NameObject("/Nums"): nums}))
    root[NameObject("/ParentTreeNextKey")] = NumberObject(offset)
    writer.root_object[NameObject("/StructTreeRoot")] = root_ref
    writer.root_object[NameObject("/MarkInfo")] = DictionaryObject(
        {NameObject("/Marked"): BooleanObject(True)})

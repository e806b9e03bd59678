"""Booklet + posters (PDF bytes) -> one bundle PDF to send by email (pypdf)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject


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
    for part in parts:
        reader = PdfReader(io.BytesIO(part.data))
        start = len(writer.pages)
        writer.append(reader, outline_item=None, import_outline=False)
        parent = writer.add_outline_item(title=part.title, page_number=start)
        _copy_outline(writer, reader, reader.outline, parent, start)
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
    writer._root_object[NameObject("/Lang")] = TextStringObject(info.lang)
    writer.create_viewer_preferences()
    writer.viewer_preferences.display_doctitle = True
    writer.page_mode = "/UseOutlines"
    # A stable file identifier (derived from the parts) keeps the bundle byte-identical across builds.
    digest = hashlib.md5(b"".join(hashlib.sha256(p.data).digest() for p in parts)).digest()
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

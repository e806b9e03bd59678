"""A finished PDF (pypdf writer or bytes) -> PDF/X-4: output intent, XMP, Trapped, version, boxes, ID.

Every print file goes through `apply_pdfx` just before it is written, whatever made it (WeasyPrint
and the slug, imposition, tiling, the personalised print file), so they are PDF/X-4 in one way: a
/GTS_PDFX output intent whose DestOutputProfile is the theme's ICC file byte for byte (WeasyPrint
embeds a copy re-serialised by Pillow, twice its size), XMP metadata written from the Info
dictionary (so the two agree) with pdfxid:GTS_PDFXVersion and document ids derived from the
content, /Trapped, a %PDF-1.6 header, a TrimBox on every page (the page itself when nothing else
is the trim) and a file identifier derived from the content, so a rebuild gives the same bytes.
`read_xmp` and `iso_date` read the same fields back for preflight.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.sax.saxutils import escape

PDFX_VERSION = "PDF/X-4"
PDF_HEADER = "%PDF-1.6"  # PDF/X-4 is PDF 1.6

# Info key -> the XMP property that repeats it (ISO 16684 names).
INFO_XMP = {"/Title": "dc:title", "/Author": "dc:creator", "/Subject": "dc:description",
            "/Keywords": "pdf:Keywords", "/Creator": "xmp:CreatorTool", "/Producer": "pdf:Producer",
            "/CreationDate": "xmp:CreateDate", "/ModDate": "xmp:ModifyDate",
            "/Trapped": "pdf:Trapped"}

NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "dc": "http://purl.org/dc/elements/1.1/",
      "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
      "xmpMM": "http://ns.adobe.com/xap/1.0/mm/", "pdfxid": "http://www.npes.org/pdfx/ns/id/"}


@dataclass(frozen=True)
class OutputIntent:
    """The printing condition a print file is made for: the ICC profile's bytes and its name."""

    profile: bytes = field(repr=False)  # the theme's CMYK ICC file, as it is on disk
    condition: str  # OutputConditionIdentifier, e.g. FOGRA39


def make_pdfx(data: bytes, intent: OutputIntent) -> bytes:
    """`data` made PDF/X-4 for `intent` (apply_pdfx on a copy)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    apply_pdfx(writer, intent)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def apply_pdfx(writer, intent: OutputIntent, seed: bytes | None = None) -> None:
    """Make the document in pypdf `writer` PDF/X-4 for `intent`, in place, before it is written.

    `seed` identifies the content (file ID and XMP ids are derived from it with the intent); by
    default the writer's own file identifier, or else its pages' content streams."""
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DictionaryObject,
        IndirectObject,
        NameObject,
        TextStringObject,
    )

    root = writer.root_object
    profile = _profile_stream(writer, intent.profile)
    ours = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFX"),
        NameObject("/OutputConditionIdentifier"): TextStringObject(intent.condition),
        NameObject("/Info"): TextStringObject(intent.condition),
        NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
        NameObject("/DestOutputProfile"): profile})
    intents = root.get("/OutputIntents")
    intents = intents.get_object() if intents is not None else None
    if intents:  # the document's own intent, as it is referred to, now says what we say
        existing = intents[0].get_object()
        existing.clear()
        existing.update(ours)
        del intents[1:]
    else:
        root[NameObject("/OutputIntents")] = ArrayObject([ours])
    for page in writer.pages:
        if "/TrimBox" not in page and "/ArtBox" not in page:  # a sheet: trimmed as it is
            page[NameObject("/TrimBox")] = page.cropbox if "/CropBox" in page else page.mediabox
    if seed is None:
        existing = getattr(writer, "_ID", None)
        seed = bytes(existing[0]) if existing else b"".join(
            p.get_contents().get_data() for p in writer.pages if p.get_contents() is not None)
    digest = hashlib.md5(seed + hashlib.sha256(intent.profile).digest()
                         + intent.condition.encode(), usedforsecurity=False).digest()
    # pypdf 7 sets a file identifier only at random (generate_file_identifiers): _ID takes ours
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    info = writer._info.get_object() if writer._info is not None else None
    if info is None:
        writer.add_metadata({})
        info = writer._info.get_object()
    if info.get("/Trapped") not in ("/True", "/False"):
        info[NameObject("/Trapped")] = NameObject("/False")
    metadata = _stream(xmp_packet(info, digest))
    metadata[NameObject("/Type")] = NameObject("/Metadata")
    metadata[NameObject("/Subtype")] = NameObject("/XML")
    old = root.raw_get("/Metadata") if "/Metadata" in root else None
    if isinstance(old, IndirectObject):  # in place: the old packet is not left in the file
        writer._replace_object(old, metadata)
    else:
        root[NameObject("/Metadata")] = writer._add_object(metadata)
    if "/Version" in root:
        del root[NameObject("/Version")]
    writer.pdf_header = PDF_HEADER


def _stream(data: bytes, compress: bool = False):
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode() if compress else stream


def _profile_stream(writer, profile: bytes):
    """The indirect ICC stream holding exactly `profile`: one already in the document (a page's
    ICCBased colour space copied from a print edition), or the output intent's own stream, given
    the theme's bytes (every ICCBased colour space naming it then has them too), or a new one."""
    from pypdf.generic import IndirectObject, NameObject, NumberObject, StreamObject

    candidates = []
    for intent in writer.root_object.get("/OutputIntents", []):
        ref = intent.get_object().raw_get("/DestOutputProfile") \
            if "/DestOutputProfile" in intent.get_object() else None
        if isinstance(ref, IndirectObject):
            candidates.append(ref)
    # ICC streams have /N and no /Type (object streams have both)
    candidates += [IndirectObject(number, 0, writer) for number, obj in enumerate(writer._objects, 1)
                   if isinstance(obj, StreamObject) and obj.get("/N") == 4 and "/Type" not in obj]
    same = [ref for ref in candidates if ref.get_object().get_data() == profile]
    if same:
        _share(writer, same[0], {ref.idnum for ref in same[1:]} - {same[0].idnum})
        return same[0]
    if candidates:  # WeasyPrint's re-serialised copy: the theme's bytes instead
        stream = candidates[0].get_object()
        if stream.get("/Filter") in ("/FlateDecode", ["/FlateDecode"]):
            stream.set_data(profile)
            return candidates[0]
    stream = _stream(profile, compress=True)
    stream[NameObject("/N")] = NumberObject(4)
    return writer._add_object(stream)


def _share(writer, kept, copies: set[int]) -> None:
    """Point every reference to the objects numbered `copies` at `kept`, and leave the copies out
    of the file (a personalised print file gets one copy of the profile from each batch's pages)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if not copies:
        return

    def walk(obj) -> None:
        if isinstance(obj, ArrayObject):
            for i, item in enumerate(obj):
                if isinstance(item, IndirectObject) and item.idnum in copies:
                    obj[i] = kept
                else:
                    walk(item)
        elif isinstance(obj, DictionaryObject):
            for key, value in list(obj.items()):
                if isinstance(value, IndirectObject) and value.idnum in copies:
                    obj[key] = kept
                else:
                    walk(value)

    for obj in writer._objects:
        walk(obj)
    for number in copies:
        writer._objects[number - 1] = None


def iso_date(value: str) -> str | None:
    """A PDF date (D:YYYYMMDDHHmmSSOHH'mm') as ISO 8601, as XMP writes it; None if unreadable."""
    m = re.fullmatch(r"D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(Z|[+-]\d\d'?\d\d'?|[+-]\d\d)?'?",
                     value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, zone = m.groups()
    text = f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if zone and zone != "Z":
        digits = re.sub(r"\D", "", zone)
        return text + f"{zone[0]}{digits[:2]}:{(digits[2:4] or '00')}"
    return text + ("Z" if zone else "")


def normal_date(value: str) -> str:
    """An ISO 8601 date as XMP may write it, in one form: seconds always, +00:00 as Z."""
    m = re.fullmatch(r"(\d{4})(?:-(\d\d))?(?:-(\d\d))?(?:T(\d\d):(\d\d)(?::(\d\d))?(?:\.\d+)?)?"
                     r"(Z|[+-]\d\d:\d\d)?", value.strip())
    if m is None:
        return value.strip()
    year, month, day, hour, minute, second, zone = m.groups()
    zone = "Z" if zone in ("+00:00", "-00:00") else zone or ""
    return (f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:"
            f"{second or '00'}{zone}")


def xmp_packet(info, digest: bytes) -> bytes:
    """The XMP metadata of a PDF/X-4 file: what the Info dictionary says, the PDF/X version, and
    document and instance ids derived from `digest`."""
    rows = [f"<pdfxid:GTS_PDFXVersion>{PDFX_VERSION}</pdfxid:GTS_PDFXVersion>"]
    for key, prop in INFO_XMP.items():
        value = info.get(key)
        if value is None:
            continue
        text = str(value.get_object() if hasattr(value, "get_object") else value)
        if key == "/Trapped":
            text = text.lstrip("/")
        elif key in ("/CreationDate", "/ModDate"):
            text = iso_date(text) or ""
            if not text:
                continue
            if key == "/ModDate":
                rows.append(f"<xmp:MetadataDate>{text}</xmp:MetadataDate>")
        if prop in ("dc:title", "dc:description"):
            rows.append(f'<{prop}><rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li>'
                        f"</rdf:Alt></{prop}>")
        elif prop == "dc:creator":
            rows.append(f"<{prop}><rdf:Seq><rdf:li>{escape(text)}</rdf:li></rdf:Seq></{prop}>")
        else:
            rows.append(f"<{prop}>{escape(text)}</{prop}>")
    document = uuid.UUID(bytes=digest)
    instance = uuid.UUID(bytes=hashlib.md5(digest + b"instance", usedforsecurity=False).digest())
    rows += ["<dc:format>application/pdf</dc:format>",
             f"<xmpMM:DocumentID>uuid:{document}</xmpMM:DocumentID>",
             f"<xmpMM:InstanceID>uuid:{instance}</xmpMM:InstanceID>",
             "<xmpMM:VersionID>1</xmpMM:VersionID>",
             "<xmpMM:RenditionClass>default</xmpMM:RenditionClass>"]
    spaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items() if prefix != "rdf")
    body = "\n".join(f"   {row}" for row in rows)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            f' <rdf:RDF xmlns:rdf="{NS["rdf"]}">\n'
            f'  <rdf:Description rdf:about="" {spaces}>\n{body}\n  </rdf:Description>\n'
            " </rdf:RDF>\n</x:xmpmeta>\n"
            '<?xpacket end="r"?>').encode()


def read_xmp(data: bytes) -> dict[str, str] | None:
    """The simple properties of XMP metadata by prefixed name ("dc:title": its x-default text,
    "dc:creator": its items joined with ", "), written as elements or as attributes; None when it
    is not well-formed XML."""
    start, end = data.find(b"<x:xmpmeta"), data.rfind(b"</x:xmpmeta>")
    if start < 0:
        start, end = data.find(b"<rdf:RDF"), data.rfind(b"</rdf:RDF>") - 2
    try:
        tree = ElementTree.fromstring(data[start:end + 12] if start >= 0 else data)
    except ElementTree.ParseError:
        return None
    names = {uri: prefix for prefix, uri in NS.items()}

    def short(tag: str) -> str:
        uri, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        return f"{names.get(uri, uri)}:{local}"

    found: dict[str, str] = {}
    for description in tree.iter(f"{{{NS['rdf']}}}Description"):
        for key, value in description.attrib.items():
            if not key.startswith(f"{{{NS['rdf']}}}"):
                found.setdefault(short(key), value)
        for child in description:
            items = list(child.iter(f"{{{NS['rdf']}}}li"))
            if items:
                default = [li for li in items
                           if li.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default"]
                texts = [(li.text or "") for li in (default or items)]
                found.setdefault(short(child.tag), ", ".join(texts) if not default else texts[0])
            else:
                found.setdefault(short(child.tag), (child.text or "").strip())
    return found

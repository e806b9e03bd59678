"""Print-edition PDF (trim + bleed pages) -> each page on a slug with crop and registration marks.

WeasyPrint can draw marks, but only inside the bleed and in DeviceRGB: a print shop trims into the
bleed, so marks there would be cut into, and a CMYK job must not carry RGB. So the print edition is
rendered with bleed and no marks, and this stage places every page on a larger sheet and strokes the
marks beyond the bleed in registration colour (all four inks), then sets TrimBox and BleedBox.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import dataclass

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import ArrayObject, ByteStringObject, FloatObject, NameObject, TextStringObject

PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Marks:
    """Where marks go, in mm measured outward from the trim edge."""

    bleed: float = 3.0
    gap: float = 2.0  # between the bleed edge and the start of a crop mark
    length: float = 6.0  # of a crop mark
    slug: float = 13.0  # from the trim edge to the sheet edge; holds bleed, gap, mark, margin
    line: float = 0.25  # pt

    def __post_init__(self) -> None:
        if self.bleed + self.gap + self.length > self.slug:
            raise ValueError("the marks do not fit in the slug")


def add_slug_and_marks(data: bytes, marks: Marks, output_condition: str = "Custom") -> bytes:
    """Place every page (whose TrimBox is the trimmed page) on a sheet with a slug around it.

    A PDF/X source keeps what makes it one: its output intent (named `output_condition`), XMP
    metadata, Trapped key and PDF version."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    slug = marks.slug * PT_PER_MM
    bleed = marks.bleed * PT_PER_MM
    for source in reader.pages:
        trim = source.trimbox
        width, height = float(trim.width), float(trim.height)
        sheet = PageObject.create_blank_page(width=width + 2 * slug, height=height + 2 * slug)
        # Move the trim's lower-left corner to (slug, slug); keep only the trim + bleed area.
        dx, dy = slug - float(trim.left), slug - float(trim.bottom)
        source.mediabox = source.bleedbox
        sheet.merge_transformed_page(source, Transformation().translate(dx, dy), over=True)
        box = [slug - bleed, slug - bleed, slug + width + bleed, slug + height + bleed]
        sheet.bleedbox = ArrayObject([FloatObject(v) for v in box])
        sheet.trimbox = ArrayObject([FloatObject(v) for v in (slug, slug, slug + width,
                                                              slug + height)])
        sheet.cropbox = sheet.mediabox
        content = sheet.get_contents()
        content.set_data(content.get_data() + b"\n" + mark_stream(width, height, marks))
        sheet.replace_contents(content)
        writer.add_page(sheet).compress_content_streams()  # merging leaves them uncompressed
    writer.add_metadata(dict(reader.metadata or {}))
    root = reader.trailer["/Root"]
    for key in ("/Lang", "/Metadata", "/OutputIntents"):
        if key in root:
            writer._root_object[NameObject(key)] = _clone(writer, root[key])
    for intent in writer._root_object.get("/OutputIntents", []):
        intent = intent.get_object()
        intent[NameObject("/OutputConditionIdentifier")] = TextStringObject(output_condition)
        intent[NameObject("/Info")] = TextStringObject(output_condition)
    if root.get("/OutputIntents"):
        writer.pdf_header = reader.pdf_header
    # The file identifier and the XMP DocumentID come from the content, not from the clock or a
    # random UUID (WeasyPrint's PDF/X metadata uses uuid4), so a rebuild gives the same bytes.
    digest = hashlib.md5(b"".join(p.get_contents().get_data() for p in reader.pages)).digest()
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    if "/Metadata" in writer._root_object:
        xmp = writer._root_object["/Metadata"].get_object()
        xmp.set_data(re.sub(rb"xmp\.did:[0-9a-f-]{36}", b"xmp.did:" + str(uuid.UUID(bytes=digest)).encode(),
                            xmp.get_data()))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _clone(writer: PdfWriter, obj):
    value = obj.get_object() if hasattr(obj, "get_object") else obj
    return writer._add_object(value.clone(writer)) if hasattr(obj, "idnum") else value.clone(writer)


def mark_stream(width: float, height: float, marks: Marks) -> bytes:
    """Crop marks at the four corners and registration targets at the middle of each side,
    all beyond the bleed, stroked in registration colour. Sizes in pt; the trim starts at the slug."""
    s = marks.slug * PT_PER_MM
    start = (marks.bleed + marks.gap) * PT_PER_MM
    end = start + marks.length * PT_PER_MM
    x0, y0, x1, y1 = s, s, s + width, s + height
    ops = [f"q {marks.line:g} w 1 1 1 1 K"]
    for x, y, sx, sy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x0, y1, -1, 1), (x1, y1, 1, 1)):
        ops.append(f"{x + sx * start:.3f} {y:.3f} m {x + sx * end:.3f} {y:.3f} l S")  # horizontal
        ops.append(f"{x:.3f} {y + sy * start:.3f} m {x:.3f} {y + sy * end:.3f} l S")  # vertical
    radius = marks.length * PT_PER_MM / 4
    centre = start + marks.length * PT_PER_MM / 2
    for cx, cy in (((x0 + x1) / 2, y0 - centre), ((x0 + x1) / 2, y1 + centre),
                   (x0 - centre, (y0 + y1) / 2), (x1 + centre, (y0 + y1) / 2)):
        ops.append(_circle(cx, cy, radius))
        ops.append(f"{cx - 1.6 * radius:.3f} {cy:.3f} m {cx + 1.6 * radius:.3f} {cy:.3f} l S")
        ops.append(f"{cx:.3f} {cy - 1.6 * radius:.3f} m {cx:.3f} {cy + 1.6 * radius:.3f} l S")
    ops.append("Q")
    return "\n".join(ops).encode()


def _circle(cx: float, cy: float, r: float) -> str:
    k = 0.5523 * r  # Bézier approximation of a quarter circle
    return (f"{cx + r:.3f} {cy:.3f} m "
            f"{cx + r:.3f} {cy + k:.3f} {cx + k:.3f} {cy + r:.3f} {cx:.3f} {cy + r:.3f} c "
            f"{cx - k:.3f} {cy + r:.3f} {cx - r:.3f} {cy + k:.3f} {cx - r:.3f} {cy:.3f} c "
            f"{cx - r:.3f} {cy - k:.3f} {cx - k:.3f} {cy - r:.3f} {cx:.3f} {cy - r:.3f} c "
            f"{cx + k:.3f} {cy - r:.3f} {cx + r:.3f} {cy - k:.3f} {cx + r:.3f} {cy:.3f} c S")


"""Print-edition PDF (trim + bleed pages) -> each page on a slug with crop and registration marks.

WeasyPrint can draw marks, but only inside the bleed and in DeviceRGB: a print shop trims into the
bleed, so marks there would be cut into, and a CMYK job must not carry RGB. So the print edition is
rendered with bleed and no marks, and this stage places every page on a larger sheet and strokes the
marks beyond the bleed in registration colour (all four inks), then sets TrimBox and BleedBox.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    RectangleObject,
)

from culturebook.pdf.pdfx import OutputIntent, apply_pdfx

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


def add_slug_and_marks(data: bytes, marks: Marks, intent: OutputIntent | None = None) -> bytes:
    """Place every page (whose TrimBox is the trimmed page) on a sheet with a slug around it.

    With an output `intent` the sheet is PDF/X-4 for it (pdf.pdfx.apply_pdfx)."""
    reader = PdfReader(io.BytesIO(data))
    # The document is kept whole (outline, named destinations, links, metadata, output intent)
    # and each page is enlarged in place: content and everything pointing into it shift together.
    writer = PdfWriter(clone_from=reader)
    slug = marks.slug * PT_PER_MM
    bleed = marks.bleed * PT_PER_MM
    shifts: dict[int, tuple[float, float]] = {}
    for page in writer.pages:
        trim = page.trimbox
        width, height = float(trim.width), float(trim.height)
        dx, dy = slug - float(trim.left), slug - float(trim.bottom)
        shifts[page.indirect_reference.idnum] = (dx, dy)
        original = page.get_contents().get_data()
        # Clip to the bleed: anything drawn beyond it must not show on the slug.
        side = (width + 2 * bleed, height + 2 * bleed)
        clip = f"q {slug - bleed:.4f} {slug - bleed:.4f} {side[0]:.4f} {side[1]:.4f} re W n"
        content = (f"{clip}\nq 1 0 0 1 {dx:.4f} {dy:.4f} cm\n".encode() + original + b"\nQ\nQ\n"
                   + mark_stream(width, height, marks))
        stream = page.get_contents()
        stream.set_data(content)
        page.replace_contents(stream)
        page.mediabox = RectangleObject([0, 0, width + 2 * slug, height + 2 * slug])
        page.cropbox = page.mediabox
        page.bleedbox = RectangleObject([slug - bleed, slug - bleed, slug + width + bleed,
                                         slug + height + bleed])
        page.trimbox = RectangleObject([slug, slug, slug + width, slug + height])
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            if "/Rect" in annot:
                x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
                annot[NameObject("/Rect")] = RectangleObject([x0 + dx, y0 + dy, x1 + dx, y1 + dy])
        page.compress_content_streams()
    _shift_destinations(writer, shifts)
    writer.pdf_header = reader.pdf_header
    # The file identifier (and a PDF/X file's XMP ids) come from the content, not from the clock
    # or a random UUID (WeasyPrint's PDF/X metadata uses uuid4), so a rebuild gives the same bytes.
    digest = hashlib.md5(b"".join(p.get_contents().get_data() for p in reader.pages)).digest()
    if intent is not None:
        apply_pdfx(writer, intent, digest)
    else:
        # pypdf 7 sets a file identifier only at random (generate_file_identifiers): _ID takes ours
        writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _shift_destinations(writer: PdfWriter, shifts: dict[int, tuple[float, float]]) -> None:
    """Move every explicit destination ([page /XYZ left top zoom] and the like) with its page."""
    seen: set[int] = set()
    stack = [writer.root_object]
    for page in writer.pages:
        stack += list(page.get("/Annots", []))
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        if isinstance(obj, ArrayObject):
            if obj and isinstance(obj[0], IndirectObject) and obj[0].idnum in shifts \
                    and len(obj) >= 2 and isinstance(obj[1], NameObject):
                _shift_dest(obj, *shifts[obj[0].idnum])
            else:
                stack.extend(obj)
        elif isinstance(obj, DictionaryObject):
            stack.extend(v for k, v in obj.items() if k not in ("/Parent", "/P", "/Pages", "/Prev",
                                                                "/Next", "/Last", "/Kids"))
            for key in ("/Kids", "/Next"):
                if key in obj and obj.get("/Type") != "/Pages":
                    stack.append(obj.raw_get(key))


def _shift_dest(dest: ArrayObject, dx: float, dy: float) -> None:
    kind = dest[1]
    # Which operands are x and y: /XYZ left top, /FitH top, /FitV left, /FitR left bottom right top.
    axes = {"/XYZ": "xy", "/FitH": "y", "/FitBH": "y", "/FitV": "x", "/FitBV": "x",
            "/FitR": "xyxy"}.get(kind, "")
    for i, axis in enumerate(axes, start=2):
        if i < len(dest) and isinstance(dest[i], (FloatObject, NumberObject)):
            dest[i] = FloatObject(float(dest[i]) + (dx if axis == "x" else dy))


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


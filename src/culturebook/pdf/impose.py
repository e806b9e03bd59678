"""Booklet PDF (pages a multiple of 4) -> saddle-stitch imposed sheets for an office printer (pypdf).

Each source page becomes a Form XObject drawn on its sheet side with a `cm` (scale and shift) and a clip to
its half of the sheet. Forms rather than pypdf's merge_transformed_page: a pattern's matrix is relative to
the content stream it is used in, so patterns (gradients, repeated backgrounds) inside a form follow its
placement, while merged page content would leave them where they were. Text stays text (selectable and
searchable), link annotations are carried over with their destinations pointed at the sheet sides, and
the bookmarks lead to the sheet side that holds their page.
"""

from __future__ import annotations

import hashlib
import io
import math

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    TextStringObject,
)

from culturebook.pdf.pdfx import OutputIntent, apply_pdfx
from culturebook.project.brand import OFFICE_SHEETS_MM

PT_PER_MM = 72 / 25.4

# Landscape sheet sizes in mm, each holding two pages side by side: A5 on A4, Half-Letter on Letter.
# Landscape: two pages side by side.
SHEETS: dict[str, tuple[float, float]] = {name: (h, w) for name, (w, h) in OFFICE_SHEETS_MM.items()}

# A page within this fraction of its half-sheet is placed at 100 %, not scaled by a rounding error.
_SCALE_SNAP = 1e-3


def saddle_stitch_order(pages: int) -> list[tuple[int, int]]:
    """(left, right) 1-based page numbers of every sheet side in print order: sheet 1 front, back, ..."""
    if pages <= 0 or pages % 4:
        raise ValueError(f"a saddle-stitched booklet needs a positive multiple of 4 pages, not {pages} "
                         "(the layout pads the booklet; imposition never adds blank pages)")
    order = []
    for sheet in range(pages // 4):
        # Sheet k (0 = outermost) carries pages 2k+1, 2k+2 from the front and their mirrors from the back.
        order.append((pages - 2 * sheet, 2 * sheet + 1))  # front: back half of the booklet on the left
        order.append((2 * sheet + 2, pages - 2 * sheet - 1))  # back
    return order


def creep_shift_mm(sheet: int, creep_mm: float) -> float:
    """How far the pages of a sheet (0 = outermost) move toward the spine: sheet × creep_mm."""
    return sheet * creep_mm


def impose_booklet(data: bytes, sheet: str = "A4", creep_mm: float = 0.0,
                   intent: OutputIntent | None = None) -> bytes:
    """Impose a booklet for saddle stitch: two pages side by side on each side of a landscape sheet.

    Conventions:
    - Output page i is sheet i // 2, front for even i and back for odd i, with the pages of
      saddle_stitch_order(N)[i] (left, right). Print duplex, "flip on short edge", fold the stack in the
      middle (fronts outside), staple at the fold: the booklet reads 1..N. With landscape sheets a
      short-edge flip turns the sheet over its vertical axis, like a book page, so the back sides are
      printed upright, not rotated by 180° (that would be right for a long-edge flip only).
    - `sheet` is "A4" (297 × 210 mm, for A5 pages) or "Letter" (279.4 × 215.9 mm, for Half-Letter
      pages). A page that is not exactly half the sheet is scaled (up or down) to fit its half and
      centred in it, so an A5 booklet also prints on Letter, slightly reduced. The
      page's TrimBox is what is placed: bleed and marks of a print edition stay off the sheet.
    - Creep: `creep_mm` is the shift per sheet, about one paper thickness. Folded sheets nest, so the
      inner sheets stick out at the fore-edge and their content drifts outward; compensation moves the
      content of sheet k (0 = outermost) by k × creep_mm toward the spine, both its sides, so the
      outermost sheet is untouched and the innermost of a 16-page booklet moves 3 × creep_mm.
      (Shingling as in print shop software: http://www.dynodan.com/tutorial/flightcheck/creep.html,
      Enfocus PitStop "move the printed area of the inner pages towards the binding".) Each page stays
      clipped to its half of the sheet, so nothing crosses the fold.
    - Each output page is labelled "left|right" (its two page numbers, e.g. "8|1") in the PDF's page
      labels, which viewers show as the page number. Metadata is kept, the title becomes
      "<title> (imposed)". Link annotations and bookmarks are kept and lead to the sheet side holding
      their target; other annotations are dropped (a printer needs none).
    - With an output `intent` the sheets are PDF/X-4 for it (pdf.pdfx.apply_pdfx).
    """
    if sheet not in SHEETS:
        raise ValueError(f"unknown sheet {sheet!r}: choose one of {', '.join(SHEETS)}")
    if not math.isfinite(creep_mm) or creep_mm < 0:
        raise ValueError(f"creep must be zero or a positive number of mm, not {creep_mm}")
    reader = PdfReader(io.BytesIO(data))
    order = saddle_stitch_order(len(reader.pages))
    sheet_w, sheet_h = (v * PT_PER_MM for v in SHEETS[sheet])
    half = sheet_w / 2
    innermost = creep_shift_mm(len(order) // 2 - 1, creep_mm) * PT_PER_MM
    if innermost >= half / 2:
        raise ValueError(f"creep of {creep_mm:g} mm per sheet would move the innermost pages "
                         f"{innermost / PT_PER_MM:g} mm, more than half their width")

    writer = PdfWriter()
    sides = [writer.add_blank_page(width=sheet_w, height=sheet_h) for _ in order]
    # Where each source page lands: output page index and the transform from its own space to the sheet.
    placed: dict[int, tuple[int, Transformation, tuple[float, float, float, float]]] = {}
    for index, (side, pair) in enumerate(zip(sides, order, strict=True)):
        shift = creep_shift_mm(index // 2, creep_mm) * PT_PER_MM
        content, forms = [], DictionaryObject()
        for slot, number in enumerate(pair):
            page = reader.pages[number - 1]
            form, width, height, upright = page_form(writer, page)
            scale = min(half / width, sheet_h / height)
            scale = 1.0 if abs(scale - 1) < _SCALE_SNAP else scale
            toward_spine = shift if slot == 0 else -shift
            x = slot * half + (half - width * scale) / 2 + toward_spine
            y = (sheet_h - height * scale) / 2
            place = Transformation().scale(scale, scale).translate(x, y)
            clip = (slot * half, 0.0, (slot + 1) * half, sheet_h)
            name = f"/P{number}"
            forms[NameObject(name)] = form
            content.append(draw_form(name, place, clip))
            placed[page.indirect_reference.idnum] = (index, _then(upright, place), clip)
        side[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): forms})
        set_content(writer, side, b"\n".join(content))
        writer.set_page_label(page_index_from=index, page_index_to=index, prefix=f"{pair[0]}|{pair[1]}")

    _copy_links(writer, reader, placed)
    _copy_outline(writer, reader.outline, None, placed)
    copy_info(writer, reader, f"{source_title(reader) or 'booklet'} (imposed)",
              seed=data + f"{sheet} {creep_mm!r}".encode())
    if intent is not None:
        apply_pdfx(writer, intent)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- shared with tile.py ------------------------------------------------------------------------


def page_form(writer: PdfWriter, page: PageObject) -> tuple[IndirectObject, float, float, Transformation]:
    """The page's trimmed content as a Form XObject in `writer`: (form, width pt, height pt, transform).

    The form is upright with its lower left corner at the origin: its /Matrix undoes the page's
    /Rotate and TrimBox offset (also returned, to map the page's own coordinates, e.g. of links), and
    its /BBox clips to the TrimBox.
    """
    box = page.trimbox
    left, bottom, right, top = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    upright = Transformation().translate(-left, -bottom).rotate(-(page.rotation % 360))
    corners = [upright.apply_on((x, y)) for x in (0, right - left) for y in (0, top - bottom)]
    low_x, low_y = min(c[0] for c in corners), min(c[1] for c in corners)
    upright = upright.translate(-low_x, -low_y)
    width = max(c[0] for c in corners) - low_x
    height = max(c[1] for c in corners) - low_y

    contents = page.get_contents()
    form = DecodedStreamObject()
    form.set_data(contents.get_data() if contents is not None else b"")
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject(FloatObject(v) for v in (left, bottom, right, top)),
        NameObject("/Matrix"): ArrayObject(FloatObject(round(v, 6)) for v in upright.ctm),
    })
    resources = _inherited(page, "/Resources")
    if resources is not None:
        form[NameObject("/Resources")] = resources.clone(writer)
    if "/Group" in page:  # the page's transparency group, so blending inside the form stays the same
        form[NameObject("/Group")] = page.raw_get("/Group").clone(writer)
    # pypdf 7 has no public call that makes an object indirect: _add_object
    return writer._add_object(form.flate_encode()), width, height, upright


def draw_form(name: str, place: Transformation, clip: tuple[float, float, float, float]) -> bytes:
    """Content-stream bytes drawing form `name` with transform `place`, clipped to clip (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = clip
    matrix = " ".join(_num(v) for v in place.ctm)
    return (f"q {_num(x0)} {_num(y0)} {_num(x1 - x0)} {_num(y1 - y0)} re W n "
            f"{matrix} cm {name} Do Q").encode()


def set_content(writer: PdfWriter, page: PageObject, data: bytes) -> None:
    """Give a page of `writer` a new (compressed) content stream."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    # pypdf 7 has no public call that makes an object indirect: _add_object
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())


def copy_info(writer: PdfWriter, reader: PdfReader, title: str, seed: bytes) -> None:
    """Keep the source's metadata and language with a new title; a file identifier derived from `seed`."""
    info = {k: v for k, v in (reader.metadata or {}).items() if isinstance(k, str)}
    info["/Title"] = title
    writer.add_metadata(info)
    if "/Lang" in reader.trailer["/Root"]:
        writer.root_object[NameObject("/Lang")] = TextStringObject(str(reader.trailer["/Root"]["/Lang"]))
    writer.create_viewer_preferences()
    writer.viewer_preferences.display_doctitle = True
    # A stable file identifier keeps the output byte-identical across builds of the same input.
    digest = hashlib.md5(seed).digest()
    # pypdf 7 sets a file identifier only at random (generate_file_identifiers): _ID takes ours
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])


def source_title(reader: PdfReader) -> str:
    """The source document's title, or "" when it has none."""
    return str((reader.metadata or {}).get("/Title") or "")


# --- helpers ------------------------------------------------------------------------------------


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _then(first: Transformation, second: Transformation) -> Transformation:
    return Transformation(first.ctm).transform(Transformation(second.ctm))


def _inherited(page: PageObject, key: str):
    node = page
    while node is not None:
        if key in node:
            return node.raw_get(key)
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    return None


def _target(placed, dest) -> tuple[int, Fit] | None:
    """An explicit destination (array or pypdf Destination) -> (output page, fit) on its sheet side."""
    if isinstance(dest, ArrayObject):
        if not dest or not isinstance(dest[0], IndirectObject):
            return None
        ref, kind, args = dest[0], str(dest[1]) if len(dest) > 1 else "/Fit", list(dest[2:])
    else:
        ref, kind = dest.page, str(dest.typ)
        args = [dest.get(k) for k in ("/Left", "/Top", "/Zoom")] if kind == "/XYZ" else []
    if not isinstance(ref, IndirectObject) or ref.idnum not in placed:
        return None
    index, transform, _ = placed[ref.idnum]
    if kind != "/XYZ":
        return index, Fit.fit()
    args = [None if a is None or isinstance(a, NullObject) else float(a) for a in args + [None] * 3]
    left, top, zoom = args[:3]
    x, y = transform.apply_on((left or 0.0, top or 0.0))
    return index, Fit.xyz(left=None if left is None else x, top=None if top is None else y,
                          zoom=zoom or None)


def _dest_array(writer: PdfWriter, index: int, fit: Fit) -> ArrayObject:
    return ArrayObject([writer.pages[index].indirect_reference, NameObject(fit.fit_type),
                        *(NullObject() if a is None else FloatObject(a) for a in fit.fit_args)])


def _copy_links(writer: PdfWriter, reader: PdfReader, placed) -> None:
    for name, dest in reader.named_destinations.items():
        target = _target(placed, dest)
        if target is not None:
            writer.add_named_destination(title=name, page_number=target[0], fit=target[1])
    for page in reader.pages:
        index, transform, (cx0, cy0, cx1, cy1) = placed[page.indirect_reference.idnum]
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link" or "/Rect" not in annot:
                continue
            rect = [float(v) for v in annot["/Rect"]]
            corners = [transform.apply_on((x, y)) for x in rect[0::2] for y in rect[1::2]]
            x0, x1 = max(cx0, min(c[0] for c in corners)), min(cx1, max(c[0] for c in corners))
            y0, y1 = max(cy0, min(c[1] for c in corners)), min(cy1, max(c[1] for c in corners))
            if x0 >= x1 or y0 >= y1:
                continue  # clipped away with its half of the sheet
            link = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(FloatObject(round(v, 4)) for v in (x0, y0, x1, y1)),
                NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
            })
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            dest = annot.get("/Dest") if action is None else (
                action.get("/D") if action.get("/S") == "/GoTo" else None)
            dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
            if isinstance(dest, ArrayObject):
                target = _target(placed, dest)
                if target is None:
                    continue
                link[NameObject("/Dest")] = _dest_array(writer, *target)
            elif dest is not None:
                link[NameObject("/Dest")] = TextStringObject(str(dest))  # a name: copied above
            elif action is not None:
                link[NameObject("/A")] = action.clone(writer)  # URI and other actions, as they were
            else:
                continue
            writer.add_annotation(page_number=index, annotation=link)


def _copy_outline(writer: PdfWriter, items, parent, placed) -> None:
    last = parent
    for item in items:
        if isinstance(item, list):
            _copy_outline(writer, item, last, placed)
            continue
        target = _target(placed, item)
        if target is not None:
            last = writer.add_outline_item(title=item.title, page_number=target[0], parent=parent,
                                           fit=target[1])

"""Poster PDF -> tiles at 100 % on office sheets (A4, Letter) to cut and glue together, plus a map (pypdf).

Coordinates: every rectangle in a TilePlan is in mm with its origin at the top left corner (of the
poster or of the sheet) and y growing downward, as rows are counted. Sheet layout, from the sheet edge
inward: the printer's unprintable `margin` on all four sides, then a gutter for the marks (MARKS_MM on
the top, left and right, LABEL_MM at the bottom, where the tile's label is set), then the image area
where the tile sits, centred. Marks and labels never enter the image area.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from culturebook.pdf.pdfx import apply_pdfx
from culturebook.project.brand import OFFICE_SHEETS_MM, POSTER_SIZES_MM

if TYPE_CHECKING:
    from culturebook.pdf.pdfx import OutputIntent
    from culturebook.project.brand import Brand

# pypdf is imported where pages are drawn: planning tiles (every build, even one with nothing to
# do) is arithmetic only.
PT_PER_MM = 72 / 25.4

MARKS_MM = 4.0  # gutter for cut and glue marks between the printable edge and the image area
LABEL_MM = 8.0  # the bottom gutter: marks, then the tile's label
MARK_GAP_MM = 1.0  # a mark starts this far from the image edge...
MARK_LEN_MM = 2.5  # ...and is this long, so it ends inside the gutter
LABEL_PT = 6.5  # label size on tile sheets
SIZE_TOLERANCE_MM = 0.5  # a poster this close to the plan's size is the plan's poster
_EPS = 1e-9  # exact fits (a poster of exactly n tiles) are not rounded up by float noise


@dataclass(frozen=True)
class Rect:
    """A rectangle in mm, origin top left, y downward."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Label:
    """A line of text on a tile sheet: its baseline starts at (x, y) mm from the sheet's top left."""

    x: float
    y: float
    text: str
    size: float  # pt
    bold: bool = False


@dataclass(frozen=True)
class Tile:
    """One sheet: the poster region it shows and where that region sits on the sheet (both at 100 %)."""

    row: int  # 1-based, from the top
    col: int  # 1-based, from the left
    number: int  # 1-based, row by row: the order of the pages after the map
    poster: Rect  # poster coordinates
    sheet: Rect  # sheet coordinates; same size as `poster`

    @property
    def label(self) -> str:
        return f"row {self.row}, col {self.col}"


@dataclass(frozen=True)
class TilePlan:
    """How a poster is split: the sheet as used (in its chosen orientation) and the tiles, row by row."""

    poster_w: float
    poster_h: float
    sheet_w: float
    sheet_h: float
    orientation: str  # "portrait" or "landscape"
    margin: float
    overlap: float
    rows: int
    cols: int
    tiles: tuple[Tile, ...]

    @property
    def sheets(self) -> int:
        return self.rows * self.cols

    @property
    def image_area(self) -> Rect:
        """The part of every sheet a tile may occupy (sheet coordinates)."""
        w, h = _image_size(self.sheet_w, self.sheet_h, self.margin)
        return Rect(self.margin + MARKS_MM, self.margin + MARKS_MM, w, h)


def plan_tiles(poster_w: float, poster_h: float, sheet_w: float, sheet_h: float,
               margin: float = 5.0, overlap: float = 10.0) -> TilePlan:
    """The fewest sheets (portrait or landscape; portrait on a tie) covering the poster at 100 %.

    Neighbouring tiles share a strip `overlap` mm wide; all tiles have the same size, the smallest
    grid's (poster + (n - 1) × overlap) / n, which is at most the image area of the sheet. Raises
    ValueError (one line) for a negative margin or overlap, a margin that leaves no image area, an
    overlap not smaller than the image area, or a sheet larger than the poster.
    """
    for what, value in (("poster width", poster_w), ("poster height", poster_h),
                        ("sheet width", sheet_w), ("sheet height", sheet_h)):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"the {what} must be a positive number of mm, not {value:g}")
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"the margin must not be negative (got {margin:g} mm)")
    if not math.isfinite(overlap) or overlap < 0:
        raise ValueError(f"the overlap must not be negative (got {overlap:g} mm)")
    short, long = sorted((sheet_w, sheet_h))
    orientations = {"portrait": (short, long), "landscape": (long, short)}
    if any(sw > poster_w and sh > poster_h for sw, sh in orientations.values()):
        raise ValueError(f"the sheet is larger than the poster ({short:g} × {long:g} mm sheet, "
                         f"{poster_w:g} × {poster_h:g} mm poster): print it on one sheet")
    areas = {name: _image_size(sw, sh, margin) for name, (sw, sh) in orientations.items()}
    if all(min(area) <= 0 for area in areas.values()):
        raise ValueError(f"a margin of {margin:g} mm leaves nothing printable on a {short:g} × {long:g} mm "
                         f"sheet (the marks take {MARKS_MM:g} mm and the label {LABEL_MM:g} mm more)")
    usable = [name for name, area in areas.items() if overlap < min(area)]
    if not usable:
        w, h = areas["portrait"]
        raise ValueError(f"the overlap of {overlap:g} mm is not smaller than the image area of the sheet "
                         f"({w:g} × {h:g} mm)")
    best = None
    for name in usable:  # portrait first: it wins a tie
        area_w, area_h = areas[name]
        cols, rows = _count(poster_w, area_w, overlap), _count(poster_h, area_h, overlap)
        if best is None or rows * cols < best[1] * best[2]:
            best = (name, rows, cols)
    name, rows, cols = best
    sheet_w, sheet_h = orientations[name]
    area_w, area_h = areas[name]
    tile_w = (poster_w + (cols - 1) * overlap) / cols
    tile_h = (poster_h + (rows - 1) * overlap) / rows
    left = margin + MARKS_MM + (area_w - tile_w) / 2
    top = margin + MARKS_MM + (area_h - tile_h) / 2
    tiles = tuple(
        Tile(row=r + 1, col=c + 1, number=r * cols + c + 1,
             poster=Rect(c * (tile_w - overlap), r * (tile_h - overlap), tile_w, tile_h),
             sheet=Rect(left, top, tile_w, tile_h))
        for r in range(rows) for c in range(cols))
    return TilePlan(poster_w, poster_h, sheet_w, sheet_h, name, margin, overlap, rows, cols, tiles)


def sheet_labels(plan: TilePlan, name: str) -> list[list[Label]]:
    """The text of every page tile_poster writes (the map, then each tile), for setting it in the
    publication's own fonts and merging it with `overlay`."""
    pages = [_Page(plan.sheet_h, draw_text=False) for _ in range(1 + len(plan.tiles))]
    _map_content(plan, name, pages[0])
    for tile, page in zip(plan.tiles, pages[1:], strict=True):
        _tile_content(plan, tile, name, page)
    return [page.labels for page in pages]


def tile_poster(data: bytes, plan: TilePlan, name: str, overlay: bytes | None = None,
                intent: OutputIntent | None = None) -> bytes:
    """A PDF of 1 + plan.sheets pages of the plan's sheet: a map of the tiles, then one page per tile.

    Each tile page shows its poster region at 100 %, clipped to the tile, with solid cut marks at the
    tile's corners, dashed glue marks where the neighbouring tiles' edges fall (`overlap` mm inside
    each shared edge), and the label "<name> · row r, col c · tile k of n" below it, all in black in the
    gutter outside the image area. Cut one tile along its marks, lay it over its neighbour and line its
    edge up with the neighbour's glue marks. The text is `overlay` when given: a PDF with one page
    per sheet setting sheet_labels() in the publication's fonts (any script, embedded), merged over
    each page. Without it, a fallback sets the labels in Helvetica (not embedded, WinAnsi only).
    With an output `intent` the sheets are PDF/X-4 for it (pdf.pdfx.apply_pdfx).
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject

    from culturebook.pdf.impose import copy_info, page_form, set_content, source_title

    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) != 1:
        raise ValueError(f"a poster has one page, this PDF has {len(reader.pages)}")
    writer = PdfWriter()
    form, width, height, _ = page_form(writer, reader.pages[0])
    size = (width / PT_PER_MM, height / PT_PER_MM)
    if abs(size[0] - plan.poster_w) > SIZE_TOLERANCE_MM or abs(size[1] - plan.poster_h) > SIZE_TOLERANCE_MM:
        raise ValueError(f"the plan is for a {plan.poster_w:g} × {plan.poster_h:g} mm poster, "
                         f"this one is {size[0]:.1f} × {size[1]:.1f} mm")
    overlay_pages = PdfReader(io.BytesIO(overlay)).pages if overlay else None
    if overlay_pages is not None and len(overlay_pages) != 1 + len(plan.tiles):
        raise ValueError(f"the overlay has {len(overlay_pages)} pages, the tiles {1 + len(plan.tiles)}")
    # pypdf 7 has no public call that makes an object indirect: _add_object
    fonts = DictionaryObject({
        NameObject(key): writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject(base),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }))
        for key, base in (("/F1", "/Helvetica"), ("/F2", "/Helvetica-Bold"))
    })
    resources = writer._add_object(DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Poster"): form}),
        NameObject("/Font"): fonts,
    }))
    draw_text = overlay is None
    pages = [(_map_content(plan, name, _Page(plan.sheet_h, draw_text)), "map")] + [
        (_tile_content(plan, tile, name, _Page(plan.sheet_h, draw_text)), tile.label)
        for tile in plan.tiles]
    for index, (content, label) in enumerate(pages):
        page = writer.add_blank_page(width=plan.sheet_w * PT_PER_MM, height=plan.sheet_h * PT_PER_MM)
        page[NameObject("/Resources")] = resources if draw_text else DictionaryObject({
            NameObject("/XObject"): resources.get_object()["/XObject"]})
        set_content(writer, page, content)
        if overlay_pages is not None:
            page.merge_page(overlay_pages[index])
        writer.set_page_label(page_index_from=index, page_index_to=index, prefix=label)
    title = source_title(reader)
    copy_info(writer, reader, f"{title}: {name} (tiles)" if title else f"{name} (tiles)",
              seed=data + repr((plan, name)).encode())
    if intent is not None:
        apply_pdfx(writer, intent)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- arithmetic ---------------------------------------------------------------------------------


def _image_size(sheet_w: float, sheet_h: float, margin: float) -> tuple[float, float]:
    return sheet_w - 2 * margin - 2 * MARKS_MM, sheet_h - 2 * margin - MARKS_MM - LABEL_MM


def _count(length: float, span: float, overlap: float) -> int:
    """Fewest tiles of `span` overlapping by `overlap` that cover `length`."""
    if length <= span + _EPS:
        return 1
    return math.ceil((length - overlap) / (span - overlap) - _EPS)


# --- drawing ------------------------------------------------------------------------------------


class _Page:
    """PDF drawing in mm with the origin at the top left, as the plan is written."""

    def __init__(self, height_mm: float, draw_text: bool = True) -> None:
        self.height = height_mm
        self.ops: list[str] = []
        self.labels: list[Label] = []
        self.draw_text = draw_text

    def pt(self, x: float, y: float) -> str:
        return f"{x * PT_PER_MM:.3f} {(self.height - y) * PT_PER_MM:.3f}"

    def line(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.ops.append(f"{self.pt(x0, y0)} m {self.pt(x1, y1)} l S")

    def rect(self, r: Rect, op: str) -> None:
        x, y = self.pt(r.x, r.y + r.h).split()
        self.ops.append(f"{x} {y} {r.w * PT_PER_MM:.3f} {r.h * PT_PER_MM:.3f} re {op}")

    def text(self, x: float, y: float, text: str, size: float, bold: bool = False) -> None:
        """Text with its baseline starting at (x, y)."""
        self.labels.append(Label(x, y, text, size, bold))
        if not self.draw_text:
            return
        raw = text.encode("cp1252", errors="replace")
        raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        self.ops.append(f"BT /{'F2' if bold else 'F1'} {size:g} Tf {self.pt(x, y)} Td ("
                        + raw.decode("latin-1") + ") Tj ET")

    def poster(self, plan: TilePlan, scale: float, x: float, y: float, clip: Rect) -> None:
        """The poster at `scale`, its top left corner at (x, y), clipped to `clip`."""
        bottom = self.height - y - plan.poster_h * scale
        from pypdf import Transformation

        from culturebook.pdf.impose import draw_form

        place = Transformation().scale(scale, scale).translate(x * PT_PER_MM, bottom * PT_PER_MM)
        box = ((clip.x) * PT_PER_MM, (self.height - clip.y - clip.h) * PT_PER_MM,
               (clip.x + clip.w) * PT_PER_MM, (self.height - clip.y) * PT_PER_MM)
        self.ops.append(draw_form("/Poster", place, box).decode())

    def data(self) -> bytes:
        return "\n".join(self.ops).encode("latin-1")


def _text_width_mm(text: str, size: float) -> float:
    # Helvetica is about half an em wide per character on average; enough for a white box behind a label.
    return len(text) * 0.56 * size / PT_PER_MM


def _map_content(plan: TilePlan, name: str, page: _Page) -> bytes:
    m = plan.margin
    page.ops.append("0 g")
    page.text(m, m + 3.5, f"{name} · poster {plan.poster_w:g} × {plan.poster_h:g} mm · {plan.sheets} sheets "
              f"{plan.sheet_w:g} × {plan.sheet_h:g} mm ({plan.orientation}), {plan.rows} rows × "
              f"{plan.cols} columns", 8, bold=True)
    page.text(m, m + 7, "Print at 100 % (actual size, not fit to page). "
              f"Tiles overlap by {plan.overlap:g} mm.", 6.5)
    page.text(m, m + 10, "Cut a tile along its solid marks, lay it over its neighbour and line its edge up "
              "with the dashed glue marks.", 6.5)
    top = m + 13
    scale = min((plan.sheet_w - 2 * m) / plan.poster_w, (plan.sheet_h - m - top) / plan.poster_h)
    left = (plan.sheet_w - plan.poster_w * scale) / 2
    page.poster(plan, scale, left, top, Rect(left, top, plan.poster_w * scale, plan.poster_h * scale))
    page.ops.append("0 G 0.6 w")
    for tile in plan.tiles:
        r = tile.poster
        page.rect(Rect(left + r.x * scale, top + r.y * scale, r.w * scale, r.h * scale), "S")
    for tile in plan.tiles:
        r = tile.poster
        # Inside the part of the tile no neighbour covers, so labels of neighbours never collide.
        x = left + (r.x + (plan.overlap if tile.col > 1 else 0)) * scale + 1.5
        y = top + (r.y + (plan.overlap if tile.row > 1 else 0)) * scale + 1.5
        box_w = max(_text_width_mm(str(tile.number), 14), _text_width_mm(tile.label, 7)) + 2
        page.ops.append("1 g")
        page.rect(Rect(x, y, box_w, 9), "f")
        page.ops.append("0 g")
        page.text(x + 1, y + 5.5, str(tile.number), 14, bold=True)
        page.text(x + 1, y + 8.2, tile.label, 7)
    return page.data()


def _tile_content(plan: TilePlan, tile: Tile, name: str, page: _Page) -> bytes:
    r, p, o = tile.sheet, tile.poster, plan.overlap
    page.poster(plan, 1.0, r.x - p.x, r.y - p.y, r)
    x0, y0, x1, y1 = r.x, r.y, r.x + r.w, r.y + r.h
    near, far = MARK_GAP_MM, MARK_GAP_MM + MARK_LEN_MM
    page.ops.append("0 G 0.35 w [] 0 d")
    for x, out in ((x0, -1), (x1, 1)):  # cut marks: each corner's two edges, extended outward
        for y, down in ((y0, -1), (y1, 1)):
            page.line(x + out * near, y, x + out * far, y)
            page.line(x, y + down * near, x, y + down * far)
    page.ops.append(f"[{0.8 * PT_PER_MM:.2f} {0.5 * PT_PER_MM:.2f}] 0 d")
    glue_x = [x0 + o] * (tile.col > 1) + [x1 - o] * (tile.col < plan.cols)
    glue_y = [y0 + o] * (tile.row > 1) + [y1 - o] * (tile.row < plan.rows)
    for x in glue_x:  # where the left/right neighbour's edge lands: ticks above and below the tile
        page.line(x, y0 - near, x, y0 - far)
        page.line(x, y1 + near, x, y1 + far)
    for y in glue_y:  # where the upper/lower neighbour's edge lands: ticks left and right of the tile
        page.line(x0 - near, y, x0 - far, y)
        page.line(x1 + near, y, x1 + far, y)
    page.ops.append("[] 0 d 0 g")
    page.text(x0, y1 + LABEL_MM - 1.6,
              f"{name} · {tile.label} · tile {tile.number} of {plan.sheets}", LABEL_PT)
    return page.data()


def tile_plan(brand: Brand, poster_size: str):
    """How a poster of this size is split over the theme's office sheets."""
    width, height = POSTER_SIZES_MM[poster_size]
    sheet_w, sheet_h = OFFICE_SHEETS_MM[str(brand.print.get("sheet") or "A4")]
    return plan_tiles(width, height, sheet_w, sheet_h, margin=brand.print_mm("printer-margin"),
                      overlap=brand.print_mm("tile-overlap"))

"""tile: the plan's arithmetic worked out by hand (grid, orientation, exact fits, refusals), then a real A2
poster tiled on A4 and drawn: page count and size, labels, the poster at 100 % inside each tile and
nothing of it beyond the tile's clip, marks in the gutter, the printer's margin left blank."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from conftest import page_size_mm, page_text, render_pages
from culturebook.pdf.tile import LABEL_MM, MARKS_MM, Rect, TilePlan, plan_tiles, tile_poster

A4 = (210.0, 297.0)
LETTER = (215.9, 279.4)
A3, A2, A1 = (297.0, 420.0), (420.0, 594.0), (594.0, 841.0)
TOLERANCE_MM = 0.5
DPI = 25
BRAND_BLUE = (0x00, 0x52, 0xD9)

# Image area per sheet = sheet - 2 x margin - marks (MARKS_MM = 4 on top, left, right; LABEL_MM = 8 at the
# bottom). A4, margin 5: portrait 192 x 275 mm, landscape 279 x 188 mm. Letter: 197.9 x 257.4 and
# 261.4 x 193.9. Tiles needed along a length L with image span S and overlap o: 1 if L <= S, else
# ceil((L - o) / (S - o)).
PLANS = [
    # poster, sheet, margin, overlap -> orientation, rows, cols
    # A2 on A4: portrait ceil(410/182)=3 cols x ceil(584/265)=3 rows = 9; landscape 2 x 4 = 8.
    (A2, A4, 5, 10, "landscape", 4, 2),
    # The sheet given in landscape is the same sheet.
    (A2, (297.0, 210.0), 5, 10, "landscape", 4, 2),
    # A1 on A4: portrait ceil(584/182)=4 x ceil(831/265)=4 = 16;
    # landscape ceil(584/269)=3 x ceil(831/178)=5 = 15.
    (A1, A4, 5, 10, "landscape", 5, 3),
    # A3 on A4: portrait 2 x 2 = 4; landscape ceil(287/269)=2 x ceil(410/178)=3 = 6.
    (A3, A4, 5, 10, "portrait", 2, 2),
    # A2 on Letter: portrait ceil(410/187.9)=3 x ceil(584/247.4)=3 = 9; landscape ceil(410/251.4)=2 x
    # ceil(584/183.9)=4 = 8.
    (A2, LETTER, 5, 10, "landscape", 4, 2),
    # Exact fit: 374 = 2 x 192 - 10 and 540 = 2 x 275 - 10, so 2 x 2 portrait (landscape: 2 x 3).
    ((374.0, 540.0), A4, 5, 10, "portrait", 2, 2),
    # A hair wider: portrait 3 cols x 2 rows = 6, landscape 2 x 3 = 6: a tie goes to portrait.
    ((374.01, 540.0), A4, 5, 10, "portrait", 2, 3),
    # No overlap: portrait ceil(420/192)=3 x ceil(594/275)=3 = 9;
    # landscape ceil(420/279)=2 x ceil(594/188)=4 = 8.
    (A2, A4, 5, 0, "landscape", 4, 2),
    # No margin, exact fit: image area 202 x 285 portrait; 394 = 2 x 202 - 10, 560 = 2 x 285 - 10.
    ((394.0, 560.0), A4, 0, 10, "portrait", 2, 2),
    # Narrower than the sheet: one column. Portrait ceil(590/265)=3 rows; landscape ceil(590/178)=4.
    ((150.0, 600.0), A4, 5, 10, "portrait", 3, 1),
]


@pytest.mark.parametrize("poster, sheet, margin, overlap, orientation, rows, cols", PLANS)
def test_plan_grid_and_orientation(poster, sheet, margin, overlap, orientation, rows, cols):
    plan = plan_tiles(*poster, *sheet, margin=margin, overlap=overlap)
    assert (plan.orientation, plan.rows, plan.cols) == (orientation, rows, cols)
    assert plan.sheets == rows * cols == len(plan.tiles)
    short, long = sorted(sheet)
    assert (plan.sheet_w, plan.sheet_h) == ((short, long) if orientation == "portrait" else (long, short))


@pytest.mark.parametrize("poster, sheet, margin, overlap, orientation, rows, cols", PLANS)
def test_tiles_cover_the_poster_and_stay_in_the_image_area(poster, sheet, margin, overlap, orientation,
                                                           rows, cols):
    plan = plan_tiles(*poster, *sheet, margin=margin, overlap=overlap)
    area = plan.image_area
    assert area == Rect(margin + MARKS_MM, margin + MARKS_MM, plan.sheet_w - 2 * margin - 2 * MARKS_MM,
                        plan.sheet_h - 2 * margin - MARKS_MM - LABEL_MM)
    assert [(t.row, t.col, t.number) for t in plan.tiles] == [
        (r, c, (r - 1) * cols + c) for r in range(1, rows + 1) for c in range(1, cols + 1)]
    grid = {(t.row, t.col): t for t in plan.tiles}
    for t in plan.tiles:
        p, s = t.poster, t.sheet
        assert (s.w, s.h) == (p.w, p.h)  # 100 %
        assert area.x - 1e-9 <= s.x and s.x + s.w <= area.x + area.w + 1e-9
        assert area.y - 1e-9 <= s.y and s.y + s.h <= area.y + area.h + 1e-9
        assert s.x - area.x == pytest.approx(area.x + area.w - s.x - s.w)  # centred
        assert s.y - area.y == pytest.approx(area.y + area.h - s.y - s.h)
        if t.col == 1:
            assert p.x == 0
        if t.col == cols:
            assert p.x + p.w == pytest.approx(poster[0])
        if t.row == 1:
            assert p.y == 0
        if t.row == rows:
            assert p.y + p.h == pytest.approx(poster[1])
        if t.col < cols:  # the right neighbour starts `overlap` before this tile ends
            assert grid[t.row, t.col + 1].poster.x == pytest.approx(p.x + p.w - overlap)
        if t.row < rows:
            assert grid[t.row + 1, t.col].poster.y == pytest.approx(p.y + p.h - overlap)


def test_an_exact_fit_fills_the_image_area():
    plan = plan_tiles(374.0, 540.0, *A4)
    assert {(t.sheet.w, t.sheet.h) for t in plan.tiles} == {(192.0, 275.0)}
    assert {(t.sheet.x, t.sheet.y) for t in plan.tiles} == {(9.0, 9.0)}
    assert [(t.poster.x, t.poster.y) for t in plan.tiles] == [(0, 0), (182.0, 0), (0, 265.0), (182.0, 265.0)]


def test_a2_on_a4_tiles_by_hand():
    plan = plan_tiles(*A2, *A4)
    # Landscape, 2 x 4: tiles (420 + 10) / 2 = 215 wide and (594 + 3 x 10) / 4 = 156 high, centred in the
    # 279 x 188 image area starting at (9, 9): x = 9 + 32 = 41, y = 9 + 16 = 25.
    assert {(t.sheet.x, t.sheet.y, t.sheet.w, t.sheet.h) for t in plan.tiles} == {(41.0, 25.0, 215.0, 156.0)}
    assert [(t.poster.x, t.poster.y) for t in plan.tiles] == [
        (0, 0), (205.0, 0), (0, 146.0), (205.0, 146.0),
        (0, 292.0), (205.0, 292.0), (0, 438.0), (205.0, 438.0)]


@pytest.mark.parametrize("args, message", [
    ((*A2, *A4, 5, -1), "the overlap must not be negative (got -1 mm)"),
    ((*A2, *A4, -2, 10), "the margin must not be negative (got -2 mm)"),
    # 101 mm: 210 - 2 x 101 - 2 x 4 = 0 mm wide in portrait, 210 - 202 - 4 - 8 < 0 high in landscape.
    ((*A2, *A4, 101, 10), "a margin of 101 mm leaves nothing printable on a 210 × 297 mm sheet"),
    # 192 mm: landscape fails from 188 (its image height), portrait from 192 (its image width).
    ((*A2, *A4, 5, 192), "the overlap of 192 mm is not smaller than the image area of the sheet "
                         "(192 × 275 mm)"),
    ((148.0, 210.0, *A4, 5, 10), "the sheet is larger than the poster"),
    ((200.0, 150.0, *A4, 5, 10), "the sheet is larger than the poster"),  # in landscape
    ((0.0, 594.0, *A4, 5, 10), "the poster width must be a positive number of mm, not 0"),
    ((*A2, math.nan, 297.0, 5, 10), "the sheet width must be a positive number of mm"),
])
def test_plan_refuses_bad_input_in_one_line(args, message):
    with pytest.raises(ValueError) as error:
        plan_tiles(*args)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_an_overlap_one_orientation_cannot_take_leaves_the_other():
    # 190 mm: too much for landscape (image height 188), still less than portrait's 192 x 275.
    plan = plan_tiles(*A2, *A4, margin=5, overlap=190)
    assert plan.orientation == "portrait"
    # Columns: ceil((420 - 190) / (192 - 190)) = 115; rows: ceil((594 - 190) / (275 - 190)) = 5.
    assert (plan.rows, plan.cols) == (5, 115)


# --- a real poster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poster_pdf(built_root) -> Path:
    return built_root / "build" / "en" / "posters" / "integrity.pdf"


@pytest.fixture(scope="module")
def plan() -> TilePlan:
    return plan_tiles(*A2, *A4)


@pytest.fixture(scope="module")
def tiles_pdf(poster_pdf, plan, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiles") / "integrity.pdf"
    path.write_bytes(tile_poster(poster_pdf.read_bytes(), plan, "integrity"))
    return path


@pytest.fixture(scope="module")
def drawn(tiles_pdf, poster_pdf, plan, tmp_path_factory) -> tuple[Image.Image, dict[int, Image.Image]]:
    """The poster and every page of the tiles PDF, drawn by poppler at DPI."""
    workdir = tmp_path_factory.mktemp("drawn")
    poster = render_pages(poster_pdf, [1], DPI, "poppler", workdir / "poster")[1]
    pages = render_pages(tiles_pdf, list(range(1, plan.sheets + 2)), DPI, "poppler", workdir / "tiles")
    return poster, pages


def test_the_tiles_pdf_is_a_map_and_one_a4_page_per_tile(tiles_pdf, plan):
    reader = PdfReader(tiles_pdf)
    assert len(reader.pages) == 1 + plan.rows * plan.cols == 9
    for page in reader.pages:
        width, height = page_size_mm(page)
        assert abs(width - 297) <= TOLERANCE_MM and abs(height - 210) <= TOLERANCE_MM  # landscape A4
    assert reader.page_labels == ["map"] + [t.label for t in plan.tiles]
    assert reader.metadata.title == "Value for Users, Tech for Good: integrity (tiles)"


def test_every_tile_page_is_labelled_and_the_map_names_every_tile(tiles_pdf, plan):
    reader = PdfReader(tiles_pdf)
    the_map = page_text(reader, 0)
    assert "integrity · poster 420 × 594 mm · 8 sheets" in the_map
    for tile in plan.tiles:
        assert f"integrity · row {tile.row}, col {tile.col} · tile {tile.number} of 8" in page_text(
            reader, tile.number)
        assert tile.label in the_map


def _box(r: Rect, grow: float = 0.0) -> tuple[int, int, int, int]:
    """A rectangle in mm as a pixel box at DPI, grown (or, negative, shrunk) by `grow` pixels."""
    px = DPI / 25.4
    return (round(r.x * px - grow), round(r.y * px - grow),
            round((r.x + r.w) * px + grow), round((r.y + r.h) * px + grow))


def share_of(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> float:
    """The fraction of an image's pixels within `tolerance` of `colour` in every channel."""
    masks = [band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
             for band, c in zip(image.split(), colour, strict=True)]
    both = ImageChops.darker(ImageChops.darker(masks[0], masks[1]), masks[2])
    return both.histogram()[255] / (image.width * image.height)


def _outside(page: Image.Image, inner: tuple[int, int, int, int]) -> Image.Image:
    """The page with `inner` painted white."""
    page = page.copy()
    page.paste((255, 255, 255), inner)
    return page


def _mean(image: Image.Image) -> float:
    return sum(ImageStat.Stat(image).mean) / 3


def _colourful(image: Image.Image) -> int:
    """How many pixels have colour (channels apart by more than 40): poster content, never black marks."""
    r, g, b = image.split()
    spread = ImageChops.difference(ImageChops.lighter(ImageChops.lighter(r, g), b),
                                   ImageChops.darker(ImageChops.darker(r, g), b))
    return sum(spread.point(lambda v: 255 if v > 40 else 0).histogram()[255:])


def test_each_tile_shows_its_poster_region_at_full_size(drawn, plan):
    poster, pages = drawn
    for tile in plan.tiles:
        shown = pages[tile.number + 1].crop(_box(tile.sheet, grow=-2))
        wanted = poster.crop(_box(tile.poster, grow=-2)).resize(shown.size)
        ink = _mean(ImageChops.difference(wanted, Image.new("RGB", wanted.size, "white")))
        diff = _mean(ImageChops.difference(shown, wanted))
        assert diff < 8, f"tile {tile.label}: differs from the poster by {diff:.1f}"
        if ink > 10:  # a tile with content: it matches far better than its mere ink would
            assert diff < 0.35 * ink, f"tile {tile.label}: {diff:.1f} against {ink:.1f} of ink"


def test_the_blue_foot_band_is_only_on_bottom_row_tiles_and_never_beyond_the_clip(drawn, plan):
    _, pages = drawn
    for tile in plan.tiles:
        page = pages[tile.number + 1]
        shown = page.crop(_box(tile.sheet, grow=-2))
        # The band: pixel rows blue from edge to edge (blue words elsewhere on the poster never are).
        band = [y for y in range(shown.height)
                if share_of(shown.crop((0, y, shown.width, y + 1)), BRAND_BLUE) > 0.8]
        if tile.row == plan.rows:  # 38 mm of band at 25 dpi, less the 2 px left off at the edge
            assert len(band) > 28 and band[-1] == shown.height - 1, f"tile {tile.label}: no foot band"
        else:
            assert band == [], f"tile {tile.label}: the foot band shows above the bottom row"
        # Beyond the tile (one pixel of antialiasing aside) there are only black marks and the label.
        beyond = _outside(page, _box(tile.sheet, grow=1))
        assert _colourful(beyond) == 0, f"tile {tile.label}: poster content outside its clip"


def test_marks_sit_in_the_gutter_and_the_printer_margin_stays_blank(drawn, plan):
    _, pages = drawn
    margin = Rect(plan.margin, plan.margin, plan.sheet_w - 2 * plan.margin, plan.sheet_h - 2 * plan.margin)
    for tile in plan.tiles:
        page = pages[tile.number + 1]
        # Nothing in the unprintable margin.
        assert _mean(_outside(page, _box(margin, grow=1))) > 254.5, f"tile {tile.label}: ink in the margin"
        # A cut mark beside each corner of the tile, on the extension of its top or bottom edge.
        s = tile.sheet
        for x, beside in ((s.x, s.x - 4), (s.x + s.w, s.x + s.w + 0.5)):
            for y in (s.y, s.y + s.h):
                darkest = page.crop(_box(Rect(beside, y - 1, 3.5, 2))).convert("L").getextrema()[0]
                assert darkest < 200, f"tile {tile.label}: no cut mark at ({x:g}, {y:g}) mm"


def test_tile_poster_refuses_a_poster_that_does_not_match_the_plan(poster_pdf, built_root):
    with pytest.raises(ValueError, match=r"for a 297 × 420 mm poster, this one is 420\.0 × 594\.0 mm"):
        tile_poster(poster_pdf.read_bytes(), plan_tiles(*A3, *A4), "integrity")
    booklet = (built_root / "build" / "en" / "booklet.pdf").read_bytes()
    with pytest.raises(ValueError, match="a poster has one page, this PDF has 16"):
        tile_poster(booklet, plan_tiles(*A2, *A4), "booklet")


def test_tiling_is_reproducible_and_stores_the_poster_once(poster_pdf, plan, tiles_pdf):
    data = poster_pdf.read_bytes()
    assert tile_poster(data, plan, "integrity") == tiles_pdf.read_bytes()
    # The poster is one form drawn on every page, not copied per tile.
    reader = PdfReader(io.BytesIO(tiles_pdf.read_bytes()))
    forms = {page["/Resources"]["/XObject"].raw_get("/Poster").idnum for page in reader.pages}
    assert len(forms) == 1
    assert len(tiles_pdf.read_bytes()) < 2 * len(data)

"""prepress.py and the print editions: boxes in points, marks beyond the bleed, CMYK only."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image

from conftest import EDITIONS, read_pdf
from culturebook.prepress import PT_PER_MM, Marks, mark_stream

A5_PT = (148 * PT_PER_MM, 210 * PT_PER_MM)
A2_PT = (420 * PT_PER_MM, 594 * PT_PER_MM)


def print_files(root, lang):
    folder = root / "build" / lang / "print"
    return [folder / "booklet.pdf", *sorted((folder / "posters").glob("*.pdf"))]


def test_marks_must_fit_the_slug():
    with pytest.raises(ValueError, match="the marks do not fit in the slug"):
        Marks(bleed=5, gap=2, length=6, slug=12)


def test_marks_are_stroked_in_registration_colour_beyond_the_bleed():
    marks = Marks(bleed=3, gap=2, length=6, slug=13)
    ops = mark_stream(*A5_PT, marks).decode()
    assert "1 1 1 1 K" in ops and " rg" not in ops and " RG" not in ops
    slug, start = 13 * PT_PER_MM, 5 * PT_PER_MM
    first = ops.splitlines()[1].split()  # the bottom-left horizontal crop mark
    x_from, x_to = float(first[0]), float(first[3])
    assert x_from == pytest.approx(slug - start, abs=0.01)
    assert x_to == pytest.approx(slug - start - 6 * PT_PER_MM, abs=0.01)


@pytest.mark.parametrize("lang", EDITIONS)
def test_print_boxes_in_points(built_root, lang):
    """TrimBox is the A5/A2 page, BleedBox 3 mm beyond it on every side, MediaBox holds the slug."""
    for path in print_files(built_root, lang):
        trim_w, trim_h = A5_PT if path.name == "booklet.pdf" else A2_PT
        for page in read_pdf(path).pages:
            trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
            assert float(trim.width) == pytest.approx(trim_w, abs=0.2)
            assert float(trim.height) == pytest.approx(trim_h, abs=0.2)
            for side in ("left", "bottom"):
                assert float(getattr(trim, side)) - float(getattr(bleed, side)) == \
                    pytest.approx(3 * PT_PER_MM, abs=0.05)
            for side in ("right", "top"):
                assert float(getattr(bleed, side)) - float(getattr(trim, side)) == \
                    pytest.approx(3 * PT_PER_MM, abs=0.05)
            assert float(media.left) <= float(bleed.left) - 5 * PT_PER_MM
            assert float(media.right) >= float(bleed.right) + 5 * PT_PER_MM


@pytest.mark.parametrize("lang", EDITIONS)
def test_print_editions_have_no_rgb_vector_colour(built_root, lang):
    for path in print_files(built_root, lang):
        for i, page in enumerate(read_pdf(path).pages, 1):
            data = page.get_contents().get_data()
            for op in (b" rg\n", b" RG\n", b"/DeviceRGB"):
                assert op not in data, f"{path.name} page {i}: {op!r}"
            assert b"/DeviceCMYK cs" in data or b" K\n" in data


def _render(path, page, dpi, out):
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
                    "-singlefile", str(path), str(out)], check=True)
    return Image.open(f"{out}.png").convert("L")


@pytest.mark.parametrize("lang", EDITIONS)
def test_cover_reaches_the_bleed_and_marks_stay_beyond_it(built_root, lang, tmp_path):
    """Pixels: the cover's blue fills the bleed; the ring just beyond the bleed is white (no mark
    enters it); the crop marks are there, further out."""
    path = built_root / "build" / lang / "print" / "booklet.pdf"
    dpi = 100
    image = _render(path, 1, dpi, tmp_path / "cover")
    px = dpi / 25.4
    slug, bleed, gap = 13, 3, 2

    def at(mm_x, mm_y):  # mm from the sheet's top-left corner
        return image.getpixel((round(mm_x * px), round(mm_y * px)))

    width_mm = image.width / px
    height_mm = image.height / px
    mid_y = height_mm / 2
    # in the bleed, left and right of the page, halfway down: painted (the cover is blue)
    assert at(slug - bleed / 2, mid_y) < 200
    assert at(width_mm - slug + bleed / 2, mid_y) < 200
    # just beyond the bleed: paper white all round, except nothing
    for y in (20, mid_y - 20, height_mm - 20):
        assert at(slug - bleed - gap / 2, y) > 250
        assert at(width_mm - slug + bleed + gap / 2, y) > 250
    # a crop mark: on the trim line, beyond the gap, at the top-left corner
    band = [at(slug - bleed - gap - d, slug) for d in (1, 2, 3, 4, 5)]
    assert min(band) < 128

"""prepress.py and the print editions: boxes in points, marks beyond the bleed, CMYK only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import EDITIONS, read_pdf
from culturebook.build.pipeline import build
from culturebook.pdf.prepress import PT_PER_MM, Marks, mark_stream

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


GS_PROFILES = Path("/usr/share/color/icc/ghostscript")


def _with_profile(root, profile: Path | None, name: str = "shop.icc") -> None:
    theme = root / "layouts" / "default" / "theme.yaml"
    if profile is not None:
        shutil.copy(profile, root / "layouts" / "default" / name)
    text = theme.read_text(encoding="utf-8")
    text = text.replace("output-profile: coated-fogra39-tac300.icc", f"output-profile: {name}")
    text = text.replace("output-condition: FOGRA39", "output-condition: Shop proof CMYK")
    theme.write_text(text, encoding="utf-8")


def _without_profile(root) -> None:
    theme = root / "layouts" / "default" / "theme.yaml"
    lines = theme.read_text(encoding="utf-8").splitlines(keepends=True)
    theme.write_text("".join(line for line in lines if "output-" not in line), encoding="utf-8")


@pytest.mark.skipif(not (GS_PROFILES / "default_cmyk.icc").is_file(),
                    reason="Ghostscript's CMYK profile (package libgs-common) is not installed")
@pytest.mark.slow
def test_a_named_output_profile_makes_pdf_x4(make_project):
    """With the print shop's profile the print edition is PDF/X-4: output intent, XMP, 1.6, and still
    byte-identical when rebuilt."""
    root = make_project()
    _with_profile(root, GS_PROFILES / "default_cmyk.icc")
    build(root, "print", ["en"])
    path = root / "build" / "en" / "print" / "booklet.pdf"
    first = path.read_bytes()
    reader = read_pdf(path)
    assert reader.pdf_header == "%PDF-1.6"
    catalog = reader.trailer["/Root"]
    (intent,) = [i.get_object() for i in catalog["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFX"
    assert intent["/OutputConditionIdentifier"] == "Shop proof CMYK"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 4
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    assert reader.metadata["/Trapped"] == "/False"
    from culturebook.preflight.checks import preflight_pdf
    from culturebook.preflight.expect import Expect

    assert preflight_pdf(first, Expect(kind="booklet", edition="en", print=True, bleed_mm=3,
                                       trim_mm=(148, 210), page_multiple=4, min_ppi=300,
                                       fonts_dir=root / "fonts")) == []
    build(root, "print", ["en"])
    assert path.read_bytes() == first


def test_the_default_theme_prints_to_its_shipped_fogra39_profile(built_root):
    """Out of the box the print edition is PDF/X-4 with the profile the default theme ships."""
    reader = read_pdf(built_root / "build" / "en" / "print" / "booklet.pdf")
    (intent,) = [i.get_object() for i in reader.trailer["/Root"]["/OutputIntents"]]
    assert intent["/OutputConditionIdentifier"] == "FOGRA39"
    shipped = (built_root / "layouts" / "default" / "coated-fogra39-tac300.icc").read_bytes()
    profile = intent["/DestOutputProfile"].get_object().get_data()
    assert b"culturebook coated FOGRA39" in shipped[:2000]
    assert profile == shipped  # the theme's file itself, not a re-serialised copy


@pytest.mark.slow
def test_without_a_profile_there_is_no_output_intent_and_a_warning(make_project):
    root = make_project()
    _without_profile(root)
    _artifacts, warnings = build(root, "print", ["en"])
    reader = read_pdf(root / "build" / "en" / "print" / "booklet.pdf")
    assert "/OutputIntents" not in reader.trailer["/Root"]
    theme = (root / "layouts" / "default" / "theme.yaml").read_text(encoding="utf-8")
    line = theme.splitlines().index("print:") + 1
    assert [p.format(root) for p in warnings] == [
        f"layouts/default/theme.yaml:{line}:1: warning: the print editions are CMYK but not PDF/X-4: no "
        "output profile is named\n    hint: add the print shop's CMYK profile as print.output-profile "
        "in theme.yaml"]


@pytest.mark.parametrize(("profile", "expected"), [
    (None, "layouts/default/theme.yaml: output profile 'shop.icc' not found in the theme folder"),
    (GS_PROFILES / "default_rgb.icc",
     "layouts/default/theme.yaml: output profile 'shop.icc' is not a CMYK ICC profile"),
])
def test_bad_output_profile_is_one_line(make_project, profile, expected):
    if profile is not None and not profile.is_file():
        pytest.skip("Ghostscript's profiles are not installed")
    root = make_project()
    _with_profile(root, profile)
    result = subprocess.run([sys.executable, "-m", "culturebook", "check", "--project", str(root)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == expected
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("setting", "value", "expected"), [
    ("tile-overlap", "500mm", "print.tile-overlap: the overlap"),
    ("printer-margin", "200mm", "print.printer-margin: "),
    ("bleed", "60mm", "print.bleed of 60 mm is larger than the page can take"),
    ("creep", "5mm", "print.creep of 5 mm per sheet is larger than the page can take"),
])
@pytest.mark.slow
def test_bad_print_settings_are_one_line_at_check_time(make_project, setting, value, expected):
    root = make_project()
    theme = root / "layouts" / "default" / "theme.yaml"
    lines = theme.read_text(encoding="utf-8").splitlines()
    line = next(n for n, t in enumerate(lines, 1) if t.lstrip().startswith(f"{setting}:"))
    indent = lines[line - 1].index(setting)
    lines[line - 1] = " " * indent + f"{setting}: {value}"
    theme.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "culturebook", "check", "--project", str(root)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"layouts/default/theme.yaml:{line}:{indent + 1}: {expected}"), first
    assert "Traceback" not in result.stderr



@pytest.mark.parametrize("lang", EDITIONS)
def test_print_booklet_keeps_links_and_bookmarks_in_place(built_root, lang):
    """The slug moves every page's content; links, bookmarks and named destinations move with it."""
    screen = read_pdf(built_root / "build" / lang / "booklet.pdf")
    printed = read_pdf(built_root / "build" / lang / "print" / "booklet.pdf")
    shift = 13 * PT_PER_MM  # the screen page's corner is at the trim; the trim is 13 mm in

    def outline(reader):
        return [(o.title, reader.get_destination_page_number(o)) for o in reader.outline
                if not isinstance(o, list)]

    assert outline(printed) == outline(screen) and outline(screen)
    for name, dest in screen.named_destinations.items():
        moved = printed.named_destinations[name]
        assert printed.get_destination_page_number(moved) == screen.get_destination_page_number(dest)
        assert float(moved.top) == pytest.approx(float(dest.top) + shift, abs=0.05)
    for page_screen, page_print in zip(screen.pages, printed.pages, strict=True):
        rects = [[float(v) for v in a.get_object()["/Rect"]] for a in page_screen.get("/Annots", [])]
        moved = [[float(v) for v in a.get_object()["/Rect"]] for a in page_print.get("/Annots", [])]
        assert moved == [pytest.approx([v + shift for v in r], abs=0.05) for r in rects]


def test_preflight_refuses_an_output_intent_that_is_not_pdf_x(built_root):
    """An intent without a CMYK profile, or XMP that does not say PDF/X: errors in print editions."""
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    from culturebook.preflight.checks import preflight_pdf
    from culturebook.preflight.expect import Expect

    writer = PdfWriter(clone_from=PdfReader(built_root / "build" / "en" / "print" / "posters" /
                                            "integrity.pdf"))
    writer._root_object[NameObject("/OutputIntents")] = ArrayObject([DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"), NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject("x")})])
    del writer._root_object["/Metadata"]  # the poster's own XMP says PDF/X-4
    out = io.BytesIO()
    writer.write(out)
    findings = [f for f in preflight_pdf(out.getvalue(), Expect(kind="poster", edition="en", print=True,
                                                                bleed_mm=3)) if f.check == "pdfx"]
    assert [f.message for f in findings if f.error] == [
        "PDF/X-4 output-intent: the output intent is /GTS_PDFA1, not /GTS_PDFX",
        "PDF/X-4 xmp-version: no XMP metadata (/Metadata in the catalog)"]

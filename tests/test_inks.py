"""Ink on press: ΔE2000 against published pairs, colours through the output profile, the theme's
print colours in `culturebook check` (ink limit, ΔE report), and preflight's ink findings on print
PDFs edited to break each rule."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from conftest import REPO
from culturebook.checks.inks import check_print_colours, colour_report
from culturebook.errors import Problems
from culturebook.pdf.icc import delta_e2000, press, srgb_lab
from culturebook.preflight.checks import preflight_pdf
from culturebook.preflight.expect import Expect
from culturebook.project.brand import load_brand
from preflight_pdfs import PRINT, PROJECTS
from projectkit import run_cli

PROFILE = REPO / "layouts" / "default" / "coated-fogra39-tac300.icc"

# Sharma, Wu and Dalal, "The CIEDE2000 color-difference formula" (2005), table 1: pairs 1, 2, 3,
# 7, 13, 17-20, 25 and 34 (each pair is symmetric: both orders give the same difference).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.4900, -0.0010), (50.0, -2.4900, 0.0009), 7.1792),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_delta_e2000_matches_the_published_pairs(lab1, lab2, expected):
    assert round(delta_e2000(lab1, lab2), 4) == expected
    assert round(delta_e2000(lab2, lab1), 4) == expected


def test_screen_colours_in_lab_agree_with_littlecms():
    """The sRGB formulas (D50, Bradford) against LittleCMS's own sRGB -> Lab, within its 8 bits."""
    from PIL import Image, ImageCms

    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"),
                                        ImageCms.createProfile("LAB"), "RGB", "LAB")
    assert srgb_lab("#FFFFFF") == pytest.approx((100.0, 0.0, 0.0), abs=0.01)
    for colour in ("#0052D9", "#1D2129", "#C9CDD4", "#FF0000", "#00A651"):
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        L, a, b = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), transform).getpixel((0, 0))
        assert srgb_lab(colour) == pytest.approx((L * 100 / 255, a - 128, b - 128), abs=1.0)


def test_paper_prints_as_the_screen_white_and_the_closest_values_keep_the_limit():
    on_press = press(PROFILE)
    assert on_press.lab((0, 0, 0, 0)) == (100.0, 0, 0)  # relative colorimetric: paper is white
    assert on_press.lab((0, 0, 0, 100))[0] < on_press.lab((0, 0, 0, 80))[0] < 50
    black = on_press.closest("#000000", limit=260)
    assert sum(black.cmyk) <= 260 and black.delta_e < on_press.delta_e("#000000", (0, 0, 0, 100))
    grey = on_press.closest("#4E5969", inks=(False, False, False, True))
    assert grey.cmyk[:3] == (0, 0, 0) and 70 < grey.cmyk[3] < 90


# --- the theme's print colours in check --------------------------------------------------------


def _acme(root: Path, print_block: str) -> Path:
    folder = root / "layouts" / "acme"
    folder.mkdir(parents=True)
    (folder / "theme.yaml").write_text("name: Acme\nextends: default\nprint:\n" + print_block,
                                       encoding="utf-8")
    pub = root / "content" / "publication.yaml"
    pub.write_text(pub.read_text(encoding="utf-8").replace("theme: default", "theme: acme"),
                   encoding="utf-8")
    return folder / "theme.yaml"


def test_a_colour_far_from_its_screen_colour_is_a_warning_with_the_closest_values(make_project):
    root = make_project()
    _acme(root, "  delta-e-warn: 6\n  colours:\n    brand: 100 20 0 0\n    tint: 8 3 0 0\n")
    problems = Problems()
    rows = check_print_colours(load_brand(root, "acme", problems), problems)
    brand = next(row for row in rows if row.name == "brand")
    assert brand.delta_e > 15 and brand.closest is not None
    assert brand.closest[2] == 0  # no yellow: the inks the theme chose
    assert [p.format(root) for p in problems.items] == [
        f"layouts/acme/theme.yaml:6:5: warning: print colour 'brand' (100 20 0 0) prints "
        f"{brand.delta_e:.1f} ΔE2000 from #0052D9 on FOGRA39 (print.delta-e-warn is 6)\n"
        f"    hint: {' '.join(f'{v:g}' for v in brand.closest)} comes closest with the same inks "
        f"(ΔE2000 {brand.closest_delta_e:.1f})"]


def test_a_colour_over_the_ink_limit_is_an_error_at_its_line(make_project):
    root = make_project()
    _acme(root, "  ink-limit: 250%\n  colours:\n    # a black for large areas\n"
          "    ink: 60 50 50 100\n    muted: 0 0 120 20\n")
    result = run_cli("check", "--project", str(root), cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "layouts/acme/theme.yaml:7:5: print colour 'ink' (60 50 50 100) lays down 260 % of ink; "
        "the limit is 250 % (print.ink-limit)",
        "    hint: take cyan, magenta and yellow down until the total is within the limit",
        "layouts/acme/theme.yaml:8:5: print colour 'muted' (0 0 120 20) has an ink over 100 %",
        "    hint: each of cyan, magenta, yellow and black is 0 to 100",
        "2 problems in 1 file; nothing was written",
    ]


def test_the_ink_limit_itself_is_checked(make_project):
    root = make_project()
    _acme(root, "  ink-limit: 30\n")
    result = run_cli("check", "--project", str(root), cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        "layouts/acme/theme.yaml:4:14: print.ink-limit: '30' is not a valid ink limit",
        "    hint: write the total ink limit as a percentage from 100% to 499%, e.g. 300%"]


def test_the_default_theme_prints_within_reach_of_its_screen_colours(make_project):
    """No warning, and check's table lists every colour with its ΔE2000."""
    root = make_project()
    problems = Problems()
    rows = check_print_colours(load_brand(root, "default", problems), problems)
    assert problems.items == []
    assert [row.name for row in rows] == ["brand", "brand-deep", "ink", "muted", "rule", "tint",
                                          "paper", "on-brand", "on-brand-soft"]
    assert all(row.total <= 300 and row.delta_e is not None and row.delta_e < 10 for row in rows)
    report = colour_report(load_brand(root, "default", Problems()))
    assert report == rows


# --- preflight ----------------------------------------------------------------------------------


def _cmyk_image(writer: PdfWriter, pixels: bytes, width: int, height: int):
    image = StreamObject()
    image[NameObject("/Type")] = NameObject("/XObject")
    image[NameObject("/Subtype")] = NameObject("/Image")
    image[NameObject("/ColorSpace")] = NameObject("/DeviceCMYK")
    image[NameObject("/Width")] = NumberObject(width)
    image[NameObject("/Height")] = NumberObject(height)
    image[NameObject("/BitsPerComponent")] = NumberObject(8)
    image[NameObject("/Filter")] = NameObject("/FlateDecode")
    image._data = zlib.compress(pixels)
    return writer._add_object(image)


def _edited(extra: bytes, image_pixels: bytes | None = None, intent: bool = False) -> bytes:
    """The clean print fixture with `extra` drawn on its first page (after its own content), and
    with `intent`, the shipped FOGRA39 profile as its output intent."""
    writer = PdfWriter(clone_from=PdfReader(PROJECTS / "preflight-clean" / "print.pdf"))
    page = writer.pages[0]
    if intent:
        profile = StreamObject()
        profile[NameObject("/N")] = NumberObject(4)
        profile._data = PROFILE.read_bytes()
        output = DictionaryObject({NameObject("/S"): NameObject("/GTS_PDFX"),
                                   NameObject("/DestOutputProfile"): writer._add_object(profile)})
        writer._root_object[NameObject("/OutputIntents")] = ArrayObject([output])
    if image_pixels is not None:
        resources = page["/Resources"]
        xobjects = resources.get("/XObject") or DictionaryObject()
        xobjects[NameObject("/Photo")] = _cmyk_image(writer, image_pixels, 4, 4)
        resources[NameObject("/XObject")] = xobjects
    stream = DecodedStreamObject()
    stream.set_data(extra)
    contents = page["/Contents"]
    parts = list(contents) if isinstance(contents, ArrayObject) else [page.raw_get("/Contents")]
    page[NameObject("/Contents")] = ArrayObject([*parts, writer._add_object(stream)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _inks(data: bytes, **expect) -> list[tuple[bool, int | None, str]]:
    findings = preflight_pdf(data, Expect(**{**PRINT, **expect}))
    return [(f.error, f.page, f.message) for f in findings if f.check == "inks"]


def test_the_clean_print_fixture_has_no_ink_findings():
    assert _inks((PROJECTS / "preflight-clean" / "print.pdf").read_bytes()) == []


def test_small_text_in_three_inks_and_rich_black_are_warnings():
    data = _edited(b"q 0.75 0 0 0.75 0 0 cm BT 0.3 0.15 0 0.62 k /F1 10 Tf 100 100 Td (ab) Tj ET\n"
                   b"BT 0.4 0.3 0.3 1 k /F1 8 Tf 100 120 Td (cd) Tj ET\n"
                   b"BT 1 0.62 0 0 k /F1 8 Tf 100 140 Td (ef) Tj ET Q\n"  # two inks: a brand blue
                   b"BT 0.3 0.15 0 0.62 k /F1 16 Tf 100 300 Td (gh) Tj ET\n")  # 16 pt: large
    muted = (False, 1, "page 1: 3-colour 7.5 pt text in 'muted' (30 15 0 62): a registration "
             "risk; set text under 12 pt in one or two inks (a grey in black alone)")
    assert _inks(data, print_colours=(("muted", (30.0, 15.0, 0.0, 62.0)),)) == [
        (False, 1, "page 1: rich black 6 pt text in CMYK 40 30 30 100: a registration risk; "
                   "set small text in black alone, 0 0 0 100"),
        muted,
    ]


def test_over_the_ink_limit_is_an_error_naming_the_theme_colour_and_marks_are_exempt():
    data = _edited(b"q 0.8 0.8 0.8 0.8 k 100 100 50 50 re f Q\n"
                   b"q 0.9 0.8 0.7 0.6 k 200 100 50 50 re f Q\n"
                   b"q 0.25 w 1 1 1 1 K -30 -30 m -10 -30 l S Q\n")  # a mark in the slug
    shadow = (("shadow", (80.0, 80.0, 80.0, 80.0)),)
    assert _inks(data, print_colours=shadow) == [
        (True, 1, "page 1: 'shadow' (80 80 80 80) lays down 320 % of ink; the limit is 300 %")]
    assert _inks(data, print_colours=shadow, ink_limit=280.0) == [
        (True, 1, "page 1: 'shadow' (80 80 80 80) lays down 320 % of ink; the limit is 280 %"),
        (True, 1, "page 1: CMYK 90 80 70 60 lays down 300 % of ink; the limit is 280 %")]
    inside = _edited(b"q 0.25 w 1 1 1 1 K 30 30 m 50 30 l S Q\n")  # the same mark on the page
    assert [m for _, _, m in _inks(inside)] == [
        "page 1: CMYK 100 100 100 100 lays down 400 % of ink; the limit is 300 %",
        "page 1: 0.25 pt line in 4 inks, CMYK 100 100 100 100: a registration risk; draw "
        "hairlines in one ink"]


def test_hairlines_in_several_inks_are_warnings():
    data = _edited(b"q 0.3 w 0.5 0.4 0 0 K 100 200 m 200 200 l S Q\n"
                   b"q 0.3 w 0 0 0 0.6 K 100 220 m 200 220 l S Q\n"  # one ink
                   b"q 2 w 0.5 0.4 0 0 K 100 240 m 200 240 l S Q\n")  # not a hairline
    assert _inks(data) == [(False, 1, "page 1: 0.3 pt line in 2 inks, CMYK 50 40 0 0: a "
                                      "registration risk; draw hairlines in one ink")]


def test_a_cmyk_image_over_the_ink_limit_is_an_error_naming_it():
    pixels = bytes((255, 255, 200, 100)) * 16  # 100 + 100 + 78 + 39 = 318 %
    data = _edited(b"q 40 0 0 40 100 400 cm /Photo Do Q\n", pixels)
    [(error, page, message)] = _inks(data)
    assert error and page == 1
    assert re.fullmatch(r"page 1: image Photo \(object \d+\) reaches 31[78] % of ink; the limit "
                        r"is 300 % \(convert it with the output profile\)", message), message
    assert _inks(_edited(b"q 40 0 0 40 100 400 cm /Photo Do Q\n",
                         bytes((200, 180, 180, 100)) * 16)) == []  # 259 %


def test_check_prints_each_colour_on_press(make_project):
    root = make_project()
    _acme(root, "  colours:\n    brand: 100 20 0 0\n")
    result = run_cli("check", "--project", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("print colours on FOGRA39 (ΔE2000 from the screen colour):")
    table = [line.split() for line in lines[start + 1:start + 10]]
    assert [row[0] for row in table] == ["brand", "brand-deep", "ink", "muted", "rule", "tint",
                                         "paper", "on-brand", "on-brand-soft"]
    brand, paper = table[0], table[6]
    assert brand[1:7] == ["#0052D9", "100", "20", "0", "0", "120"]
    assert brand[10] == "closest:" and float(brand[9]) > 15  # and the warning says the same
    assert paper[1:] == ["#FFFFFF", "0", "0", "0", "0", "0", "%", "ΔE", "0.0"]
    assert "print colour 'brand' (100 20 0 0) prints" in result.stderr


def test_a_damaged_output_profile_is_one_error_at_its_setting(make_project):
    root = make_project()
    profile = root / "layouts" / "default" / "coated-fogra39-tac300.icc"
    profile.write_bytes(profile.read_bytes()[:4000])  # the header is whole, the tables are not
    problems = Problems()
    brand = load_brand(root, "default", problems)
    rows = check_print_colours(brand, problems)
    theme = (root / "layouts" / "default" / "theme.yaml").read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(theme.splitlines(), 1) if "output-profile:" in text)
    assert [p.format(root) for p in problems.items] == [
        f"layouts/default/theme.yaml:{line}:3: output profile 'coated-fogra39-tac300.icc' cannot "
        "be read as a colour profile\n    hint: ask the print shop for the profile again: this "
        "copy is damaged"]
    assert rows and all(row.delta_e is None for row in rows)


def test_the_output_intent_suggests_values_in_fewer_inks():
    text = b"q 0.75 0 0 0.75 0 0 cm BT %s k /F1 10 Tf 100 100 Td (ab) Tj ET Q\n"
    grey = _inks(_edited(text % b"0.3 0.15 0 0.62", intent=True))
    blue = _inks(_edited(text % b"1 0.72 0 0.18", intent=True))
    [(_, _, grey_message)] = grey
    [(_, _, blue_message)] = blue
    on_press = press(PROFILE)
    for message, cmyk, inks in ((grey_message, (30, 15, 0, 62), (False, False, False, True)),
                                (blue_message, (100, 72, 0, 18), (True, True, False, False))):
        match = on_press.closest_lab(on_press.lab(cmyk), cmyk, 300, inks)
        values = " ".join(f"{v:g}" for v in match.cmyk)
        assert message.endswith(f"in one or two inks, e.g. {values} (ΔE2000 {match.delta_e:.1f})")
    assert re.search(r"e\.g\. 0 0 0 \d+ ", grey_message)  # black alone for a grey
    assert re.search(r"e\.g\. \d+ \d+ 0 0 ", blue_message)  # cyan and magenta for the blue


def test_a_cmyk_jpeg_is_measured_as_a_reader_prints_it():
    """The build writes CMYK JPEGs the Adobe way (inverted, with a /Decode array that inverts them
    back): 50 % cyan is 50 % of ink, not 350 %."""
    from PIL import Image

    from culturebook.preflight.inks import image_ink

    encoded = io.BytesIO()
    Image.new("CMYK", (40, 40), (128, 0, 0, 0)).save(encoded, "JPEG", quality=95, subsampling=0)
    image = StreamObject()
    image._data = encoded.getvalue()
    image.update({NameObject(k): v for k, v in {
        "/Type": NameObject("/XObject"), "/Subtype": NameObject("/Image"),
        "/Width": NumberObject(40), "/Height": NumberObject(40),
        "/ColorSpace": NameObject("/DeviceCMYK"), "/BitsPerComponent": NumberObject(8),
        "/Filter": NameObject("/DCTDecode"),
        "/Decode": ArrayObject([NumberObject(v) for v in (1, 0) * 4])}.items()})
    assert round(image_ink(image)) == 50

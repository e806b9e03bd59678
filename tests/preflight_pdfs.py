"""The small PDFs under tests/projects/preflight-*/ that trip each preflight check, and the clean ones.

Each is made with pypdf from a few lines of content stream, so what it contains is plain to read
here. They are committed; run `python tests/preflight_pdfs.py` to write them again (the output is
deterministic for given versions of pypdf and fontTools).

Every fixture starts from the same clean page: A5, metadata (title, author, language), text in an
embedded subset of Inter Regular from fonts/. A print fixture adds a 3 mm bleed and a slug, with
TrimBox and BleedBox, and paints in CMYK. Each tripping fixture changes one thing.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

REPO = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
PT_PER_MM = 72 / 25.4
A5 = (148.0, 210.0)
BLEED = 3.0
SLUG = 10.0  # marks area beyond the bleed

# Expectations the tests use with these fixtures (culturebook.preflight.Expect keyword arguments).
SCREEN = {"kind": "booklet", "edition": "en", "trim_mm": A5, "page_multiple": 1,
          "fonts_dir": REPO / "fonts"}
PRINT = {**SCREEN, "print": True, "bleed_mm": BLEED, "min_ppi": 300}


def mm(value: float) -> float:
    return round(value * PT_PER_MM, 4)


class Fixture:
    """A PDF being made: pages, one embedded font (/F1), metadata."""

    def __init__(self, *, title: str | None = "Preflight fixture", author: str | None = "culturebook",
                 lang: str | None = "en"):
        self.writer = PdfWriter()
        info = {}
        if title is not None:
            info["/Title"] = title
        if author is not None:
            info["/Author"] = author
        if info:
            self.writer.add_metadata(info)
        if lang is not None:
            self.writer._root_object[NameObject("/Lang")] = TextStringObject(lang)
        self.font, self.cids = self._inter()

    def add(self, obj) -> IndirectObject:
        return self.writer._add_object(obj)

    def _inter(self) -> tuple[IndirectObject, dict[str, int]]:
        """Inter Regular, subset to the few letters the fixtures draw, as a Type0 Identity-H font."""
        from fontTools import subset
        from fontTools.ttLib import TTFont

        text = "Preflight fixture page 0123456789"
        font = TTFont(REPO / "fonts" / "Inter" / "Inter-Regular.otf", recalcTimestamp=False)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.layout_features = []
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        order = font.getGlyphOrder()
        cmap = font.getBestCmap()
        cids = {ch: order.index(cmap[ord(ch)]) for ch in set(text) if ord(ch) in cmap}
        scale = 1000 / font["head"].unitsPerEm
        widths = [round(font["hmtx"][name][0] * scale) for name in order]
        data = io.BytesIO()
        font.save(data)
        program = StreamObject()
        program._data = zlib.compress(data.getvalue(), 9)
        program[NameObject("/Filter")] = NameObject("/FlateDecode")
        program[NameObject("/Subtype")] = NameObject("/OpenType")
        name = NameObject("/PFXFIX+Inter-Regular")
        descriptor = DictionaryObject({
            NameObject("/Type"): NameObject("/FontDescriptor"), NameObject("/FontName"): name,
            NameObject("/Flags"): NumberObject(32),
            NameObject("/FontBBox"): ArrayObject([NumberObject(v) for v in (-744, -300, 2400, 1000)]),
            NameObject("/ItalicAngle"): NumberObject(0), NameObject("/Ascent"): NumberObject(969),
            NameObject("/Descent"): NumberObject(-242), NameObject("/CapHeight"): NumberObject(727),
            NameObject("/StemV"): NumberObject(80), NameObject("/FontFile3"): self.add(program)})
        descendant = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType0"),
            NameObject("/BaseFont"): name,
            NameObject("/CIDSystemInfo"): DictionaryObject({
                NameObject("/Registry"): TextStringObject("Adobe"),
                NameObject("/Ordering"): TextStringObject("Identity"),
                NameObject("/Supplement"): NumberObject(0)}),
            NameObject("/FontDescriptor"): self.add(descriptor),
            NameObject("/W"): ArrayObject([NumberObject(0),
                                           ArrayObject([NumberObject(w) for w in widths])])})
        type0 = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): name, NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/DescendantFonts"): ArrayObject([self.add(descendant)])})
        return self.add(type0), cids

    def hex(self, text: str) -> str:
        """`text` as a hex string of 2-byte codes in the embedded font."""
        return "<" + "".join(f"{self.cids[ch]:04X}" for ch in text) + ">"

    def page(self, content: str, *, size_mm: tuple[float, float] = A5, print_boxes: bool = False,
             trim_mm: tuple[float, float] | None = None, bleed: tuple[float, ...] | None = None,
             resources: dict | None = None, media_extra: float = 0.0):
        """Add a page. Screen: MediaBox = the size. Print: MediaBox = trim + bleed + slug on every
        side, TrimBox and BleedBox (bleed per side: left, right, top, bottom, in mm), and the content
        drawn with the trim's lower left corner at (0, 0)."""
        w, h = size_mm
        if not print_boxes:
            page = self.writer.add_blank_page(mm(w), mm(h))
            offset = 0.0
        else:
            offset = BLEED + SLUG
            page = self.writer.add_blank_page(mm(w + 2 * offset), mm(h + 2 * offset))
            tw, th = trim_mm or size_mm
            left, right, top, bottom = bleed or (BLEED,) * 4
            trim = (offset, offset, offset + tw, offset + th)
            page[NameObject("/TrimBox")] = _rect(trim)
            page[NameObject("/BleedBox")] = _rect((trim[0] - left, trim[1] - bottom, trim[2] + right,
                                                   trim[3] + top + media_extra))
        res = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): self.font})})
        for key, value in (resources or {}).items():
            res[NameObject(key)] = value
        page[NameObject("/Resources")] = res
        prefix = f"1 0 0 1 {mm(offset)} {mm(offset)} cm\n" if offset else ""
        stream = DecodedStreamObject()
        stream.set_data((prefix + content).encode("latin-1"))
        page[NameObject("/Contents")] = self.add(stream)
        return page

    def text(self, words: str, x_mm: float = 20, y_mm: float = 180, colour: str = "0 0 0 1 k") -> str:
        return f"BT {colour} /F1 12 Tf {mm(x_mm)} {mm(y_mm)} Td [{self.hex(words)}] TJ ET\n"

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = io.BytesIO()
        self.writer.write(data)
        path.write_bytes(data.getvalue())
        return path


def _rect(box) -> ArrayObject:
    return ArrayObject([FloatObject(mm(v)) for v in box])


def _image(fixture: Fixture, width: int, height: int, space: str = "/DeviceGray") -> IndirectObject:
    """A flat image of width x height pixels."""
    channels = 3 if space == "/DeviceRGB" else 1
    image = StreamObject()
    image._data = zlib.compress(bytes([200]) * (width * height * channels), 9)
    image.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(width), NameObject("/Height"): NumberObject(height),
        NameObject("/ColorSpace"): NameObject(space), NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject("/FlateDecode")})
    return fixture.add(image)


# --- the fixtures ---------------------------------------------------------------------------------


def clean_screen() -> Fixture:
    """Passes every check as a screen A5 page."""
    f = Fixture()
    f.page(f.text("Preflight fixture page 1", colour="0.1 0.1 0.1 rg"))
    return f


def clean_print() -> Fixture:
    """Passes every check as a print A5 page: boxes, CMYK, a background that fills the bleed,
    crop marks in the slug."""
    f = Fixture()
    marks = "".join(
        f"0 0 0 1 K 0.25 w {mm(x0)} {mm(y0)} m {mm(x1)} {mm(y1)} l S\n" for x0, y0, x1, y1 in (
            (-SLUG - BLEED, 0, -BLEED - 2, 0), (0, -SLUG - BLEED, 0, -BLEED - 2),
            (A5[0] + BLEED + 2, 0, A5[0] + BLEED + SLUG, 0)))
    background = f"0.08 0.03 0 0 k {mm(-BLEED)} {mm(-BLEED)} {mm(A5[0] + 2 * BLEED)} " \
                 f"{mm(A5[1] + 2 * BLEED)} re f\n"
    f.page(background + marks + f.text("Preflight fixture page 1"), print_boxes=True)
    return f


def fonts_unembedded() -> Fixture:
    """Text in Helvetica, a standard font that is neither embedded nor in fonts/."""
    f = Fixture()
    helvetica = f.add(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))
    page = f.page(f.text("Preflight fixture page 1", colour="0 g") +
                  f"BT 0 g /F2 12 Tf {mm(20)} {mm(160)} Td (Helvetica) Tj ET\n")
    page["/Resources"]["/Font"][NameObject("/F2")] = helvetica
    return f


def notdef() -> Fixture:
    """A TJ that draws code 0000 (.notdef) twice on page 2, between real letters."""
    f = Fixture()
    f.page(f.text("Preflight fixture page 1", colour="0 g"))
    f.page(f"BT 0 g /F1 12 Tf {mm(20)} {mm(180)} Td [{f.hex('Pre')} -20 <0000> {f.hex('fix')} "
           f"<00000000>] TJ ET\n")
    return f


def images_low_ppi() -> Fixture:
    """Page 1: a 283 x 213 px image placed 100 mm wide (72 ppi) and a 283 x 213 px image placed
    20 mm wide (359 ppi). Page 2: the 72 ppi image again, inside a form scaled by 0.5 (144 ppi).
    Page 3: the image as the 100 mm cell of a tiling pattern (72 ppi)."""
    f = Fixture()
    low = _image(f, 283, 213)
    sharp = _image(f, 283, 213)
    xobjects = DictionaryObject({NameObject("/Im0"): low, NameObject("/Im1"): sharp})
    f.page(f"q {mm(100)} 0 0 {mm(75.2)} {mm(20)} {mm(100)} cm /Im0 Do Q\n"
           f"q {mm(20)} 0 0 {mm(15.04)} {mm(20)} {mm(20)} cm /Im1 Do Q\n" +
           f.text("Preflight fixture page 1", colour="0 g"),
           resources={"/XObject": xobjects})
    form = StreamObject()
    form._data = f"q {mm(100)} 0 0 {mm(75.2)} 0 0 cm /Im0 Do Q\n".encode()
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): _rect((0, 0, 100, 75.2)),
                 NameObject("/Matrix"): ArrayObject([FloatObject(v) for v in (0.5, 0, 0, 0.5, 0, 0)]),
                 NameObject("/Resources"): DictionaryObject({NameObject("/XObject"): xobjects})})
    f.page(f"q 1 0 0 1 {mm(20)} {mm(100)} cm /Fm0 Do Q\n",
           resources={"/XObject": DictionaryObject({NameObject("/Fm0"): f.add(form)})})
    cell = StreamObject()
    cell._data = f"q {mm(100)} 0 0 {mm(75.2)} 0 0 cm /Im0 Do Q\n".encode()
    cell.update({NameObject("/Type"): NameObject("/Pattern"), NameObject("/PatternType"): NumberObject(1),
                 NameObject("/PaintType"): NumberObject(1), NameObject("/TilingType"): NumberObject(1),
                 NameObject("/BBox"): _rect((0, 0, 100, 75.2)),
                 NameObject("/XStep"): FloatObject(mm(100)), NameObject("/YStep"): FloatObject(mm(75.2)),
                 NameObject("/Resources"): DictionaryObject({NameObject("/XObject"): xobjects})})
    f.page(f"/Pattern cs /P0 scn {mm(20)} {mm(100)} {mm(100)} {mm(75.2)} re f\n",
           resources={"/Pattern": DictionaryObject({NameObject("/P0"): f.add(cell)})})
    return f


def pages_three() -> Fixture:
    """Three pages: not a multiple of 4."""
    f = Fixture()
    for n in (1, 2, 3):
        f.page(f.text(f"Preflight fixture page {n}", colour="0 g"))
    return f


def boxes_print() -> Fixture:
    """Print pages with box faults. 1: right. 2: no TrimBox, no BleedBox. 3: trim 148 x 200 mm.
    4: 1 mm bleed on the right. 5: BleedBox 20 mm past the top of the MediaBox."""
    f = Fixture()
    text = f.text("Preflight fixture page 1")
    f.page(text, print_boxes=True)
    page = f.page(text, print_boxes=True)
    del page["/TrimBox"], page["/BleedBox"]
    f.page(text, print_boxes=True, trim_mm=(148, 200))
    f.page(text, print_boxes=True, bleed=(BLEED, 1.0, BLEED, BLEED))
    f.page(text, print_boxes=True, media_extra=20.0 + SLUG)
    return f


def boxes_screen() -> Fixture:
    """Screen pages with box faults. 1: right. 2: A4, not A5. 3: a TrimBox inside the MediaBox."""
    f = Fixture()
    text = f.text("Preflight fixture page 1", colour="0 g")
    f.page(text)
    f.page(text, size_mm=(210, 297))
    page = f.page(text)
    page[NameObject("/TrimBox")] = _rect((3, 3, 145, 207))
    return f


def bleed_short() -> Fixture:
    """Print pages. 1: a background that stops at the trim on every side. 2: one that fills the
    bleed. 3: a panel over the left half that fills the left bleed but stops at the trim at the top
    and bottom. 4: a panel inside the trim (touches no edge: not drawn)."""
    f = Fixture()
    w, h = A5
    f.page(f"0 1 0 0 k 0 0 {mm(w)} {mm(h)} re f\n", print_boxes=True)
    f.page(f"0 1 0 0 k {mm(-BLEED)} {mm(-BLEED)} {mm(w + 2 * BLEED)} {mm(h + 2 * BLEED)} re f\n",
           print_boxes=True)
    f.page(f"0 1 0 0 k {mm(-BLEED)} 0 {mm(w / 2 + BLEED)} {mm(h)} re f\n", print_boxes=True)
    f.page(f"0 1 0 0 k {mm(20)} {mm(20)} {mm(w - 40)} {mm(h - 40)} re f\n", print_boxes=True)
    return f


def colour_rgb() -> Fixture:
    """Print page 1: a `1 0 0 rg` fill. Page 2: DeviceRGB set with cs, an RGB colour space in the
    resources, an RGB shading, an RGB image. Page 3: CMYK only."""
    f = Fixture()
    background = f"{mm(-BLEED)} {mm(-BLEED)} {mm(A5[0] + 2 * BLEED)} {mm(A5[1] + 2 * BLEED)} re f\n"
    f.page("1 0 0 rg " + background, print_boxes=True)
    shading = f.add(DictionaryObject({
        NameObject("/ShadingType"): NumberObject(2), NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
        NameObject("/Coords"): ArrayObject([NumberObject(v) for v in (0, 0, 100, 0)]),
        NameObject("/Function"): DictionaryObject({
            NameObject("/FunctionType"): NumberObject(2),
            NameObject("/Domain"): ArrayObject([NumberObject(0), NumberObject(1)]),
            NameObject("/C0"): ArrayObject([NumberObject(v) for v in (1, 0, 0)]),
            NameObject("/C1"): ArrayObject([NumberObject(v) for v in (0, 0, 1)]),
            NameObject("/N"): NumberObject(1)})}))
    f.page("/DeviceRGB cs 0 0 1 sc " + background +
           f"q {mm(20)} {mm(20)} {mm(50)} {mm(50)} re W n /Sh0 sh Q\n"
           f"q {mm(10)} 0 0 {mm(10)} {mm(100)} {mm(100)} cm /Im0 Do Q\n",
           print_boxes=True, resources={
               "/ColorSpace": DictionaryObject({NameObject("/CS0"): NameObject("/DeviceRGB")}),
               "/Shading": DictionaryObject({NameObject("/Sh0"): shading}),
               "/XObject": DictionaryObject({NameObject("/Im0"): _image(f, 200, 200, "/DeviceRGB")})})
    f.page("0 1 0 0 k " + background, print_boxes=True)
    return f


def metadata_missing() -> Fixture:
    """No title, no author, no language."""
    f = Fixture(title=None, author=None, lang=None)
    f.page(f.text("Preflight fixture page 1", colour="0 g"))
    return f


def links_broken() -> Fixture:
    """Page 1 links: to page 2 (fine), a URI (fine), the named destination 'chapter' (fine), page 99
    (GoTo), the undefined name 'nowhere', and an object that is not a page."""
    f = Fixture()
    page1 = f.page(f.text("Preflight fixture page 1", colour="0 g"))
    page2 = f.page(f.text("Preflight fixture page 2", colour="0 g"))
    page2_ref = page2.indirect_reference
    stray = f.add(DictionaryObject({NameObject("/Type"): NameObject("/Stray")}))

    def link(y: float, **entries) -> IndirectObject:
        annot = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (mm(20), mm(y), mm(100), mm(y + 8))]),
            NameObject("/Border"): ArrayObject([NumberObject(0)] * 3)})
        for key, value in entries.items():
            annot[NameObject("/" + key)] = value
        return f.add(annot)

    fit = NameObject("/Fit")
    page1[NameObject("/Annots")] = ArrayObject([
        link(150, Dest=ArrayObject([page2_ref, fit])),
        link(140, A=DictionaryObject({NameObject("/S"): NameObject("/URI"),
                                      NameObject("/URI"): TextStringObject("https://example.com/")})),
        link(130, Dest=TextStringObject("chapter")),
        link(120, A=DictionaryObject({NameObject("/S"): NameObject("/GoTo"),
                                      NameObject("/D"): ArrayObject([NumberObject(98), fit])})),
        link(110, Dest=TextStringObject("nowhere")),
        link(100, Dest=ArrayObject([stray, fit])),
    ])
    names = DictionaryObject({NameObject("/Names"): ArrayObject([
        TextStringObject("chapter"), ArrayObject([page2_ref, fit])])})
    f.writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/Dests"): f.add(names)})
    return f


FIXTURES = {
    "preflight-clean/screen.pdf": clean_screen,
    "preflight-clean/print.pdf": clean_print,
    "preflight-fonts/unembedded.pdf": fonts_unembedded,
    "preflight-notdef/notdef.pdf": notdef,
    "preflight-images/low-ppi.pdf": images_low_ppi,
    "preflight-pages/three-pages.pdf": pages_three,
    "preflight-boxes/print.pdf": boxes_print,
    "preflight-boxes/screen.pdf": boxes_screen,
    "preflight-bleed/short.pdf": bleed_short,
    "preflight-colour/rgb.pdf": colour_rgb,
    "preflight-metadata/missing.pdf": metadata_missing,
    "preflight-links/broken.pdf": links_broken,
}


def main() -> None:
    for name, make in FIXTURES.items():
        path = make().write(PROJECTS / name)
        print(f"{path.relative_to(REPO)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

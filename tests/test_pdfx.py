"""PDF/X-4: every print file of the default project passes every rule (preflight/pdfx.py), each rule
fails a file broken for it with its exact line, preflight.json lists the rules, the output profile
is the theme's file byte for byte, and Ghostscript and MuPDF read every print file without a word."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from conftest import EDITIONS
from culturebook.build.pipeline import build
from culturebook.pdf.pdfx import OutputIntent, iso_date, make_pdfx, normal_date, read_xmp, xmp_packet
from culturebook.preflight.checks import preflight_pdf
from culturebook.preflight.expect import Expect, expect_for, project_settings
from culturebook.preflight.pdfx import NOT_CHECKED, RULES

POSTER = "en/print/posters/integrity.pdf"
PROFILE = "coated-fogra39-tac300.icc"
HELD = Expect(kind="poster", edition="en", print=True, bleed_mm=3, pdfx=True)


def print_files(root: Path) -> list[Path]:
    return sorted((root / "build").glob("*/print/**/*.pdf"))


def pdfx_findings(data: bytes, expect: Expect = HELD) -> list[str]:
    return [f.message for f in preflight_pdf(data, expect) if f.check == "pdfx"]


@pytest.fixture(scope="module")
def personalised_root(tmp_path_factory) -> Path:
    """The default project with its personalised print files (content/people.example.csv)."""
    from conftest import copy_project

    root = copy_project(tmp_path_factory.mktemp("pdfx") / "project")
    build(root, "personalised", recipients=root / "content" / "people.example.csv")
    return root


# --- every print file ----------------------------------------------------------------------------


def test_every_print_file_passes_every_pdfx_rule(built_root):
    settings = project_settings(built_root)
    files = print_files(built_root)
    assert len(files) == 2 * (1 + 5 + 1 + 5)  # booklet, posters, imposed booklet, tiles
    for path in files:
        key = path.relative_to(built_root / "build").as_posix()
        expect = expect_for(key, settings)
        assert expect.pdfx, key
        assert preflight_pdf(path.read_bytes(), expect) == [], key
        reader = PdfReader(path)
        assert reader.pdf_header == "%PDF-1.6", key
        assert all("/TrimBox" in page for page in reader.pages), key


@pytest.mark.slow
@pytest.mark.parametrize("lang", EDITIONS)
def test_the_personalised_print_file_is_pdf_x4(personalised_root, lang):
    path = personalised_root / "build" / lang / "print" / "personalised.pdf"
    expect = expect_for(f"{lang}/print/personalised.pdf", project_settings(personalised_root))
    assert expect.pdfx and expect.kind == "booklet"
    assert preflight_pdf(path.read_bytes(), expect) == []
    reader = PdfReader(path)
    assert reader.pdf_header == "%PDF-1.6"
    (intent,) = reader.trailer["/Root"]["/OutputIntents"]
    shipped = (personalised_root / "layouts" / "default" / PROFILE).read_bytes()
    assert intent.get_object()["/DestOutputProfile"].get_object().get_data() == shipped
    assert path.read_bytes().count(b"/N 4") == 1  # once, however many batches brought a copy


def test_every_print_file_embeds_the_theme_profile_byte_for_byte(built_root):
    shipped = (built_root / "layouts" / "default" / PROFILE).read_bytes()
    for path in print_files(built_root):
        catalog = PdfReader(path).trailer["/Root"]
        (intent,) = [i.get_object() for i in catalog["/OutputIntents"]]
        assert intent["/S"] == "/GTS_PDFX" and intent["/OutputConditionIdentifier"] == "FOGRA39"
        assert intent["/DestOutputProfile"].get_object().get_data() == shipped, path.name
        # and the profile is in the file once: ICCBased colour spaces name the same stream
        assert path.read_bytes().count(b"/N 4") == 1, path.name


def test_xmp_repeats_the_info_dictionary(built_root):
    reader = PdfReader(built_root / "build" / "en" / "print" / "booklet-imposed.pdf")
    xmp = read_xmp(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    assert xmp["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
    assert xmp["dc:title"] == reader.metadata["/Title"] == "Value for Users, Tech for Good (imposed)"
    assert xmp["pdf:Trapped"] == "False" and reader.metadata["/Trapped"] == "/False"
    assert xmp["xmp:CreateDate"] == "2019-11-11T00:00:00Z"
    assert xmp["xmpMM:DocumentID"].startswith("uuid:")


def test_making_pdf_x4_twice_gives_the_same_bytes(built_root, tmp_path):
    """Ids come from the content and the intent, not the clock: the same file, the same bytes; another
    output condition, another document id."""
    data = (built_root / "build" / "en" / "booklet.pdf").read_bytes()
    profile = (built_root / "layouts" / "default" / PROFILE).read_bytes()
    first = make_pdfx(data, OutputIntent(profile, "FOGRA39"))
    assert make_pdfx(data, OutputIntent(profile, "FOGRA39")) == first
    other = make_pdfx(data, OutputIntent(profile, "Shop CMYK"))

    def document_id(pdf: bytes) -> str:
        reader = PdfReader(io.BytesIO(pdf))
        return read_xmp(reader.trailer["/Root"]["/Metadata"].get_object().get_data())["xmpMM:DocumentID"]

    assert document_id(first) != document_id(other)
    # a screen booklet made PDF/X-4 keeps its RGB: the colour check says so, the PDF/X rules pass
    findings = preflight_pdf(first, Expect(kind="booklet", edition="en", pdfx=True))
    assert [f.check for f in findings if f.error] == ["colour"]


@pytest.mark.parametrize(("pdf", "iso"), [
    ("D:20191111000000Z", "2019-11-11T00:00:00Z"),
    ("D:20250301093000+01'00'", "2025-03-01T09:30:00+01:00"),
    ("D:2025", "2025-01-01T00:00:00"),
    ("2025-03-01", None),
])
def test_pdf_dates_as_xmp_writes_them(pdf, iso):
    assert iso_date(pdf) == iso


def test_xmp_dates_compare_in_one_form():
    assert normal_date("2019-11-11T00:00Z") == normal_date("2019-11-11T00:00:00+00:00")


def test_xmp_packet_escapes_and_reads_back():
    info = {"/Title": "R&D <notes>", "/Author": "Ana", "/ModDate": "D:20250301000000Z",
            "/Trapped": "/False"}
    xmp = read_xmp(xmp_packet(info, bytes(16)))
    assert xmp["dc:title"] == "R&D <notes>" and xmp["dc:creator"] == "Ana"
    assert xmp["xmp:ModifyDate"] == xmp["xmp:MetadataDate"] == "2025-03-01T00:00:00Z"
    assert xmp["xmpMM:DocumentID"] == "uuid:00000000-0000-0000-0000-000000000000"
    assert read_xmp(b"<x:xmpmeta><unclosed></x:xmpmeta>") is None


# --- each rule, broken -----------------------------------------------------------------------------


def edit(built_root: Path, change, path: str = POSTER) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(built_root / "build" / path))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _drop(key):
    return lambda w: w.root_object.__delitem__(NameObject(key))


def _intent_with(**values):
    def change(writer):
        intent = writer.root_object["/OutputIntents"][0].get_object()
        for key, value in values.items():
            if value is None:
                del intent[NameObject(f"/{key}")]
            else:
                intent[NameObject(f"/{key}")] = value
    return change


def _rgb_profile(writer):
    profile = DecodedStreamObject()
    profile.set_data(b"\0" * 16 + b"RGB " + b"\0" * 16 + b"acsp" + b"\0" * 200)  # an RGB header
    profile[NameObject("/N")] = NumberObject(3)
    writer.root_object["/OutputIntents"][0].get_object()[NameObject("/DestOutputProfile")] = \
        writer._add_object(profile)


def _xmp(transform):
    def change(writer):
        stream = writer.root_object["/Metadata"].get_object()
        stream.set_data(transform(stream.get_data()))
    return change


def _info(key, value):
    def change(writer):
        if value is None:
            del writer._info.get_object()[NameObject(key)]
        else:
            writer._info.get_object()[NameObject(key)] = value
    return change


def _page(change_page):
    return lambda writer: change_page(writer, writer.pages[0])


def _resource(category, name, obj):
    def change(writer, page):
        resources = page["/Resources"].get_object()
        group = resources.setdefault(NameObject(category), DictionaryObject())
        group.get_object()[NameObject(name)] = writer._add_object(obj)
    return _page(change)


def _xobject(**entries):
    stream = DecodedStreamObject()
    stream.set_data(b"\0")
    stream.update({NameObject("/Type"): NameObject("/XObject")})
    stream.update({NameObject(f"/{k}"): v for k, v in entries.items()})
    return stream


IMAGE = {"Subtype": NameObject("/Image"), "Width": NumberObject(1), "Height": NumberObject(1),
         "ColorSpace": NameObject("/DeviceGray"), "BitsPerComponent": NumberObject(8)}


def _encrypt(writer):
    writer.encrypt("", "owner", algorithm="AES-128")


def _no_id(writer):
    writer._ID = None


def _header(writer):
    writer.pdf_header = "%PDF-1.7"


def _boxes(writer):
    page = writer.pages[0]
    media = [float(v) for v in page.mediabox]
    page[NameObject("/BleedBox")] = ArrayObject(
        NumberObject(int(v)) for v in (media[0] - 10, media[1], media[2], media[3]))
    del page[NameObject("/TrimBox")]


def _open_script(writer):
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})


def _launch_link(writer, page):
    annot = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
        NameObject("/A"): DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                            NameObject("/F"): TextStringObject("x.exe")})})
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])


BROKEN = [
    ("no intent", _drop("/OutputIntents"),
     ["PDF/X-4 output-intent: no output intent (/OutputIntents in the catalog)"]),
    ("PDF/A intent", _intent_with(S=NameObject("/GTS_PDFA1")),
     ["PDF/X-4 output-intent: the output intent is /GTS_PDFA1, not /GTS_PDFX"]),
    ("no condition", _intent_with(OutputConditionIdentifier=None, DestOutputProfile=None),
     ["PDF/X-4 output-intent: the output intent has no OutputConditionIdentifier",
      "PDF/X-4 output-intent: the output intent embeds no profile (/DestOutputProfile)"]),
    ("RGB profile", _rgb_profile,
     ["PDF/X-4 output-intent: the output intent's profile is not a CMYK ICC profile"]),
    ("PDF 1.7", _header, ["PDF/X-4 version: the header is %PDF-1.7, later than PDF 1.6"]),
    ("no XMP", _drop("/Metadata"),
     ["PDF/X-4 xmp-version: no XMP metadata (/Metadata in the catalog)"]),
    ("PDF/X-3 and no ids", _xmp(lambda x: x.replace(b">PDF/X-4<", b">PDF/X-3<").replace(
        b"<xmpMM:VersionID>1</xmpMM:VersionID>", b"")),
     ["PDF/X-4 xmp-version: the XMP's pdfxid:GTS_PDFXVersion is PDF/X-3, not PDF/X-4",
      "PDF/X-4 xmp-ids: the XMP has no xmpMM:VersionID"]),
    ("Info out of step", _info("/Title", TextStringObject("Integrity, retitled")),
     ["PDF/X-4 xmp-info: Info /Title 'Integrity, retitled' differs from the XMP's dc:title "
      "'Value for Users, Tech for Good'"]),
    ("no Trapped", _info("/Trapped", None),
     ["PDF/X-4 trapped: /Trapped in the Info dictionary is not /True or /False"]),
    ("no file ID", _no_id, ["PDF/X-4 file-id: no file identifier (/ID in the trailer)"]),
    ("encrypted", _encrypt, ["PDF/X-4 encryption: the file is encrypted"]),
    ("boxes", _boxes, ["page 1: PDF/X-4 trim-box: no TrimBox (or ArtBox)",
                       "page 1: PDF/X-4 box-nesting: the BleedBox reaches beyond the MediaBox"]),
    ("transfer", _resource("/ExtGState", "/TF", DictionaryObject({
        NameObject("/Type"): NameObject("/ExtGState"), NameObject("/TR"): NameObject("/Identity")})),
     ["page 1: PDF/X-4 transfer: ExtGState /TF sets a transfer function (/TR)"]),
    ("alternates", _resource("/XObject", "/Alt", _xobject(**IMAGE, Alternates=ArrayObject())),
     ["page 1: PDF/X-4 alternates: image /Alt has alternate images (/Alternates)"]),
    ("PostScript", _resource("/XObject", "/PS0", _xobject(Subtype=NameObject("/PS"))),
     ["page 1: PDF/X-4 postscript: XObject /PS0 is PostScript"]),
    ("OPI", _resource("/XObject", "/Opi", _xobject(**IMAGE, OPI=DictionaryObject())),
     ["page 1: PDF/X-4 opi: XObject /Opi carries OPI comments (/OPI)"]),
    ("JavaScript", _open_script,
     ["PDF/X-4 actions: the document opens with a /JavaScript action"]),
    ("launch", _page(_launch_link), ["page 1: PDF/X-4 actions: an annotation runs a /Launch action"]),
]


@pytest.mark.parametrize(("change", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_each_rule_fails_a_file_broken_for_it(built_root, change, expected):
    assert pdfx_findings(edit(built_root, change)) == expected


def test_the_rules_hold_a_print_file_that_claims_pdf_x_even_without_a_profile(built_root):
    """A theme without a profile holds nothing to PDF/X, unless the file says it is PDF/X."""
    data = edit(built_root, _drop("/Metadata"))
    assert pdfx_findings(data, Expect(kind="poster", edition="en", print=True, bleed_mm=3)) == [
        "PDF/X-4 xmp-version: no XMP metadata (/Metadata in the catalog)"]
    assert pdfx_findings(data, Expect(kind="poster", edition="en")) == []


def test_rgb_in_an_office_sheet_held_to_pdf_x_is_an_error(built_root):
    """The imposed booklet is not a print edition (no bleed), but held to PDF/X-4 it must not paint
    in DeviceRGB: the colour check reports it (rule device-rgb)."""

    def paint_rgb(writer, page):
        stream = page.get_contents()
        stream.set_data(b"1 0 0 rg 0 0 10 10 re f\n" + stream.get_data())
        page.replace_contents(stream)

    data = edit(built_root, _page(paint_rgb), "en/print/booklet-imposed.pdf")
    expect = expect_for("en/print/booklet-imposed.pdf", project_settings(built_root))
    assert (expect.print, expect.pdfx) == (False, True)
    assert [(f.check, f.message) for f in preflight_pdf(data, expect)] == [
        ("colour", "page 1: vector content painted in DeviceRGB (rg/RG operators)")]


# --- preflight.json -------------------------------------------------------------------------------


def test_preflight_json_lists_the_rules_checked_and_not(built_root):
    for lang in EDITIONS:
        report = json.loads((built_root / "build" / lang / "preflight.json").read_text())
        listed = report["pdfx"]
        assert listed["standard"] == "PDF/X-4"
        assert [r["id"] for r in listed["checked"]] == [r.id for r in RULES]
        assert listed["checked"][0] == {
            "id": "output-intent", "check": "pdfx",
            "description": "one /GTS_PDFX output intent with an OutputConditionIdentifier and an "
                           "embedded CMYK (N 4) ICC DestOutputProfile"}
        assert {r["id"]: r["check"] for r in listed["checked"]}["device-rgb"] == "colour"
        assert [r["id"] for r in listed["not-checked"]] == [i for i, _ in NOT_CHECKED]
        assert all(r["why"] for r in listed["not-checked"])


# --- Ghostscript and MuPDF --------------------------------------------------------------------------


def ghostscript(path: Path) -> tuple[int, list[str], str]:
    """Ghostscript's exit code, what it says beyond its banner and page count, and its errors.
    (-q would hide the errors too: Ghostscript 10 lists repairs only when not quiet.)"""
    result = subprocess.run(["gs", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=nullpage",
                             "-dPDFSTOPONERROR", "-dPDFSTOPONWARNING", str(path)],
                            capture_output=True, text=True)
    said = [line for line in result.stdout.splitlines()[4:]  # the banner: 4 lines
            if not line.startswith(("Processing pages ", "Page "))]
    return result.returncode, said, result.stderr


def mupdf(path: Path) -> tuple[int, str]:
    """MuPDF drawing every page: exit code and what it says. -N: this MuPDF is built without ICC
    support and says so ("warning: ICC support is not available") for any file with a profile."""
    result = subprocess.run(["mutool", "draw", "-q", "-N", "-o", "/dev/null", str(path)],
                            capture_output=True, text=True)
    return result.returncode, result.stderr


needs_readers = pytest.mark.skipif(not (shutil.which("gs") and shutil.which("mutool")),
                                   reason="Ghostscript or MuPDF is not installed")


@needs_readers
def test_ghostscript_and_mupdf_read_every_print_file_without_a_word(built_root):
    for path in print_files(built_root):
        assert ghostscript(path) == (0, [], ""), path
        assert mupdf(path) == (0, ""), path


@needs_readers
@pytest.mark.slow
def test_ghostscript_and_mupdf_read_the_personalised_print_files(personalised_root):
    for lang in EDITIONS:
        path = personalised_root / "build" / lang / "print" / "personalised.pdf"
        assert ghostscript(path) == (0, [], ""), path
        assert mupdf(path) == (0, ""), path


@needs_readers
def test_ghostscript_and_mupdf_complain_about_a_damaged_file(built_root, tmp_path):
    """The readers' silence means something: a file cut short makes both speak."""
    data = (built_root / "build" / POSTER).read_bytes()
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data[: len(data) // 2])
    code, said, errors = ghostscript(damaged)
    assert "   **** This file had errors that were repaired or ignored." in errors.splitlines()
    assert "\tPDF file was repaired" in errors.splitlines()
    code, errors = mupdf(damaged)
    assert "warning: trying to repair broken xref" in errors.splitlines()

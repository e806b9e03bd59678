"""Preflight: each check tripped by a small PDF under tests/projects/preflight-*/ (made by
tests/preflight_pdfs.py), the clean fixtures and the default build passing, the content-stream
tokeniser against pypdf's parser, the report, and `culturebook preflight` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from conftest import REPO, copy_project
from culturebook.pdf.scan import NotAPDF
from culturebook.pdf.tokens import content_operators
from culturebook.preflight.checks import CHECKS, preflight_pdf
from culturebook.preflight.expect import Expect, Finding, Settings, expect_for
from culturebook.preflight.report import write_report
from preflight_pdfs import FIXTURES, PRINT, PROJECTS, SCREEN
from projectkit import run_cli


def fixture(name: str) -> bytes:
    return (PROJECTS / name).read_bytes()


def messages(findings: list[Finding], check: str) -> list[tuple[bool, int | None, str]]:
    return [(f.error, f.page, f.message) for f in findings if f.check == check]


def run(name: str, **expect) -> list[Finding]:
    findings = preflight_pdf(fixture(name), Expect(**expect))
    assert all(f.check in CHECKS for f in findings)
    return findings


# --- the clean fixtures, and each check tripped -------------------------------------------------


def test_every_fixture_is_committed():
    for name in FIXTURES:
        assert (PROJECTS / name).is_file(), f"run python tests/preflight_pdfs.py ({name} missing)"


def test_clean_fixtures_pass():
    assert run("preflight-clean/screen.pdf", **SCREEN) == []
    assert run("preflight-clean/print.pdf", **PRINT) == []


def test_fonts_not_embedded_and_not_from_fonts_dir():
    findings = run("preflight-fonts/unembedded.pdf", **SCREEN)
    assert messages(findings, "fonts") == [
        (True, 1, "page 1: font Helvetica is not embedded"),
        (True, 1, "page 1: font Helvetica is not one of the fonts in fonts/"),
    ]  # and nothing about the embedded subset of Inter beside it
    assert [f.check for f in findings] == ["fonts", "fonts"]


def test_fonts_outside_fonts_dir(tmp_path):
    """The embedded subset of Inter Regular is refused when fonts/ holds only Inter Display Bold."""
    (tmp_path / "fonts").mkdir()
    shutil.copy(REPO / "fonts" / "Inter" / "InterDisplay-Bold.otf", tmp_path / "fonts")
    findings = run("preflight-clean/screen.pdf", **{**SCREEN, "fonts_dir": tmp_path / "fonts"})
    assert messages(findings, "fonts") == [
        (True, 1, "page 1: font Inter-Regular is not one of the fonts in fonts/")]


def test_notdef_glyphs():
    findings = run("preflight-notdef/notdef.pdf", **SCREEN)
    assert findings == [Finding("notdef", True, 2, "page 2: 3 glyphs drawn as .notdef (an empty box) "
                                                   "in font Inter-Regular")]


def test_images_below_resolution_at_placed_size():
    findings = run("preflight-images/low-ppi.pdf", **SCREEN)
    assert findings == [
        Finding("images", False, 1, "page 1: image Im0 (object 8) is 72 ppi at its placed size of "
                                    "100 × 75.2 mm (283 × 213 px); needs 150 ppi", (283, 213)),
        Finding("images", False, 2, "page 2: image Im0 (object 8) is 144 ppi at its placed size of "
                                    "50 × 37.6 mm (283 × 213 px); needs 150 ppi", (283, 213)),
        Finding("images", False, 3, "page 3: image Im0 (object 8) is 72 ppi at its placed size of "
                                    "100 × 75.2 mm (283 × 213 px); needs 150 ppi", (283, 213)),
    ]  # Im1, the same pixels placed 20 mm wide (359 ppi), passes
    assert [f.page for f in run("preflight-images/low-ppi.pdf", **{**SCREEN, "min_ppi": 100})] == [1, 3]


def test_page_count_multiple():
    findings = run("preflight-pages/three-pages.pdf", **{**SCREEN, "page_multiple": 4})
    assert findings == [Finding("pages", True, None, "3 pages is not a multiple of 4 (1 short of 4)")]
    assert run("preflight-pages/three-pages.pdf", **SCREEN) == []


def test_boxes_print():
    findings = run("preflight-boxes/print.pdf", **PRINT)
    assert messages(findings, "boxes") == [
        (True, 2, "page 2: no TrimBox"),
        (True, 2, "page 2: no BleedBox"),
        (True, 3, "page 3: trim size 148 × 200 mm, expected 148 × 210 mm"),
        (True, 4, "page 4: bleed on the right side is 1 mm, expected 3 mm"),
        (True, 5, "page 5: bleed on the top side is 33 mm, expected 3 mm"),
        (True, 5, "page 5: BleedBox extends 20 mm beyond the MediaBox on the top side"),
    ]


def test_boxes_screen():
    findings = run("preflight-boxes/screen.pdf", **SCREEN)
    assert messages(findings, "boxes") == [
        (True, 2, "page 2: page size 210 × 297 mm, expected 148 × 210 mm"),
        (True, 3, "page 3: TrimBox differs from the MediaBox: a screen edition is trimmed, without "
                  "bleed or marks"),
    ]


def test_boxes_the_same_fault_on_several_pages_is_one_finding():
    findings = run("preflight-links/broken.pdf", **PRINT)
    assert messages(findings, "boxes") == [(True, None, "pages 1-2: no TrimBox"),
                                           (True, None, "pages 1-2: no BleedBox")]


def test_bleed_not_covered():
    findings = run("preflight-bleed/short.pdf", **PRINT)
    text = "the background stops at the trim on the {} side (bleed not covered along {} mm)"
    assert messages(findings, "bleed") == [
        (True, 1, "page 1: " + text.format("left", 208)),
        (True, 1, "page 1: " + text.format("right", 208)),
        (True, 1, "page 1: " + text.format("top", 146)),
        (True, 1, "page 1: " + text.format("bottom", 146)),
        (True, 3, "page 3: " + text.format("top", 73)),
        (True, 3, "page 3: " + text.format("bottom", 73)),
    ]  # page 2 fills the bleed; page 4's panel stays inside the trim
    assert [f.check for f in findings] == ["bleed"] * 6


def test_bleed_and_colour_are_print_checks():
    assert run("preflight-bleed/short.pdf", **{**PRINT, "print": False, "trim_mm": None}) == [
        Finding("boxes", True, None, "pages 1-4: TrimBox differs from the MediaBox: a screen edition "
                                     "is trimmed, without bleed or marks")]
    assert messages(run("preflight-colour/rgb.pdf", **{**SCREEN, "trim_mm": None}), "colour") == []


def test_colour_device_rgb_in_print():
    findings = run("preflight-colour/rgb.pdf", **PRINT)
    assert findings == [
        Finding("colour", True, 1, "page 1: vector content painted in DeviceRGB (rg/RG operators)"),
        Finding("colour", True, 2, "page 2: DeviceRGB colour space set with cs/CS (/DeviceRGB)"),
        Finding("colour", True, 2, "page 2: the resources name a DeviceRGB colour space (/CS0)"),
        Finding("colour", True, 2, "page 2: shading in DeviceRGB (/Sh0)"),
        Finding("colour", False, 2, "page 2: image Im0 (object 11) in DeviceRGB (convert to CMYK for "
                                    "print)"),
    ]  # page 3 paints in CMYK only


def test_colour_device_rgb_image_in_pdfx_print_is_an_error():
    """A print file with an output intent had its images converted to the profile's CMYK by the
    build: an RGB image left in it is an error, not a warning."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    writer = PdfWriter(clone_from=io.BytesIO(fixture("preflight-colour/rgb.pdf")))
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"), NameObject("/S"): NameObject("/GTS_PDFX")})])
    out = io.BytesIO()
    writer.write(out)
    findings = preflight_pdf(out.getvalue(), Expect(**PRINT))
    assert Finding("colour", True, 2, "page 2: image Im0 (object 11) in DeviceRGB (convert to CMYK "
                                      "for print)") in [f for f in findings if f.check == "colour"]


def test_metadata_missing():
    assert run("preflight-metadata/missing.pdf", **SCREEN) == [
        Finding("metadata", True, None, "no document title (/Title in the Info dictionary)"),
        Finding("metadata", False, None, "no author (/Author in the Info dictionary)"),
        Finding("metadata", True, None, "no document language (/Lang in the catalog)"),
    ]


def test_metadata_language_of_another_edition():
    assert run("preflight-clean/screen.pdf", **{**SCREEN, "edition": "zh-Hans"}) == [
        Finding("metadata", False, None, "the document language is 'en', but this is the 'zh-Hans' "
                                         "edition")]


def test_links_that_go_nowhere():
    findings = run("preflight-links/broken.pdf", **SCREEN)
    assert findings == [
        Finding("links", True, 1, "page 1: a link goes to page 99, but the document has 2 pages"),
        Finding("links", True, 1, "page 1: a link goes to the destination 'nowhere', which this "
                                  "document does not define"),
        Finding("links", True, 1, "page 1: a link points to object 12, which is not a page of this "
                                  "document"),
    ]  # the links to page 2, to the named destination 'chapter' and to a URL are fine


def test_not_a_pdf():
    with pytest.raises(NotAPDF, match="no %PDF- header"):
        preflight_pdf(b"hello", Expect("booklet", "en"))
    with pytest.raises(NotAPDF, match="not a readable PDF"):
        preflight_pdf(b"%PDF-1.7\n" + b"x" * 100, Expect("booklet", "en"))


# --- the default build ----------------------------------------------------------------------------


def screen_editions(manifest: Path) -> list[dict]:
    """The manifest's entries for the screen editions (print editions are under <lang>/print/)."""
    artifacts = json.loads(manifest.read_text())["artifacts"]
    return [a for a in artifacts if a["path"].split("/")[1:2] != ["print"]]


def test_default_build_passes(built_root):
    """Every screen PDF of the default build, and the archive: no errors, no warnings (tags and
    PDF/A identification included)."""
    from culturebook.preflight.expect import project_settings

    settings = project_settings(built_root)
    manifest = screen_editions(built_root / "build" / "manifest.json")
    assert len(manifest) == 16  # 7 documents and the archive, per edition
    for artifact in manifest:
        expect = expect_for(artifact["path"], settings, artifact["kind"], artifact["edition"])
        assert not expect.print and expect.fonts_dir == ((built_root / "fonts").resolve(),)
        data = (built_root / "build" / artifact["path"]).read_bytes()
        assert preflight_pdf(data, expect) == [], artifact["path"]


def test_tokeniser_agrees_with_pypdf(built_root):
    """The walker's tokeniser sees the operators (and operand counts) pypdf's parser sees."""
    streams = []
    for path in ("en/booklet.pdf", "zh-Hans/posters/integrity.pdf"):
        reader = PdfReader(built_root / "build" / path)
        streams += [(reader, page.get_contents().get_data()) for page in reader.pages[:6]]
    made = PdfReader(PROJECTS / "preflight-colour/rgb.pdf")
    streams.append((made, b"q /Span <</ActualText (a\\)b) /MCID 0>> BDC % comment ] >>\n"
                          b"[(x\\(y) -20 <00 41>] TJ (\\000\\000) Tj EMC Q\n"
                          b"BI /W 2 /H 1 /CS /G /BPC 8 ID \x00\xff EI\n0 0 1 1 re f\n"))
    for reader, data in streams:
        theirs = [(op.decode("latin-1"), len(operands) if isinstance(operands, list)
                   else len(operands["settings"]))
                  for operands, op in ContentStream(_stream(data), reader).operations]
        assert content_operators(data) == theirs


def _stream(data: bytes):
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


# --- what to expect of a path ---------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind", "edition", "is_print", "trim", "bleed", "ppi", "multiple"), [
    ("en/booklet.pdf", "booklet", "en", False, (148, 210), 0, 150, 4),
    ("zh-Hans/posters/integrity.pdf", "poster", "zh-Hans", False, (420, 594), 0, 150, 1),
    ("en/culture-kit.pdf", "bundle", "en", False, None, 0, 150, 1),
    ("en/print/booklet.pdf", "booklet", "en", True, (148, 210), 3, 300, 4),
    ("zh-Hans/print/posters/mission-vision.pdf", "poster", "zh-Hans", True, (420, 594), 3, 300, 1),
    ("en/print/booklet-imposed.pdf", "imposed", "en", False, (297, 210), 0, 300, 2),
    ("en/print/tiles/integrity.pdf", "tiles", "en", False, None, 0, 300, 1),
    ("elsewhere/notes.pdf", "", "", False, None, 0, 150, 1),
])
def test_expectations_from_the_path(path, kind, edition, is_print, trim, bleed, ppi, multiple):
    settings = Settings(languages=("en", "zh-Hans"), poster_mm=(420.0, 594.0), bleed_mm=3.0)
    expect = expect_for(path, settings)
    assert (expect.kind, expect.edition, expect.print, expect.trim_mm, expect.bleed_mm,
            expect.min_ppi, expect.page_multiple) == (kind, edition, is_print, trim, bleed, ppi,
                                                      multiple)


# --- the report ---------------------------------------------------------------------------------


def test_report_is_stable_json(tmp_path):
    results = {
        "en/posters/b.pdf": [Finding("images", False, 2, "page 2: low"), Finding("fonts", True, None, "x")],
        "en/booklet.pdf": [],
    }
    path = tmp_path / "en" / "preflight.json"
    write_report(path, results)
    first = path.read_bytes()
    write_report(path, dict(reversed(results.items())))
    assert path.read_bytes() == first
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    assert json.loads(first) == {"errors": 1, "warnings": 1, "files": [
        {"path": "en/booklet.pdf", "errors": 0, "warnings": 0, "findings": []},
        {"path": "en/posters/b.pdf", "errors": 1, "warnings": 1, "findings": [
            {"check": "images", "error": False, "page": 2, "message": "page 2: low"},
            {"check": "fonts", "error": True, "page": None, "message": "x"}]},
    ]}


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_project(built_root, tmp_path_factory) -> Path:
    """A copy of the built default project (the CLI writes reports into its build/), with its
    screen editions only."""
    root = copy_project(tmp_path_factory.mktemp("preflight") / "project", built_root)
    shutil.copytree(built_root / "build", root / "build",
                    ignore=lambda folder, names: ["print"] if "print" in names else [])
    manifest = root / "build" / "manifest.json"
    manifest.write_text(json.dumps({"artifacts": screen_editions(manifest)}))
    return root


def test_cli_checks_the_whole_build(cli_project):
    result = run_cli("preflight", cwd=cli_project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["16 files checked: 0 errors, 0 warnings"]
    for lang in ("en", "zh-Hans"):
        report = json.loads((cli_project / "build" / lang / "preflight.json").read_text())
        assert (report["errors"], report["warnings"]) == (0, 0)
        assert [f["path"] for f in report["files"]] == sorted(
            p.relative_to(cli_project / "build").as_posix()
            for p in (cli_project / "build" / lang).rglob("*.pdf"))


def test_cli_errors_fail_and_are_reported(cli_project):
    target = cli_project / "build" / "en" / "posters" / "broken-links.pdf"
    shutil.copy(PROJECTS / "preflight-links/broken.pdf", target)
    try:
        result = run_cli("preflight", "build/en/posters/broken-links.pdf", cwd=cli_project)
    finally:
        target.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # 3 links; pages 1-2 are A5, not A2; and, as a screen poster, it is not tagged (4)
    assert lines[-1] == "1 file checked: 8 errors, 0 warnings"
    assert "links" in result.stdout and "Traceback" not in result.stdout + result.stderr
    report = json.loads((cli_project / "build" / "en" / "preflight.json").read_text())
    assert [f["path"] for f in report["files"]] == ["en/posters/broken-links.pdf"]
    assert [f["check"] for f in report["files"][0]["findings"]] == (["boxes"] + ["links"] * 3
                                                                    + ["tags"] * 4)


def test_cli_warnings_fail_only_under_strict(cli_project):
    pdf = str(PROJECTS / "preflight-images/low-ppi.pdf")
    result = run_cli("preflight", pdf, cwd=cli_project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 file checked: 0 errors, 3 warnings"
    assert result.stdout.splitlines()[0] == (  # one whole line per finding, however long the path
        f"{pdf}: warning: images: page 1: image Im0 (object 8) is 72 ppi at its placed size of "
        "100 × 75.2 mm (283 × 213 px); needs 150 ppi")
    strict = run_cli("preflight", "--strict", pdf, cwd=cli_project)
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1] == "1 file checked: 0 errors, 3 warnings"


def test_cli_missing_file_and_not_a_pdf(cli_project):
    result = run_cli("preflight", "build/en/nope.pdf", "content/en.yaml", cwd=cli_project)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["build/en/nope.pdf: no such file",
                                          "content/en.yaml: not a PDF (no %PDF- header)"]
    assert result.stdout == ""


def test_cli_without_a_build(tmp_path):
    result = run_cli("preflight", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "build/manifest.json: no build to check: there is no manifest; run `culturebook build` first"]


# --- preflight as part of every build ------------------------------------------------------------


@pytest.mark.slow
def test_a_low_resolution_content_image_is_named_with_its_ppi(make_project):
    """A 72 ppi photo placed large: a warning at the line of content that places it; --strict fails
    the build and writes nothing."""
    import subprocess
    import sys

    from PIL import Image

    root = make_project()
    (root / "content" / "images").mkdir()
    Image.new("RGB", (200, 150), "#0052D9").save(root / "content" / "images" / "team.png", dpi=(72, 72))
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8").replace(
        "    body: |\n", "    body: |\n      ![Our team](images/team.png)\n\n", 1)
    en.write_text(text, encoding="utf-8")
    pub = root / "content" / "publication.yaml"
    pub.write_text(pub.read_text(encoding="utf-8").replace("languages: [en, zh-Hans]", "languages: [en]"),
                   encoding="utf-8")
    line = text.splitlines().index("      ![Our team](images/team.png)") + 1
    command = [sys.executable, "-m", "culturebook", "build", "booklet", "-q", "--project", str(root)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"content/en.yaml:{line}:7: warning: image 'images/team.png' in "
                            "en/booklet.pdf: page "), first
    assert "the image is 96 ppi at its placed size of 52.9 × 39.7 mm (200 × 150 px); needs 150 ppi" in first
    before = (root / "build" / "en" / "booklet.pdf").read_bytes()
    strict = subprocess.run(command + ["--strict"], capture_output=True, text=True)
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[-1] == "1 problem in 1 file; nothing was written"
    assert (root / "build" / "en" / "booklet.pdf").read_bytes() == before
    assert "Traceback" not in result.stderr + strict.stderr



@pytest.mark.slow
def test_each_low_resolution_warning_names_its_own_image(tmp_path):
    """Three photos in one chapter, two of them low in resolution and of one pixel size (one
    camera): each warning names its own image, at the line that places it."""
    import re

    from PIL import Image

    from projectkit import make_project, where

    root = make_project(tmp_path / "project", "minimal")
    Image.new("RGB", (400, 300), "#0052D9").save(root / "content" / "first.png")
    Image.new("RGB", (2400, 1800), "#00A870").save(root / "content" / "second.png")
    Image.new("RGB", (400, 300), "#E34D59").save(root / "content" / "third.png")
    en = root / "content" / "en.yaml"
    last = "Everything else follows from that."
    text = en.read_text(encoding="utf-8").replace(last, f"{last}\n\n      ![The first](first.png)"
                                                  "\n\n      ![The second](second.png)\n\n"
                                                  "      ![The third](third.png)")
    en.write_text(text, encoding="utf-8")
    result = run_cli("build", "booklet", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warned = [line for line in result.stderr.splitlines() if "ppi" in line]
    pattern = (r"content/en\.yaml:(\d+:\d+): warning: image '(\w+)\.png' in en/booklet\.pdf: page "
               r"\d+: the image is 96 ppi at its placed size of 105\.8 × 79\.4 mm \(400 × 300 px\); "
               r"needs 150 ppi")
    found = [re.fullmatch(pattern, line) for line in warned]
    assert all(found), warned
    assert sorted((m[2], m[1]) for m in found) == [
        ("first", where(text, "![The first]")), ("third", where(text, "![The third]"))]

def test_inline_image_in_an_indexed_rgb_space_is_reported_not_a_crash():
    """`BI /CS [/I /RGB 1 <...>]`: the array form of an inline image's colour space."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    stream = DecodedStreamObject()
    stream.set_data(b"q 100 0 0 100 0 0 cm BI /W 2 /H 1 /CS [/I /RGB 1 <000000FFFFFF>] /BPC 8 ID "
                    b"\x00\x01 EI Q")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    findings = preflight_pdf(out.getvalue(), Expect(kind="poster", edition="en", print=True,
                                                    min_ppi=1))
    assert any(f.check == "colour" and "inline image" in f.message for f in findings), findings


@pytest.mark.slow
def test_cli_holds_a_built_booklet_to_the_fill_rule_from_its_manifest(tmp_path):
    """The build keeps how its layout used each booklet page in the manifest; `culturebook
    preflight` checks the fill rule on it (for the very file the build made), as the build does.
    Here the manifest says page 8, a text page, reaches only 10 % of its text area."""
    from culturebook.build.pipeline import build
    from projectkit import make_project

    root = make_project(tmp_path / "project", "short-chapters")
    build(root, "booklet")
    assert run_cli("preflight", cwd=root).returncode == 0
    manifest = root / "build" / "manifest.json"
    data = json.loads(manifest.read_text())
    entry = next(a for a in data["artifacts"] if a["path"] == "en/booklet.pdf")
    assert entry["fill"][7][0] == "chapter"
    entry["fill"][7][1] = 0.1
    manifest.write_text(json.dumps(data))
    result = run_cli("preflight", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "page 8 is a text page only 10% full (the theme's pages: min-fill is 25%); a designer " \
           "would call it empty" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 file checked: 1 error, 0 warnings"

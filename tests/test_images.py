"""pdf/images.py: print editions carry their images in the output profile's CMYK, grey stays grey.

The unit tests build small PDFs by hand (one image of each colour space WeasyPrint or another tool
may write) and compare the converted samples with LittleCMS run directly. The slow tests build
tests/projects/images (the test image set of make-images.py) and look at the print files as a
print shop would receive them.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from culturebook.pdf.images import ImageInks, convert_images, tagged_images
from projectkit import REPO, edit, make_project, problem_lines, run_cli

PROFILE = REPO / "layouts" / "default" / "coated-fogra39-tac300.icc"
ADOBE = REPO / "tests" / "projects" / "images" / "compatibleWithAdobeRGB1998.icc"
# The bands of every test image (tests/projects/images/make-images.py): a saturated blue, mid grey,
# red, near black.
BANDS = [(0x00, 0x52, 0xD9), (0x80, 0x80, 0x80), (0xE0, 0x20, 0x20), (0x14, 0x14, 0x14)]
INTENTS = {"relative": (ImageCms.Intent.RELATIVE_COLORIMETRIC, ImageCms.Flags.BLACKPOINTCOMPENSATION),
           "perceptual": (ImageCms.Intent.PERCEPTUAL, ImageCms.Flags.NONE)}


def expected(bands, source: Path | None = None, intent: str = "relative") -> list[tuple]:
    """What LittleCMS makes of `bands` (RGB) from `source` (sRGB when None) in the output profile."""
    picture = Image.new("RGB", (len(bands), 1))
    for x, colour in enumerate(bands):
        picture.putpixel((x, 0), colour)
    src = ImageCms.getOpenProfile(str(source)) if source else ImageCms.createProfile("sRGB")
    rendering, flags = INTENTS[intent]
    out = ImageCms.applyTransform(picture, ImageCms.buildTransform(
        src, ImageCms.getOpenProfile(str(PROFILE)), "RGB", "CMYK", rendering, flags=flags))
    return [out.getpixel((x, 0)) for x in range(len(bands))]


def close(got, want, units: int) -> bool:
    return all(abs(a - b) <= units for g, w in zip(got, want, strict=True)
               for a, b in zip(g, w, strict=True))


# --- small PDFs built by hand -------------------------------------------------------------------


def _stream(writer: PdfWriter, data: bytes, **entries):
    stream = StreamObject()
    stream._data = data
    for key, value in entries.items():
        stream[NameObject("/" + key)] = value
    return writer._add_object(stream)


def _image(writer: PdfWriter, samples: bytes, space, width: int = 4, jpeg: bool = False, **extra):
    return _stream(writer, samples if jpeg else zlib.compress(samples),
                   Type=NameObject("/XObject"), Subtype=NameObject("/Image"),
                   Width=NumberObject(width), Height=NumberObject(1), ColorSpace=space,
                   BitsPerComponent=NumberObject(8),
                   Filter=NameObject("/DCTDecode" if jpeg else "/FlateDecode"), **extra)


def _jpeg(mode: str, colours, icc: bytes | None = None) -> bytes:
    picture = Image.new(mode, (4 * 16, 16))
    for x in range(picture.width):
        for y in range(16):
            picture.putpixel((x, y), colours[x // 16])
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=95, subsampling=0, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def sample_pdf() -> bytes:
    """One page drawing an image of each kind, one of them inside a form."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    rgb = bytes(v for c in BANDS for v in c)
    adobe = _stream(writer, zlib.compress(ADOBE.read_bytes()), N=NumberObject(3),
                    Filter=NameObject("/FlateDecode"))
    grey = bytes([0, 80, 160, 240])
    mask = _image(writer, bytes([255, 128, 0, 255]), NameObject("/DeviceGray"))
    images = {
        "Rgb": _image(writer, rgb, NameObject("/DeviceRGB")),
        "Icc": _image(writer, rgb, ArrayObject([NameObject("/ICCBased"), adobe])),
        "Indexed": _image(writer, bytes([0, 1, 2, 3]), ArrayObject([
            NameObject("/Indexed"), NameObject("/DeviceRGB"), NumberObject(3),
            ByteStringObject(rgb)])),
        "Grey": _image(writer, grey, NameObject("/DeviceGray")),
        "Jpeg": _image(writer, _jpeg("RGB", BANDS, ADOBE.read_bytes()), NameObject("/DeviceRGB"),
                       width=64, jpeg=True),
        "Cmyk": _image(writer, _jpeg("CMYK", [(255, 158, 0, 0)] * 4), NameObject("/DeviceCMYK"),
                       width=64, jpeg=True, Decode=ArrayObject([NumberObject(v) for v in (1, 0) * 4])),
        "Alpha": _image(writer, rgb, NameObject("/DeviceRGB"), SMask=mask,
                        Interpolate=BooleanObject(True)),
        # WeasyPrint's name for content/a.png: i + MD5 of its URL + 1 (interpolated)
        "i" + hashlib.md5(b"file:///project/content/a.png").hexdigest() + "1":
            _image(writer, rgb, NameObject("/DeviceRGB")),
    }
    inner = _image(writer, rgb, NameObject("/DeviceRGB"))
    form = _stream(writer, b"q 10 0 0 10 0 0 cm /Inner Do Q", Type=NameObject("/XObject"),
                   Subtype=NameObject("/Form"), BBox=ArrayObject([NumberObject(v) for v in (0, 0, 10, 10)]),
                   Resources=DictionaryObject({NameObject("/XObject"): DictionaryObject(
                       {NameObject("/Inner"): inner})}))
    tile = _image(writer, rgb, NameObject("/DeviceRGB"))
    pattern = _stream(writer, b"q 10 0 0 10 0 0 cm /Tile Do Q", Type=NameObject("/Pattern"),
                      PatternType=NumberObject(1), PaintType=NumberObject(1), TilingType=NumberObject(1),
                      BBox=ArrayObject([NumberObject(v) for v in (0, 0, 10, 10)]),
                      XStep=NumberObject(10), YStep=NumberObject(10),
                      Resources=DictionaryObject({NameObject("/XObject"): DictionaryObject(
                          {NameObject("/Tile"): tile})}))
    xobjects = {NameObject("/" + name): ref for name, ref in images.items()}
    xobjects[NameObject("/Form")] = form
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject(xobjects),
        NameObject("/Pattern"): DictionaryObject({NameObject("/P0"): pattern})})
    draws = "".join(f"q 40 0 0 10 0 {20 * i} cm /{name} Do Q\n" for i, name in enumerate(xobjects))
    draws += "/Pattern cs /P0 scn 0 180 200 20 re f\n"
    page[NameObject("/Contents")] = _stream(writer, draws.encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def images_of(data: bytes) -> dict[str, object]:
    """The page's image XObjects by name, the form's image as 'Inner', the pattern's as 'Tile'."""
    resources = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    found = {str(k)[1:]: v.get_object() for k, v in resources["/XObject"].items()}
    found["Inner"] = found.pop("Form")["/Resources"]["/XObject"]["/Inner"].get_object()
    pattern = resources["/Pattern"]["/P0"].get_object()
    found["Tile"] = pattern["/Resources"]["/XObject"]["/Tile"].get_object()
    return found


def samples(image, points=4) -> list[tuple]:
    """The colours of the four bands of a converted image, as CMYK tuples (or grey values)."""
    width = int(image["/Width"])
    if image["/Filter"] == "/DCTDecode":
        picture = Image.open(io.BytesIO(image.get_data()))
    else:
        mode = {"/DeviceCMYK": "CMYK", "/DeviceRGB": "RGB", "/DeviceGray": "L"}[image["/ColorSpace"]]
        picture = Image.frombytes(mode, (width, int(image["/Height"])), image.get_data())
    step = width // points
    return [picture.getpixel((step * i + step // 2, 0)) for i in range(points)]


@pytest.fixture(scope="module")
def converted() -> dict[str, object]:
    tagged = {hashlib.md5(b"file:///project/content/a.png").hexdigest(): ADOBE.read_bytes()}
    return images_of(convert_images(sample_pdf(), ImageInks(PROFILE, "relative", tagged)))


def test_rgb_images_become_the_profiles_cmyk(converted):
    untagged = expected(BANDS)
    for name in ("Rgb", "Indexed", "Inner", "Tile", "Alpha"):  # inside a form, a pattern
        assert converted[name]["/ColorSpace"] == "/DeviceCMYK", name
        assert samples(converted[name]) == untagged, name
    assert samples(converted["Icc"]) == expected(BANDS, ADOBE)


def test_the_profile_a_file_embeds_is_used_where_the_pdf_lost_it(converted):
    name = next(n for n in converted if n.startswith("i"))
    assert samples(converted[name]) == expected(BANDS, ADOBE) != expected(BANDS)


def test_a_jpeg_stays_a_jpeg_with_its_embedded_profile_and_the_adobe_decode_array(converted):
    jpeg = converted["Jpeg"]
    assert (jpeg["/Filter"], jpeg["/ColorSpace"]) == ("/DCTDecode", "/DeviceCMYK")
    # Pillow stores CMYK JPEGs inverted (Adobe's way); the Decode array turns them back
    assert list(jpeg["/Decode"]) == [1, 0] * 4
    assert close(samples(jpeg), expected(BANDS, ADOBE), 2)
    assert not close(samples(jpeg), expected(BANDS), 4)  # the Adobe RGB profile made a difference


def test_grey_and_untagged_cmyk_stay_as_they_are():
    before = images_of(sample_pdf())
    after = images_of(convert_images(sample_pdf(), ImageInks(PROFILE)))
    for name in ("Grey", "Cmyk"):
        assert after[name].get_data() == before[name].get_data()
        assert after[name]["/ColorSpace"] == before[name]["/ColorSpace"]


def test_alpha_keeps_its_soft_mask_and_interpolation(converted):
    alpha = converted["Alpha"]
    assert alpha["/SMask"].get_object()["/ColorSpace"] == "/DeviceGray"
    assert alpha["/SMask"].get_object().get_data() == bytes([255, 128, 0, 255])
    assert alpha["/Interpolate"] is True or alpha["/Interpolate"] == BooleanObject(True)


def test_perceptual_differs_from_relative():
    perceptual = images_of(convert_images(sample_pdf(), ImageInks(PROFILE, "perceptual")))
    assert samples(perceptual["Rgb"]) == expected(BANDS, intent="perceptual")
    assert expected(BANDS, intent="perceptual") != expected(BANDS)


def test_nothing_to_convert_gives_the_same_bytes_and_conversion_is_deterministic():
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    assert convert_images(out.getvalue(), ImageInks(PROFILE)) == out.getvalue()
    assert convert_images(sample_pdf(), ImageInks(PROFILE)) == convert_images(sample_pdf(),
                                                                              ImageInks(PROFILE))


def test_tagged_images_names_only_files_that_embed_a_profile(tmp_path):
    Image.new("RGB", (2, 2)).save(tmp_path / "plain.png")
    Image.new("RGB", (2, 2)).save(tmp_path / "tagged.png", icc_profile=ADOBE.read_bytes())
    (tmp_path / "broken.png").write_bytes(b"not a png")
    found = tagged_images(sorted(tmp_path.iterdir()))
    url = (tmp_path / "tagged.png").resolve().as_uri().encode()
    assert found == {hashlib.md5(url).hexdigest(): ADOBE.read_bytes()}


# --- the image test project, built ---------------------------------------------------------------

FILES = ["srgb.png", "adobe-rgb.jpg", "adobe-rgb.png", "untagged.png", "cmyk.jpg", "grey.png",
         "alpha.png"]


def _names(root: Path) -> dict[str, str]:
    """Each test image's XObject name in the PDF (WeasyPrint: i + MD5 of the URL + 1)."""
    return {f: "i" + hashlib.md5((root / "content" / "images" / f).resolve().as_uri().encode())
            .hexdigest() + "1" for f in FILES}


def _page_images(path: Path) -> dict[str, object]:
    found = {}
    for page in PdfReader(path).pages:
        for name, ref in page["/Resources"].get("/XObject", {}).items():
            if ref.get_object().get("/Subtype") == "/Image":
                found[str(name)[1:]] = ref.get_object()
    return found


def _build(root: Path, *args: str) -> None:
    result = run_cli("build", *args, "--project", ".", cwd=root)
    assert result.returncode == 0, problem_lines(result)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("images") / "p", "images")
    _build(root, "print")
    _build(root, "booklet")
    return root


@pytest.mark.slow
def test_each_image_kind_in_the_print_booklet(project):
    images, names = _page_images(project / "build/en/print/booklet.pdf"), _names(project)
    spaces = {f: str(images[names[f]]["/ColorSpace"]) for f in FILES}
    assert spaces == {**dict.fromkeys(FILES, "/DeviceCMYK"), "grey.png": "/DeviceGray"}
    assert "/SMask" in images[names["alpha.png"]]
    assert samples(images[names["grey.png"]]) == [0, 80, 160, 240]
    assert samples(images[names["cmyk.jpg"]]) == [(255, 158, 0, 0), (0, 0, 0, 128), (0, 230, 230, 0),
                                                  (0, 0, 0, 242)]
    srgb = expected(BANDS)
    for f in ("srgb.png", "untagged.png", "alpha.png"):
        assert close(samples(images[names[f]]), srgb, 1), f
    adobe = expected(BANDS, ADOBE)
    for f in ("adobe-rgb.jpg", "adobe-rgb.png"):
        assert close(samples(images[names[f]]), adobe, 2), f
        assert not close(samples(images[names[f]]), srgb, 4), f  # the embedded profile counted
    report = json.loads((project / "build/en/preflight.json").read_text(encoding="utf-8"))
    assert [f for file in report["files"] for f in file["findings"]] == []


@pytest.mark.slow
def test_screen_editions_keep_their_rgb_images(project):
    images, names = _page_images(project / "build/en/booklet.pdf"), _names(project)
    assert str(images[names["untagged.png"]]["/ColorSpace"]) == "/DeviceRGB"
    assert samples(images[names["untagged.png"]]) == BANDS


def _rendered_bands(path: Path, drawn_by=None) -> list[list[tuple]]:
    """Each image's four bands as PDFium draws its page at 144 dpi (or as `drawn_by(page number)`
    does: a picture of the page at that resolution), in drawing order."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    found = []
    document = pdfium.PdfDocument(str(path))
    for number, page in enumerate(document, 1):
        drawn = list(page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=4))
        if not drawn:
            continue
        picture = (drawn_by(number) if drawn_by else page.render(scale=2).to_pil()).convert("RGB")
        height = page.get_height()
        for image in drawn:
            left, bottom, right, top = image.get_bounds()
            y = (height - (top - (top - bottom) / 4)) * 2
            found.append([picture.getpixel((int((left + (right - left) * (k + 0.5) / 4) * 2), int(y)))
                          for k in range(4)])
    document.close()
    return found


@pytest.mark.slow
def test_the_print_page_shows_the_images_colours_roughly_right(project):
    """Drawn by PDFium, each converted image looks like the screen edition's within what the press
    can print (the saturated blue is the farthest, 41 levels); an inverted CMYK would be far off."""
    screen = _rendered_bands(project / "build/en/booklet.pdf")
    printed = _rendered_bands(project / "build/en/print/booklet.pdf")
    assert len(screen) == len(printed) == len(FILES)
    for on_screen, on_paper in zip(screen, printed, strict=True):
        assert close(on_paper, on_screen, 45), (on_screen, on_paper)
    assert printed[0][0][2] > printed[0][0][0] + 100  # the blue band is blue


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is not installed")
def test_ghostscript_draws_them_as_pdfium_does(project, tmp_path):
    """Ghostscript, like PDFium, honours the Decode array of the (inverted) CMYK JPEGs."""
    path = project / "build/en/print/booklet.pdf"

    def ghostscript(number: int) -> Image.Image:
        out = tmp_path / f"page-{number}.png"
        subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=png16m", "-r144",
                        f"-dFirstPage={number}", f"-dLastPage={number}", f"-sOutputFile={out}",
                        str(path)], check=True, timeout=120)
        return Image.open(out)

    by_pdfium, by_ghostscript = _rendered_bands(path), _rendered_bands(path, ghostscript)
    assert len(by_ghostscript) == len(FILES)
    for pdfium_bands, gs_bands in zip(by_pdfium, by_ghostscript, strict=True):
        assert close(gs_bands, pdfium_bands, 25), (pdfium_bands, gs_bands)


@pytest.mark.slow
def test_rebuilding_gives_the_same_bytes(project):
    before = (project / "build/en/print/booklet.pdf").read_bytes()
    _build(project, "print", "--force")
    assert (project / "build/en/print/booklet.pdf").read_bytes() == before


@pytest.mark.slow
def test_the_theme_may_choose_perceptual(tmp_path):
    """And changing the intent remakes the print editions (it is part of their inputs)."""
    root = make_project(tmp_path / "p", "images")
    _build(root, "print")
    edit(root / "layouts/default/theme.yaml", "output-condition: FOGRA39",
         "output-condition: FOGRA39\n  image-intent: perceptual")
    _build(root, "print")
    image = _page_images(root / "build/en/print/booklet.pdf")[_names(root)["untagged.png"]]
    assert close(samples(image), expected(BANDS, intent="perceptual"), 1)
    assert not close(samples(image), expected(BANDS), 1)


def test_an_unknown_intent_is_one_line(tmp_path):
    root = make_project(tmp_path / "p")
    text = edit(root / "layouts/default/theme.yaml", "output-condition: FOGRA39",
                "output-condition: FOGRA39\n  image-intent: saturation")
    result = run_cli("check", "--project", ".", cwd=root)
    line = text[:text.index("image-intent")].count("\n") + 1
    assert result.returncode == 1
    assert problem_lines(result)[0] == (
        f"layouts/default/theme.yaml:{line}:17: print.image-intent must be one of relative, perceptual")
    assert "Traceback" not in result.stderr


def test_a_damaged_or_mismatched_profile_counts_as_none_and_bad_data_is_left_for_preflight():
    writer = PdfWriter()
    page = writer.add_blank_page(100, 100)
    rgb = bytes(v for c in BANDS for v in c)
    cmyk_profile = _stream(writer, zlib.compress(PROFILE.read_bytes()), N=NumberObject(3),
                           Filter=NameObject("/FlateDecode"))
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject({
        NameObject("/Mismatched"): _image(writer, rgb, ArrayObject([NameObject("/ICCBased"),
                                                                   cmyk_profile])),
        NameObject("/Broken"): _image(writer, b"not a JPEG", NameObject("/DeviceRGB"), jpeg=True)})})
    out = io.BytesIO()
    writer.write(out)
    resources = PdfReader(io.BytesIO(convert_images(out.getvalue(), ImageInks(PROFILE)))).pages[0][
        "/Resources"]["/XObject"]
    assert samples(resources["/Mismatched"].get_object()) == expected(BANDS)
    broken = resources["/Broken"].get_object()
    assert (broken["/ColorSpace"], broken.get_data()) == ("/DeviceRGB", b"not a JPEG")


def test_the_committed_image_set_is_what_make_images_writes(tmp_path):
    import importlib.util

    script = REPO / "tests" / "projects" / "images" / "make-images.py"
    spec = importlib.util.spec_from_file_location("make_images", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.OUT = tmp_path
    module.main()
    committed = script.parent / "content" / "images"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name

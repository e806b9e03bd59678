"""content/ -> Editions: translations and their fallbacks, the files a project needs, images, and
Markdown that can only ever be text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.content import MAX_IMAGE_PIXELS, load_content
from culturebook.project.markup import render_markdown
from projectkit import PROJECTS, assert_refused, edit, make_project, problem_lines, run_cli, where


def content_of(tmp_path: Path, name: str) -> Path:
    """tests/projects/<name>/content (all load_content reads) in a temporary project folder."""
    shutil.copytree(PROJECTS / name / "content", tmp_path / "content")
    return tmp_path


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    return content_of(tmp_path, "minimal")


@pytest.fixture
def bilingual(tmp_path: Path) -> Path:
    return content_of(tmp_path, "bilingual")


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(ProjectError) as info:
        load_content(root, Problems())
    return info.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def at(path: Path, text: str, needle: str) -> Location:
    line, col = where(text, needle).split(":")
    return Location(path, int(line), int(col))


# --- good content -------------------------------------------------------------------------------


def test_the_test_projects_load_without_a_problem(minimal: Path, tmp_path: Path) -> None:
    problems = Problems()
    content = load_content(minimal, problems)
    assert problems.items == []
    (en,) = content.editions
    assert [v["id"] for v in en.data["values"]] == ["care", "candour", "craft"]
    assert len(en.data["chapters"]) == 1 and not en.data["milestones"]

    bilingual = content_of(tmp_path / "two", "bilingual")
    content = load_content(bilingual, problems)
    assert problems.items == []  # the translation is complete: not one fallback warning
    assert [e.lang for e in content.editions] == ["en", "zh-Hans"]
    assert content.edition("zh-Hans").data["values"][0]["name"] == "用心"


def test_yaml_11_surprises_stay_the_text_typed(minimal: Path) -> None:
    en = minimal / "content" / "en.yaml"
    edit(en, 'edition: "Version 1"', "edition: NO")
    edit(en, 'vision: "Work people are proud of"', "vision: 12:30")
    edit(en, 'subtitle: "The Example Company culture"', "subtitle: 1e3")
    edit(en, 'author: "Example Co"', "author: ~")
    edit(en, "\nchapters:", '\nmilestones:\n  - year: 0o17\n    text: "yes"\n  - year: 2007\n'
         "    text: yes\n\nchapters:")
    data = load_content(minimal, Problems()).editions[0].data
    assert (data["edition"], data["vision"], data["subtitle"], data["author"]) == (
        "NO", "12:30", "1e3", "~")
    assert data["milestones"] == [{"year": "0o17", "text": "yes"}, {"year": "2007", "text": "yes"}]


# --- translations -------------------------------------------------------------------------------


def test_missing_translation_falls_back_with_a_warning(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    edit(zh, 'subtitle: "示例公司的文化"\n', "")
    problems = Problems()
    content = load_content(bilingual, problems)
    (warning,) = problems.items
    en_text = (bilingual / "content" / "en.yaml").read_text()
    assert warning.warning
    assert warning.location == at(bilingual / "content" / "en.yaml", en_text, "subtitle:")
    assert warning.message == (
        "subtitle has no zh-Hans translation; the zh-Hans edition uses the en text")
    assert warning.hint == "add subtitle to content/zh-Hans.yaml"
    assert content.edition("zh-Hans").data["subtitle"] == "The Example Company culture"


def test_missing_translation_of_an_item_field_names_the_item(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    edit(zh, '    statement: "我们及早、善意地说出所想。"\n', "")
    problems = Problems()
    content = load_content(bilingual, problems)
    (warning,) = problems.items
    assert warning.message.startswith("values[2].statement has no zh-Hans translation")
    assert content.edition("zh-Hans").data["values"][1]["statement"] == (
        "We say what we think, kindly and early.")


@pytest.mark.slow
def test_missing_translation_is_an_error_under_strict(bilingual: Path) -> None:
    root = make_project(bilingual.parent / "project", "bilingual")
    edit(root / "content" / "zh-Hans.yaml", 'subtitle: "示例公司的文化"\n', "")
    en_text = (root / "content" / "en.yaml").read_text()
    message = (f"content/en.yaml:{where(en_text, 'subtitle:')}: subtitle has no zh-Hans translation; "
               "the zh-Hans edition uses the en text")
    hint = "add subtitle to content/zh-Hans.yaml"

    result = run_cli("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert problem_lines(result)[:2] == [message.replace(": subtitle", ": warning: subtitle", 1),
                                         f"    hint: {hint}"]

    lines = assert_refused(run_cli("check", "--strict", cwd=root), message, hint)
    assert lines[-1] == "1 problem in 1 file; nothing was written"


def test_list_length_mismatch(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, '  - id: craft\n    name: "匠心"\n    statement: "我们有始有终，并且把事情做好。"\n', "")
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "values:")
    assert problem.message == "values has 2 items here but 3 in content/en.yaml"
    assert problem.hint == "keep the same items in the same order in every language"


def test_id_mismatch(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, "id: craft", "id: kraft")
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "kraft")
    assert problem.message == "values[3].id is 'kraft' here but 'craft' in content/en.yaml"


def test_translation_fields_naming_no_field(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, "fields: [title,", "fields: [values.statment, title,")
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "values.statment")
    assert problem.message == "translation.fields: no field 'values.statment'"
    assert problem.hint == "did you mean 'values.statement'?"


def test_unknown_key_in_a_translation(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, 'vision: "让人自豪的工作"', 'visoin: "让人自豪的工作"')
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "visoin")
    assert problem.hint == "did you mean 'vision'?"


# --- the files of a project ---------------------------------------------------------------------


def test_content_file_missing_for_a_listed_language(minimal: Path) -> None:
    pub = minimal / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, fr]")
    problem = only(problems_of(minimal))
    assert problem.location == at(pub, text, "fr")
    assert problem.message == "no content file for language 'fr'"
    assert problem.hint == "create content/fr.yaml (copy content/en.yaml)"


def test_a_folder_without_content(tmp_path: Path) -> None:
    assert_refused(run_cli("check", "--project", str(tmp_path), cwd=tmp_path),
                   f"content: no content/ folder in {tmp_path.resolve()}",
                   "run culturebook in a project folder (one with content/publication.yaml), "
                   "pass --project DIR, or make a project with culturebook new DIR")


def test_content_without_publication_yaml(minimal: Path) -> None:
    (minimal / "content" / "publication.yaml").unlink()
    problem = only(problems_of(minimal))
    assert problem.location == Location(minimal / "content" / "publication.yaml")
    assert problem.message.startswith("file not found")


def test_a_project_folder_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    result = run_cli("check", "--project", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nowhere'}: no such project folder"]


# --- images -------------------------------------------------------------------------------------


def add_paragraph(root: Path, markdown: str) -> str:
    last = "Everything else follows from that."
    return edit(root / "content" / "en.yaml", last, f"{last}\n\n      {markdown}")


def test_an_image_inside_content_is_accepted(minimal: Path) -> None:
    Image.new("RGB", (40, 30), "#0052D9").save(minimal / "content" / "logo.png")
    add_paragraph(minimal, "![logo](logo.png)")
    (edition,) = load_content(minimal, Problems()).editions
    assert [i.file for i in edition.images] == [(minimal / "content" / "logo.png").resolve()]


@pytest.mark.parametrize("src", ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x",
                                 "//example.com/a.png", "https://example.com/a.png"])
def test_an_image_that_is_not_a_project_file(minimal: Path, src: str) -> None:
    text = add_paragraph(minimal, f"Look: ![x]({src})")
    problem = only(problems_of(minimal))
    assert problem.location == at(minimal / "content" / "en.yaml", text, "![x]")
    assert problem.message.startswith("image '")
    assert problem.message.endswith("' is not a file in the project; nothing is fetched")


def test_an_image_far_over_the_limit_is_over_the_limit(minimal: Path) -> None:
    # Past twice its own limit Pillow refuses to open a file at all; that is still "too big".
    side = 15_000
    Image.new("1", (side, side), 0).save(minimal / "content" / "huge.png")
    add_paragraph(minimal, "![huge](huge.png)")
    problem = only(problems_of(minimal))
    assert problem.message == f"image 'huge.png' is over the {MAX_IMAGE_PIXELS // 1_000_000} MP limit"


def test_a_file_that_is_not_an_image(minimal: Path) -> None:
    (minimal / "content" / "fake.png").write_text("not a picture")
    add_paragraph(minimal, "![fake](fake.png)")
    assert only(problems_of(minimal)).message == ("image 'fake.png' cannot be read as an image: "
                                                  "its bytes are not PNG, JPEG, GIF or WebP")


# Each odd image file is decoded in full when content is checked, and reported at the reference.
# What WeasyPrint would have done with it, unchecked, is noted at each test.

AGAIN = "export or download the image again"


def picture(size: tuple[int, int] = (400, 300), mode: str = "RGB") -> Image.Image:
    """Stripes and a disc: a picture whose missing rows would show."""
    from PIL import ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 20):
        draw.rectangle((x, 0, x + 9, size[1]), fill=(x % 256, 80, 200))
    draw.ellipse((50, 50, 250, 250), fill=(255, 0, 0))
    return image.convert(mode)


def image_lines(root: Path, name: str, strict_errors: bool = True) -> list[str]:
    """Refer to content/<name> from the first chapter; the problems, as printed."""
    text = add_paragraph(root, f"![A picture]({name})")
    lines = [p.format(root) for p in (problems_of(root) if strict_errors else _warnings(root))]
    return [line.replace(f"en.yaml:{where(text, '![A picture]')}:", "en.yaml:@:") for line in lines]


def _warnings(root: Path) -> list[Problem]:
    problems = Problems()
    load_content(root, problems)
    assert not problems.errors
    return problems.items


def test_a_truncated_png_is_an_error(minimal: Path) -> None:
    # WeasyPrint draws what it can decode and paints the missing rows black, with exit status 0.
    picture().save(minimal / "content" / "team.png")
    data = (minimal / "content" / "team.png").read_bytes()
    (minimal / "content" / "team.png").write_bytes(data[: len(data) // 2])
    assert image_lines(minimal, "team.png") == [
        "content/en.yaml:@: image 'team.png' is truncated: the file ends before the picture does "
        f"(Truncated File Read)\n    hint: {AGAIN}"]


def test_a_truncated_jpeg_is_an_error(minimal: Path) -> None:
    # WeasyPrint paints the missing part grey.
    picture().save(minimal / "content" / "team.jpg", quality=90)
    data = (minimal / "content" / "team.jpg").read_bytes()
    (minimal / "content" / "team.jpg").write_bytes(data[:-12])
    (line,) = image_lines(minimal, "team.jpg")
    assert re.fullmatch(r"content/en\.yaml:@: image 'team\.jpg' is truncated: the file ends before "
                        r"the picture does \(image file is truncated \(\d+ bytes not processed\)\)"
                        f"\n    hint: {AGAIN}", line), line


def test_a_png_with_damaged_bytes_is_an_error(minimal: Path) -> None:
    # Pillow decodes a PNG whose compressed data was overwritten without a word (garbage pixels).
    picture().save(minimal / "content" / "team.png")
    data = (minimal / "content" / "team.png").read_bytes()
    middle = len(data) // 2
    (minimal / "content" / "team.png").write_bytes(data[:middle] + bytes(64) + data[middle + 64:])
    assert image_lines(minimal, "team.png") == [
        "content/en.yaml:@: image 'team.png' is damaged: broken PNG file (bad header checksum in "
        f"b'IDAT')\n    hint: {AGAIN}"]


@pytest.mark.parametrize("name, source, kind, right", [
    ("team.png", "jpeg", "a JPEG", ".jpg"), ("team.svg", "png", "a PNG", ".png"),
    ("mark.png", "svg", "an SVG", ".svg")])
def test_a_file_named_for_another_format_is_drawn_with_a_warning(minimal: Path, name: str, source: str,
                                                                 kind: str, right: str) -> None:
    # WeasyPrint goes by the bytes, not the name (Pillow first, then SVG): each is drawn correctly.
    if source == "svg":
        (minimal / "content" / name).write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="20" '
            'height="20" fill="green"/></svg>')
    else:
        picture().save(minimal / "content" / name, format=source.upper())
    suffix = Path(name).suffix
    assert image_lines(minimal, name, strict_errors=False) == [
        f"content/en.yaml:@: warning: image '{name}' is {kind} file named {suffix}; it is drawn as "
        f"the {kind.split()[1]} it is\n    hint: rename it to {right} so that other programs open "
        "it too"]


def test_a_bmp_named_png_is_an_error(minimal: Path) -> None:
    picture().save(minimal / "content" / "team.png", format="BMP")
    assert image_lines(minimal, "team.png") == [
        "content/en.yaml:@: image 'team.png' is a BMP file; culturebook takes PNG, JPEG, GIF, WebP "
        "and SVG images\n    hint: save it as PNG or JPEG"]


def test_a_cmyk_jpeg_is_drawn_with_a_warning(minimal: Path) -> None:
    # WeasyPrint places it as DeviceCMYK, unconverted: the viewer converts it (the red goes dull).
    picture(mode="CMYK").save(minimal / "content" / "team.jpg")
    assert image_lines(minimal, "team.jpg", strict_errors=False) == [
        "content/en.yaml:@: warning: image 'team.jpg' is CMYK: screen editions place it "
        "unconverted, so each PDF viewer shows its own conversion of its colours\n    hint: use an "
        "RGB (sRGB) image: print editions convert RGB to the output profile's CMYK"]


def test_a_16_bit_greyscale_png_is_an_error_and_a_16_bit_rgb_one_is_not(minimal: Path) -> None:
    # WeasyPrint logs "Unknown image mode: I;16" for the grey one, which failed the build at
    # layouts/default/booklet.html with no line and no word of the image; 48-bit RGB comes out of
    # Pillow as 8-bit RGB, and WeasyPrint draws that correctly.
    grey = Image.new("I;16", (300, 200))
    grey.putdata([x * 200 for y in range(200) for x in range(300)])
    grey.save(minimal / "content" / "scan.png")
    (minimal / "content" / "deep.png").write_bytes(_png_rgb16(40, 30))
    add_paragraph(minimal, "![A deep picture](deep.png)")
    assert image_lines(minimal, "scan.png") == [
        "content/en.yaml:@: image 'scan.png' is a 16-bit greyscale PNG, which the PDF cannot draw "
        "(WeasyPrint: unknown image mode I;16)\n    hint: save it as 8-bit greyscale or RGB"]


def _png_rgb16(width: int, height: int) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow writes none)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\0" + b"".join(struct.pack(">HHH", x * 1000, 20000, 60000) for x in range(width))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("name", ["wave.gif", "wave.png"])
def test_an_animation_is_drawn_as_its_first_frame_with_a_warning(minimal: Path, name: str) -> None:
    # WeasyPrint draws the first frame only.
    frames = [Image.new("RGB", (200, 150), colour) for colour in ("red", "green", "blue")]
    frames[0].save(minimal / "content" / name, save_all=True, append_images=frames[1:],
                   duration=200, loop=0)
    assert image_lines(minimal, name, strict_errors=False) == [
        f"content/en.yaml:@: warning: image '{name}' is animated (3 frames); only its first frame "
        "is drawn\n    hint: save the frame you want as a still image"]


def test_an_svg_that_is_not_well_formed_names_the_parser_s_reason(minimal: Path) -> None:
    # WeasyPrint logs "Failed to load image at '...': " with no reason, and leaves it out.
    (minimal / "content" / "mark.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">\n'
        '  <rect width="50" height="50" fill="green">\n</svg>\n')
    assert image_lines(minimal, "mark.svg") == [
        "content/en.yaml:@: image 'mark.svg' is not well-formed SVG: mismatched tag: line 3, "
        "column 2\n    hint: open it in an SVG editor and save it again"]


def test_an_svg_that_is_not_svg(minimal: Path) -> None:
    (minimal / "content" / "mark.svg").write_text("<html><body>hello</body></html>")
    assert image_lines(minimal, "mark.svg") == [
        "content/en.yaml:@: image 'mark.svg' is not an SVG image: its root element is <html>, not "
        "<svg>\n    hint: save it as SVG (or as PNG)"]



@pytest.mark.parametrize("drawing, reason", [
    ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100">'
     '<rect width="10" height="10"/></svg>',
     "its viewBox '0 0 100' is not four numbers (min-x min-y width height)"),
    ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><g id="loop">'
     '<use href="#loop"/></g></svg>',
     "its <use> of #loop is inside what it draws, so drawing it never ends"),
])
def test_an_svg_weasyprint_fails_to_draw_is_an_error(minimal: Path, drawing: str, reason: str) -> None:
    # WeasyPrint logs "Failed to render SVG image file:///..." (no reason) and leaves it out.
    (minimal / "content" / "mark.svg").write_text(drawing)
    assert image_lines(minimal, "mark.svg") == [
        f"content/en.yaml:@: image 'mark.svg' cannot be drawn: {reason}\n    hint: open it in an "
        "SVG editor and save it again"]

@pytest.mark.parametrize("reference", [
    '<image href="https://example.com/x.png" width="10" height="10"/>',
    '<image xlink:href="../../outside.png" width="10" height="10"/>',
    '<rect width="10" height="10" style="fill: url(https://example.com/p.svg#a)"/>',
    "<style>@import url(https://example.com/x.css);</style>",
    '<foreignObject width="10" height="10"><img xmlns="http://www.w3.org/1999/xhtml" '
    'src="https://example.com/x.png"/></foreignObject>',
])
def test_an_svg_that_refers_to_other_files_is_refused(minimal: Path, reference: str) -> None:
    # Rendering is hermetic: the URL fetcher refuses the network, and the SVG would lose its part.
    # Fragments, data: URIs and links (followed by the reader, not fetched) are no reason.
    (minimal / "content" / "fine.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
        '<rect width="50" height="50" fill="url(#g)"/><image href="data:image/png;base64,AAAA"/>'
        '<a href="https://example.com/"><circle r="5" cx="70" cy="70"/></a></svg>')
    add_paragraph(minimal, "![A fine mark](fine.svg)")
    (minimal / "content" / "mark.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="100" height="100">\n  <rect width="50" height="50" fill="url(#g)"/>\n'
        f'  {reference}\n</svg>\n')
    url = re.search(r'(?:href="|src="|url\()([^")]+)', reference)[1]
    assert image_lines(minimal, "mark.svg") == [
        f"content/en.yaml:@: image 'mark.svg' refers to '{url}' (line 3 of the SVG); an SVG must "
        "hold all it shows, nothing is fetched for it\n    hint: embed what it refers to (as a "
        "data: URI) or remove the reference"]


def test_a_truncated_image_is_an_error_even_after_weasyprint_is_loaded(minimal: Path) -> None:
    # Importing WeasyPrint turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process.
    from PIL import ImageFile

    from culturebook.render.weasy import load_weasyprint

    load_weasyprint()
    assert ImageFile.LOAD_TRUNCATED_IMAGES
    picture().save(minimal / "content" / "team.png")
    data = (minimal / "content" / "team.png").read_bytes()
    (minimal / "content" / "team.png").write_bytes(data[: len(data) // 2])
    (line,) = image_lines(minimal, "team.png")
    assert "is truncated" in line
    assert ImageFile.LOAD_TRUNCATED_IMAGES  # put back as WeasyPrint wants it


# --- Markdown and HTML --------------------------------------------------------------------------


def test_raw_html_in_markdown_is_escaped() -> None:
    html = render_markdown('<script>alert(1)</script> and <img src="x" onerror="alert(2)">')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.slow
def test_html_in_content_is_printed_as_text(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    en = root / "content" / "en.yaml"
    edit(en, 'title: "Small Things, Done Well"', 'title: "Small <b>Things</b> & Co"')
    edit(en, "Everything else follows from that.",
         "Everything else follows from that.\n\n      <script>alert(1)</script> stays text.")
    result = run_cli("build", "booklet", cwd=root)
    assert result.returncode == 0, result.stderr

    pdf = root / "build" / "en" / "booklet.pdf"
    reader = PdfReader(pdf)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "<script>alert(1)</script> stays text." in text
    assert "Small <b>Things</b> & Co" in text
    assert reader.metadata.title == "Small <b>Things</b> & Co"
    raw = pdf.read_bytes()
    assert b"/JavaScript" not in raw and b"/JS " not in raw and b"/JS(" not in raw


# --- no word alone on a last line -------------------------------------------------------------


@pytest.mark.parametrize(("text", "html"), [
    ("Be open and keep evolving.", "Be open and keep\u00a0evolving."),  # a no-break space
    ("用户为本，科技向善", '用户为本，科技<span style="white-space: nowrap">向善</span>'),
    ("Own", "Own"),
    ("A <b> & internationalisation responsibilities",  # too long a pair to keep together
     "A &lt;b&gt; &amp; internationalisation responsibilities"),
])
def test_keep_last_keeps_a_short_last_pair_together(text, html):
    from culturebook.project.markup import keep_last

    assert keep_last(text) == html


def test_markdown_paragraphs_keep_their_last_two_words_together():
    html = render_markdown("We started *small* things that work.\n\nEnd *here*")
    assert html == "<p>We started <em>small</em> things that\u00a0work.</p>\n<p>End <em>here</em></p>\n"


@pytest.mark.slow
def test_a_quote_ends_on_a_line_of_two_words(tmp_path):
    """A pull quote whose last word would stand alone at the booklet's measure ends on two."""
    from conftest import copy_project, read_pdf, text_pieces
    from culturebook.build.pipeline import build

    root = copy_project(tmp_path / "project")
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8")
    quote = "Technology is a double-edged sword."
    assert quote in text
    # At the pull quote's measure this would end on a line of one word: "itself."
    longer = ("Technology is a double-edged sword, and we hold it by the handle firmly, never by "
              "the blade itself.")
    en.write_text(text.replace(quote, longer, 1), encoding="utf-8")
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    lines = [p.text.strip() for i in range(len(reader.pages)) for p in text_pieces(reader, i)]
    at = max(i for i, line in enumerate(lines) if line.endswith("itself."))
    assert len(lines[at].split()) >= 2, lines[at - 2:at + 1]


@pytest.mark.slow
def test_strict_refuses_each_untranslated_field_at_its_place_in_the_source(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", "languages")
    en = (root / "content" / "en.yaml").read_text()
    statement = where(en, 'statement: "We say')
    title = where(en, 'title: "How we work"')
    body = where(en, 'title: "How we work"',
                 en.index("body: |", en.index("How we work")) - en.index('title: "How we work"'))
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    lines = assert_refused(run_cli("build", "booklet", "--strict", cwd=root), None)
    untranslated = "has no fr translation; the fr edition uses the en text"
    assert [line for line in lines if not line.startswith("    hint:")] == [
        f"content/en.yaml:{statement}: values[2].statement {untranslated}",
        f"content/en.yaml:{title}: chapters[2].title {untranslated}",
        f"content/en.yaml:{body}: chapters[2].body {untranslated}",
        "content/fr.yaml:1:1: no labels for fr in the theme: contents, mission, vision, values, "
        "milestones, notes, edition, published, organisation, translation, untranslated, cover, "
        "quotes, date_format, months are in English; translate them under labels:",
        "4 problems in 2 files; nothing was written",
    ]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


RTL_HINT = ("remove ar from languages: for now; the layouts set every page left to right "
            "(alignment, margins, running heads, page order), which would read wrong")


def test_a_right_to_left_language_is_refused_at_its_entry(minimal: Path) -> None:
    pub = minimal / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, ar]")
    problem = only(problems_of(minimal))
    assert problem.location == at(pub, text, "ar]")
    assert problem.message == "ar: right-to-left languages are not supported yet by culturebook's layouts"
    assert problem.hint == RTL_HINT


@pytest.mark.parametrize("command", [("build", "booklet"), ("check",)])
def test_a_right_to_left_edition_is_one_line_even_with_its_text_and_a_font(tmp_path: Path,
                                                                           command) -> None:
    """Its text in Arabic is not reported letter by letter (nor script by script): the edition
    itself is what cannot be made yet."""
    root = make_project(tmp_path / "project", "minimal")
    pub = root / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, ar]")
    en = (root / "content" / "en.yaml").read_text(encoding="utf-8")
    (root / "content" / "ar.yaml").write_text(
        en.replace('"Make small things well"', '"نصنع الأشياء الصغيرة جيدا"'), encoding="utf-8")
    result = run_cli(*command, cwd=root)
    lines = assert_refused(result, f"content/publication.yaml:{where(text, 'ar]')}: ar: "
                           "right-to-left languages are not supported yet by culturebook's layouts",
                           RTL_HINT)
    assert len(lines) == 3
    assert not (root / "build").exists()


def test_an_image_name_too_long_is_one_line_at_the_image(minimal: Path) -> None:
    # found by fuzzing: the operating system's "File name too long" was an internal error
    long = "c" * 300
    text = add_paragraph(minimal, f"![x]({long}.png)")
    result = run_cli("check", cwd=minimal)
    assert_refused(result, f"content/en.yaml:{where(text, '![x]')}: image '{long[:59]}…' has a "
                   "name too long for a file (over 255 bytes)",
                   hint="refer to the image by its file's name")

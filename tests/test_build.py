"""Integration: build the default project once (both editions, every target) and check what a reader,
a printer and a PDF viewer would see. Expectations come from the content and the PDFs themselves, never
from page numbers the layout happens to produce today."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from conftest import (
    EDITIONS,
    body_text,
    font_dicts,
    font_names_in,
    length_pt,
    links,
    normalise,
    outline,
    page_size_mm,
    page_text,
    read_pdf,
    render_pages,
    text_pieces,
)

pytestmark = pytest.mark.usefixtures("no_weasyprint_warnings")

# The seed text the default content was written from, kept beside the tests so that every
# sentence of it is checked in any clone.
SEED = Path(__file__).resolve().parent / "seed" / "tencent-culture-statement.txt"
A5_MM = (148.0, 210.0)
SHEETS_MM = {"A3": (297.0, 420.0), "A2": (420.0, 594.0), "A1": (594.0, 841.0),
             "Letter": (215.9, 279.4), "Tabloid": (279.4, 431.8)}
TOLERANCE_MM = 0.5
BRAND_BLUE = (0x00, 0x52, 0xD9)


# --- what the build should contain --------------------------------------------------------------


def edition(checked, lang):
    return checked.content.edition(lang)


def poster_slugs(checked, lang) -> list[str]:
    return ["mission-vision"] + [v["id"] for v in edition(checked, lang).data.get("values") or []]


def booklet_path(root: Path, lang: str) -> Path:
    return root / "build" / lang / "booklet.pdf"


def bundle_path(root: Path, lang: str) -> Path:
    return root / "build" / lang / "culture-kit.pdf"


def poster_paths(root: Path, checked, lang: str) -> list[Path]:
    return [root / "build" / lang / "posters" / f"{slug}.pdf" for slug in poster_slugs(checked, lang)]


def all_pdfs(root: Path, checked) -> list[tuple[str, str, Path]]:
    """(kind, lang, path) of every PDF the build should have written."""
    found = []
    for lang in EDITIONS:
        found.append(("booklet", lang, booklet_path(root, lang)))
        found += [("poster", lang, p) for p in poster_paths(root, checked, lang)]
        found.append(("bundle", lang, bundle_path(root, lang)))
        found.append(("print-booklet", lang, root / "build" / lang / "print" / "booklet.pdf"))
        found += [("print-poster", lang, p.parent.parent / "print" / "posters" / p.name)
                  for p in poster_paths(root, checked, lang)]
        found.append(("imposed", lang, root / "build" / lang / "print" / "booklet-imposed.pdf"))
        found += [("tiles", lang, p.parent.parent / "print" / "tiles" / p.name)
                  for p in poster_paths(root, checked, lang)]
        found.append(("archive", lang, root / "build" / lang / "archive" / "booklet.pdf"))
    return found


def chapter_titles(checked, lang) -> list[str]:
    return [c["title"] for c in edition(checked, lang).data["chapters"]]


def contents_pages(reader) -> list[int]:
    """The pages of the table of contents: those carrying internal links."""
    return sorted({link.page for link in links(reader) if not link.external})


LEADER_NUMBER = re.compile(r"\.(?:\s*\.)+\s*(\d+)")


def toc_entries(reader) -> list[tuple[str, int]]:
    """(normalised entry text, printed page number) for each line of the table of contents."""
    text = "\n".join(page_text(reader, i) for i in contents_pages(reader))
    parts = LEADER_NUMBER.split(text)
    return [(normalise(parts[i]), int(parts[i + 1])) for i in range(0, len(parts) - 1, 2)]


def chapter_starts(reader, titles: list[str]) -> list[int]:
    """0-based page where each chapter title first appears after the table of contents (in order)."""
    texts = [normalise(page_text(reader, i)) for i in range(len(reader.pages))]
    page = max(contents_pages(reader)) + 1
    starts = []
    for title in titles:
        wanted = normalise(title)
        found = next((i for i in range(page, len(texts)) if wanted in texts[i]), None)
        assert found is not None, f"chapter {title!r} not found after the contents"
        starts.append(found)
        page = found
    return starts


def toc_link_targets(reader) -> list[int]:
    """Target pages of the contents' links, one per entry, in reading order."""
    ordered = sorted((link for link in links(reader) if not link.external),
                     key=lambda link: (link.page, -link.rect[3], link.rect[0]))
    targets: list[int] = []
    last = object()
    for link in ordered:
        key = link.name or link.target
        if key != last:
            targets.append(link.target)
            last = key
    return targets


# --- the build as a whole -----------------------------------------------------------------------


def test_default_build_has_no_warnings(build_result):
    """Nothing doubtful: the default theme ships its CMYK output profile, so print is PDF/X-4."""
    assert [p.format(build_result.root) for p in build_result.warnings] == []
    assert build_result.weasyprint_log == []


def test_every_document_is_written(built_root, checked):
    for _kind, _lang, path in all_pdfs(built_root, checked):
        assert path.is_file(), f"{path.relative_to(built_root)} missing"
    posters = {p.name for lang in EDITIONS for p in (built_root / "build" / lang / "posters").glob("*")}
    expected = {f"{slug}.pdf" for lang in EDITIONS for slug in poster_slugs(checked, lang)}
    assert posters == expected


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", EDITIONS)
def test_page_counts(built_root, checked, lang):
    booklet = read_pdf(booklet_path(built_root, lang))
    pages = len(booklet.pages)
    assert pages > 0 and pages % 4 == 0, f"{lang} booklet has {pages} pages, not a multiple of 4"
    poster_pages = [len(read_pdf(p).pages) for p in poster_paths(built_root, checked, lang)]
    assert poster_pages == [1] * len(poster_pages)
    bundle = read_pdf(bundle_path(built_root, lang))
    assert len(bundle.pages) == pages + sum(poster_pages)


def assert_size(actual: tuple[float, float], expected: tuple[float, float], what: str) -> None:
    assert abs(actual[0] - expected[0]) <= TOLERANCE_MM and \
        abs(actual[1] - expected[1]) <= TOLERANCE_MM, \
        f"{what} is {actual[0]:.2f} x {actual[1]:.2f} mm, expected {expected[0]} x {expected[1]} mm"


@pytest.mark.parametrize("lang", EDITIONS)
def test_page_sizes_in_millimetres(built_root, checked, lang):
    size = checked.content.settings.get("posters", {}).get("size", "A2")
    assert size == "A2", "the default project's posters are A2"
    booklet = read_pdf(booklet_path(built_root, lang))
    for i, page in enumerate(booklet.pages, 1):
        assert_size(page_size_mm(page), A5_MM, f"{lang} booklet page {i}")
    for path in poster_paths(built_root, checked, lang):
        assert_size(page_size_mm(read_pdf(path).pages[0]), SHEETS_MM[size], f"{lang} {path.name}")
    bundle = read_pdf(bundle_path(built_root, lang))
    expected = [A5_MM] * len(booklet.pages) + [SHEETS_MM[size]] * (
        len(bundle.pages) - len(booklet.pages))
    for i, (page, want) in enumerate(zip(bundle.pages, expected, strict=True), 1):
        assert_size(page_size_mm(page), want, f"{lang} bundle page {i}")


# --- text ---------------------------------------------------------------------------------------


def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [p.strip() for p in re.split(r"\n\s*\n", text) if normalise(p)]


def booklet_body_text(root: Path, checked, lang: str) -> str:
    """The booklet's text without running heads and folios (what is set in the top and bottom
    margins), so that a paragraph running over a page break reads on."""
    reader = read_pdf(booklet_path(root, lang))
    geometry = checked.brand.booklet
    top, bottom = length_pt(geometry["margin-top"]), length_pt(geometry["margin-bottom"])
    return "\n".join(body_text(reader, i, top, bottom) for i in range(len(reader.pages)))


def test_every_paragraph_of_the_seed_text_is_in_the_english_booklet(built_root, checked):
    text = normalise(booklet_body_text(built_root, checked, "en"))
    missing = [p[:90] for p in seed_paragraphs() if normalise(p) not in text]
    assert missing == [], "paragraphs of the seed text missing from the en booklet"


def test_chinese_booklet_uses_tencents_own_wording(built_root):
    reader = read_pdf(booklet_path(built_root, "zh-Hans"))
    text = normalise("\n".join(page_text(reader, i) for i in range(len(reader.pages))))
    for words in ("用户为本", "科技向善", "正直", "进取", "协作", "创造"):
        assert words in text, f"{words} not in the zh-Hans booklet"


# --- contents, bookmarks, links -----------------------------------------------------------------


@pytest.mark.parametrize("lang", EDITIONS)
def test_contents_numbers_are_the_pages_chapters_start_on(built_root, checked, lang):
    reader = read_pdf(booklet_path(built_root, lang))
    titles = chapter_titles(checked, lang)
    entries = toc_entries(reader)
    assert entries, "no page numbers found in the table of contents"
    starts = chapter_starts(reader, titles)
    for title, start in zip(titles, starts, strict=True):
        wanted = normalise(title)
        numbers = [n for text, n in entries if text.endswith(wanted)]
        assert numbers, f"chapter {title!r} is not in the table of contents"
        assert numbers == [start + 1], \
            f"contents say {title!r} starts on page {numbers}, it starts on page {start + 1}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_contents_links_go_to_the_printed_pages(built_root, lang):
    reader = read_pdf(booklet_path(built_root, lang))
    targets = toc_link_targets(reader)
    assert None not in targets, "a contents link does not resolve to a page"
    numbers = [n for _, n in toc_entries(reader)]
    assert [t + 1 for t in targets] == numbers


@pytest.mark.parametrize("lang", EDITIONS)
def test_bookmarks_one_per_chapter_and_section(built_root, checked, lang):
    reader = read_pdf(booklet_path(built_root, lang))
    marks = outline(reader)
    titles = chapter_titles(checked, lang)
    starts = chapter_starts(reader, titles)
    for title, start in zip(titles, starts, strict=True):
        found = [(t, p) for _, t, p in marks if " ".join(t.split()) == " ".join(title.split())]
        assert found == [(found[0][0] if found else title, start)], \
            f"expected one bookmark {title!r} to page {start + 1}, found {found}"
    # Every other section in the contents has a bookmark to the same page, named from its entry;
    # so do the contents themselves.
    for (entry, _), target in zip(toc_entries(reader), toc_link_targets(reader), strict=True):
        at_page = [t for _, t, p in marks if p == target]
        assert any(normalise(t) and normalise(t) in entry for t in at_page), \
            f"no bookmark for contents entry {entry!r} (page {target + 1}); bookmarks there: {at_page}"
    assert any(p in contents_pages(reader) for _, _, p in marks), "no bookmark for the contents"


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("kind", ["booklet", "bundle"])
def test_internal_links_resolve(built_root, lang, kind):
    reader = read_pdf(booklet_path(built_root, lang) if kind == "booklet"
                      else bundle_path(built_root, lang))
    internal = [link for link in links(reader) if not link.external]
    assert internal, "no internal links"
    broken = [link for link in internal
              if link.target is None or not 0 <= link.target < len(reader.pages)]
    assert broken == []
    if kind == "bundle":  # the booklet comes first: its links keep their targets
        booklet = read_pdf(booklet_path(built_root, lang))
        assert [(link.page, link.target) for link in internal] == \
            [(link.page, link.target) for link in links(booklet) if not link.external]


# --- metadata and fonts -------------------------------------------------------------------------


def test_metadata_on_every_pdf(built_root, checked):
    problems = []
    for kind, lang, path in all_pdfs(built_root, checked):
        data = edition(checked, lang).data
        reader = read_pdf(path)
        meta = reader.metadata or {}
        name = path.relative_to(built_root / "build")
        title, author = meta.get("/Title"), meta.get("/Author")
        # Work sheets say what they are after the title: "… (imposed)", "…: Integrity (tiles)".
        exact = kind in ("booklet", "bundle", "print-booklet", "archive")
        if not title or (exact and title != data["title"]) or not title.startswith(
                data["title"] if kind in ("imposed", "tiles") else ""):
            problems.append(f"{name}: /Title {title!r}")
        if author != (data.get("author") or data["organisation"]):
            problems.append(f"{name}: /Author {author!r}")
        if str(reader.trailer["/Root"].get("/Lang", "")) != lang:
            problems.append(f"{name}: /Lang {reader.trailer['/Root'].get('/Lang')!r}")
    assert problems == []


def test_fonts_embedded_subset_and_from_fonts_folder(built_root, checked):
    allowed = font_names_in(built_root / "fonts")
    problems = []
    for _kind, _lang, path in all_pdfs(built_root, checked):
        name = path.relative_to(built_root / "build")
        fonts = font_dicts(read_pdf(path))
        if not fonts:
            problems.append(f"{name}: no fonts")
        for font in fonts:
            base = str(font.get("/BaseFont", ""))
            if not re.fullmatch(r"/[A-Z]{6}\+.+", base):
                problems.append(f"{name}: {base or font.get('/Subtype')} is not subset")
            descendant = font["/DescendantFonts"][0].get_object() \
                if font.get("/Subtype") == "/Type0" else font
            descriptor = descendant.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"{name}: {base} is not embedded")
            if normalise(base.partition("+")[2]) not in allowed:
                problems.append(f"{name}: {base} is not a font of fonts/")
    assert problems == []


# --- pixels -------------------------------------------------------------------------------------


def trim_rect_px(page, dpi: int) -> tuple[int, int, int, int]:
    """The trimmed page in pixels of an image of the whole media box: left, top, right, bottom."""
    media, trim = page.mediabox, page.trimbox
    k = dpi / 72
    return (round((float(trim.left) - float(media.left)) * k),
            round((float(media.top) - float(trim.top)) * k),
            round((float(trim.right) - float(media.left)) * k) - 1,
            round((float(media.top) - float(trim.bottom)) * k) - 1)


@pytest.mark.parametrize("lang", EDITIONS)
def test_cover_colour_reaches_every_edge(built_root, lang, tmp_path):
    pdf = booklet_path(built_root, lang)
    dpi = 50
    image = render_pages(pdf, [1], dpi, "poppler", tmp_path)[1]
    left, top, right, bottom = trim_rect_px(read_pdf(pdf).pages[0], dpi)
    inset = 1  # the outermost row can be a partial pixel
    edges = {
        "top": [(x, top + inset) for x in range(left, right + 1)],
        "bottom": [(x, bottom - inset) for x in range(left, right + 1)],
        "left": [(left + inset, y) for y in range(top, bottom + 1)],
        "right": [(right - inset, y) for y in range(top, bottom + 1)],
    }
    for edge, points in edges.items():
        off = [(p, image.getpixel(p)) for p in points
               if max(abs(a - b) for a, b in zip(image.getpixel(p), BRAND_BLUE, strict=True)) > 10]
        assert off == [], f"{lang} cover: {len(off)} of {len(points)} pixels along the {edge} edge " \
            f"are not #0052D9, e.g. {off[:3]}"


def ink_mask(image: Image.Image, background: int) -> Image.Image:
    """255 where a pixel clearly differs from the page's background (text, rules, pictures)."""
    return image.point(lambda v: 255 if abs(v - background) > 80 else 0)


def test_chinese_text_is_drawn_by_poppler_ghostscript_and_mupdf(built_root, checked, tmp_path):
    """The three renderers must agree on the zh-Hans cover and first chapter page: a font they cannot
    read draws boxes (Ghostscript) or nothing (MuPDF) where poppler draws the text."""
    pdf = booklet_path(built_root, "zh-Hans")
    reader = read_pdf(pdf)
    chapter = chapter_starts(reader, chapter_titles(checked, "zh-Hans"))[0] + 1
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in page_text(reader, chapter - 1)) >= 50
    assert_renderers_agree(pdf, [1, chapter], tmp_path, min_ink={chapter: 0.02})


@pytest.mark.parametrize("lang", EDITIONS)
def test_print_editions_are_drawn_alike_by_poppler_ghostscript_and_mupdf(built_root, checked, lang,
                                                                          tmp_path):
    """The print PDFs (CMYK, on a slug, fonts re-placed by pypdf) must draw the same text in all three
    renderers: the check that catches font-embedding faults validators miss."""
    pdf = built_root / "build" / lang / "print" / "booklet.pdf"
    reader = read_pdf(pdf)
    chapter = chapter_starts(reader, chapter_titles(checked, lang))[0] + 1
    assert_renderers_agree(pdf, [chapter], tmp_path, min_ink={chapter: 0.01}, ink_only=True)
    poster = sorted((built_root / "build" / lang / "print" / "posters").glob("*.pdf"))[1]
    assert_renderers_agree(poster, [1], tmp_path, dpi=10, ink_only=True)
    # the office-printer files re-place the pages in forms: the same check on a sheet of each
    imposed = built_root / "build" / lang / "print" / "booklet-imposed.pdf"
    assert_renderers_agree(imposed, [2], tmp_path, dpi=60, ink_only=True)
    tiles = built_root / "build" / lang / "print" / "tiles" / poster.name
    assert_renderers_agree(tiles, [1], tmp_path, dpi=60, ink_only=True)


def assert_renderers_agree(pdf: Path, pages: list[int], tmp_path: Path, dpi: int = 50,
                           min_ink: dict[int, float] | None = None, ink_only: bool = False) -> None:
    """poppler, Ghostscript and MuPDF draw the same ink where poppler draws text.

    With `ink_only` the comparison is of where ink is, not of its grey level: nearly every pixel
    poppler inks must be inked by the others too. That is the test for CMYK pages (converted to screen
    colour differently by each renderer: Ghostscript through its ICC profiles, poppler and MuPDF by
    formula) and for small type re-placed on office sheets (anti-aliased differently)."""
    drawn = {r: render_pages(pdf, pages, dpi, r, tmp_path)
             for r in ("poppler", "ghostscript", "mupdf")}
    for page in pages:
        images = {r: drawn[r][page].convert("L") for r in drawn}
        width = min(i.width for i in images.values())
        height = min(i.height for i in images.values())
        images = {r: i.crop((0, 0, width, height)) for r, i in images.items()}
        reference = images["poppler"]
        histogram = reference.histogram()
        background = max(range(256), key=histogram.__getitem__)
        ref_ink = ink_mask(reference, background)
        ref_fraction = ImageStat.Stat(ref_ink).mean[0] / 255
        if page in (min_ink or {}):
            assert ref_fraction > min_ink[page], \
                f"poppler draws little ink on page {page}: {ref_fraction:.3f}"
        where_text = ref_ink.filter(ImageFilter.MaxFilter(3))
        area = ImageStat.Stat(where_text).sum[0] / 255
        for renderer, image in images.items():
            mask = ink_mask(image, background)
            fraction = ImageStat.Stat(mask).mean[0] / 255
            assert abs(fraction - ref_fraction) <= 0.25 * ref_fraction, \
                f"{pdf.name} {renderer} page {page}: ink {fraction:.4f} vs poppler {ref_fraction:.4f}"
            if ink_only:
                covered = ImageChops.multiply(ref_ink, mask.filter(ImageFilter.MaxFilter(3)))
                share = ImageStat.Stat(covered).sum[0] / max(ImageStat.Stat(ref_ink).sum[0], 1)
                assert share > 0.9, f"{pdf.name} {renderer} page {page}: only {share:.0%} of " \
                    "poppler's ink is drawn"
                continue
            difference = ImageChops.difference(reference, image)
            # mean difference where poppler draws ink (grey levels): ~20-30 for the same text,
            # 45+ for blurred or shifted text, 60-100 for nothing drawn
            near_text = ImageStat.Stat(ImageChops.multiply(difference, where_text)).sum[0] / area
            assert near_text < 35, f"{pdf.name} {renderer} page {page} differs from poppler where the " \
                f"text is ({near_text:.1f} grey levels on average)"
            assert ImageStat.Stat(difference).mean[0] < 8, \
                f"{pdf.name} {renderer} page {page} differs from poppler"


# --- manifest -----------------------------------------------------------------------------------


def test_manifest_lists_every_artifact(built_root, checked, build_result):
    out = built_root / "build"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entries = {a["path"]: a for a in manifest["artifacts"]}
    expected = {path.relative_to(out).as_posix(): (kind, lang)
                for kind, lang, path in all_pdfs(built_root, checked)}
    assert set(entries) == set(expected)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.pdf")
               if ".cache" not in p.relative_to(out).parts}
    assert on_disk == set(expected)
    for path, entry in entries.items():
        data = (out / path).read_bytes()
        assert set(entry) >= {"kind", "edition", "path", "pages", "bytes", "sha256"}
        assert (entry["kind"], entry["edition"]) == expected[path]
        assert entry["pages"] == len(read_pdf(out / path).pages), path
        assert entry["bytes"] == len(data), path
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
    assert {a.path for a in build_result.artifacts} == set(expected)


# --- poster sizes -------------------------------------------------------------------------------


def max_font_size(path: Path) -> float:
    return max(p.size for p in text_pieces(read_pdf(path), 0))


@pytest.mark.parametrize("size", ["A3", "Letter"])
def test_posters_follow_the_configured_size_and_type_scales(built_root, checked, make_project, size):
    from culturebook.build.pipeline import build

    root = make_project()
    settings = root / "content" / "publication.yaml"
    text, count = re.subn(r"(?m)^(\s+size:\s*)\S+", rf"\g<1>{size}", settings.read_text("utf-8"))
    assert count == 1, "publication.yaml has no posters size to change"
    settings.write_text(text, encoding="utf-8")
    artifacts, _ = build(root, "posters")
    assert {a.kind for a in artifacts} == {"poster"}
    width_mm, height_mm = SHEETS_MM[size]
    linear = min(width_mm / SHEETS_MM["A2"][0], height_mm / SHEETS_MM["A2"][1])
    for lang in EDITIONS:
        for a2, resized in zip(poster_paths(built_root, checked, lang),
                               poster_paths(root, checked, lang), strict=True):
            reader = read_pdf(resized)
            assert len(reader.pages) == 1
            page = reader.pages[0]
            assert_size(page_size_mm(page), SHEETS_MM[size], f"{lang} {size} {resized.name}")
            ratio = max_font_size(resized) / max_font_size(a2)
            assert ratio < 1, f"{lang} {resized.name}: type on {size} is not smaller than on A2"
            assert 0.8 * linear <= ratio <= 1.2 * linear, \
                f"{lang} {resized.name}: type scaled by {ratio:.2f}, the sheet by {linear:.2f}"
            width = float(page.mediabox.width)
            height = float(page.mediabox.height)
            outside = [p.text for p in text_pieces(reader, 0)
                       if not (0 <= p.x < width and 0 <= p.y < height)]
            assert outside == [], f"{lang} {resized.name}: text off the sheet"


POOL_INTERRUPTED = r'''
import gc, os, signal, struct, sys, threading, types
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from culturebook.build import run as build

started = multiprocessing.get_context("fork").Event()

def half_sent(leaf):
    """A worker caught halfway through sending its result: a message header, part of the body."""
    pool = next(o for o in gc.get_objects() if isinstance(o, ProcessPoolExecutor))
    os.write(pool._result_queue._writer.fileno(), struct.pack("!i", 1000) + b"partial")
    started.set()
    signal.pause()

build.make_leaf = half_sent
# Ctrl-C is heard even where this runs as a background job (whose children start ignoring it).
signal.signal(signal.SIGINT, signal.default_int_handler)
# Ctrl-C once a worker is halfway through sending.
threading.Thread(target=lambda: (started.wait(), os.kill(os.getpid(), signal.SIGINT)),
                 daemon=True).start()
try:
    build.render_in_pool({"a.pdf": types.SimpleNamespace(kind="booklet")}, 1,
                         lambda *a, **k: None, 1)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
'''


@pytest.mark.interruption
def test_ctrl_c_while_a_worker_sends_its_result_ends_the_build(tmp_path):
    """A worker killed halfway through sending its result leaves half a message in the pool's
    result pipe; the build still exits (the pool's manager thread would wait for the rest for
    ever, and the interpreter for it)."""
    import subprocess
    import sys

    script = tmp_path / "interrupted.py"
    script.write_text(POOL_INTERRUPTED, encoding="utf-8")
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True) as process:
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the interrupted build did not exit")
    assert (process.returncode, out) == (130, "interrupted\n")
